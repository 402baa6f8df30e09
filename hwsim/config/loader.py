"""YAML loading: safe, duplicate keys rejected, errors naming the file, line and field.

``load_yaml`` returns plain Python data plus a map from dotted field paths to line numbers,
so a pydantic validation error can point at the YAML line that caused it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hwsim.errors import ConfigError


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and records each key's line."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r} "
                              f"(first given on line {seen[key]}); give each key once")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_map(node: yaml.Node, prefix: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            path = f"{prefix}.{k.value}" if prefix else str(k.value)
            out[path] = k.start_mark.line + 1
            _line_map(v, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            path = f"{prefix}.{i}"
            out[path] = v.start_mark.line + 1
            _line_map(v, path, out)
    return out


def load_yaml(path: str | Path) -> tuple[Any, dict[str, int]]:
    """(data, line of each dotted key path) of a YAML file; ConfigError on any problem."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    return parse_yaml(text, str(p))


def parse_yaml(text: str, where: str) -> tuple[Any, dict[str, int]]:
    """Like :func:`load_yaml` for text already read; ``where`` names it in errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: {line}invalid YAML ({problem})") from None
    return data, (_line_map(node) if node is not None else {})


def validation_message(exc: ValidationError, where: str, lines: dict[str, int], prefix: str = "",
                       tags: tuple[str, ...] = ()) -> str:
    """One line naming the first invalid field, its YAML line and pydantic's reason.

    ``tags``: discriminator values pydantic puts first in an error's location (a union's
    branch name, e.g. the device kind); they are not YAML keys and are dropped.
    """
    err = exc.errors()[0]
    loc = [str(x) for x in err["loc"] if not str(x).startswith("function-")]
    if loc and loc[0] in tags:
        loc = loc[1:]
    path = ".".join(([prefix] if prefix else []) + loc)
    line = _nearest_line(path, lines)
    reason = err["msg"]
    if err["type"] == "extra_forbidden":
        reason = "unknown key (check its spelling against the documented fields)"
    at = f"line {line}: " if line else ""
    return f"{where}: {at}{path or '<root>'}: {reason}"


def _nearest_line(path: str, lines: dict[str, int]) -> int | None:
    parts = path.split(".")
    while parts:
        key = ".".join(parts)
        if key in lines:
            return lines[key]
        parts.pop()
    return None


def validate(model: type[BaseModel], data: Any, where: str, lines: dict[str, int], prefix: str = "") -> BaseModel:
    """``model.model_validate(data)`` with errors turned into one-line ConfigErrors."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, where, lines, prefix)) from None
