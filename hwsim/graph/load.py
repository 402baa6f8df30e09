"""Load an ONNX model into static, frozen OpNodes: read, check, bind, infer, fold, lower.

``load_model`` is the entry point. It never mutates the caller's model: shape inference runs
on a light copy whose large initializers carry dims but no data.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import onnx
from onnx import TensorProto, numpy_helper, shape_inference

from hwsim.errors import UnsupportedOpError
from hwsim.graph.bind import batch_dims, bind_inputs, symbolic_dims
from hwsim.graph.fold import MAX_FOLD_ELEMS
from hwsim.graph.lower import lower_graph
from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.graph.read import RawModel, read_model, tensor_array
from hwsim.graph.walk import Ctx, Env

log = logging.getLogger(__name__)

OnUnsupported = Literal["raise", "warn"]


@dataclass(frozen=True)
class LoadedModel:
    """A model with every op static: nodes in topological order (control flow flattened)."""

    name: str
    nodes: tuple[OpNode, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    opsets: Mapping[str, int]
    unsupported: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    symbolic_inputs: bool = False  # the file declared symbolic input dims (bound here)


def load_model(
    source: str | os.PathLike | onnx.ModelProto | bytes,
    dims: Mapping[str, int] | None = None,
    input_shapes: Mapping[str | int, Sequence[int]] | None = None,
    on_unsupported: OnUnsupported = "raise",
    batch: int | None = None,
) -> LoadedModel:
    """Read ``source`` (path, bytes, ModelProto or ``zoo:NAME?k=v``) and make every shape static.

    ``dims`` binds symbolic dims by name (``{"batch": 8}``); ``input_shapes`` gives whole input
    shapes by name or position; ``batch`` sets the zoo ``batch`` parameter or every symbolic
    axis 0. Ops hwsim cannot count raise :class:`UnsupportedOpError` unless
    ``on_unsupported="warn"``, which lists them in ``unsupported`` instead.
    """
    raw = read_model(with_zoo_batch(source, batch))
    model = raw.model
    if batch is not None and not _is_zoo(source):
        dims = {**batch_dims(model.graph, batch, raw.name), **(dims or {})}
    opsets = {(o.domain if o.domain != "ai.onnx" else ""): o.version for o in model.opset_import}
    unsupported = _unsupported(model.graph, opsets)
    if unsupported and on_unsupported == "raise":
        raise UnsupportedOpError(_unsupported_message(raw.name, unsupported, opsets), tuple(t for t, _ in unsupported))
    bound = bind_inputs(model.graph, raw.name, dims, input_shapes)
    inferred = _infer(_inference_copy(raw, bound))
    env = Env()
    for name, (shape, dtype) in bound.items():
        env.set(name, shape, dtype)
    _seed_initializer_values(raw, env)
    inits = {t.name: t for t in model.graph.initializer}
    ctx = Ctx(opsets=opsets, weight_array=lambda n: tensor_array(inits[n], raw) if n in inits else None)
    nodes = lower_graph(inferred.graph, env, ctx, _branch_flops)
    notes = list(dict.fromkeys(ctx.notes))
    if raw.missing_weights:
        notes.insert(0, f"weights not present ({', '.join(raw.missing_weights[:3])}): counted from initializer shapes; weight density assumed 1.0")
    return LoadedModel(
        name=raw.name, nodes=tuple(nodes),
        inputs=tuple(TensorInfo(n, s, d) for n, (s, d) in bound.items()),
        outputs=tuple(TensorInfo(o.name, env.shapes[o.name], env.dtypes[o.name]) for o in model.graph.output),
        opsets=opsets, unsupported=tuple(unsupported), notes=tuple(notes),
        symbolic_inputs=bool(symbolic_dims(model.graph)),
    )


def _is_zoo(source: object) -> bool:
    return isinstance(source, str) and source.startswith("zoo:")


def with_zoo_batch(source, batch: int | None):
    """``source`` with ``batch=N`` set in its query when it is a zoo URI (files: unchanged)."""
    if batch is None or not _is_zoo(source):
        return source
    name, _, query = source.partition("?")
    parts = [p for p in query.split("&") if p and not p.startswith("batch=")]
    return f"{name}?{'&'.join(parts + [f'batch={batch}'])}"


def _unsupported(graph: onnx.GraphProto, opsets: Mapping[str, int]) -> list[tuple[str, int]]:
    from hwsim.ops.registry import is_supported

    counts: Counter[str] = Counter()
    for node in _all_nodes(graph):
        if not is_supported(node.op_type, node.domain):
            counts[node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"] += 1
    return sorted(counts.items())


def _all_nodes(graph: onnx.GraphProto):
    for node in graph.node:
        yield node
        for a in node.attribute:
            for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs):
                yield from _all_nodes(g)


def _unsupported_message(where: str, unsupported: list[tuple[str, int]], opsets: Mapping[str, int]) -> str:
    parts = []
    for op, n in unsupported:
        domain = op.split("::")[0] if "::" in op else ""
        extra = f", domain {domain!r} not imported by the model" if domain and domain not in opsets else ""
        parts.append(f"{op} ({n} node{'s' if n > 1 else ''}{extra})")
    return (f"{where}: hwsim cannot count {', '.join(parts)}; `hwsim ops` lists supported ops, "
            "or pass --on-unsupported warn to list them as unpriced")


def _inference_copy(raw: RawModel, bound: Mapping[str, tuple[tuple[int, ...], str]]) -> onnx.ModelProto:
    """A copy for shape inference: bound input shapes, large initializers without data."""
    src = raw.model
    m = onnx.ModelProto()
    m.ir_version = src.ir_version
    m.opset_import.extend(src.opset_import)
    m.functions.extend(src.functions)
    g = m.graph
    g.name = src.graph.name
    g.node.extend(src.graph.node)
    g.output.extend(src.graph.output)
    g.value_info.extend(src.graph.value_info)
    for vi in src.graph.input:
        new = g.input.add()
        new.CopyFrom(vi)
        if vi.name in bound:
            dims = new.type.tensor_type.shape
            dims.Clear()
            for d in bound[vi.name][0]:
                dims.dim.add().dim_value = d
    for t in src.graph.initializer:
        g.initializer.append(_light_tensor(t, raw))
    return m


def _light_tensor(t: TensorProto, raw: RawModel) -> TensorProto:
    numel = math.prod(t.dims)
    if numel <= MAX_FOLD_ELEMS and t.data_location != TensorProto.EXTERNAL:
        return t
    light = TensorProto(name=t.name, data_type=t.data_type, dims=t.dims)
    if numel <= MAX_FOLD_ELEMS:
        arr = tensor_array(t, raw)
        if arr is not None:
            return numpy_helper.from_array(arr, t.name)
    return light


def _infer(model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    except Exception as exc:  # inference gives up on some graphs: hwsim's own walk takes over
        log.debug("onnx shape inference failed (%s); continuing node by node", exc)
        return model


def _seed_initializer_values(raw: RawModel, env: Env) -> None:
    for t in raw.model.graph.initializer:
        numel = math.prod(t.dims)
        if numel <= MAX_FOLD_ELEMS:
            arr = tensor_array(t, raw)
            if arr is not None:
                env.values[t.name] = arr


def _branch_flops(nodes: list[OpNode]) -> float:
    from hwsim.ops.count import count_node

    return float(sum(count_node(n).flops for n in nodes))
