"""Read an ONNX model from a file, bytes, a ModelProto or a ``zoo:`` URI, safely.

Never mutates the caller's model. External data: locations must stay inside the model's
folder; missing weight files are allowed (shape-only graphs are counted from initializer
metadata). Weight values are kept only where they exist, for density measurement and folding.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, numpy_helper

from hwsim.errors import ModelLoadError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawModel:
    """A parsed model plus where it came from and which external weights were found."""

    model: onnx.ModelProto
    name: str
    base_dir: Path | None
    missing_weights: tuple[str, ...]
    external: dict[str, tuple[Path, int, int]]  # tensor name -> (file, offset, length) found on disk


def read_model(source: str | os.PathLike | onnx.ModelProto | bytes) -> RawModel:
    """Parse ``source`` into a :class:`RawModel`; every failure is a :class:`ModelLoadError`."""
    if isinstance(source, onnx.ModelProto):
        return _finish(source, "<ModelProto>", None)
    if isinstance(source, bytes):
        return _finish(_parse(source, "<bytes>"), "<bytes>", None)
    text = os.fspath(source)
    if text.startswith("zoo:"):
        from hwsim.zoo import build, parse_uri

        name, params = parse_uri(text)
        return _finish(build(name, **params), text, None)
    path = Path(text)
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file; give a path to an .onnx file or a zoo:NAME (see `hwsim zoo`)")
    if not path.is_file():
        raise ModelLoadError(f"{path}: is a directory, not an .onnx file")
    data = path.read_bytes()
    return _finish(_parse(data, str(path)), path.stem, path.resolve().parent)


def _parse(data: bytes, where: str) -> onnx.ModelProto:
    if not data:
        raise ModelLoadError(f"{where}: file is empty (0 bytes); re-export the model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise ModelLoadError(f"{where}: not a valid ONNX protobuf ({exc}); the file is truncated or not ONNX") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not (model.graph.node or model.graph.output):
        raise ModelLoadError(f"{where}: parsed as protobuf but holds no ONNX graph (ir_version {model.ir_version}); not an ONNX model")
    return model


def _finish(model: onnx.ModelProto, name: str, base_dir: Path | None) -> RawModel:
    external, missing = _external_locations(model, base_dir, name)
    return RawModel(model, name, base_dir, tuple(sorted(missing)), external)


def _external_locations(model: onnx.ModelProto, base_dir: Path | None, where: str) -> tuple[dict, set]:
    found: dict[str, tuple[Path, int, int]] = {}
    missing: set[str] = set()
    resolved: dict[str, Path | None] = {}
    for t in model.graph.initializer:
        if t.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        if not loc or os.path.isabs(loc) or Path(loc).drive:
            raise ModelLoadError(f"{where}: initializer {t.name!r} has external-data location {loc!r}; it must be a relative path inside the model's folder")
        if base_dir is None:
            missing.add(loc)
            continue
        if loc not in resolved:
            target = (base_dir / loc).resolve()
            if base_dir != target and base_dir not in target.parents:
                raise ModelLoadError(f"{where}: initializer {t.name!r} external-data location {loc!r} escapes the model's folder {base_dir}; move the weights next to the model")
            resolved[loc] = target if target.is_file() else None
        target = resolved[loc]
        if target is not None:
            found[t.name] = (target, int(info.get("offset", 0)), int(info.get("length", -1) or -1))
        else:
            missing.add(loc)
    return found, missing


def tensor_array(t: TensorProto, raw: RawModel) -> np.ndarray | None:
    """The value of initializer ``t`` as a numpy array, or None when its data is unavailable."""
    if t.data_location == TensorProto.EXTERNAL:
        loc = raw.external.get(t.name)
        if loc is None:
            return None
        path, offset, length = loc
        with open(path, "rb") as fh:
            fh.seek(offset)
            blob = fh.read() if length < 0 else fh.read(length)
        tmp = TensorProto()
        tmp.CopyFrom(t)
        del tmp.external_data[:]
        tmp.data_location = TensorProto.DEFAULT
        tmp.raw_data = blob
        t = tmp
    try:
        return numpy_helper.to_array(t)
    except Exception as exc:  # malformed payload: wrong length for its dims
        raise ModelLoadError(f"initializer {t.name!r}: its data does not match its dims {list(t.dims)} ({exc})") from None
