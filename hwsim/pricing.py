"""The `price` use case: a loaded model on a list of devices, with economics and assumptions.

``price_model`` counts the model once, optionally casts it to another dtype, and prices the
same WorkTable on each device; it returns the table, one DeviceResult per device and the
assumptions (every spec and economics value used, with sources) for the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hwsim.config.economics import Economics
from hwsim.config.loader import load_yaml, validate
from hwsim.devices import get_device
from hwsim.graph.load import LoadedModel
from hwsim.ops.count import count_work
from hwsim.ops.work import WorkTable
from hwsim.rollup import DeviceResult, price_on
from hwsim.workload.quantize import cast_dtype


def load_economics(path: str | None) -> Economics:
    """Economics from a YAML file (fields of :class:`Economics`), or the sourced defaults."""
    if path is None:
        return Economics()
    data, lines = load_yaml(path)
    return validate(Economics, data or {}, str(path), lines)  # type: ignore[return-value]


def price_model(model: LoadedModel, devices: Sequence[str], overrides: Mapping[str, Any] | None = None,
                dtype: str | None = None, economics: str | Economics | None = None,
                batch: int = 1) -> tuple[WorkTable, list[DeviceResult], dict[str, Any]]:
    """(table, results, assumptions) of ``model`` on each of ``devices``."""
    econ = economics if isinstance(economics, Economics) else load_economics(economics)
    table = count_work(model)
    if dtype is not None:
        table = cast_dtype(table, dtype)
    results, specs = [], {}
    for ref in devices:
        device = get_device(ref, overrides or None)
        results.append(price_on(table, device, econ, batch))
        specs[device.spec.name] = device.spec.model_dump(mode="json")
    assumptions = {"economics": econ.model_dump(mode="json"), "devices": specs,
                   "batch": batch, "dtype": dtype, "overrides": dict(overrides or {}),
                   "schedule": "ops run one at a time; latency is the sum of op latencies"}
    return table, results, assumptions
