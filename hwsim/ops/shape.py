"""Pure shape and metadata ops: zero work, registered explicitly (never a silent default).

Reshape, Flatten, Squeeze, Unsqueeze and Identity change only a tensor's description (the
runtime aliases the buffer); Shape and Size read metadata; Dropout is the identity at
inference; Constant's value is created at load time. Each is registered here so an op
hwsim does not know still raises.
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import out_bytes
from hwsim.ops.registry import register
from hwsim.ops.work import OpWork, WorkKind

ZERO_WORK_OPS = (
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape", "Size", "Dropout",
    "Constant", "Optional", "OptionalGetElement", "OptionalHasElement",
)


@register(*ZERO_WORK_OPS)
def zero_work(node: OpNode) -> OpWork:
    """No arithmetic and no data movement."""
    return OpWork(kind=WorkKind.NONE, dtype=node.outputs[0].dtype if node.outputs else "fp32")


@register("If", "Loop", "Scan")
def control_flow(node: OpNode) -> OpWork:
    """The control-flow shell: its subgraph's ops are counted as their own rows."""
    return OpWork(kind=WorkKind.NONE)


@register("ConstantOfShape", "EyeLike")
def fill(node: OpNode) -> OpWork:
    """A fill computed at run time (its shape was not constant): writes its output once."""
    return OpWork(kind=WorkKind.DATA_MOVEMENT, bytes_written=out_bytes(node), dtype=node.outputs[0].dtype)
