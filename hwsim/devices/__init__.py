"""Device models, one module per kind, registered by kind name (the only dispatch on kind).

``get_device("a100-sxm-80gb")`` -> a DeviceModel; ``make_device(spec)`` for a spec in hand.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from hwsim.devices.base import Bound, CostTable, DeviceModel
from hwsim.devices.library import library_index, library_spec, load_device_spec

#: kind -> "module:Class" of its model (imported on first use).
MODEL_CLASSES: dict[str, str] = {
    "cpu": "hwsim.devices.cpu:CpuModel",
    "gpu": "hwsim.devices.gpu:GpuModel",
    "systolic": "hwsim.devices.systolic:SystolicModel",
    "sparse": "hwsim.devices.sparse:SparseModel",
    "neuromorphic": "hwsim.devices.neuromorphic:NeuromorphicModel",
}


def make_device(spec: Any) -> DeviceModel:
    """The model of ``spec``'s kind, built on ``spec``."""
    module, cls = MODEL_CLASSES[spec.kind].split(":")
    return getattr(importlib.import_module(module), cls)(spec)


def get_device(ref: str, overrides: Mapping[str, Any] | None = None) -> DeviceModel:
    """Model of library name or YAML path ``ref`` with optional dotted-field overrides."""
    spec = load_device_spec(ref, overrides) if overrides else _library_or_file(ref)
    return make_device(spec)


def _library_or_file(ref: str) -> Any:
    return library_spec(ref) if ref in library_index() else load_device_spec(ref)


__all__ = ["Bound", "CostTable", "DeviceModel", "MODEL_CLASSES", "get_device", "library_index", "make_device"]
