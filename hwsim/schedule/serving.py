"""Serving under load: requests arrive, a dynamic batcher groups them, N devices serve batches.

Service times come from a :class:`LatencyTable` (the model priced once per batch size;
:func:`latency_table_from` prices ``zoo:...?batch=B`` through :func:`hwsim.rollup.price_on`,
:func:`latency_table` takes the numbers directly) or any callable batch size → seconds. A batch of
k requests runs for the latency of the smallest tabulated batch size ≥ k (it is padded).
The event loop is :mod:`hwsim.schedule.serving_sim` (simpy). Reported, over the horizon
H = completion time of the last request (time 0 = simulation start; trace timestamps are
shifted so the first request arrives at 0):

* latency of a request = completion − arrival (queueing + batching wait + service); p50/p95/p99
  by linear interpolation (``numpy.percentile``);
* throughput = requests / H; utilisation = Σ batch service time / (N·H);
* energy = Σ per-batch energy (the priced energy of one batch: dynamic + idle power while busy)
  + power_idle_w × (N·H − busy time);
* usd per 1M requests = :func:`hwsim.economics.run_cost` (N devices for H seconds, that
  energy).usd / requests × 1e6 (NaN without a device spec or without a sourced price).

Poisson arrivals: inter-arrival gaps E_i / rate with E_i ~ Exp(1) from
``numpy.random.default_rng(seed)``, so runs are reproducible and, for a fixed request count, the
same seed at another rate gives the same arrival pattern rescaled in time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwsim.config.economics import J_PER_KWH, Economics
from hwsim.economics import run_cost
from hwsim.errors import ConfigError
from hwsim.schedule.serving_sim import run_batches


@dataclass(frozen=True)
class LatencyTable:
    """Latency (s) and energy (J) of one batch at each tabulated batch size, ascending.

    ``power_idle_w``: one device's idle power (W); ``spec``: the device spec, for dollars.
    """

    batch_sizes: tuple[int, ...]
    latency_s: tuple[float, ...]
    energy_j: tuple[float, ...]
    power_idle_w: float = 0.0
    spec: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.batch_sizes or len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ConfigError("a latency table needs distinct batch sizes")
        if list(self.batch_sizes) != sorted(self.batch_sizes) or self.batch_sizes[0] < 1:
            raise ConfigError(f"latency table batch sizes must be ascending integers ≥ 1, got {self.batch_sizes}")
        if not all(math.isfinite(x) and x > 0 for x in self.latency_s):
            raise ConfigError(f"latency table latencies must be finite and > 0 s, got {self.latency_s}")
        if not all(math.isfinite(x) and x >= 0 for x in self.energy_j) or len(self.energy_j) != len(self.latency_s):
            raise ConfigError("latency table energies must be finite, ≥ 0 J, one per batch size")

    def _row(self, batch: int) -> int:
        for i, b in enumerate(self.batch_sizes):
            if b >= batch:
                return i
        raise ConfigError(f"batch size {batch} exceeds the largest tabulated batch size {self.batch_sizes[-1]}; "
                          "price the model at a larger batch or lower max_batch")

    def __call__(self, batch: int) -> float:
        """Latency (s) of a batch of ``batch`` requests (padded to the next tabulated size)."""
        return self.latency_s[self._row(batch)]

    def energy(self, batch: int) -> float:
        """Energy (J) of a batch of ``batch`` requests (padded like the latency)."""
        return self.energy_j[self._row(batch)]


def latency_table(points: Mapping[int, Any], power_idle_w: float = 0.0, spec: Any = None) -> LatencyTable:
    """A :class:`LatencyTable` from {batch: latency_s | (latency_s, energy_j) |
    {"latency_s": ..., "energy_j": ...}} (energy 0 J when not given)."""
    rows = []
    for b in sorted(points):
        v = points[b]
        if isinstance(v, Mapping):
            rows.append((int(b), float(v["latency_s"]), float(v.get("energy_j", 0.0))))
        elif isinstance(v, (tuple, list)):
            rows.append((int(b), float(v[0]), float(v[1])))
        else:
            rows.append((int(b), float(v), 0.0))
    return LatencyTable(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows),
                        float(power_idle_w), spec)


def latency_table_from(model: str | Callable[[int], Any], device: Any, batch_sizes: Sequence[int],
                       econ: Economics | None = None) -> LatencyTable:
    """Price ``model`` once per batch size on ``device`` with :func:`hwsim.rollup.price_on`.

    ``model``: a ``zoo:NAME[?k=v]`` URI (``batch=B`` is appended) or a callable B → WorkTable.
    ``device``: a library name / YAML path or a DeviceModel. Energy per batch is the roll-up's
    (dynamic + idle power × latency).
    """
    from hwsim.devices import get_device
    from hwsim.rollup import price_on

    dev = get_device(device) if isinstance(device, str) else device
    points = {}
    for b in sorted(set(int(x) for x in batch_sizes)):
        result = price_on(_table_at(model, b), dev, econ, batch=b)
        points[b] = (result.latency_s, result.energy_j)
    return latency_table(points, dev.spec.power_idle_w, dev.spec)


def _table_at(model: str | Callable[[int], Any], batch: int) -> Any:
    if callable(model):
        return model(batch)
    from hwsim.graph import load_model
    from hwsim.ops import count_work

    if not model.startswith("zoo:"):
        raise ConfigError(f"{model!r}: only zoo:NAME URIs can be re-batched by name; pass a callable B -> WorkTable")
    if "batch=" in model:
        raise ConfigError(f"{model!r} already sets batch; give the URI without it, batch sizes are swept")
    sep = "&" if "?" in model else "?"
    return count_work(load_model(f"{model}{sep}batch={batch}"))


@dataclass(frozen=True)
class ServingResult:
    """Outcome of one serving simulation (SI units; see the module docstring for formulas)."""

    n_requests: int
    horizon_s: float
    throughput_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    latency_mean_s: float
    wait_mean_s: float
    utilisation: float
    mean_batch: float
    energy_j: float
    usd_per_million: float
    co2_g_per_million: float
    latencies_s: np.ndarray = field(repr=False, compare=False)

    def percentile_s(self, q: float) -> float:
        """Latency at fraction ``q`` in (0, 1] of requests (seconds)."""
        return float(np.percentile(self.latencies_s, 100.0 * q))


def simulate_serving(service: LatencyTable | Callable[[int], float], devices: int = 1,
                     arrival: str | Sequence[float] = "poisson", rate_per_s: float | None = None,
                     max_batch: int = 1, max_wait_s: float = 0.0, duration_s: float | None = None,
                     n_requests: int | None = None, seed: int = 0, econ: Economics | None = None) -> ServingResult:
    """Simulate serving (see the module docstring). ``arrival``: "poisson" at ``rate_per_s``
    for ``n_requests`` requests or ``duration_s`` seconds, or a sequence of arrival timestamps."""
    _check_ints(devices=devices, max_batch=max_batch)
    if not (isinstance(max_wait_s, (int, float)) and math.isfinite(max_wait_s) and max_wait_s >= 0):
        raise ConfigError(f"max_wait_s must be a finite number ≥ 0 s, got {max_wait_s!r}")
    table = as_latency_table(service, max_batch)
    arrivals = arrival_times(arrival, rate_per_s, duration_s, n_requests, seed)
    service_s = [0.0] + [table(k) for k in range(1, max_batch + 1)]
    log = run_batches(arrivals, service_s, devices, max_batch, float(max_wait_s))
    return _summarise(arrivals, log, table, devices, econ or Economics())


def as_latency_table(service: LatencyTable | Callable[[int], float], max_batch: int) -> LatencyTable:
    """``service`` itself, or a callable tabulated at batch sizes 1..max_batch (energy 0 J)."""
    if isinstance(service, LatencyTable):
        service._row(max_batch)
        return service
    if not callable(service):
        raise ConfigError(f"service must be a LatencyTable or a callable batch → seconds, got {type(service).__name__}")
    return latency_table({k: float(service(k)) for k in range(1, max_batch + 1)})


def arrival_times(arrival: str | Sequence[float], rate_per_s: float | None, duration_s: float | None,
                  n_requests: int | None, seed: int) -> np.ndarray:
    """Sorted arrival times (s): Poisson (seeded) or a trace shifted to start at 0."""
    if isinstance(arrival, str):
        if arrival != "poisson":
            raise ConfigError(f"arrival must be 'poisson' or a sequence of timestamps, got {arrival!r}")
        return _poisson(rate_per_s, duration_s, n_requests, seed)
    if rate_per_s is not None:
        raise ConfigError("rate_per_s applies to Poisson arrivals only; a trace sets its own times")
    t = np.asarray(arrival, dtype=float)
    if t.ndim != 1 or len(t) == 0 or not np.isfinite(t).all() or (np.diff(t) < 0).any():
        raise ConfigError("an arrival trace must be a non-empty, finite, non-decreasing sequence of timestamps (s)")
    t = t - t[0]
    if duration_s is not None:
        t = t[t <= duration_s]
    return t[:n_requests] if n_requests is not None else t


def _poisson(rate: float | None, duration_s: float | None, n: int | None, seed: int) -> np.ndarray:
    if rate is None or not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
        raise ConfigError(f"rate_per_s must be a finite number > 0 requests/s, got {rate!r}")
    if (duration_s is None) == (n is None):
        raise ConfigError("give exactly one of duration_s and n_requests for Poisson arrivals")
    rng = np.random.default_rng(seed)
    if n is not None:
        _check_ints(n_requests=n)
        return np.cumsum(rng.standard_exponential(n)) / rate
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ConfigError(f"duration_s must be a finite number > 0 s, got {duration_s!r}")
    expect = rate * duration_s
    gaps = rng.standard_exponential(int(expect + 10 * math.sqrt(expect) + 20))
    while gaps.sum() / rate <= duration_s:
        gaps = np.concatenate([gaps, rng.standard_exponential(len(gaps))])
    t = np.cumsum(gaps) / rate
    return t[t <= duration_s]


def _check_ints(**values: Any) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"{name} must be an integer ≥ 1, got {v!r}")


def _summarise(arrivals: np.ndarray, log: Any, table: LatencyTable, devices: int, econ: Economics) -> ServingResult:
    n = len(arrivals)
    if n == 0:
        raise ConfigError("no requests arrived: raise duration_s or the rate")
    lat = log.done_s - arrivals
    horizon = float(log.done_s.max())
    busy = float((log.batch_end_s - log.batch_start_s).sum())
    per_size = np.array([0.0] + [table.energy(k) for k in range(1, int(log.batch_size.max()) + 1)])
    energy = float(per_size[log.batch_size].sum()) + table.power_idle_w * max(devices * horizon - busy, 0.0)
    co2 = energy / J_PER_KWH * econ.pue * econ.grid_gco2_per_kwh / n * 1e6
    usd = run_cost(table.spec, econ, horizon, energy, devices).usd / n * 1e6 if table.spec is not None else math.nan
    p50, p95, p99 = (float(x) for x in np.percentile(lat, [50.0, 95.0, 99.0]))
    return ServingResult(
        n_requests=n, horizon_s=horizon, throughput_per_s=n / horizon if horizon > 0 else math.inf,
        latency_p50_s=p50, latency_p95_s=p95, latency_p99_s=p99, latency_mean_s=float(lat.mean()),
        wait_mean_s=float((log.start_s - arrivals).mean()), utilisation=busy / (devices * horizon) if horizon > 0 else 0.0,
        mean_batch=float(log.batch_size.mean()), energy_j=float(energy), usd_per_million=usd,
        co2_g_per_million=co2, latencies_s=lat)


def max_rate_meeting_slo(service: LatencyTable | Callable[[int], float], slo_s: float, percentile: float = 0.99,
                         devices: int = 1, max_batch: int = 1, max_wait_s: float = 0.0, n_requests: int = 20_000,
                         seed: int = 0, rel_tol: float = 1e-3) -> float:
    """Highest Poisson rate (requests/s) whose ``percentile`` latency is ≤ ``slo_s``.

    Bisection on [0, capacity], capacity = N · max_k k / latency(k) (k ≤ max_batch; above it the
    queue grows without bound), until the bracket is narrower than rel_tol · capacity. Every
    probe simulates ``n_requests`` with the same ``seed``, so reruns give the identical answer.
    Returns 0.0 when no rate meets the SLO (the service time alone exceeds it).
    """
    if not (isinstance(slo_s, (int, float)) and math.isfinite(slo_s) and slo_s > 0):
        raise ConfigError(f"slo_s must be a finite number > 0 s, got {slo_s!r}")
    if not 0 < percentile <= 1:
        raise ConfigError(f"percentile must be a fraction in (0, 1], got {percentile!r}")
    if not 0 < rel_tol < 1:
        raise ConfigError(f"rel_tol must be in (0, 1), got {rel_tol!r}")
    _check_ints(devices=devices, max_batch=max_batch)
    table = as_latency_table(service, max_batch)
    capacity = devices * max(k / table(k) for k in range(1, max_batch + 1))
    lo, hi = 0.0, capacity
    while hi - lo > rel_tol * capacity:
        mid = 0.5 * (lo + hi)
        result = simulate_serving(table, devices, "poisson", mid, max_batch, max_wait_s,
                                  n_requests=n_requests, seed=seed)
        if result.percentile_s(percentile) <= slo_s:
            lo = mid
        else:
            hi = mid
    return lo
