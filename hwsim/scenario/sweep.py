"""Expand a sweep into points: grid, zip, uniform random, Latin hypercube (seeded)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from hwsim.config.scenario import RangeSpec, SweepSpec

Point = dict[str, Any]


def expand(sweep: SweepSpec | None) -> list[Point]:
    """The sweep's points in a deterministic order ([{}] when there is no sweep)."""
    if sweep is None:
        return [{}]
    keys = list(sweep.parameters)
    if sweep.mode == "grid":
        return [dict(zip(keys, combo)) for combo in itertools.product(*(sweep.parameters[k] for k in keys))]
    if sweep.mode == "zip":
        return [dict(zip(keys, combo)) for combo in zip(*(sweep.parameters[k] for k in keys))]
    unit = _unit_samples(sweep.mode, sweep.samples or 0, len(keys), sweep.seed)
    return [{k: _scale(sweep.parameters[k], u) for k, u in zip(keys, row)} for row in unit]


def count_points(sweep: SweepSpec | None) -> int:
    """How many points :func:`expand` will produce, without producing them."""
    if sweep is None:
        return 1
    if sweep.mode == "grid":
        return math.prod(len(v) for v in sweep.parameters.values())
    if sweep.mode == "zip":
        return len(next(iter(sweep.parameters.values())))
    return sweep.samples or 0


def _unit_samples(mode: str, n: int, d: int, seed: int) -> np.ndarray:
    """n×d samples in [0, 1): independent uniforms, or a Latin hypercube (one sample per
    stratum of each dimension, strata permuted independently; McKay et al. 1979)."""
    rng = np.random.default_rng(seed)
    if mode == "random":
        return rng.random((n, d))
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return (strata + rng.random((n, d))) / n


def _scale(spec: Any, u: float) -> Any:
    if not isinstance(spec, RangeSpec):
        values = list(spec)
        return values[min(int(u * len(values)), len(values) - 1)]
    if spec.log:
        x = math.exp(math.log(spec.low) + u * (math.log(spec.high) - math.log(spec.low)))
    else:
        x = spec.low + u * (spec.high - spec.low)
    return int(round(x)) if spec.integer else float(x)
