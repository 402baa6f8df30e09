"""hwsim: what does this model cost — seconds, joules, dollars, grams of CO2 — on hardware that
exists, and on hardware that could exist?

Public API::

    import hwsim
    model = hwsim.load_model("zoo:resnet50?batch=8")        # or a path to an .onnx file
    table = hwsim.count_work(model)                           # WorkTable: one row per op + DAG
    result = hwsim.price(table, "a100-sxm-80gb")              # DeviceResult: latency, energy, usd, co2
    timeline = hwsim.simulate(table, result.costs)            # schedule (analytic by default)
    study = hwsim.run_scenario("scenarios/hardware_lottery.yaml")
    hwsim.calibrate(quick=True)                               # fit this CPU (needs hwsim[calibrate])

Heavier parts (devices, schedules, scenarios, calibration) are imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import onnx

from hwsim.errors import HwsimError
from hwsim.graph import LoadedModel, OpNode, TensorInfo, load_model
from hwsim.ops import OpWork, WorkKind, WorkTable, count_work

__version__ = "0.1.0"


def inspect_model(
    source: str | os.PathLike | onnx.ModelProto | bytes,
    dims: Mapping[str, int] | None = None,
    input_shapes: Mapping[str | int, Sequence[int]] | None = None,
    on_unsupported: str = "raise",
) -> WorkTable:
    """Load ``source`` and count its work in one call."""
    return count_work(load_model(source, dims, input_shapes, on_unsupported))  # type: ignore[arg-type]


def price(table: WorkTable, device: Any, economics: Any = None, batch: int = 1) -> Any:
    """Price a counted table on a device (library name, YAML path or DeviceModel)."""
    from hwsim.devices import get_device
    from hwsim.rollup import price_on

    return price_on(table, get_device(device) if isinstance(device, str) else device, economics, batch)


def simulate(table: WorkTable, costs: Any, queued: bool = False, **kwargs: Any) -> Any:
    """Schedule priced ops into a Timeline: analytic (default) or simpy-queued."""
    from hwsim.schedule import schedule_analytic, schedule_queued

    return (schedule_queued if queued else schedule_analytic)(table, costs, **kwargs)


def run_scenario(path: str | os.PathLike, **kwargs: Any) -> Any:
    """Run a scenario YAML (see hwsim.scenario.run_scenario for options)."""
    from hwsim.scenario import run_scenario as run

    return run(path, **kwargs)


def calibrate(**kwargs: Any) -> Any:
    """Calibrate this machine's CPU model (see hwsim.calibrate.run_calibration)."""
    import hwsim.calibrate as cal

    return cal.run_calibration(**kwargs)


__all__ = [
    "HwsimError", "LoadedModel", "OpNode", "OpWork", "TensorInfo", "WorkKind", "WorkTable",
    "calibrate", "count_work", "inspect_model", "load_model", "price", "run_scenario", "simulate",
]
