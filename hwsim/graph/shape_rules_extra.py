"""Shape rules for contrib (com.microsoft), sequence, ONNX-ML and other schema-less ops.

Imported at the end of :mod:`hwsim.graph.shape_rules`; registers with its ``shape_rule``.

**Sequences.** The loader tracks one static shape per value, so a sequence of tensors is
represented as the *stacked* tensor ``(n_elements, *element_shape)``; an empty sequence is
``(0,)``. When the elements' shapes differ (same rank), the element shape is the elementwise
maximum (an upper bound, with a note); elements of different ranks cannot be stacked and
raise :class:`ShapeError`.
"""

from __future__ import annotations

import math

import numpy as np

from hwsim.errors import ShapeError
from hwsim.graph.shape_rules import MS, RuleResult, ShapeCtx, broadcast, shape_rule


def _name(ctx: ShapeCtx) -> str:
    return ctx.node.name or ctx.node.op_type


def _val(ctx: ShapeCtx, i: int) -> np.ndarray | None:
    return ctx.values[i] if i < len(ctx.values) else None


# ---------------------------------------------------------------- sequences (default domain)


def stack_elements(ctx: ShapeCtx, elems: list[tuple[int, ...]]) -> RuleResult:
    """Stacked ``(n, *element)`` shape of a sequence; elementwise-max element bound when ragged."""
    if not elems:
        return [(0,)], ""
    ranks = {len(e) for e in elems}
    if len(ranks) > 1:
        raise ShapeError(f"node {_name(ctx)!r} ({ctx.node.op_type}): sequence elements have different ranks "
                         f"{sorted(set(elems))}; hwsim represents a sequence as one stacked tensor and needs a common rank")
    bound = tuple(max(d) for d in zip(*elems, strict=False)) if elems[0] else ()
    note = ""
    if any(e != bound for e in elems):
        note = (f"{ctx.node.op_type} {_name(ctx)!r}: sequence elements have different shapes {sorted(set(elems))}; "
                f"upper bound {list(bound)} used for every element")
    return [(len(elems),) + bound], note


def _elements(seq: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Element shapes of a stacked sequence (none for an empty one)."""
    return [seq[1:]] * seq[0]


@shape_rule("SequenceEmpty")
def sequence_empty(ctx: ShapeCtx) -> RuleResult:
    """An empty sequence: ``(0,)``."""
    return [(0,)], ""


@shape_rule("SequenceConstruct")
def sequence_construct(ctx: ShapeCtx) -> RuleResult:
    """Stack of the inputs."""
    return stack_elements(ctx, [s for s in ctx.shapes if s is not None])


@shape_rule("SequenceInsert")
def sequence_insert(ctx: ShapeCtx) -> RuleResult:
    """One more element (the element shape of an empty sequence comes from the tensor)."""
    seq, t = ctx.shape(0), ctx.shape(1)
    return stack_elements(ctx, _elements(seq) + [t])


@shape_rule("SequenceErase")
def sequence_erase(ctx: ShapeCtx) -> RuleResult:
    """One element fewer."""
    seq = ctx.shape(0)
    if seq[0] == 0:
        raise ShapeError(f"node {_name(ctx)!r}: SequenceErase on an empty sequence")
    return [(seq[0] - 1,) + seq[1:]], ""


@shape_rule("SequenceAt")
def sequence_at(ctx: ShapeCtx) -> RuleResult:
    """The element shape."""
    seq = ctx.shape(0)
    if seq[0] == 0:
        raise ShapeError(f"node {_name(ctx)!r}: SequenceAt on an empty sequence")
    return [seq[1:]], ""


@shape_rule("SequenceLength")
def sequence_length(ctx: ShapeCtx) -> RuleResult:
    """A scalar."""
    return [()], ""


@shape_rule("SplitToSequence")
def split_to_sequence(ctx: ShapeCtx) -> RuleResult:
    """Chunks along ``axis``: every 1 (keepdims may drop the axis), a scalar chunk size, or given sizes."""
    x = ctx.shape(0)
    axis = int(ctx.attrs.get("axis", 0)) % len(x)
    n = x[axis]
    split, sshape = _val(ctx, 1), ctx.shape(1)
    if sshape is None:
        if int(ctx.attrs.get("keepdims", 1)):
            return [(n,) + x[:axis] + (1,) + x[axis + 1:]], ""
        return [(n,) + x[:axis] + x[axis + 1:]], ""
    if split is None:
        if len(sshape) == 0:
            raise ShapeError(f"node {_name(ctx)!r}: SplitToSequence chunk size is not a constant; hwsim cannot bound the sequence length")
        note = f"SplitToSequence {_name(ctx)!r}: split sizes are data-dependent; upper bound {n} per element used"
        return [(sshape[0],) + x], note
    sizes = [int(v) for v in np.asarray(split).reshape(-1)]
    if np.asarray(split).ndim == 0:
        sizes = [sizes[0]] * (n // sizes[0]) + ([n % sizes[0]] if n % sizes[0] else [])
    return stack_elements(ctx, [x[:axis] + (s,) + x[axis + 1:] for s in sizes])


@shape_rule("ConcatFromSequence")
def concat_from_sequence(ctx: ShapeCtx) -> RuleResult:
    """Concatenate (or stack, ``new_axis=1``) the elements along ``axis``."""
    seq = ctx.shape(0)
    n, e = seq[0], seq[1:]
    if int(ctx.attrs.get("new_axis", 0)):
        axis = int(ctx.attrs["axis"]) % (len(e) + 1)
        return [e[:axis] + (n,) + e[axis:]], ""
    axis = int(ctx.attrs["axis"]) % len(e)
    return [e[:axis] + (n * e[axis],) + e[axis + 1:]], ""


@shape_rule("Gradient", domain="ai.onnx.preview.training")
def gradient(ctx: ShapeCtx) -> RuleResult:
    """dY/dx_i has x_i's shape (the first ``len(xs)`` inputs are the xs)."""
    return [ctx.shape(i) for i in range(len(ctx.attrs.get("xs", ())))], ""


@shape_rule("StringSplit")
def string_split(ctx: ShapeCtx) -> RuleResult:
    """[..., maxsplit + 1] substrings and [...] counts; needs ``maxsplit`` (else data-dependent)."""
    x = ctx.shape(0)
    if "maxsplit" not in ctx.attrs:
        raise ShapeError(f"node {_name(ctx)!r}: StringSplit without maxsplit has a data-dependent output width; set maxsplit")
    return [x + (int(ctx.attrs["maxsplit"]) + 1,), x], ""


# ---------------------------------------------------------------- ONNX-ML whose outputs are maps


@shape_rule("ZipMap", domain="ai.onnx.ml")
def zipmap(ctx: ShapeCtx) -> RuleResult:
    """A sequence of N maps of C entries, stacked as ``(N, C)`` (the map values)."""
    return [ctx.shape(0)], ""


# ---------------------------------------------------------------- com.microsoft recurrent / attention


@shape_rule("DynamicQuantizeLSTM", domain=MS)
def dq_lstm(ctx: ShapeCtx) -> RuleResult:
    """Y [seq, dirs, batch, hidden], Y_h and Y_c [dirs, batch, hidden]."""
    x, w = ctx.shape(0), ctx.shape(1)
    hidden = int(ctx.attrs.get("hidden_size", 0)) or w[2] // 4
    dirs = w[0]
    return [(x[0], dirs, x[1], hidden), (dirs, x[1], hidden), (dirs, x[1], hidden)], ""


def _past_len(ctx: ShapeCtx, i: int, axis: int) -> int:
    p = ctx.shape(i)
    return p[axis] if p is not None else 0


@shape_rule("Attention", "QAttention", domain=MS)
def ms_attention(ctx: ShapeCtx) -> RuleResult:
    """output [B, S, H_v]; present [2, B, heads, past + S, head_size]."""
    b, s, _ = ctx.shape(0)
    w = ctx.shape(1)
    sizes = ctx.attrs.get("qkv_hidden_sizes") or (w[1] // 3,) * 3
    heads = int(ctx.attrs["num_heads"])
    past_slot = 4 if ctx.node.op_type == "Attention" else 8
    total = s + _past_len(ctx, past_slot, 3)
    return [(b, s, int(sizes[2])), (2, b, heads, total, int(sizes[1]) // heads)], ""


def mha_dims(shapes: list, heads: int) -> dict[str, int]:
    """B, S, L (kv length), head sizes d / d_v and past length of com.microsoft MultiHeadAttention."""
    q, k, v = (shapes[i] if i < len(shapes) else None for i in range(3))
    if k is None and len(q) == 5:  # packed QKV [B, S, N, 3, H]
        b, s, _, _, d = q
        return dict(B=b, S=s, L=s, d=d, dv=d, P=0)
    b, s, dq = q
    d = dq // heads
    if len(k) == 5:  # packed KV [B, L, N, 2, H]
        return dict(B=b, S=s, L=k[1], d=d, dv=k[4], P=0)
    if len(k) == 4:  # projected cross-attention K/V [B, N, L, H]
        return dict(B=b, S=s, L=k[2], d=d, dv=v[3], P=0)
    past = shapes[6] if len(shapes) > 6 and shapes[6] is not None else None
    return dict(B=b, S=s, L=k[1], d=d, dv=v[2] // heads, P=past[2] if past else 0)


@shape_rule("MultiHeadAttention", domain=MS)
def ms_mha(ctx: ShapeCtx) -> RuleResult:
    """output [B, S, N·d_v]; present_key/value [B, N, past + L, d]."""
    n = int(ctx.attrs["num_heads"])
    m = mha_dims(ctx.shapes, n)
    t = m["P"] + m["L"]
    return [(m["B"], m["S"], n * m["dv"]), (m["B"], n, t, m["d"]), (m["B"], n, t, m["dv"])], ""


def gqa_dims(ctx_shapes: list, values: list, attrs: dict) -> dict[str, int]:
    """B, S, heads N, kv heads, head size, past length P and attended length T of GroupQueryAttention."""
    n, nkv = int(attrs["num_heads"]), int(attrs["kv_num_heads"])
    b, s, width = ctx_shapes[0]
    key = ctx_shapes[1] if len(ctx_shapes) > 1 else None
    d = width // (n + 2 * nkv) if key is None else width // n
    past = ctx_shapes[3] if len(ctx_shapes) > 3 and ctx_shapes[3] is not None else None
    p = past[2] if past else 0
    tot = values[6] if len(values) > 6 else None
    t = int(np.asarray(tot).reshape(-1)[0]) if tot is not None else p + s
    return dict(B=b, S=s, N=n, Nkv=nkv, d=d, P=p, T=t)


@shape_rule("GroupQueryAttention", domain=MS)
def ms_gqa(ctx: ShapeCtx) -> RuleResult:
    """output [B, S, N·d]; present_key/value [B, N_kv, max(past, total), d]."""
    m = gqa_dims(ctx.shapes, ctx.values, ctx.attrs)
    t = max(m["T"], m["P"])
    kv = (m["B"], m["Nkv"], t, m["d"])
    return [(m["B"], m["S"], m["N"] * m["d"]), kv, kv], ""


@shape_rule("RotaryEmbedding", domain=MS)
def ms_rotary(ctx: ShapeCtx) -> RuleResult:
    """Same shape as the input."""
    return [ctx.shape(0)], ""


# ---------------------------------------------------------------- com.microsoft quantized ops


@shape_rule("QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", domain=MS)
def ms_q_same(ctx: ShapeCtx) -> RuleResult:
    """Same shape and type as input 0."""
    return [ctx.shape(0)], ""


@shape_rule("QuantizeLinear", domain=MS)
def ms_quantize(ctx: ShapeCtx) -> RuleResult:
    """Input 0's shape; the zero point's type (input 2), uint8 when it is absent."""
    zp = ctx.dtypes[2] if len(ctx.dtypes) > 2 and ctx.shape(2) is not None else "uint8"
    return [ctx.shape(0)], "", [zp]


@shape_rule("DequantizeLinear", domain=MS)
def ms_dequantize(ctx: ShapeCtx) -> RuleResult:
    """Input 0's shape; the scale's type (input 1)."""
    return [ctx.shape(0)], "", [ctx.dtypes[1]]


@shape_rule("QLinearAdd", "QLinearMul", domain=MS)
def ms_q_binary(ctx: ShapeCtx) -> RuleResult:
    """Broadcast of A (input 0) and B (input 3)."""
    return [broadcast(ctx.shape(0), ctx.shape(3))], ""


@shape_rule("QLinearGlobalAveragePool", domain=MS)
def ms_q_gap(ctx: ShapeCtx) -> RuleResult:
    """Spatial dims become 1 (channels-last keeps C last)."""
    x = ctx.shape(0)
    if int(ctx.attrs.get("channels_last", 0)):
        return [(x[0],) + (1,) * (len(x) - 2) + (x[-1],)], ""
    return [x[:2] + (1,) * (len(x) - 2)], ""


def pool_out(size: int, k: int, s: int, p: int, ceil: bool, auto: str) -> int:
    """Output length of one pooled spatial dim (ONNX AveragePool rules)."""
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return math.ceil(size / s)
    if auto == "VALID":
        p = 0
    span = size + p - k
    return (math.ceil(span / s) if ceil else span // s) + 1


@shape_rule("QLinearAveragePool", domain=MS)
def ms_q_avgpool(ctx: ShapeCtx) -> RuleResult:
    """Average-pool output shape (NCHW, or NHWC with ``channels_last``)."""
    x = ctx.shape(0)
    last = int(ctx.attrs.get("channels_last", 0))
    sp = x[1:-1] if last else x[2:]
    k = ctx.attrs["kernel_shape"]
    nsp = len(sp)
    st = ctx.attrs.get("strides") or (1,) * nsp
    pads = ctx.attrs.get("pads") or (0,) * (2 * nsp)
    ceil, auto = bool(ctx.attrs.get("ceil_mode", 0)), str(ctx.attrs.get("auto_pad", "NOTSET"))
    out = tuple(pool_out(sp[i], k[i], st[i], pads[i] + pads[i + nsp], ceil, auto) for i in range(nsp))
    return [(x[0],) + out + (x[-1],) if last else x[:2] + out], ""


@shape_rule("QLinearConcat", domain=MS)
def ms_q_concat(ctx: ShapeCtx) -> RuleResult:
    """Concat of inputs 2, 5, 8, ... along ``axis``."""
    xs = [ctx.shapes[i] for i in range(2, len(ctx.shapes), 3)]
    axis = int(ctx.attrs["axis"]) % len(xs[0])
    return [xs[0][:axis] + (sum(x[axis] for x in xs),) + xs[0][axis + 1:]], ""


@shape_rule("QGemm", domain=MS)
def ms_qgemm(ctx: ShapeCtx) -> RuleResult:
    """[M, N] of op(A)·op(B)."""
    a, b = ctx.shape(0), ctx.shape(3)
    m = a[1] if int(ctx.attrs.get("transA", 0)) else a[0]
    n = b[0] if int(ctx.attrs.get("transB", 0)) else b[1]
    out_dtype = None if len(ctx.shapes) > 6 and ctx.shape(6) is not None else "fp32"
    return [(m, n)], "", [out_dtype]  # no y_scale: the output is dequantised float



# ---------------------------------------------------------------- ONNX-ML classifiers / regressors


def _n_rows(ctx: ShapeCtx) -> int:
    x = ctx.shape(0)
    return 1 if len(x) <= 1 else x[0]


def _n_labels(ctx: ShapeCtx) -> int:
    a = ctx.attrs
    return len(a.get("classlabels_ints") or a.get("classlabels_int64s") or a.get("classlabels_strings") or ())


@shape_rule("LinearClassifier", "SVMClassifier", "TreeEnsembleClassifier", domain="ai.onnx.ml")
def ml_classifier(ctx: ShapeCtx) -> RuleResult:
    """Labels [N] and scores [N, classes] (classes = number of class labels)."""
    n = _n_rows(ctx)
    return [(n,), (n, max(_n_labels(ctx), 1))], ""


@shape_rule("LinearRegressor", "SVMRegressor", "TreeEnsembleRegressor", "TreeEnsemble", domain="ai.onnx.ml")
def ml_regressor(ctx: ShapeCtx) -> RuleResult:
    """[N, targets] (``targets`` / ``n_targets``, 1 when absent)."""
    t = int(ctx.attrs.get("targets") or ctx.attrs.get("n_targets") or 1)
    return [(_n_rows(ctx), t)], ""


@shape_rule("FeatureVectorizer", domain="ai.onnx.ml")
def ml_feature_vectorizer(ctx: ShapeCtx) -> RuleResult:
    """[N, Σ inputdimensions]."""
    return [(_n_rows(ctx), int(sum(ctx.attrs.get("inputdimensions") or ())))], ""


@shape_rule("OneHotEncoder", domain="ai.onnx.ml")
def ml_one_hot(ctx: ShapeCtx) -> RuleResult:
    """Input shape + (number of categories,)."""
    cats = ctx.attrs.get("cats_int64s") or ctx.attrs.get("cats_strings") or ()
    return [ctx.shape(0) + (len(cats),)], ""


@shape_rule("Normalizer", "Scaler", "Binarizer", "Imputer", "LabelEncoder", "CategoryMapper", domain="ai.onnx.ml")
def ml_same_shape(ctx: ShapeCtx) -> RuleResult:
    """Elementwise: the input's shape."""
    return [ctx.shape(0)], ""


@shape_rule("ArrayFeatureExtractor", domain="ai.onnx.ml")
def ml_array_feature_extractor(ctx: ShapeCtx) -> RuleResult:
    """X[..., indices]: last dim replaced by the number of indices."""
    return [ctx.shape(0)[:-1] + (math.prod(ctx.shape(1)),)], ""


@shape_rule("StringNormalizer")
def string_normalizer(ctx: ShapeCtx) -> RuleResult:
    """Upper bound: no stopword removed (the input's shape); exact without stopwords."""
    if ctx.attrs.get("stopwords"):
        return [ctx.shape(0)], f"StringNormalizer {_name(ctx)!r}: stopword removal is data-dependent; upper bound (none removed) used"
    return [ctx.shape(0)], ""


# ---------------------------------------------------------------- com.microsoft normalisations


def _row_stats(x: tuple[int, ...], axis: int = -1) -> tuple[int, ...]:
    """Shape of per-row statistics (mean, inverse std): the normalised axes become 1."""
    axis %= len(x)
    return x[:axis] + (1,) * (len(x) - axis)


@shape_rule("SkipLayerNormalization", "SkipSimplifiedLayerNormalization", domain=MS)
def ms_skip_norm(ctx: ShapeCtx) -> RuleResult:
    """output, mean, inv_std_var, input_skip_bias_sum: the input's shape, stats per row."""
    x = ctx.shape(0)
    return [x, _row_stats(x), _row_stats(x), x], ""


@shape_rule("SimplifiedLayerNormalization", "LayerNormalization", domain=MS)
@shape_rule("SimplifiedLayerNormalization")
def ms_layer_norm(ctx: ShapeCtx) -> RuleResult:
    """output, then per-row statistics over the axes from ``axis`` on."""
    x = ctx.shape(0)
    stats = _row_stats(x, int(ctx.attrs.get("axis", -1)))
    return [x, stats, stats], ""


@shape_rule("EmbedLayerNormalization", domain=MS)
def ms_embed_layer_norm(ctx: ShapeCtx) -> RuleResult:
    """output [B, S, H] (H = word embedding width), mask_index [B], embedding_sum [B, S, H]."""
    ids, word = ctx.shape(0), ctx.shape(2)
    out = ids + (word[-1],)
    return [out, (ids[0],), out], "", [None, "int32", None]


@shape_rule("GroupNorm", "SkipGroupNorm", domain=MS)
def ms_group_norm(ctx: ShapeCtx) -> RuleResult:
    """NHWC group norm: outputs keep the input's shape (SkipGroupNorm's second is the sum)."""
    return [ctx.shape(0), ctx.shape(0)], ""


@shape_rule("NhwcMaxPool", domain=MS)
def ms_nhwc_maxpool(ctx: ShapeCtx) -> RuleResult:
    """Max-pool output shape on an NHWC tensor (ONNX MaxPool rules per spatial dim)."""
    x = ctx.shape(0)
    sp = x[1:-1]
    k = ctx.attrs["kernel_shape"]
    nsp = len(sp)
    st = ctx.attrs.get("strides") or (1,) * nsp
    dil = ctx.attrs.get("dilations") or (1,) * nsp
    pads = ctx.attrs.get("pads") or (0,) * (2 * nsp)
    ceil, auto = bool(ctx.attrs.get("ceil_mode", 0)), str(ctx.attrs.get("auto_pad", "NOTSET"))
    out = tuple(pool_out(sp[i], dil[i] * (k[i] - 1) + 1, st[i], pads[i] + pads[i + nsp], ceil, auto)
                for i in range(nsp))
    return [(x[0],) + out + (x[-1],)], ""
