"""Compute the rows of one chunk of sweep points (runs in the main process, a local worker
process or a Dask worker: the same function either way, so results are identical)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwsim.config.scenario import Scenario
from hwsim.devices import make_device
from hwsim.errors import ConfigError, HwsimError
from hwsim.scenario.context import (
    PreparedModel,
    cluster_spec,
    device_spec,
    point_economics,
    point_workloads,
    split_point,
)
from hwsim.scenario.workloads import HANDLERS, Cell, totals


@dataclass(frozen=True)
class RunContext:
    """What every chunk needs: the scenario, its folder, the counted models, the points."""

    scenario: Scenario
    base: Path
    models: tuple[PreparedModel, ...]
    points: tuple[dict[str, Any], ...]


def compute_chunk(ctx: RunContext, indices: list[int], keep_per_op: bool = False) -> tuple[list[dict], dict]:
    """(rows, per_op) for the points at ``indices``, in (point, model, workload, device) order."""
    rows: list[dict] = []
    per_op: dict = {}
    for i in indices:
        point_rows, point_ops = compute_point(ctx, i, keep_per_op)
        rows += point_rows
        per_op.update(point_ops)
    return rows, per_op


def compute_point(ctx: RunContext, index: int, keep_per_op: bool) -> tuple[list[dict], dict]:
    """Rows of one sweep point; ``keep_per_op`` also returns per-op arrays for the figures."""
    s, point = ctx.scenario, ctx.points[index]
    where = f"{s.name} point {index} ({_describe(point)})"
    over = split_point(point)
    econ = point_economics(s, over.economics, where)
    workloads = point_workloads(s, over.workloads, where)
    devices = []
    for d in s.devices:
        spec = device_spec(d, ctx.base, {**over.devices.get("*", {}), **over.devices.get(d.key, {})}, where)
        devices.append((d, make_device(spec), cluster_spec(d, d.ref)))
    rows, per_op = [], {}
    for m in (m.with_overrides(over.models.get(m.entry.name, {}), where) for m in ctx.models):
        for w in workloads:
            if m.entry.workloads is not None and w.key not in m.entry.workloads:
                continue
            for d, device, cluster in devices:
                metrics, ops = _priced(Cell(m, device, cluster, w, econ))
                rows.append(_row(s, index, point, m, w.key, d.key, device.spec.kind if cluster is None else "cluster", metrics))
                if keep_per_op and ops is not None:
                    per_op[(m.entry.name, d.key, w.key)] = ops
    return rows, per_op


def _priced(cell: Cell) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The handler's metrics, or — when the device cannot run this workload (a dtype it lacks,
    an op it refuses with no host) — a row with no metrics and the reason in ``note``."""
    try:
        return HANDLERS[cell.workload.type](cell)
    except HwsimError as exc:
        if isinstance(exc, ConfigError):
            raise
        return {"note": f"not priced: {exc}"}, None


def _row(s: Scenario, index: int, point: dict, m: PreparedModel, workload: str, device: str, kind: str,
         metrics: dict[str, Any]) -> dict[str, Any]:
    row = {"scenario": s.name, "point": index, "model": m.entry.name, "family": m.entry.family or m.entry.name,
           "workload": workload, "device": device, "device_kind": kind}
    row.update({f"param:{k}": v for k, v in point.items()})
    row.update(totals(m.table))
    row.update(metrics)
    return row


def _describe(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "base"

