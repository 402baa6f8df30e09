"""Shared pieces of work counting: byte totals, parameter attribution, the OpWork constructor.

Every family module builds its :class:`OpWork` through :func:`make_work`, so byte and
parameter conventions live in one place:

* ``bytes_read`` = bytes of every present input (weights included), unless the family passes
  the bytes it really touches (gathers, slices); ``bytes_written`` = bytes of every output.
* parameters: every input brings the parameter tensors it derives from that no earlier op
  claimed (:attr:`TensorInfo.param_numel`: weight dtypes, more than one element), whatever
  its position, so a weight is never lost because its first consumer is an unusual op.
  ``control_slots`` name inputs that steer an op rather than feed it data (Resize scales,
  OneHot values, Pad's pads): never parameters. ``buffer_slots`` (e.g.
  BatchNormalization running statistics) add to ``weight_bytes`` but not to ``params``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from hwsim.graph.dtypes import PARAM_DTYPES
from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.ops.work import OpWork, WorkKind


def in_bytes(node: OpNode) -> float:
    """Bytes of every present input."""
    return float(sum(t.nbytes for t in node.inputs if t is not None))


def out_bytes(node: OpNode) -> float:
    """Bytes of every output."""
    return float(sum(t.nbytes for t in node.outputs))


def out_numel(node: OpNode, i: int = 0) -> int:
    """Elements of output ``i``."""
    return node.outputs[i].numel if i < len(node.outputs) else 0


def in_shape(node: OpNode, i: int) -> tuple[int, ...]:
    """Shape of input ``i`` (empty tuple when absent)."""
    t = node.input(i)
    return t.shape if t is not None else ()


_INDEX_DTYPES = frozenset({"int64", "bool", "string"})


def compute_dtype(node: OpNode) -> str:
    """The dtype the arithmetic runs in: that of the largest data input (indices, masks and
    strings excluded; the first input wins ties), else output 0's. For quantized ops this is
    the integer type of the operands, not the float type of their scales."""
    data = [t for t in node.inputs if t is not None and t.dtype not in _INDEX_DTYPES]
    if data:
        return max(data, key=lambda t: t.numel).dtype
    return node.outputs[0].dtype if node.outputs else "fp32"


def owned_buffer_bytes(node: OpNode, slots: Iterable[int]) -> float:
    """Bytes of owned constant non-trainable inputs (running statistics) at ``slots``."""
    return float(sum(t.param_bytes for i in slots if (t := node.input(i)) is not None))


def _largest_const(node: OpNode, slots: Sequence[int]) -> TensorInfo | None:
    best: TensorInfo | None = None
    for i in slots:
        t = node.input(i)
        if t is not None and t.const and (best is None or t.numel > best.numel):
            best = t
    return best


def weight_density(node: OpNode, slots: Sequence[int]) -> float:
    """Non-zero fraction of the largest constant input among ``slots`` (1.0 when none)."""
    best = _largest_const(node, slots)
    return best.density if best is not None else 1.0


def weight_pattern(node: OpNode, slots: Sequence[int]) -> str:
    """Zero pattern (TensorInfo.pattern) of the same input :func:`weight_density` reads."""
    best = _largest_const(node, slots)
    return best.pattern if best is not None else "dense"


def make_work(
    node: OpNode,
    kind: WorkKind,
    flops: float = 0.0,
    macs: float = 0.0,
    *,
    gemm: tuple[int, int, int, int] | None = None,
    buffer_slots: Iterable[int] = (),
    control_slots: Iterable[int] = (),
    density_slots: Sequence[int] = (),
    bytes_read: float | None = None,
    bytes_written: float | None = None,
    notes: tuple[str, ...] = (),
) -> OpWork:
    """Assemble an :class:`OpWork` with the project-wide byte and parameter conventions."""
    params, wbytes, const = _param_terms(node, buffer_slots, control_slots)
    return OpWork(
        kind=kind, flops=float(flops), macs=float(macs),
        bytes_read=in_bytes(node) if bytes_read is None else float(bytes_read),
        bytes_written=out_bytes(node) if bytes_written is None else float(bytes_written),
        params=params, weight_bytes=wbytes, const_bytes=const, gemm=gemm,
        weight_density=weight_density(node, density_slots) if density_slots else 1.0,
        weight_pattern=weight_pattern(node, density_slots) if density_slots else "dense",
        dtype=compute_dtype(node), notes=notes,
    )


def _param_terms(node: OpNode, buffer_slots: Iterable[int], control_slots: Iterable[int]) -> tuple[int, float, float]:
    """(params, weight bytes, constant bytes): parameters of every owned input except buffers
    and control inputs; buffers add bytes only; constant bytes count every weight-like constant
    input (owned or not, buffers included, control inputs excluded)."""
    params, wbytes, const = 0, 0.0, 0.0
    skip = frozenset(buffer_slots) | frozenset(control_slots) if (buffer_slots or control_slots) else ()
    control = frozenset(control_slots) if control_slots else ()
    for i, t in enumerate(node.inputs):
        if t is None or not t.const:
            continue
        if i not in control and t.dtype in PARAM_DTYPES and t.numel > 1:
            const += t.nbytes
        if t.param_numel and i not in skip:
            params += t.param_numel
            wbytes += t.param_bytes
    if buffer_slots:
        wbytes += owned_buffer_bytes(node, buffer_slots)
    return params, wbytes, const


def prod(values: Iterable[int]) -> int:
    """Product of integers (1 for none)."""
    return math.prod(values)


def const_slots(node: OpNode) -> tuple[int, ...]:
    """Positions of every constant input (where a weight's density is read from)."""
    return tuple(i for i, t in enumerate(node.inputs) if t is not None and t.const)
