"""Shape computations a runtime executes on every inference of a graph with symbolic dims.

hwsim binds a model's symbolic input dims at load time, so ``Shape`` of an activation and
everything computed from it (Gather, Unsqueeze, Concat of the dims, the Reshape targets) fold
to constants: a compiler that specialises the graph to those shapes pays nothing for them. A
runtime that keeps the graph dynamic does not: ONNX Runtime runs them every inference. Its
optimised graph of a two-layer PyTorch transformer exported with dynamic axes keeps 22 such ops
(Shape 2, Gather 6, Div 2, Unsqueeze 8, Concat 4), each a kernel call of about 0.2–0.5 µs on this project's VM.

:func:`runtime_shape_flags` marks them (the ``runtime_shape`` column): folded nodes that read
``Shape``/``Size`` of a non-constant tensor, directly or through other such nodes, in a model
whose file declared symbolic input dims; a repeat of an earlier such computation (same op,
inputs and attributes) is merged, as ORT's common-subexpression elimination does, and a
``Cast`` to the type its input already has is dropped, as ORT's cast elimination does. Two
layers' computations stay apart even when their values agree: ORT's CSE compares tensors, not
values. CPU models whose spec sets ``dynamic_shapes`` charge each one its op type's
``op_overhead_s`` where calibrated, else ``zero_work_dispatch_s`` (:func:`hwsim.devices.cpu.overhead_s`).
"""

from __future__ import annotations

from collections.abc import Sequence

from hwsim.graph.opnode import OpNode

SHAPE_READERS = frozenset({"Shape", "Size"})


def runtime_shape_flags(nodes: Sequence[OpNode], symbolic_inputs: bool) -> list[float]:
    """1.0 per node (topological order) that a dynamic-shape runtime executes although hwsim
    folded it; all 0.0 when the model had no symbolic input dims."""
    if not symbolic_inputs:
        return [0.0] * len(nodes)
    derived: dict[str, str] = {}  # tensor -> the first tensor computed the same way (CSE)
    seen: dict[tuple, tuple[str, ...]] = {}
    flags = []
    for node in nodes:
        ins = node.present_inputs
        reads_shape = node.op_type in SHAPE_READERS and bool(ins) and not ins[0].const
        runs = node.folded and (reads_shape or any(t.name in derived for t in ins))
        if runs and _same_type_cast(node):  # an alias of its input: no kernel runs
            derived[node.outputs[0].name] = derived.get(ins[0].name, ins[0].name)
            runs = False
        elif runs:  # a repeat of an earlier computation (same op, inputs, attributes) is merged, as ORT's CSE does
            key = (node.op_type, _operands(node, derived), repr(sorted(node.attrs.items())))
            first = seen.setdefault(key, tuple(t.name for t in node.outputs))
            runs = first == tuple(t.name for t in node.outputs)
            derived.update({t.name: f for t, f in zip(node.outputs, first)})
        flags.append(1.0 if runs else 0.0)
    return flags


def _same_type_cast(node: OpNode) -> bool:
    """A Cast whose output has its input's dtype."""
    ins = node.present_inputs
    return node.op_type == "Cast" and len(ins) == 1 and len(node.outputs) == 1 and ins[0].dtype == node.outputs[0].dtype


def _operands(node: OpNode, derived: dict[str, str]) -> tuple:
    """A node's inputs for CSE: tensors a runtime computes, by the first tensor computed the same
    way (their folded values may agree across layers; ORT still computes each); other constants
    by value (exporters give each its own name)."""
    out = []
    for i, t in enumerate(node.inputs):
        if t is None:
            out.append(None)
        elif t.name in derived:
            out.append(derived[t.name])
        elif t.const and i in node.values:
            v = node.values[i]
            out.append((str(v.dtype), v.shape, v.tobytes()))
        else:
            out.append(t.name)
    return tuple(out)
