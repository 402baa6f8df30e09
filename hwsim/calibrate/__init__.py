"""Calibration: measure models and microbenchmarks on this machine, fit device parameters,
validate on held-out models. Public API (imported lazily: onnxruntime and scipy are optional,
``pip install 'hwsim[calibrate]'``)::

    measure_model(model, dims=None, threads=1, runs=20, warmup=3, per_op=False) -> dict
    run_calibration(quick=False, threads=(1, 2), out=DEFAULT_OUT, force=False, progress=None) -> Path
    calibrate_from_csv(path, base_device, out=DEFAULT_OUT, force=False) -> Path
    calibrate_from_records(measurement_json, base_device="cpu-generic", out=..., force=False)
    prediction_band(spec, latency_s) -> (lo, hi)
"""

from __future__ import annotations

import importlib
from typing import Any

from hwsim.errors import ConfigError

_API = {
    "measure_model": "hwsim.calibrate.measure",
    "run_calibration": "hwsim.calibrate.run",
    "calibrate_from_records": "hwsim.calibrate.run",
    "calibrate_from_csv": "hwsim.calibrate.csvfit",
    "prediction_band": "hwsim.calibrate.validate",
    "predict_latency": "hwsim.calibrate.validate",
    "DEFAULT_OUT": "hwsim.calibrate.store",
}


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(name)
    try:
        module = importlib.import_module(_API[name])
    except ImportError as exc:
        if exc.name in ("scipy", "onnxruntime") or (exc.name or "").startswith("scipy."):
            raise ConfigError(f"calibration needs {exc.name.split('.')[0]}, which is not installed: "
                              "pip install 'hwsim[calibrate]'") from None
        raise
    return getattr(module, name)


__all__ = sorted(_API)
