"""Walk a graph in topological order and make every tensor static: shapes, dtypes, constants.

For each node, output shapes come from (in order): values folded from known constants; ONNX
shape inference run once over the whole model; hwsim's shape rules (contrib and
data-dependent ops); per-node ONNX inference fed with the constants known so far. A node whose
outputs stay unknown stops the load with an error naming it.

Constants: initializers, Constant nodes and anything computed only from constants (a
"folded" node, zero work per inference). Each constant remembers the parameter tensors it
derives from (its roots), so a weight reached through Transpose/Cast/DequantizeLinear is
counted once, at its first real consumer.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

from hwsim.errors import ModelLoadError, ShapeError
from hwsim.graph.attrs import node_attrs
from hwsim.graph.dtypes import PARAM_DTYPES, dtype_bytes, dtype_name
from hwsim.graph.fold import MAX_FOLD_ELEMS, NON_DETERMINISTIC, constant_value, fold
from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.graph.shape_rules import ShapeCtx, find_rule

#: Largest number of elements hwsim accepts in one tensor (2^40): beyond it a bound dim is absurd.
MAX_ELEMS = 1 << 40
CONTROL_FLOW = frozenset({"If", "Loop", "Scan"})

Inferred = tuple[tuple[int | None, ...] | None, str]


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node's fields read once from its protobuf (protobuf field access is slow in Python)."""

    proto: onnx.NodeProto
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def of(cls, node: onnx.NodeProto) -> NodeView:
        """View of ``node`` (domain "ai.onnx" normalised to "")."""
        domain = "" if node.domain == "ai.onnx" else node.domain
        return cls(node, node.op_type, domain, tuple(node.input), tuple(node.output))


@dataclass
class Env:
    """Per-scope knowledge: static shapes, dtypes, small values, constness, parameter roots."""

    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    const: set[str] = field(default_factory=set)
    roots: dict[str, frozenset[str]] = field(default_factory=dict)
    inferred: dict[str, Inferred] = field(default_factory=dict)
    infos: dict[str, TensorInfo] = field(default_factory=dict)  # non-constant tensors, shared

    def fork(self) -> Env:
        """An independent copy (for a branch that may be discarded)."""
        return Env(dict(self.shapes), dict(self.dtypes), dict(self.values), set(self.const),
                   dict(self.roots), self.inferred, dict(self.infos))

    def set(self, name: str, shape: tuple[int, ...], dtype: str) -> None:
        """Record a tensor's static shape and dtype."""
        self.shapes[name] = shape
        self.dtypes[name] = dtype
        self.infos.pop(name, None)

    def alias(self, dst: str, src: str) -> None:
        """Make ``dst`` carry everything known about ``src``."""
        self.set(dst, self.shapes[src], self.dtypes[src])
        if src in self.values:
            self.values[dst] = self.values[src]
        if src in self.const:
            self.const.add(dst)
            self.roots[dst] = self.roots.get(src, frozenset({src}))


@dataclass
class Ctx:
    """State shared across scopes: opsets, claimed parameter roots, densities, notes, names."""

    opsets: dict[str, int]
    weight_array: Callable[[str], np.ndarray | None]
    claimed: set[str] = field(default_factory=set)
    const_arrays: dict[str, np.ndarray | None] = field(default_factory=dict)
    density: dict[str, tuple[float, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def opset(self, domain: str) -> int:
        """Opset imported for ``domain`` (1 when the model does not import it)."""
        return self.opsets.get("" if domain == "ai.onnx" else domain, 1)

    def unique_name(self, base: str) -> str:
        """``base`` made unique among the op names handed out so far."""
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}#{k}"
        self.names.add(name)
        return name

    def density_of(self, roots: frozenset[str]) -> tuple[float, str]:
        """Measured (density, pattern) of a single-root weight; dense when unknown."""
        if len(roots) != 1:
            return 1.0, "dense"
        (root,) = roots
        if root not in self.density:
            from hwsim.graph.fold import measure_density

            arr = self.const_arrays[root] if root in self.const_arrays else self.weight_array(root)
            self.density[root] = measure_density(arr) if arr is not None else (1.0, "dense")
        return self.density[root]


def collect_inferred(graph: onnx.GraphProto, env: Env) -> None:
    """Record the (possibly partial) shapes ONNX inference put on ``graph``'s value infos."""
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        tt = vi.type.tensor_type
        if vi.type.HasField("sequence_type") and vi.type.sequence_type.elem_type.HasField("tensor_type"):
            # a sequence is stacked by the shape rules; keep only its element dtype
            env.inferred[vi.name] = (None, dtype_name(vi.type.sequence_type.elem_type.tensor_type.elem_type))
            continue
        if not vi.type.HasField("tensor_type"):
            continue
        shape = None
        if tt.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
        env.inferred[vi.name] = (shape, dtype_name(tt.elem_type))


def topo_order(graph: onnx.GraphProto, available: set[str], where: str) -> list[tuple[int, NodeView]]:
    """(index in the file, node) in dependency order; errors name a cycle or a dangling tensor."""
    views = [NodeView.of(n) for n in graph.node]
    producer = {o: i for i, v in enumerate(views) for o in v.outputs if o}
    deps: list[set[int]] = []
    for v in views:
        n = v.proto
        need = [x for x in v.inputs if x]
        if n.attribute:
            need += sorted(outer_inputs(n))
        for x in need:
            if x not in producer and x not in available:
                raise ModelLoadError(f"{where}: node {n.name or n.op_type!r} reads tensor {x!r} that no node, input or initializer provides")
        deps.append({producer[x] for x in need if x in producer})
    if all(j < i for i, d in enumerate(deps) for j in d):
        return list(enumerate(views))  # file order is already topological
    users: list[list[int]] = [[] for _ in graph.node]
    for i, d in enumerate(deps):
        for j in d:
            users[j].append(i)
    indeg = [len(d) for d in deps]
    ready = [i for i, d in enumerate(indeg) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(graph.node):
        stuck = [graph.node[i].name or graph.node[i].op_type for i in range(len(graph.node)) if indeg[i] > 0]
        raise ModelLoadError(f"{where}: the graph has a cycle through nodes {', '.join(map(repr, stuck[:5]))}; ONNX graphs must be acyclic")
    return [(i, views[i]) for i in order]


def outer_inputs(node: onnx.NodeProto) -> set[str]:
    """Tensors a node's subgraphs read from enclosing scopes."""
    names: set[str] = set()
    for a in node.attribute:
        for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)):
            defined = {i.name for i in g.input} | {t.name for t in g.initializer}
            defined |= {o for n in g.node for o in n.output}
            for n in g.node:
                names |= {x for x in n.input if x and x not in defined}
                names |= {x for x in outer_inputs(n) if x not in defined}
    return names


def fold_or_infer(view: NodeView, env: Env, ctx: Ctx, opset: int) -> tuple[list, list, list, str]:
    """(shapes, dtypes, values, note) of the node's outputs; ShapeError when unresolvable."""
    ins, outs = view.inputs, view.outputs
    known_values = env.values
    vals = [known_values.get(x) if x else None for x in ins]
    inferred = [env.inferred.get(o, (None, "unknown")) for o in outs]
    known = [s is not None and None not in s for s, _ in inferred]
    values = special_values(view, env)
    if values is None and (ins or view.op_type == "Constant") and all(v is not None for x, v in zip(ins, vals) if x):
        big = any(k and math.prod(s) > MAX_FOLD_ELEMS for k, (s, _) in zip(known, inferred))
        values = None if big else fold(view.proto, opset, vals)
    if values is not None:
        return [tuple(v.shape) for v in values], [_np_dtype(v) for v in values], list(values), ""
    if all(known):
        return [s for s, _ in inferred], [d for _, d in inferred], [None] * len(outs), ""
    return _rule_or_node_inference(view, env, ctx, opset, inferred)


def special_values(view: NodeView, env: Env) -> list[np.ndarray] | None:
    """Values that need no input values: Shape and Size of a static tensor, Constant."""
    op = view.op_type
    if op not in ("Shape", "Size", "Constant"):
        return None
    node = view.proto
    if op == "Shape" and node.input[0] in env.shapes:
        shape = env.shapes[node.input[0]]
        attrs = {a.name: a.i for a in node.attribute}
        start, end = attrs.get("start", 0), attrs.get("end", len(shape))
        return [np.array(shape[slice(start, end)], dtype=np.int64)]
    if node.op_type == "Size" and node.input[0] in env.shapes:
        return [np.array(math.prod(env.shapes[node.input[0]]), dtype=np.int64)]
    if node.op_type == "Constant":
        v = constant_value(node)
        return [v] if v is not None and v.size <= MAX_FOLD_ELEMS else None
    return None


def _np_dtype(v: np.ndarray) -> str:
    return dtype_name(onnx.helper.np_dtype_to_tensor_dtype(v.dtype)) if v.dtype != object else "string"


def _rule_or_node_inference(view: NodeView, env: Env, ctx: Ctx, opset: int, inferred) -> tuple[list, list, list, str]:
    node = view.proto
    ins = list(view.inputs)
    shapes = [env.shapes.get(x) if x else None for x in ins]
    dtypes = [env.dtypes.get(x, "unknown") if x else "unknown" for x in ins]
    rule = find_rule(node.op_type, node.domain)
    note = ""
    out_shapes: list = [None] * len(node.output)
    if rule is not None:
        sctx = ShapeCtx(node, shapes, dtypes, [env.values.get(x) if x else None for x in ins],
                        node_attrs(node, node.domain, opset))
        result = rule(sctx)
        got, note = result[0], result[1]
        rule_dtypes = list(result[2]) if len(result) > 2 else []
        out_shapes = list(got) + [None] * (len(node.output) - len(got))
    else:
        out_shapes = _node_inference(node, env, ctx, opset)
        rule_dtypes = []
    rule_dtypes += [None] * (len(node.output) - len(rule_dtypes))
    out_dtypes = [r or (d if d != "unknown" else (dtypes[0] if dtypes else "fp32"))
                  for (_, d), r in zip(inferred, rule_dtypes)]
    for i, (o, s) in enumerate(zip(node.output, out_shapes)):
        if o and (s is None or any(d is None or d < 0 for d in s)):
            inf = inferred[i][0]
            if inf is not None and all(d is not None for d in inf):
                out_shapes[i] = inf
                continue
            raise ShapeError(unresolved_message(node, o))
    return out_shapes, out_dtypes, [None] * len(node.output), note


def _node_inference(node, env: Env, ctx: Ctx, opset: int) -> list:
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    except Exception:
        return [None] * len(node.output)
    types, data = {}, {}
    for x in node.input:
        if x and x in env.shapes:
            elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(_to_np(env.dtypes[x])))
            types[x] = onnx.helper.make_tensor_type_proto(elem, env.shapes[x])
            if x in env.values:
                data[x] = numpy_helper.from_array(env.values[x], x)
    try:
        res = shape_inference.infer_node_outputs(schema, node, types, data,
                                                 opset_imports=[onnx.helper.make_opsetid(d, v) for d, v in ctx.opsets.items()])
    except Exception:
        return [None] * len(node.output)
    out = []
    for o in node.output:
        tp = res.get(o)
        if tp is None or not tp.tensor_type.HasField("shape"):
            out.append(None)
            continue
        dims = tp.tensor_type.shape.dim
        out.append(tuple(d.dim_value if d.HasField("dim_value") else None for d in dims))
    return out


_NP_NAMES = {"fp32": "float32", "fp16": "float16", "fp64": "float64", "bf16": "float32", "fp8": "float32",
             "int4": "int8", "uint4": "uint8", "fp4": "float32", "string": "object", "unknown": "float32"}


def _to_np(dtype: str) -> str:
    return _NP_NAMES.get(dtype, dtype)


def unresolved_message(node: onnx.NodeProto, output: str) -> str:
    """Error text for a node whose output shape stays unknown."""
    return (f"node {node.name or node.op_type!r} ({node.op_type}): the shape of output {output!r} could not be "
            "resolved to static dims; bind the model's symbolic input dims (e.g. --dim batch=1 --dim seq=128) "
            "or give full input shapes with --input NAME=D0xD1x...")


def check_shape(node: onnx.NodeProto, name: str, shape: tuple[int, ...]) -> None:
    """Reject negative dims and tensors over :data:`MAX_ELEMS` elements."""
    if any(d < 0 for d in shape):
        raise ShapeError(f"node {node.name or node.op_type!r}: output {name!r} has a negative dim {list(shape)}")
    if math.prod(shape) > MAX_ELEMS:
        raise ShapeError(f"node {node.name or node.op_type!r}: output {name!r} of shape {list(shape)} has more than 2^40 elements; check the dims you bound")


def make_opnode(view: NodeView, env: Env, ctx: Ctx, name: str, repeat: int, notes: tuple[str, ...]) -> OpNode:
    """Freeze a node into an :class:`OpNode`, claiming the parameters it is first to use."""
    domain = view.domain
    opset = ctx.opset(domain)
    const = env.const
    folded = bool(view.outputs) and all(o in const for o in view.outputs if o)
    infos = env.infos
    inputs = tuple((infos[x] if x in infos else _tensor_info(x, env, ctx, claim=not folded)) if x else None
                   for x in view.inputs)
    outputs = []
    for o in view.outputs:
        if o:
            info = TensorInfo(o, env.shapes[o], env.dtypes[o], o in env.const)
            if o not in env.const:
                infos[o] = info  # reused as-is by every consumer
            outputs.append(info)
    values = {i: env.values[x] for i, x in enumerate(view.inputs) if x and x in env.values}
    return OpNode(name=name, op_type=view.op_type, domain=domain, opset=opset, inputs=inputs,
                  outputs=tuple(outputs), attrs=node_attrs(view.proto, domain, opset), values=values,
                  repeat=repeat, notes=notes, folded=folded)


def _tensor_info(x: str, env: Env, ctx: Ctx, claim: bool) -> TensorInfo:
    const = x in env.const
    owned, density, pattern, pnumel, pbytes = False, 1.0, "dense", 0, 0.0
    if const:
        roots = env.roots.get(x, frozenset({x}))
        if claim:
            fresh = roots - ctx.claimed
            owned = bool(fresh)
            ctx.claimed |= roots
            for r in sorted(fresh):
                pnumel, pbytes = _add_param(r, env, ctx, pnumel, pbytes)
        if env.dtypes[x] in PARAM_DTYPES and math.prod(env.shapes[x]) > 1:
            density, pattern = ctx.density_of(roots)
    return TensorInfo(x, env.shapes[x], env.dtypes[x], const, owned, density, pattern, pnumel, pbytes)


def _add_param(root: str, env: Env, ctx: Ctx, numel: int, nbytes: float) -> tuple[int, float]:
    """Add parameter tensor ``root`` unless it is an index/shape dtype or a scalar.

    Every other constant counts, including buffers an exporter inlines as constants (rotary
    tables, initial routing logits): ONNX does not say which constants were trained.
    """
    dtype, n = env.dtypes[root], math.prod(env.shapes[root])
    if dtype not in PARAM_DTYPES or n <= 1:
        return numel, nbytes
    return numel + n, nbytes + n * dtype_bytes(dtype)


def record_outputs(view: NodeView, env: Env, shapes, dtypes, values) -> None:
    """Store a node's resolved outputs in ``env``, with constness and parameter roots."""
    node = view.proto
    ins = [x for x in view.inputs if x]
    is_const = (view.op_type not in NON_DETERMINISTIC and view.op_type not in CONTROL_FLOW
                and (all(x in env.const for x in ins) and (ins or view.op_type == "Constant")))
    roots = frozenset().union(*(env.roots.get(x, frozenset({x})) for x in ins
                                if x in env.const and env.dtypes.get(x) in PARAM_DTYPES)) if is_const else frozenset()
    for o, s, d, v in zip(view.outputs, shapes, dtypes, values):
        if not o:
            continue
        check_shape(node, o, s)
        env.set(o, tuple(int(k) for k in s), d)
        if v is not None and v.size <= MAX_FOLD_ELEMS:
            env.values[o] = v
        if is_const or view.op_type in ("Shape", "Size"):
            env.const.add(o)
            env.roots[o] = roots or frozenset({o})
