"""Blocked-layout conversions a CPU runtime inserts between its convolution regions.

ONNX Runtime's CPU provider rewrites 4-D convolutions into an NCHWc layout (channels blocked by
the SIMD width) and keeps the ops around them in it: pooling, element-wise Add/Sum, activations,
BatchNormalization, channel Concat (its NCHWc transformer). Where a tensor leaves such a region
for an op that needs plain NCHW (Reshape, Transpose, Flatten, Gemm, Softmax...), ORT inserts a
ReorderOutput kernel; where a plain tensor enters a convolution, a ReorderInput. Each copies
the whole tensor. ShuffleNet's channel shuffle (Reshape-Transpose-Reshape between convolutions)
makes ORT insert 37 of them; ResNet-18 needs one, before Flatten.

Rules (approximate, matched against the optimised graphs ORT 1.23 writes for the validation
models: ResNet-18 1 conversion (ORT 1), MobileNetV2 1 (1), ShuffleNet 35 (37), Inception 5 (5)): a Conv whose
output channels per group are a multiple of :data:`ALIGN` runs blocked (channels padded to the
block); its input is converted unless already blocked or it has fewer than
:data:`BLOCK_CHANNELS` channels (ORT's NCHW-input convolution). The ops in :data:`KEEPS` stay
blocked when all their activation inputs are blocked; pooling over whole blocks of
:data:`BLOCK_CHANNELS` channels runs blocked whatever its input, like a convolution. Any other
op reading a blocked tensor gets it converted back (once per tensor). Columns: ``layout_bytes`` (bytes of tensors the row's op needs converted, read once
and written once) and ``layout_ops`` (conversions), charged by device models whose spec sets
``CpuSpec.blocked_layout``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hwsim.graph.opnode import OpNode, TensorInfo

BLOCK_CHANNELS = 16  # floats per AVX-512 register (MLAS's NCHWc block on AVX-512; 8 on AVX2)
ALIGN = 4
POOLS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"})
KEEPS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Add", "Sum", "Relu", "Clip",
                   "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "BatchNormalization", "Concat"})


def _blocked_conv(node: OpNode) -> bool:
    w = node.inputs[1] if len(node.inputs) > 1 else None
    if w is None or len(w.shape) != 4 or len(node.outputs[0].shape) != 4:
        return False
    per_group = w.shape[0] // max(int(node.attrs.get("group", 1)), 1)
    return per_group % ALIGN == 0 or (w.shape[1] == 1 and w.shape[0] % ALIGN == 0)


def _whole_blocks(t: TensorInfo) -> bool:
    return len(t.shape) == 4 and t.shape[1] % BLOCK_CHANNELS == 0


def layout_columns(nodes: Sequence[OpNode],
                   graph_outputs: Iterable[str] = ()) -> tuple[list[float], list[float], list[float]]:
    """(layout_bytes, layout_ops, nchw_input) per node, in topological order (see the module
    docstring); a blocked tensor that is a graph output is converted back by the op producing
    it. ``nchw_input`` is 1.0 for a blocked convolution reading a plain tensor of fewer than
    :data:`BLOCK_CHANNELS` channels: MLAS's NCHW-input kernel (made for RGB stems), whose speed
    follows the reduction depth c·r·r (:func:`hwsim.devices.cpu.curve_keys`)."""
    blocked: set[str] = set()
    converted: set[str] = set()
    nbytes, nops, plain = [], [], []
    outputs = set(graph_outputs)
    for node in nodes:
        live = list(node.live_inputs) if not node.folded else []
        moved: list[TensorInfo] = []
        reads_plain = False
        if node.domain in ("", "ai.onnx") and _enters(node, live):
            x = live[0]
            reads_plain = node.op_type == "Conv" and x.name not in blocked and x.shape[1] < BLOCK_CHANNELS
            if x.name not in blocked and x.shape[1] >= BLOCK_CHANNELS:
                moved.append(x)  # converted once; every later blocked op reading it shares the copy
                blocked.add(x.name)
            blocked.update(t.name for t in node.outputs)
        elif node.domain in ("", "ai.onnx") and _keeps(node, live, blocked):
            blocked.update(t.name for t in node.outputs)
        else:
            moved = [t for t in live if t.name in blocked and t.name not in converted]
            converted.update(t.name for t in moved)
        plain.append(float(reads_plain))
        back = [t for t in node.outputs if t.name in blocked and t.name in outputs]
        nbytes.append(float(sum(t.nbytes for t in moved + back)))
        nops.append(float(len(moved) + len(back)))
    return nbytes, nops, plain


def _enters(node: OpNode, live: list[TensorInfo]) -> bool:
    """A convolution, or pooling over whole channel blocks, that runs blocked whatever its input."""
    if not live or len(live[0].shape) != 4:
        return False
    if node.op_type == "Conv":
        return _blocked_conv(node)
    return node.op_type in POOLS and _whole_blocks(live[0])


def _keeps(node: OpNode, live: list[TensorInfo], blocked: set[str]) -> bool:
    """An op of :data:`KEEPS` whose activation inputs are all blocked already (pooling: only over
    whole channel blocks)."""
    whole = node.op_type not in POOLS or all(_whole_blocks(t) for t in live)
    return node.op_type in KEEPS and bool(live) and whole and all(t.name in blocked for t in live)
