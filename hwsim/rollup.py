"""Roll one device's per-op costs up into a result: time, energy, power, dollars, CO2, memory.

Latency is the sum of op latencies (one op at a time; overlapping schedules are in
hwsim.schedule). Energy = dynamic op energy + power_idle_w × devices needed × latency, and
dollars pay for every device needed (a model that does not fit one device holds several). Average power above
the TDP is reported as a note (the energy model or the op mix is then suspect).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwsim.config.economics import Economics
from hwsim.devices.base import Bound, CostTable, DeviceModel
from hwsim.economics import run_cost
from hwsim.graph.memory import footprint_bytes
from hwsim.ops.work import WorkTable


@dataclass(frozen=True)
class DeviceResult:
    """The cost of one inference of a model on one device (SI units)."""

    device: str
    kind: str
    latency_s: float
    throughput_per_s: float
    energy_j: float
    avg_power_w: float
    usd: float
    co2_g: float
    utilization: float
    bound_share: dict[str, float]
    fits_in_memory: bool
    devices_needed: int
    memory_bytes: dict[str, float]
    unsupported_ops: list[dict[str, Any]]
    cost_basis: str
    notes: tuple[str, ...] = ()
    costs: CostTable | None = field(default=None, repr=False, compare=False)
    latency_band_s: tuple[float, float] | None = None  # p10–p90 from a calibration's cross-validated residuals

    def to_dict(self, table: WorkTable | None = None) -> dict[str, Any]:
        """JSON-ready dict; with ``table``, an ``ops`` list of per-op costs is added."""
        out = {k: getattr(self, k) for k in (
            "device", "kind", "latency_s", "throughput_per_s", "energy_j", "avg_power_w", "usd", "co2_g",
            "utilization", "bound_share", "fits_in_memory", "devices_needed", "memory_bytes",
            "unsupported_ops", "cost_basis")}
        out["usd"] = _num(self.usd)
        if self.latency_band_s is not None:
            out["latency_p10_s"], out["latency_p90_s"] = self.latency_band_s
        out["notes"] = list(self.notes)
        if table is not None and self.costs is not None:
            out["ops"] = per_op_rows(table, self.costs)
        return out


def per_op_rows(table: WorkTable, costs: CostTable) -> list[dict[str, Any]]:
    """One dict per op: name, op_type, latency and its parts, energy, bound."""
    rows = []
    for i in range(len(table)):
        rows.append({
            "name": str(table.name[i]), "op_type": str(table.op_type[i]),
            "latency_s": _num(costs.latency_s[i]), "compute_s": _num(costs.compute_s[i]),
            "memory_s": _num(costs.memory_s[i]), "overhead_s": _num(costs.overhead_s[i]),
            "energy_j": _num(costs.energy_j[i]), "bound": Bound(int(costs.bound[i])).label,
        })
    return rows


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def price_on(table: WorkTable, device: DeviceModel, econ: Economics | None = None, batch: int = 1) -> DeviceResult:
    """Price ``table`` (one inference of ``batch`` samples) on ``device``."""
    econ = econ or Economics()
    spec = device.spec
    costs = device.price(table)
    priced = ~np.isnan(costs.latency_s)
    cal = getattr(spec, "calibration", None)
    # a calibrated runtime also pays a per-inference session cost (entry/exit of session.run)
    latency = float(costs.latency_s[priced].sum()) + (cal.session_overhead_s if cal is not None else 0.0)
    mem = footprint_bytes(table)
    needed = _devices_needed(device, table, mem["total"])
    # a model that needs several devices (memory or chip capacity) holds all of them: their idle
    # power and their purchase or rental are paid for the whole latency
    energy = float(costs.energy_j[priced].sum()) + spec.power_idle_w * needed * latency
    power = energy / latency if latency > 0 else 0.0
    cost = run_cost(spec, econ, latency, energy, devices=needed)
    on_chip = priced & (costs.bound != Bound.OFFLOAD)
    chip_power = (float(costs.energy_j[on_chip].sum()) + spec.power_idle_w * latency) / latency if latency > 0 else 0.0
    notes = list(costs.notes) + _power_notes(spec, chip_power, needed) + _unpriced_notes(table, priced)
    return DeviceResult(
        device=spec.name, kind=spec.kind, latency_s=latency,
        throughput_per_s=batch / latency if latency > 0 else math.inf, energy_j=energy, avg_power_w=power,
        usd=cost.usd, co2_g=cost.co2_g, utilization=_utilization(table, costs, latency, priced),
        bound_share=costs.bound_share(), fits_in_memory=needed <= 1, devices_needed=needed,
        memory_bytes=mem, unsupported_ops=_unsupported(table, priced), cost_basis=cost.basis,
        notes=tuple(notes), costs=costs, latency_band_s=cal.band(latency) if cal is not None else None,
    )


def _devices_needed(device: DeviceModel, table: WorkTable, total_bytes: float) -> int:
    custom = getattr(device, "devices_needed", None)
    if custom is not None:
        return int(custom(table))
    return max(1, math.ceil(total_bytes / device.spec.mem_bytes))


def _utilization(table: WorkTable, costs: CostTable, latency: float, priced: np.ndarray) -> float:
    """Time-weighted mean of the per-op utilisation the device reports (achieved over peak
    FLOP/s of the work it actually executes, so a device that skips zeros is not credited
    with the dense FLOPs it never did)."""
    if latency <= 0:
        return 0.0
    return float((costs.utilization[priced] * costs.latency_s[priced]).sum() / latency)


def _power_notes(spec: Any, power: float, devices: int) -> list[str]:
    """A note when the average power of the device's own work (offloaded work excluded;
    off-chip DRAM energy included) exceeds the TDP of the ``devices`` it needs."""
    limit = spec.tdp_w * devices
    if power > limit * 1.0001:
        return [f"average power of the device's own work {power:.3g} W exceeds the TDP of {devices} device(s), "
                f"{limit:.3g} W: the energy figures are suspect, or the device would throttle"]
    return []


def _unpriced_notes(table: WorkTable, priced: np.ndarray) -> list[str]:
    n = int((~priced).sum())
    return [f"{n} op(s) could not be priced and are EXCLUDED from latency and energy"] if n else []


def _unsupported(table: WorkTable, priced: np.ndarray) -> list[dict[str, Any]]:
    types, counts = np.unique(table.op_type[~priced].astype(str), return_counts=True) if (~priced).any() else ([], [])
    return [{"op_type": str(t), "count": int(c)} for t, c in zip(types, counts)]
