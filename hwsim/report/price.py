"""The `hwsim price` report: one row per device, and the most expensive ops explained."""

from __future__ import annotations

from typing import Any

import numpy as np

from hwsim.devices.base import Bound
from hwsim.ops.work import WorkKind, WorkTable
from hwsim.report.inspect import si
from hwsim.rollup import DeviceResult


def price_document(model_name: str, results: list[DeviceResult], table: WorkTable, per_op: bool,
                   assumptions: dict[str, Any]) -> dict[str, Any]:
    """``{"model", "results": [...], "assumptions": {...}}`` (the CLI's JSON contract)."""
    return {"model": model_name,
            "results": [r.to_dict(table if per_op else None) for r in results],
            "assumptions": assumptions}


def render_price(results: list[DeviceResult], console: Any, title: str) -> None:
    """Summary table: one row per device."""
    from rich.table import Table

    tab = Table(title=title)
    for col in ("device", "latency", "throughput/s", "energy", "avg power", "USD", "gCO2", "util",
                "compute/memory/overhead/offload", "fits"):
        tab.add_column(col)
    for r in results:
        b = r.bound_share
        share = "/".join(f"{100 * b.get(k, 0):.0f}" for k in ("compute", "memory", "overhead", "offload"))
        fits = "yes" if r.fits_in_memory else f"no ({r.devices_needed} needed)"
        latency = si(r.latency_s, "s") + (f" [{si(r.latency_band_s[0], 's')}–{si(r.latency_band_s[1], 's')}]"
                                          if r.latency_band_s is not None else "")
        tab.add_row(r.device, latency, f"{r.throughput_per_s:.4g}", si(r.energy_j, "J"),
                    f"{r.avg_power_w:.1f} W", ("n/a" if r.usd != r.usd else f"{r.usd:.3g}"), f"{r.co2_g:.3g}", f"{100 * r.utilization:.1f}%",
                    share + " %", fits)
    console.print(tab)
    from rich.markup import escape

    for r in results:
        for note in r.notes:
            console.print(escape(f"note [{r.device}]: {note}"))


def render_explain(result: DeviceResult, table: WorkTable, k: int, console: Any) -> None:
    """The ``k`` ops with the largest latency and the terms that priced them."""
    from rich.table import Table

    c = result.costs
    lat = np.nan_to_num(c.latency_s, nan=-1.0)
    order = np.lexsort((np.arange(len(lat)), -lat))[:k]
    tab = Table(title=f"{result.device}: top {k} ops — latency = max(compute, memory) + overhead")
    for col in ("op", "type", "kind", "FLOPs", "peak FLOP/s", "compute", "bytes", "memory", "overhead",
                "latency", "bound", "energy"):
        tab.add_column(col)
    for i in order:
        tab.add_row(str(table.name[i]), str(table.op_type[i]), WorkKind(int(table.kind[i])).label,
                    si(table.columns["flops"][i]), si(c.peak_flops_per_s[i]), si(c.compute_s[i], "s"),
                    si(table.columns["bytes_read"][i] + table.columns["bytes_written"][i], "B"),
                    si(c.memory_s[i], "s"), si(c.overhead_s[i], "s"), si(c.latency_s[i], "s"),
                    Bound(int(c.bound[i])).label, si(c.energy_j[i], "J"))
    console.print(tab)
