"""Lower a graph (and its If/Loop/Scan subgraphs) into a flat list of static OpNodes.

Control flow is flattened: an ``If`` whose condition folds to a constant contributes the
nodes of the branch taken; otherwise both branches are lowered and the more expensive one
(by the caller's cost function) is kept, with a note. ``Loop`` and ``Scan`` bodies are lowered
once and marked to repeat by their folded trip count. The control-flow node itself stays as a
zero-work node whose inputs are the subgraph's results, so the DAG stays connected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx

from hwsim.errors import ShapeError
from hwsim.graph.attrs import node_attrs
from hwsim.graph.dtypes import dtype_name
from hwsim.graph.fold import constant_value
from hwsim.graph.opnode import OpNode
from hwsim.graph.walk import (
    CONTROL_FLOW,
    Ctx,
    Env,
    NodeView,
    collect_inferred,
    fold_or_infer,
    make_opnode,
    record_outputs,
    topo_order,
)

CostFn = Callable[[list[OpNode]], float]


def lower_graph(graph: onnx.GraphProto, env: Env, ctx: Ctx, cost: CostFn, prefix: str = "", repeat: int = 1) -> list[OpNode]:
    """Every node of ``graph`` (subgraphs flattened) as OpNodes, in topological order."""
    collect_inferred(graph, env)
    for t in graph.initializer:
        if t.name not in env.shapes:
            env.set(t.name, tuple(t.dims), dtype_name(t.data_type))
            env.const.add(t.name)
    available = set(env.shapes)
    out: list[OpNode] = []
    for index, view in topo_order(graph, available, prefix.rstrip("/") or "graph"):
        node = view.proto
        name = ctx.unique_name(prefix + (node.name or f"{view.op_type}_{index}"))
        if view.op_type in CONTROL_FLOW and not view.domain:
            out.extend(_CONTROL[view.op_type](node, env, ctx, cost, name, repeat))
            continue
        opset = ctx.opset(view.domain)
        shapes, dtypes, values, note = fold_or_infer(view, env, ctx, opset)
        if view.op_type == "Constant":
            ctx.const_arrays[view.outputs[0]] = values[0] if values[0] is not None else constant_value(node)
        record_outputs(view, env, shapes, dtypes, values)
        if note:
            ctx.notes.append(note)
        out.append(make_opnode(view, env, ctx, name, repeat, (note,) if note else ()))
    return out


def _bind_subgraph_inputs(g: onnx.GraphProto, env: Env, specs: list[tuple[tuple[int, ...], str]]) -> None:
    for vi, (shape, dtype) in zip(g.input, specs):
        env.set(vi.name, shape, dtype)
        env.const.discard(vi.name)
        env.values.pop(vi.name, None)


def _finish(node: onnx.NodeProto, env: Env, ctx: Ctx, name: str, repeat: int, results: list[str],
            out_specs: list[tuple[tuple[int, ...], str]], note: str) -> OpNode:
    """The zero-work control-flow node: reads the subgraph results, writes the node's outputs."""
    for o, (shape, dtype) in zip(node.output, out_specs):
        if o:
            env.set(o, shape, dtype)
    ctx.notes.append(note)
    shell = onnx.NodeProto()
    shell.CopyFrom(node)
    del shell.attribute[:]
    del shell.input[:]
    shell.input.extend(results)
    return make_opnode(NodeView.of(shell), env, ctx, name, repeat, (note,))


def lower_if(node, env: Env, ctx: Ctx, cost: CostFn, name: str, repeat: int) -> list[OpNode]:
    """If: the constant branch, or the costlier of the two with a note."""
    attrs = node_attrs(node, "", ctx.opset(""))
    cond = env.values.get(node.input[0])
    if cond is not None:
        which = "then_branch" if bool(np.asarray(cond).reshape(-1)[0]) else "else_branch"
        nodes = lower_graph(attrs[which], env, ctx, cost, f"{name}/{which[:4]}/", repeat)
        note = f"If {name!r}: condition folds to {which == 'then_branch'}; counted the {which[:4]} branch"
        chosen, sub = attrs[which], env
    else:
        lowered = {}
        for which in ("then_branch", "else_branch"):
            sub_env = env.fork()
            lowered[which] = (lower_graph(attrs[which], sub_env, ctx, cost, f"{name}/{which[:4]}/", repeat), sub_env)
        costs = {w: cost(n) for w, (n, _) in lowered.items()}
        which = max(costs, key=lambda w: (costs[w], w == "then_branch"))
        nodes, sub = lowered[which]
        chosen = attrs[which]
        note = (f"If {name!r}: condition is not constant; counted the more expensive {which[:4]} branch "
                f"({costs['then_branch']:.3g} vs {costs['else_branch']:.3g} FLOPs)")
    results = [o.name for o in chosen.output]
    for dst, src in zip(node.output, results):
        if dst:
            sub.alias(dst, src)
    if sub is not env:
        env.__dict__.update(sub.__dict__)
    specs = [(env.shapes[o], env.dtypes[o]) for o in node.output if o]
    return nodes + [_finish(node, env, ctx, name, repeat, results, specs, note)]


def _trip_count(node, env: Env, name: str) -> int:
    m = env.values.get(node.input[0]) if node.input and node.input[0] else None
    if m is None:
        raise ShapeError(f"Loop {name!r}: its trip count is not a constant hwsim can fold; hwsim only counts loops with a fixed trip count (bind the dims it depends on, or unroll the loop)")
    trips = int(np.asarray(m).reshape(-1)[0])
    if trips < 0 or trips > 1 << 31:
        raise ShapeError(f"Loop {name!r}: trip count {trips} is out of range")
    return trips


def lower_loop(node, env: Env, ctx: Ctx, cost: CostFn, name: str, repeat: int) -> list[OpNode]:
    """Loop with a folded trip count M: the body repeats M times."""
    trips = _trip_count(node, env, name)
    body = node_attrs(node, "", ctx.opset(""))["body"]
    carried = [x for x in node.input[2:]]
    specs = [((), "int64"), ((), "bool")] + [(env.shapes[x], env.dtypes[x]) for x in carried]
    _bind_subgraph_inputs(body, env, specs)
    nodes = lower_graph(body, env, ctx, cost, f"{name}/body/", repeat * trips)
    outs = [o.name for o in body.output]
    n_carry = len(carried)
    out_specs = [(env.shapes[o], env.dtypes[o]) for o in outs[1:1 + n_carry]]
    out_specs += [((trips,) + env.shapes[o], env.dtypes[o]) for o in outs[1 + n_carry:]]
    note = f"Loop {name!r}: body counted {trips} times (folded trip count)"
    return nodes + [_finish(node, env, ctx, name, repeat, outs, out_specs, note)]


def lower_scan(node, env: Env, ctx: Ctx, cost: CostFn, name: str, repeat: int) -> list[OpNode]:
    """Scan: the body repeats once per slice of the scan inputs."""
    attrs = node_attrs(node, "", ctx.opset(""))
    body, n_scan = attrs["body"], int(attrs["num_scan_inputs"])
    states, scans = list(node.input[:len(node.input) - n_scan]), list(node.input[len(node.input) - n_scan:])
    in_axes = list(attrs.get("scan_input_axes") or [0] * n_scan)
    first = env.shapes[scans[0]]
    trips = first[in_axes[0] % len(first)]
    specs = [(env.shapes[x], env.dtypes[x]) for x in states]
    for x, ax in zip(scans, in_axes):
        s = env.shapes[x]
        ax %= len(s)
        specs.append((s[:ax] + s[ax + 1:], env.dtypes[x]))
    _bind_subgraph_inputs(body, env, specs)
    nodes = lower_graph(body, env, ctx, cost, f"{name}/body/", repeat * trips)
    outs = [o.name for o in body.output]
    out_axes = list(attrs.get("scan_output_axes") or [0] * (len(outs) - len(states)))
    out_specs = [(env.shapes[o], env.dtypes[o]) for o in outs[:len(states)]]
    for o, ax in zip(outs[len(states):], out_axes):
        s = env.shapes[o]
        ax %= len(s) + 1
        out_specs.append((s[:ax] + (trips,) + s[ax:], env.dtypes[o]))
    note = f"Scan {name!r}: body counted {trips} times (scan length)"
    return nodes + [_finish(node, env, ctx, name, repeat, outs, out_specs, note)]


_CONTROL = {"If": lower_if, "Loop": lower_loop, "Scan": lower_scan}
