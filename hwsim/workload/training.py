"""Global backprop training: a forward WorkTable → forward + backward + optimizer rows.

``backprop(table)`` appends, per forward op, the rows of its backward pass, then one
optimizer row per op that owns parameters; column ``phase`` says which is which
(:data:`FORWARD` 0, :data:`BACKWARD` 1, :data:`OPTIMIZER` 2, :data:`LOCAL_UPDATE` 3 — the
last used by :mod:`hwsim.workload.local`), ``fwd_row`` the forward row each row derives from
and ``recompute`` 1 on forward rows replayed by activation recomputation.

**Matmul-like ops** (GEMM view (b, m, n, k): Y[m×n] = X[m×k]·W[k×n]), backward = 2× forward:

* data gradient dX = dY·Wᵀ: GEMM (b, m, k, n), 2·b·m·n·k FLOPs, reads dY + W, writes dX;
* weight gradient dW = Xᵀ·dY: GEMM (b, k, n, m), 2·b·m·n·k FLOPs + the forward's non-MAC
  FLOPs (the bias gradient Σ_m dY, one add per output), reads X + dY, writes dW — only
  where the op has constant weights (``const_bytes`` > 0);
* a product of two activations (attention's Q·Kᵀ, P·V) gets a second data gradient
  dB = Aᵀ·dY instead (GEMM (b, k, n, m)); the activation bytes split between A and B in
  proportion to their elements b·m·k : b·k·n.

This is the standard "backward ≈ 2× forward" rule: 6·N FLOPs per token for forward +
backward (Kaplan et al. 2020, "Scaling Laws for Neural Language Models", §2.1; Narayanan
et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters", §5.1). As
there, every GEMM gets its data gradient, including the first layer (frameworks skip it when
the input needs no gradient; the difference is 2·m·n·k FLOPs of one layer).

**Other ops**: backward FLOPs = multiple × forward FLOPs (:data:`BACKWARD_FLOP_MULTIPLE` by
work kind, :data:`BACKWARD_OP_MULTIPLE` by op type, derivations there); bytes: reads dY (the
forward's bytes written) + the saved inputs (its bytes read), writes a gradient for every
input (its bytes read); data movement only moves the gradient back (reads dY, writes dX).

**Optimizer** (one row per op with ``params`` > 0, fp32 master weights, kind ELEMENTWISE),
per parameter, exactly (:data:`OPTIMIZERS`):

=========  =====  ===================================================================
optimizer  FLOPs  update
=========  =====  ===================================================================
sgd          2    w ← w − η·g
momentum     4    v ← μ·v + g (2); w ← w − η·v (2)
adam        13    m ← β1·m + (1−β1)·g (3); v ← β2·v + (1−β2)·g² (4);
                  d ← √v·c2 + ε (3, c2 = 1/√(1−β2^t)); w ← w − (η/(1−β1^t))·m/d (3)
adamw       14    adam + decoupled decay w ← w·(1 − η·λ) (1) (Loshchilov & Hutter 2019)
=========  =====  ===================================================================

Bytes per parameter: read w (4) + g (4, or 2 under mixed precision) + 4 per state; write
w (4) + 4 per state: fp32 Adam reads 16 and writes 12. **Mixed precision** (Micikevicius et
al. 2018, "Mixed Precision Training"): forward and backward rows compute in ``compute_dtype``
(bf16/fp16; bytes scale with the element size), the optimizer keeps fp32 master weights, and
adds 2 FLOPs per parameter (upcast/unscale the 16-bit gradient, cast the updated master
weight down) and writes the 2-byte working copy.

**Recompute** (full activation recomputation; Chen et al. 2016, "Training Deep Nets with
Sublinear Memory Cost"): every forward op runs once more before the backward pass (rows
``<name>/recompute``, ``recompute`` = 1) — Chen's bound of one extra forward, and what
Megatron-LM's full recomputation does (Narayanan et al. 2021: 4× forward hardware FLOPs).

**DAG**: forward edges; for each forward edge u→v, the rows producing v's input gradient
feed every backward row of u; each backward row depends on its forward op (saved
activations; on its recompute row with recompute); an optimizer row after its op's
gradient rows; recompute rows mirror the forward edges.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from hwsim.errors import ConfigError
from hwsim.graph.dtypes import dtype_bytes
from hwsim.ops.work import WorkKind, WorkTable
from hwsim.workload.quantize import cast_dtype

FORWARD, BACKWARD, OPTIMIZER, LOCAL_UPDATE = 0, 1, 2, 3
DOMAIN = "hwsim.training"
_GEMM = (int(WorkKind.MATMUL), int(WorkKind.CONV))

#: Backward FLOPs / forward FLOPs by work kind, for ops without a GEMM view.
#: ELEMENTWISE 2: y = f(x) needs f'(x) (≈ the forward's cost) and one multiply by dy; a
#: binary product needs one product per operand (Mul: dA = dY·B, dB = dY·A, 2 vs 1).
#: NORM 2: LayerNorm's dx = (γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂))/σ plus dγ = Σ dy·x̂,
#: dβ = Σ dy is ≈ 12–14 FLOPs per element vs 7 forward (docs/counting.md).
#: REDUCE 1: a reduction's gradient is a broadcast, one op per input element.
#: POOL 1: max pool routes dy to the arg-max tap, average pool spreads dy/taps: ≈ 1 per tap.
#: DATA_MOVEMENT / NONE 0: the gradient is moved back, no arithmetic (scatter-adds below).
BACKWARD_FLOP_MULTIPLE = {int(WorkKind.MATMUL): 2.0, int(WorkKind.CONV): 2.0, int(WorkKind.ELEMENTWISE): 2.0,
                          int(WorkKind.NORM): 2.0, int(WorkKind.REDUCE): 1.0, int(WorkKind.POOL): 1.0,
                          int(WorkKind.DATA_MOVEMENT): 0.0, int(WorkKind.NONE): 0.0}
#: Per op type: Add/Sub/Sum pass dy through (1 for the broadcast reduction of a bias add, an
#: upper bound for residual adds); Relu/Where select (1 per element, as forward); Softmax
#: dx = y·(dy − Σ dy·y) is 4 FLOPs per element vs 5 forward (0.8).
BACKWARD_OP_MULTIPLE = {"Add": 1.0, "Sub": 1.0, "Sum": 1.0, "Relu": 1.0, "Where": 1.0, "Softmax": 0.8}


@dataclass(frozen=True)
class Optimizer:
    """Per-parameter cost of one optimizer step (module docstring): FLOPs and fp32 state tensors."""

    name: str
    flops_per_param: float
    states: int


OPTIMIZERS = {"sgd": Optimizer("SGD", 2.0, 0), "momentum": Optimizer("Momentum", 4.0, 1),
              "adam": Optimizer("Adam", 13.0, 2), "adamw": Optimizer("AdamW", 14.0, 2)}
#: Extra FLOPs per parameter under mixed precision: gradient upcast/unscale + master → 16-bit cast.
MIXED_PRECISION_FLOPS_PER_PARAM = 2.0
COMPUTE_DTYPES = ("bf16", "fp16")


def optimizer_spec(optimizer: str) -> Optimizer:
    """The :class:`Optimizer` named ``optimizer``; ConfigError listing the known ones otherwise."""
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[optimizer]


def training_precision(table: WorkTable, mixed_precision: bool, compute_dtype: str = "bf16") -> WorkTable:
    """The forward table in its training number format: float rows cast to ``compute_dtype``
    under mixed precision (bytes, weight and const bytes scaled by the element-size ratio)."""
    if not mixed_precision:
        return table
    if compute_dtype not in COMPUTE_DTYPES:
        raise ConfigError(f"mixed-precision compute dtype {compute_dtype!r} must be one of {COMPUTE_DTYPES}")
    out = cast_dtype(table, compute_dtype)
    ratio = np.array([dtype_bytes(b) / dtype_bytes(a) if a != b else 1.0 for a, b in zip(table.dtype, out.dtype)])
    return out.with_columns(const_bytes=table.columns["const_bytes"] * ratio)


def backprop(table: WorkTable, optimizer: str = "adamw", mixed_precision: bool = True, recompute: bool = False,
             compute_dtype: str = "bf16") -> WorkTable:
    """Forward + (recompute) + backward + optimizer rows of one training step on ``table``'s batch."""
    opt = optimizer_spec(optimizer)
    fwd = _tag(training_precision(table, mixed_precision, compute_dtype), FORWARD)
    parts = [fwd]
    if recompute:
        parts.append(_tag(_derive(fwd, np.arange(len(fwd)), "/recompute"), FORWARD, recompute=1.0))
    bwd = backward_rows(fwd)
    parts += [bwd, optimizer_rows(fwd, opt, mixed_precision)]
    graph = _joint_graph(fwd, bwd, recompute)
    note = f"training: backprop, {opt.name}, {'mixed precision ' + compute_dtype if mixed_precision else 'fp32'}" + (
        ", full activation recompute" if recompute else "")
    return WorkTable.concat(parts, graph, notes=(note,))


def backward_rows(fwd: WorkTable) -> WorkTable:
    """Backward rows of every forward row, in reverse forward order (module docstring)."""
    c = fwd.columns
    gemm = np.isin(fwd.kind, _GEMM) & (c["gemm_m"] > 0) & (c["macs"] > 0)
    weighted = gemm & (c["const_bytes"] > 0)
    main = _tag(_main_backward(fwd, gemm), BACKWARD)
    second_idx = np.flatnonzero(gemm)
    second = _tag(_second_gradient(fwd, second_idx, weighted[second_idx]), BACKWARD)
    both = WorkTable.concat([main, second], fwd.graph)
    order = np.lexsort((np.r_[np.zeros(len(main)), np.ones(len(second))], -both.columns["fwd_row"]))
    return both.select(order)


def _main_backward(fwd: WorkTable, gemm: np.ndarray) -> WorkTable:
    """Row ``<name>/bwd``: the data gradient of GEMMs, the whole backward of other ops."""
    c = fwd.columns
    br, bw, cb = c["bytes_read"], c["bytes_written"], c["const_bytes"]
    macs, other = c["macs"], np.maximum(c["flops"] - 2 * c["macs"], 0.0)
    act_a, _ = _activation_split(fwd)
    mult = np.array([BACKWARD_OP_MULTIPLE.get(t, BACKWARD_FLOP_MULTIPLE[int(k)]) for t, k in zip(fwd.op_type, fwd.kind)])
    moves = np.isin(fwd.kind, [int(WorkKind.DATA_MOVEMENT), int(WorkKind.NONE)])
    scatter = (fwd.op_type == "Gather") & (cb > 0)  # embedding gradient: one add per gathered element
    out_elems = np.array([sum(math.prod(s) for s in shapes) for shapes in fwd.output_shapes], dtype=float)
    flops = np.where(gemm, 2 * macs + np.where(cb > 0, 0.0, other), mult * c["flops"] + np.where(scatter, out_elems, 0.0))
    return _derive(
        fwd, np.arange(len(fwd)), "/bwd", flops=flops, macs=np.where(gemm, macs, 0.0),
        bytes_read=np.where(gemm, bw + np.where(cb > 0, cb, br - cb - act_a), np.where(moves, bw, bw + br)),
        bytes_written=np.where(gemm, np.where(cb > 0, br - cb, act_a), br),
        const_bytes=cb, gemm_m=c["gemm_m"], gemm_n=c["gemm_k"], gemm_k=c["gemm_n"])


def _second_gradient(fwd: WorkTable, idx: np.ndarray, weighted: np.ndarray) -> WorkTable:
    """Row ``<name>/bwd_w`` (dW = Xᵀ·dY, weighted GEMMs) or ``<name>/bwd_b`` (dB = Aᵀ·dY)."""
    c = {k: v[idx] for k, v in fwd.columns.items()}
    act_a, act_b = (a[idx] for a in _activation_split(fwd))
    other = np.maximum(c["flops"] - 2 * c["macs"], 0.0)
    br, bw, cb = c["bytes_read"], c["bytes_written"], c["const_bytes"]
    rows = _derive(
        fwd, idx, "", flops=2 * c["macs"] + np.where(weighted, other, 0.0), macs=c["macs"],
        bytes_read=np.where(weighted, br - cb, act_a) + bw, bytes_written=np.where(weighted, cb, act_b),
        const_bytes=0.0, gemm_m=c["gemm_k"], gemm_n=c["gemm_n"], gemm_k=c["gemm_m"], weight_density=1.0)
    names = np.array([f"{n}/bwd_w" if w else f"{n}/bwd_b" for n, w in zip(fwd.name[idx], weighted)], dtype=object)
    return dataclasses.replace(rows, name=names)


def _activation_split(fwd: WorkTable) -> tuple[np.ndarray, np.ndarray]:
    """Bytes of a GEMM's two activation operands A (b·m·k) and B (b·k·n) for activation×activation
    products (B = 0 for weighted GEMMs, whose activation bytes are bytes_read − const_bytes)."""
    c = fwd.columns
    acts = np.maximum(c["bytes_read"] - c["const_bytes"], 0.0)
    a, b = c["gemm_m"] * c["gemm_k"], c["gemm_k"] * c["gemm_n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((c["const_bytes"] > 0) | (a + b <= 0), 1.0, a / (a + b))
    return acts * share, acts * (1.0 - share)


def optimizer_rows(fwd: WorkTable, opt: Optimizer, mixed_precision: bool) -> WorkTable:
    """One fp32 optimizer row ``<name>/opt`` per forward op owning parameters (module docstring)."""
    idx = np.flatnonzero(fwd.columns["params"] > 0)
    p = fwd.columns["params"][idx]
    grad_bytes = 2.0 if mixed_precision else 4.0
    flops = (opt.flops_per_param + (MIXED_PRECISION_FLOPS_PER_PARAM if mixed_precision else 0.0)) * p
    read = p * (4.0 + grad_bytes + 4.0 * opt.states)
    written = p * (4.0 + 4.0 * opt.states + (2.0 if mixed_precision else 0.0))
    zeros = np.zeros(len(idx))
    rows = _derive(fwd, idx, "/opt", op_type=opt.name, kind=WorkKind.ELEMENTWISE, dtype="fp32", flops=flops,
                   macs=zeros, bytes_read=read, bytes_written=written, const_bytes=zeros, gemm_batch=zeros,
                   gemm_m=zeros, gemm_n=zeros, gemm_k=zeros, opt_params=p)
    return _tag(rows, OPTIMIZER)


def _derive(fwd: WorkTable, idx: np.ndarray, suffix: str, op_type: str | None = None, kind: WorkKind | None = None,
            dtype: str | None = None, **cols: np.ndarray | float) -> WorkTable:
    """Rows derived from forward rows ``idx``: names ``<name><suffix>``, op type ``<op>Grad`` for
    backward rows (ONNX Runtime training's naming), no parameters of their own, ``fwd_row`` set."""
    sub = fwd.select(idx)
    columns = dict(sub.columns)
    columns.update(params=np.zeros(len(idx)), weight_bytes=np.zeros(len(idx)), fwd_row=idx.astype(float))
    for key, value in cols.items():
        columns[key] = np.broadcast_to(np.asarray(value, dtype=float), (len(idx),)).copy()
    replay = suffix == "/recompute"
    names = np.array([f"{n}{suffix}" for n in sub.name], dtype=object)
    types = np.array([op_type or (t if replay else f"{t}Grad") for t in sub.op_type], dtype=object)
    return dataclasses.replace(
        sub, name=names, op_type=types, domain=sub.domain if replay else np.full(len(idx), DOMAIN, dtype=object),
        kind=sub.kind if kind is None else np.full(len(idx), int(kind), dtype=np.int8),
        dtype=sub.dtype if dtype is None else np.full(len(idx), dtype, dtype=object), columns=columns)


def _tag(table: WorkTable, phase: int, recompute: float = 0.0) -> WorkTable:
    """``table`` with columns phase, recompute (and fwd_row = own index on forward rows)."""
    extra = {"phase": float(phase), "recompute": recompute}
    if "fwd_row" not in table.columns:
        extra["fwd_row"] = np.arange(len(table), dtype=float)
    return table.with_columns(**extra)


def gradient_rows(fwd: WorkTable) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(rows producing each op's input gradients, rows consuming each op's output gradient)."""
    c = fwd.columns
    producers: dict[str, list[str]] = {}
    consumers: dict[str, list[str]] = {}
    for i, name in enumerate(fwd.name):
        gemm = fwd.kind[i] in _GEMM and c["gemm_m"][i] > 0 and c["macs"][i] > 0
        second = [] if not gemm else [f"{name}/bwd_w" if c["const_bytes"][i] > 0 else f"{name}/bwd_b"]
        consumers[name] = [f"{name}/bwd", *second]
        producers[name] = [f"{name}/bwd", *(s for s in second if s.endswith("/bwd_b"))]
    return producers, consumers


def _joint_graph(fwd: WorkTable, bwd: WorkTable, recompute: bool) -> nx.DiGraph:
    """The training DAG (module docstring)."""
    g = nx.DiGraph(fwd.graph)
    producers, consumers = gradient_rows(fwd)
    bytes_out = dict(zip(fwd.name, fwd.columns["bytes_written"]))
    for u, v, data in fwd.graph.edges(data=True):
        for p in producers[v]:
            for q in consumers[u]:
                g.add_edge(p, q, tensors=(f"grad:{u}",), bytes=data.get("bytes", 0))
        if recompute:
            g.add_edge(f"{u}/recompute", f"{v}/recompute", **data)
    for i, name in enumerate(fwd.name):
        saved = f"{name}/recompute" if recompute else name
        if recompute:
            g.add_edge(name, saved, tensors=(name,), bytes=float(bytes_out[name]))
        for q in consumers[name]:
            g.add_edge(saved, q, tensors=(name,), bytes=float(bytes_out[name]))
        if fwd.columns["params"][i] > 0:
            for q in consumers[name]:
                g.add_edge(q, f"{name}/opt", tensors=(f"grad:{name}.weights",), bytes=0.0)
    g.add_nodes_from(bwd.name)
    return g


def model_flops(train: WorkTable) -> float:
    """Forward + backward FLOPs without recompute or optimizer (the MFU numerator, 6·N·D-style)."""
    c = train.columns
    return float(c["flops"][(c["phase"] <= BACKWARD) & (c["recompute"] == 0)].sum())


def training_memory(table: WorkTable, optimizer: str = "adamw", mixed_precision: bool = True, recompute: bool = False,
                    microbatch: int = 1, compute_dtype: str = "bf16") -> dict[str, float]:
    """Bytes held during a training step of the forward ``table``.

    P = Σ params. weights = P × 2 (mixed precision, compute dtype) or 4; master_weights = 4·P
    under mixed precision; gradients = P × 2 or 4; optimizer_state = 4·states·P (Adam: m and v
    in fp32, 8·P). activations = ``microbatch`` × the forward outputs kept for backward:
    every forward op's bytes written without recompute; with recompute (Chen et al. 2016, √n
    checkpoints) the outputs of every ⌈√n⌉-th of the n ops that write, plus — once, for the
    one segment being recomputed at a time — the largest segment between checkpoints.
    """
    opt = optimizer_spec(optimizer)
    if microbatch < 1:
        raise ConfigError(f"microbatch must be ≥ 1, got {microbatch}")
    fwd = training_precision(table, mixed_precision, compute_dtype)
    p = float(fwd.columns["params"].sum())
    low = 2.0 if mixed_precision else 4.0
    written = fwd.columns["bytes_written"]
    kept, segment = checkpointed_activation_bytes(written) if recompute else (float(written.sum()), 0.0)
    out = {"weights": low * p, "master_weights": 4.0 * p if mixed_precision else 0.0, "gradients": low * p,
           "optimizer_state": 4.0 * opt.states * p, "activations": microbatch * kept + segment}
    return {**out, "total": float(sum(out.values()))}


def checkpointed_activation_bytes(written: np.ndarray) -> tuple[float, float]:
    """Chen et al. 2016: (bytes of every ⌈√n⌉-th output of the n writing ops, largest segment)."""
    w = np.asarray(written, dtype=float)
    w = w[w > 0]
    if len(w) == 0:
        return 0.0, 0.0
    seg = math.ceil(math.sqrt(len(w)))
    checkpoints = float(w[seg - 1::seg].sum())
    largest = max(float(w[i:i + seg].sum()) for i in range(0, len(w), seg))
    return checkpoints, largest
