"""Shared fixtures: recorded microbenchmarks and a known 'true' CPU spec for synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")

DATA = Path(__file__).resolve().parents[2] / "data" / "calibration"


@pytest.fixture(scope="session")
def recorded() -> dict:
    return json.loads((DATA / "microbench_epyc2.json").read_text())


@pytest.fixture(scope="session")
def true_spec():
    """epyc-9654 restricted to 1 thread with known, non-default fitted fields."""
    from hwsim.config.devices import Efficiency
    from hwsim.devices.library import load_device_spec

    base = load_device_spec("epyc-9654")
    eff = {"matmul": Efficiency(peak_fraction=0.6, half_work_flops=3e5), "conv": Efficiency(peak_fraction=0.5, half_work_flops=1e6),
           "elementwise": Efficiency(peak_fraction=0.1, half_work_flops=1e4), "reduce": Efficiency(peak_fraction=0.2, half_work_flops=1e4),
           "norm": Efficiency(peak_fraction=0.1, half_work_flops=1e4), "pool": Efficiency(peak_fraction=0.1, half_work_flops=1e4)}
    return base.model_copy(update={"efficiency": eff, "dispatch_overhead_s": 1.5e-6, "threads": 1, "parallel_fraction": {}})


def synthetic(spec, records: list[dict], session_s: float, sigma: float, seed: int = 0) -> np.ndarray:
    """Latencies the model itself predicts for ``records`` times lognormal noise."""
    from hwsim.calibrate.fit import predict, records_table

    clean = predict(spec, records_table(records), session_s)
    return clean * np.exp(np.random.default_rng(seed).normal(0.0, sigma, len(clean)))
