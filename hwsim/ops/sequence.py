"""Sequence ops (data movement) and string ops (cost by element).

A sequence value is the stacked tensor ``(n_elements, *element_shape)`` (see
:mod:`hwsim.graph.shape_rules_extra`), so its bytes are the bytes of all its elements.
Runtimes (onnxruntime) copy tensors into and out of sequences, so building, inserting,
erasing and splitting move every byte they produce; reading the length moves nothing.

String ops: a string element is counted at 8 bytes (:mod:`hwsim.graph.dtypes`) and the
character length of strings is unknown at load time, so their work is counted **per string
element** (one operation per element per pass), not per character: a documented lower bound.
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import make_work, out_bytes, out_numel, prod
from hwsim.ops.registry import register
from hwsim.ops.work import OpWork, WorkKind


@register("SequenceEmpty", "SequenceLength")
def sequence_meta(node: OpNode) -> OpWork:
    """No data moves: creating an empty sequence or reading its length is metadata only."""
    return OpWork(kind=WorkKind.NONE, dtype=node.outputs[0].dtype)


@register("SequenceConstruct", "SequenceInsert", "SplitToSequence", "ConcatFromSequence")
def sequence_copy(node: OpNode) -> OpWork:
    """Copy: reads every input byte, writes every output byte (0 FLOPs)."""
    return make_work(node, WorkKind.DATA_MOVEMENT)


@register("SequenceAt", "SequenceErase")
def sequence_select(node: OpNode) -> OpWork:
    """Reads and writes only the output: one element (SequenceAt) or the kept n−1 (SequenceErase)."""
    return make_work(node, WorkKind.DATA_MOVEMENT, bytes_read=out_bytes(node))


@register("StringNormalizer")
def string_normalizer(node: OpNode) -> OpWork:
    """Per input string: 1 case change + 1 comparison per stopword."""
    per = 1 + len(node.attrs.get("stopwords") or ())
    return make_work(node, WorkKind.ELEMENTWISE, per * node.inputs[0].numel)


@register("StringConcat", "RegexFullMatch")
def string_elementwise(node: OpNode) -> OpWork:
    """One operation per output string (a concat, or one regex match)."""
    return make_work(node, WorkKind.ELEMENTWISE, out_numel(node))


@register("StringSplit")
def string_split(node: OpNode) -> OpWork:
    """One scan per input string; outputs are written in full (width bounded by maxsplit + 1)."""
    return make_work(node, WorkKind.ELEMENTWISE, node.inputs[0].numel)


@register("TfIdfVectorizer")
def tfidf(node: OpNode) -> OpWork:
    """n-gram counting: per input token, for n in [min, max] and each of (max_skip + 1) skips,
    hash n tokens (n operations); plus one weighting per output element (TF: a copy, counted 1).

    FLOPs = tokens · Σ_{n=min}^{max} (max_skip + 1)·n + out elements.
    """
    lo, hi = int(node.attrs["min_gram_length"]), int(node.attrs["max_gram_length"])
    skips = int(node.attrs["max_skip_count"]) + 1
    per_token = skips * sum(range(lo, hi + 1))
    tokens = prod(node.inputs[0].shape)
    return make_work(node, WorkKind.ELEMENTWISE, tokens * per_token + out_numel(node))
