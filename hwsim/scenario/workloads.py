"""Workload handlers: how one (model, device, workload) cell of a scenario is priced.

A registry keyed by workload type (the only dispatch on it). Each handler returns the metric
columns of one results row (see hwsim.report: the row contract) and, for the figures, the
per-op arrays of the priced table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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
    }


def per_op_arrays(cell: Cell, res: DeviceResult) -> dict[str, Any]:
    """Per-op arrays of the priced table for roofline and breakdown figures."""
    t, c = cell.model.table, res.costs
    return {
        "flops": t.columns["flops"].copy(), "bytes": t.columns["bytes_read"] + t.columns["bytes_written"],
        "latency_s": c.latency_s.copy(), "energy_j": c.energy_j.copy(), "kind": t.kind.copy(),
        "bound": c.bound.copy(), "peak_flops_per_s": cell.device.spec.headline_flops_per_s(),
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


def nan_if_none(x: float | None) -> float:
    """None -> NaN for numeric columns."""
    return math.nan if x is None else float(x)


def finite(values: np.ndarray) -> np.ndarray:
    """NaN-free copy (unpriced ops count as nothing in plots, never in totals)."""
    return np.nan_to_num(values)
