"""Strided copies: the contiguous pieces a Transpose copies one at a time.

A transpose that keeps its last axis in place (attention's head split ``(0, 2, 1, 3)``,
ShuffleNet's channel shuffle ``(0, 2, 1, 3, 4)``) moves contiguous runs of its trailing kept
axes, and ONNX Runtime copies each run with a call of its own. One that moves the last axis
transposes element by element in registers (MLAS) and has no such pieces. Measured on this
project's VM (ORT 1.23, one thread, marginal cost in a chain of transposes): a [2, 16, 4, 16]
tensor (16 KiB) takes 1.53 µs with perm (0, 2, 1, 3) (128 runs of 64 B) and 0.44 µs with
perm (0, 2, 3, 1); a [2, 32, 8, 32] one 5.2 µs (512 runs of 128 B): about 10 ns per run on top
of the bytes.

Column ``copy_chunks``: runs copied per inference (× repeat); CPU models charge
``CpuSpec.copy_chunk_s`` for each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hwsim.graph.opnode import OpNode


def copy_chunks(node: OpNode) -> float:
    """Contiguous runs one execution of ``node`` copies separately (× repeat): for a Transpose
    keeping its trailing axes, elements / (product of those axes); else 0."""
    if node.op_type != "Transpose" or node.folded or not node.present_inputs:
        return 0.0
    shape = node.present_inputs[0].shape
    perm = list(node.attrs.get("perm") or reversed(range(len(shape))))
    inner, kept = 1, 0
    for axis in reversed(range(len(perm))):
        if perm[axis] != axis:
            break
        inner *= shape[axis]
        kept += 1
    if kept in (0, len(perm)):  # the last axis moves (element-wise), or nothing moves (a plain copy)
        return 0.0
    return float(math.prod(shape) // max(inner, 1)) * node.repeat


def copy_chunk_column(nodes: Sequence[OpNode]) -> list[float]:
    """:func:`copy_chunks` per node, in order."""
    return [copy_chunks(n) for n in nodes]
