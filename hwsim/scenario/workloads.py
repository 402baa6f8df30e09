"""Workload handlers: how one (model, device, workload) cell of a scenario is priced.

A registry keyed by workload type (the only dispatch on it). Each handler returns the metric
columns of one results row (see hwsim.report: the row contract) and, for the figures, the
per-op arrays of the priced table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.config.cluster import ClusterSpec
from hwsim.config.economics import Economics
from hwsim.config.scenario import WorkloadEntry
from hwsim.devices.base import DeviceModel
from hwsim.devices.cluster import price_cluster
from hwsim.rollup import DeviceResult, price_on
from hwsim.scenario.context import PreparedModel, per_sample


@dataclass(frozen=True)
class Cell:
    """Everything one cell needs."""

    model: PreparedModel
    device: DeviceModel
    cluster: ClusterSpec | None
    workload: WorkloadEntry
    econ: Economics


Handler = Callable[[Cell], tuple[dict[str, Any], dict[str, Any] | None]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of a workload type."""

    def deco(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return deco


def result_metrics(res: DeviceResult, batch: int) -> dict[str, Any]:
    """The row metrics of one priced inference of ``batch`` samples."""
    b = res.bound_share
    return {
        "latency_s": res.latency_s, "throughput_per_s": res.throughput_per_s, "energy_j": res.energy_j,
        "energy_per_sample_j": per_sample(res.energy_j, batch), "avg_power_w": res.avg_power_w,
        "usd": res.usd, "usd_per_1m": per_sample(res.usd, batch) * 1e6, "co2_g": res.co2_g,
        "co2_g_per_1m": per_sample(res.co2_g, batch) * 1e6, "utilization": res.utilization,
        "bound_compute": b.get("compute", 0.0), "bound_memory": b.get("memory", 0.0),
        "bound_overhead": b.get("overhead", 0.0), "bound_offload": b.get("offload", 0.0),
        "fits_in_memory": res.fits_in_memory, "devices_needed": res.devices_needed,
        "unpriced_ops": sum(u["count"] for u in res.unsupported_ops),
        **({"latency_p10_s": res.latency_band_s[0], "latency_p90_s": res.latency_band_s[1]}
           if res.latency_band_s is not None else {}),
    }


def per_op_arrays(cell: Cell, res: DeviceResult) -> dict[str, Any]:
    """Per-op arrays of the priced table for roofline and breakdown figures."""
    t, c = cell.model.table, res.costs
    return {
        "flops": t.columns["flops"].copy(), "bytes": t.columns["bytes_read"] + t.columns["bytes_written"],
        "latency_s": c.latency_s.copy(), "energy_j": c.energy_j.copy(), "kind": t.kind.copy(),
        "bound": c.bound.copy(), "peak_flops_per_s": float(np.nanmax(c.peak_flops_per_s, initial=0.0)),
        "mem_bw_bytes_per_s": cell.device.spec.mem_bw_bytes_per_s,
    }


@handler("inference")
def inference(cell: Cell) -> tuple[dict[str, Any], dict[str, Any]]:
    """One forward pass of ``batch`` samples on the device or cluster."""
    t, batch = cell.model.table, cell.model.batch
    if cell.cluster is not None:
        res = price_cluster(t, cell.cluster, cell.econ, batch, device=cell.device)
    else:
        res = price_on(t, cell.device, cell.econ, batch)
    return result_metrics(res, batch), per_op_arrays(cell, res)


def totals(table: Any) -> dict[str, float]:
    """Work totals of the model for the row."""
    tot = table.totals()
    return {"flops": tot["flops"], "macs": tot["macs"], "params": tot["params"]}


_BATCH_TABLES: dict[tuple[str, int], Any] = {}


def _table_at_batch(model: PreparedModel, batch: int) -> Any:
    """The model counted at another batch size (cached per process)."""
    from hwsim.scenario.context import prepare_model

    key = (model.source, batch)
    if key not in _BATCH_TABLES:
        entry = model.entry.model_copy(update={"batch": batch, "source": model.source})
        _BATCH_TABLES[key] = prepare_model(entry, Path("/")).table
    return _BATCH_TABLES[key]


@handler("serving")
def serving(cell: Cell) -> tuple[dict[str, Any], None]:
    """Requests arriving at ``rate_per_s`` served on the device with dynamic batching (simpy)."""
    from hwsim.errors import ConfigError
    from hwsim.schedule.serving import latency_table, max_rate_meeting_slo, simulate_serving

    w = cell.workload
    if w.rate_per_s is None:
        raise ConfigError(f"serving workload {w.key!r} needs rate_per_s")
    points = {}
    for b in sorted({1, *[2 ** i for i in range(1, w.max_batch.bit_length()) if 2 ** i <= w.max_batch], w.max_batch}):
        res = price_on(_table_at_batch(cell.model, b), cell.device, cell.econ, b)
        points[b] = (res.latency_s, res.energy_j)
    table = latency_table(points, cell.device.spec.power_idle_w, cell.device.spec)
    sim = simulate_serving(table, rate_per_s=w.rate_per_s, max_batch=w.max_batch, max_wait_s=w.max_wait_s,
                           n_requests=w.n_requests, seed=w.seed, econ=cell.econ)
    slo = max_rate_meeting_slo(table, w.slo_s, max_batch=w.max_batch, max_wait_s=w.max_wait_s,
                               n_requests=w.n_requests, seed=w.seed) if w.slo_s else None
    return {
        "latency_s": sim.latency_mean_s, "throughput_per_s": sim.throughput_per_s,
        "energy_per_sample_j": sim.energy_j / sim.n_requests if sim.n_requests else math.nan,
        "usd_per_1m": sim.usd_per_million, "co2_g_per_1m": sim.co2_g_per_million,
        "utilization": sim.utilisation, "p50_s": sim.latency_p50_s, "p95_s": sim.latency_p95_s,
        "p99_s": sim.latency_p99_s, "max_rate_meeting_slo": slo, "rate_per_s": w.rate_per_s, "slo_s": w.slo_s,
    }, None


def _run_of(cell: Cell) -> Any:
    """The TrainingRun of a training workload: its length over the model's batch (and sequence)."""
    from hwsim.workload.steps import TrainingRun

    w, m = cell.workload, cell.model
    return TrainingRun(batch=w.global_batch or m.batch, seq=m.seq if w.tokens is not None else 1, tokens=w.tokens,
                       samples=w.samples, steps=w.steps, epochs=w.epochs)


@handler("training")
def training(cell: Cell) -> tuple[dict[str, Any], None]:
    """A global-backprop training run on the device (a one-device cluster) or cluster."""
    from hwsim.workload.parallel import heads_from_zoo, price_training

    w, m = cell.workload, cell.model
    cluster = cell.cluster or ClusterSpec(device=cell.device.spec.name, count=1, link_bw_bytes_per_s=1e12,
                                          link_latency_s=0.0)
    run = _run_of(cell)
    res = price_training(m.table, cluster, w.optimizer, run, cell.econ, mixed_precision=w.mixed_precision,
                         recompute=w.recompute, table_samples=m.batch, heads=heads_from_zoo(m.source) if m.source.startswith("zoo:") else None,
                         zero_stage=w.zero_stage, device=cell.device)
    samples = run.samples_total
    return {
        "latency_s": res.wall_time_s / res.steps, "throughput_per_s": samples / res.wall_time_s,
        "energy_j": res.energy_j, "energy_per_sample_j": res.energy_j / samples, "avg_power_w": res.avg_power_per_device_w,
        "usd": res.usd, "usd_per_1m": res.usd / samples * 1e6, "co2_g": res.co2_kg * 1e3,
        "co2_g_per_1m": res.co2_kg * 1e3 / samples * 1e6, "utilization": res.hfu,
        "fits_in_memory": res.fits_in_memory, "devices_needed": res.devices_needed,
        "wall_time_s": res.wall_time_s, "energy_kwh": res.energy_kwh, "mfu": res.mfu, "hfu": res.hfu,
        "co2_kg": res.co2_kg, "steps": res.steps,
    }, None


@handler("local-training")
def local_training(cell: Cell) -> tuple[dict[str, Any], dict[str, Any]]:
    """Layer-local learning: one step per batch, priced as ordinary ops (or plasticity events
    on a neuromorphic chip); no backward pass, no stored activations beyond a layer."""
    from hwsim.workload.local import local_training as local

    w, m = cell.workload, cell.model
    table = local(m.table, rule=w.rule)
    res = price_on(table, cell.device, cell.econ, m.batch)
    run = _run_of(cell)
    steps = run.n_steps
    metrics = result_metrics(res, m.batch)
    metrics.update({"wall_time_s": res.latency_s * steps, "energy_kwh": res.energy_j * steps / 3.6e6,
                    "co2_kg": res.co2_g * steps / 1e3, "steps": steps})
    return metrics, None
