"""The device library: names -> YAML specs, derivation (``base:``), overrides, validation.

Search path: ``devices/`` at the repository root (the shipped library), then every folder in
``$HWSIM_DEVICE_PATH`` (os.pathsep-separated), then ``~/.config/hwsim/devices`` (where
calibration writes ``cpu-local``). A name resolves to ``<dir>/<kind>/<name>.yaml``; a path to a
YAML file works too. ``base: NAME`` (or a relative path) derives from another spec: the
derived file's keys override the base's, nested mappings merge, ``sources`` merge.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from hwsim.config.devices import DEVICE_KINDS, DeviceSpec
from hwsim.config.loader import load_yaml, validation_message
from hwsim.devices.energy import ENERGY_SOURCE, table_at_node
from hwsim.errors import ConfigError

REPO_DEVICES = Path(__file__).resolve().parents[2] / "devices"
USER_DEVICES = Path.home() / ".config" / "hwsim" / "devices"
_ADAPTER: TypeAdapter = TypeAdapter(DeviceSpec)


def search_path() -> list[Path]:
    """Folders searched for ``<kind>/<name>.yaml``, in priority order."""
    extra = [Path(p) for p in os.environ.get("HWSIM_DEVICE_PATH", "").split(os.pathsep) if p]
    return [REPO_DEVICES, *extra, USER_DEVICES]


def library_index() -> dict[str, Path]:
    """Every device name in the search path -> its YAML file (first folder wins).

    Cached until a kind folder of the search path changes (a calibration adding cpu-local)."""
    return dict(_index(tuple(_stamp(root) for root in search_path())))


def _stamp(root: Path) -> tuple[Path, tuple[tuple[str, int], ...]]:
    if not root.is_dir():
        return root, ()
    return root, tuple(sorted((d.name, d.stat().st_mtime_ns) for d in os.scandir(root) if d.is_dir()))


@lru_cache(maxsize=16)
def _index(stamps: tuple) -> tuple[tuple[str, Path], ...]:
    index: dict[str, Path] = {}
    for root, _ in stamps:
        for f in sorted(root.glob("*/*.yaml")) if root.is_dir() else []:
            index.setdefault(f.stem, f)
    return tuple(index.items())


def locate(ref: str, relative_to: Path | None = None) -> Path:
    """The YAML file of a library name or path (ConfigError with a did-you-mean otherwise)."""
    as_path = Path(ref)
    if relative_to is not None and not as_path.is_absolute() and (relative_to / as_path).is_file():
        return relative_to / as_path
    if ref.endswith((".yaml", ".yml")) or os.sep in ref:
        if as_path.is_file():
            return as_path
        raise ConfigError(f"device file {ref!r} not found")
    index = library_index()
    if ref in index:
        return index[ref]
    close = difflib.get_close_matches(ref, list(index), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"unknown device {ref!r}{hint} (`hwsim devices` lists {len(index)} devices)")


def _merge(base: dict, over: Mapping) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def raw_spec(ref: str, relative_to: Path | None = None, _seen: tuple[Path, ...] = ()) -> tuple[dict, Path, dict[str, int]]:
    """(merged mapping, file, line map) of a device YAML with its ``base:`` chain applied."""
    path = locate(ref, relative_to).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: `base:` chain loops back to itself")
    data, lines = _parsed(path, path.stat().st_mtime_ns)
    data = copy.deepcopy(data)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a device spec must be a mapping of fields")
    base = data.pop("base", None)
    if base is not None:
        parent, _, _ = raw_spec(str(base), path.parent, (*_seen, path))
        parent.pop("name", None)
        data = _merge(parent, data)
    return data, path, lines


@lru_cache(maxsize=512)
def _parsed(path: Path, mtime_ns: int) -> tuple[object, dict[str, int]]:
    """Parsed YAML of a device file, cached until the file changes (sweeps re-read specs)."""
    return load_yaml(path)


def apply_overrides(data: dict, overrides: Mapping[str, Any]) -> dict:
    """Set dotted ``field.path`` keys (``--set mem_bw_bytes_per_s=4e12``); string values parse as YAML scalars."""
    out = dict(data)  # copy-on-write: only the mappings on an overridden path are copied
    out["sources"] = dict(out.get("sources", {}))
    for dotted, value in overrides.items():
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ConfigError(f"--set {dotted}={value!r}: not a valid value") from None
        node = out
        parts = dotted.split(".")
        for p in parts[:-1]:
            child = node.get(p, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {dotted}: {p!r} is not a mapping")
            node[p] = node = dict(child)
        node[parts[-1]] = value
        out["sources"][dotted] = "user override (--set)"
    return out


def _fill_energy(data: dict) -> dict:
    if "energy" in data or "process_nm" not in data:
        return data
    hbm = bool(data.pop("hbm", False))
    out = dict(data, energy=table_at_node(float(data["process_nm"]), hbm=hbm))
    out["sources"] = dict(out.get("sources", {}), energy=ENERGY_SOURCE)
    return out


def validate_spec(data: dict, where: str, lines: dict[str, int] | None = None) -> DeviceSpec:
    """Validate a merged device mapping; ConfigError names the field (and line) at fault."""
    data = _fill_energy(_probe_auto(data))
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, where, lines or {}, tags=DEVICE_KINDS)) from None


def load_device_spec(ref: str, overrides: Mapping[str, Any] | None = None) -> DeviceSpec:
    """The validated spec of library name or YAML path ``ref``, with ``overrides`` applied."""
    data, path, lines = raw_spec(ref)
    data.setdefault("name", path.stem)
    if overrides:
        data = apply_overrides(data, overrides)
        data["name"] = f"{data['name']}*"
    return validate_spec(data, str(path), lines)


@lru_cache(maxsize=256)
def library_spec(name: str) -> DeviceSpec:
    """Cached spec of a library device without overrides."""
    return load_device_spec(name)


def _probe_auto(data: dict) -> dict:
    if not any(v == "auto" for v in data.values()):
        return data
    from hwsim.devices.host import probe_host

    found = probe_host()
    out = dict(data)
    for k, v in data.items():
        if v == "auto":
            if k not in found:
                raise ConfigError(f"device {data.get('name')!r}: field {k!r} cannot be probed on this machine; set it explicitly")
            out[k] = found[k]
            out.setdefault("sources", {})
            out["sources"] = dict(out["sources"], **{k: "probed from this machine at load time (hwsim/devices/host.py)"})
    return out
