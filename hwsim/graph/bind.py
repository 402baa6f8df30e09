"""Bind a model's symbolic input dimensions to the integers the caller gives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import onnx

from hwsim.errors import BindError, ModelLoadError
from hwsim.graph.dtypes import dtype_name

MAX_DIM = 1 << 40
Shape = tuple[int, ...]


def real_inputs(graph: onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    """Graph inputs that are not initializers (old IR versions list weights as inputs too)."""
    inits = {t.name for t in graph.initializer}
    return [i for i in graph.input if i.name not in inits]


def symbolic_dims(graph: onnx.GraphProto) -> list[str]:
    """Names of the symbolic dims of the real inputs, in first-seen order."""
    seen: list[str] = []
    for vi in real_inputs(graph):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param not in seen:
                seen.append(d.dim_param)
    return seen


def bind_inputs(graph: onnx.GraphProto, where: str, dims: Mapping[str, int] | None = None,
                input_shapes: Mapping[str | int, Sequence[int]] | None = None) -> dict[str, tuple[Shape, str]]:
    """Static (shape, dtype) of every real input; BindError names what is unbound or wrong."""
    dims = dict(dims or {})
    shapes = dict(input_shapes or {})
    inputs = real_inputs(graph)
    _check_values(dims, shapes)
    by_name = _resolve_positional(shapes, inputs)
    declared = symbolic_dims(graph)
    unused = [k for k in dims if k not in declared]
    if unused:
        raise BindError(f"{where}: dim {unused[0]!r} is not a symbolic dim of the model's inputs "
                        f"(its symbolic dims: {', '.join(declared) or 'none — every input is static'})")
    bound: dict[str, tuple[Shape, str]] = {}
    unbound: list[str] = []
    for vi in inputs:
        tt = vi.type.tensor_type
        dtype = dtype_name(tt.elem_type)
        if vi.name in by_name:
            bound[vi.name] = (_override(vi, by_name[vi.name], where), dtype)
            continue
        shape = []
        for k, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value"):
                if d.dim_value < 0:
                    raise ModelLoadError(f"{where}: input {vi.name!r} declares a negative dim {d.dim_value} at axis {k}")
                shape.append(d.dim_value)
            elif d.dim_param and d.dim_param in dims:
                shape.append(dims[d.dim_param])
            else:
                unbound.append(f"{vi.name}[{k}]" + (f" ({d.dim_param!r})" if d.dim_param else ""))
                shape.append(-1)
        bound[vi.name] = (tuple(shape), dtype)
    if unbound:
        raise BindError(f"{where}: input dims left unbound: {', '.join(unbound)}; bind them with "
                        "--dim NAME=VALUE (e.g. --dim batch=1) or --input NAME=D0xD1x...")
    return bound


def _check_values(dims: dict, shapes: dict) -> None:
    for k, v in dims.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > MAX_DIM:
            raise BindError(f"dim {k!r}={v!r}: must be a positive integer no larger than 2^40")
    for k, shp in shapes.items():
        if any(not isinstance(v, int) or v < 1 or v > MAX_DIM for v in shp):
            raise BindError(f"input {k!r} shape {list(shp)}: every dim must be a positive integer no larger than 2^40")


def _resolve_positional(shapes: dict, inputs: list[onnx.ValueInfoProto]) -> dict[str, Sequence[int]]:
    names = [i.name for i in inputs]
    out = {}
    for key, shp in shapes.items():
        if isinstance(key, int):
            if not 0 <= key < len(names):
                raise BindError(f"input #{key} does not exist; the model has {len(names)} inputs: {', '.join(names)}")
            key = names[key]
        elif key not in names:
            raise BindError(f"input {key!r} does not exist; the model's inputs are: {', '.join(names)}")
        out[key] = shp
    return out


def _override(vi: onnx.ValueInfoProto, shape: Sequence[int], where: str) -> Shape:
    declared = vi.type.tensor_type.shape.dim
    if declared and len(declared) != len(shape):
        raise BindError(f"{where}: input {vi.name!r} has rank {len(declared)} but the shape given has rank {len(shape)}")
    for k, (d, v) in enumerate(zip(declared, shape)):
        if d.HasField("dim_value") and d.dim_value != v:
            raise BindError(f"{where}: input {vi.name!r} axis {k} is fixed at {d.dim_value} in the model; {v} was given")
    return tuple(int(v) for v in shape)


def batch_dims(graph: onnx.GraphProto, batch: int, where: str) -> dict[str, int]:
    """``{dim_name: batch}`` for the symbolic axis 0 of every real input (``--batch N``)."""
    names = {}
    for vi in real_inputs(graph):
        dims = vi.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_param") and dims[0].dim_param:
            names[dims[0].dim_param] = batch
    if not names:
        raise BindError(f"{where}: no input has a symbolic batch axis (axis 0) to set with --batch; "
                        "re-export the model with a dynamic batch dimension or use --input")
    return names
