"""The model zoo: ONNX builders for well-known models with their published dimensions.

``build("resnet50")`` returns an opset-17 ``onnx.ModelProto`` with fully static shapes. By
default it holds no weight data (each initializer points at a non-existent external file), so
even GPT-3 175B builds in seconds; ``weights="random"`` fills float32 random weights so
onnxruntime can run the model (refused above 2 GiB). Models are named in URIs as
``zoo:bert-base?seq=384&batch=8``.

Parameters every model takes: ``batch`` (default 1), ``weights`` ("none" | "random"), ``seed``
(default 0). Sequence models also take ``seq``; capsnet takes ``decoder`` (0 | 1).
"""

from __future__ import annotations

import difflib
from urllib.parse import unquote

from onnx import ModelProto

from hwsim.errors import ZooError
from hwsim.zoo.catalog import MODELS, ZooEntry, ZooModel, make_builder

__all__ = ["ZooEntry", "build", "is_zoo_uri", "list_models", "parse_uri"]

URI_PREFIX = "zoo:"
_COMMON = {"weights": "none", "seed": 0}
_CHOICES: dict[str, tuple[int | str, ...]] = {"weights": ("none", "random"), "decoder": (0, 1)}


def list_models() -> list[ZooEntry]:
    """All zoo entries, in catalogue order (small CNNs first, then transformers, RNN, capsule)."""
    return [m.entry for m in MODELS.values()]


def is_zoo_uri(s: str) -> bool:
    """True when ``s`` names a zoo model (``zoo:<name>[?k=v&...]``) rather than a file."""
    return isinstance(s, str) and s.startswith(URI_PREFIX)


def _lookup(name: str) -> ZooModel:
    if name in MODELS:
        return MODELS[name]
    close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ZooError(f"unknown zoo model {name!r}{hint} (available: {', '.join(MODELS)})")


def _as_value(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def parse_uri(uri: str) -> tuple[str, dict[str, int | str]]:
    """Split ``zoo:bert-base?seq=384&batch=8`` into ``("bert-base", {"seq": 384, "batch": 8})``.

    Integer-looking values become ints. The name and parameters are validated (ZooError).
    """
    if not is_zoo_uri(uri):
        raise ZooError(f"{uri!r} is not a zoo URI; expected 'zoo:<name>[?key=value&...]'")
    name, _, query = uri[len(URI_PREFIX):].lstrip("/").partition("?")
    params: dict[str, int | str] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key or not value:
            raise ZooError(f"malformed parameter {part!r} in zoo URI {uri!r}; expected key=value")
        if key in params:
            raise ZooError(f"parameter {key!r} given twice in zoo URI {uri!r}")
        params[unquote(key)] = _as_value(unquote(value))
    _validate(_lookup(unquote(name)), params)
    return unquote(name), params


def _check_value(name: str, key: str, value: object, model: ZooModel) -> int | str:
    """Coerce and range-check one parameter value; ZooError naming it otherwise."""
    if key == "weights":
        if value not in _CHOICES["weights"]:
            raise ZooError(f"zoo model {name!r}: weights must be 'none' or 'random', got {value!r}")
        return str(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ZooError(f"zoo model {name!r}: {key} must be an integer, got {value!r}")
    low = 0 if key in ("seed", "decoder") else 1
    high = model.max_seq if key == "seq" else None
    if value < low or (high is not None and value > high) or (
            key in _CHOICES and value not in _CHOICES[key]):
        allowed = f"one of {_CHOICES[key]}" if key in _CHOICES else (
            f"in [{low}, {high}]" if high is not None else f">= {low}")
        raise ZooError(f"zoo model {name!r}: {key}={value} is out of range; must be {allowed}")
    return value


def _validate(model: ZooModel, params: dict[str, object]) -> dict[str, int | str]:
    """Complete ``params`` with defaults and check every key and value."""
    name = model.entry.name
    valid = {**model.entry.defaults, **_COMMON}
    for key in params:
        if key not in valid:
            raise ZooError(f"zoo model {name!r} has no parameter {key!r}; "
                           f"valid parameters: {', '.join(valid)}")
    merged = {**valid, **params}
    return {k: _check_value(name, k, v, model) for k, v in merged.items()}


def build(name: str, **params: int | str) -> ModelProto:
    """Build zoo model ``name`` as an opset-17 ONNX model with static shapes.

    params: ``batch``, ``seq`` (sequence models), ``decoder`` (capsnet), ``weights``
    ("none": external-data placeholders, no arrays; "random": float32 random data),
    ``seed`` (for random weights). Raises ZooError on an unknown name or a bad parameter.
    """
    model = _lookup(name)
    checked = _validate(model, params)
    weights, seed = checked.pop("weights"), checked.pop("seed")
    return model.make(make_builder(name, str(weights), int(seed)), **checked)
