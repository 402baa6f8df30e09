"""Break-even of a new chip's design cost (NRE) against the devices it would replace.

Per point, model and workload: savings per sample s = usd_per_sample(baseline) −
usd_per_sample(new). When s > 0 the design cost is repaid after N = NRE / s samples, which is
N · latency_per_sample(baseline) / 3600 baseline device-hours replaced and
N / (samples one new chip serves in its life) chips deployed, where a chip serves
lifetime_years · utilization · 365.25 · 86400 / latency_per_sample(new) samples. When s ≤ 0
the chip never pays (reported as +inf → empty in CSV).
"""

from __future__ import annotations

import math
from typing import Any

from hwsim.config.economics import SECONDS_PER_YEAR
from hwsim.config.scenario import Scenario


def breakeven_rows(scenario: Scenario, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (point, model, workload, baseline, NRE) with the break-even quantities."""
    b = scenario.breakeven
    if b is None:
        return []
    index = {(r["point"], r["model"], r["workload"], r["device"]): r for r in rows}
    out = []
    for (point, model, workload, device), new in index.items():
        if device != b.new_device:
            continue
        for base_label in b.baselines:
            base = index.get((point, model, workload, base_label))
            if base is not None:
                out += [_one(scenario, new, base, nre) for nre in b.nre_usd]
    return out


def _per_sample(row: dict[str, Any], key: str) -> float:
    v = row.get(key)
    return math.nan if v is None else float(v) / 1e6 if key == "usd_per_1m" else float(v)


def _one(scenario: Scenario, new: dict, base: dict, nre: float) -> dict[str, Any]:
    econ = scenario.economics
    saving = _per_sample(base, "usd_per_1m") - _per_sample(new, "usd_per_1m")
    lat_new, lat_base = 1.0 / new["throughput_per_s"], 1.0 / base["throughput_per_s"]  # s per sample
    samples = nre / saving if saving > 0 else math.inf
    per_chip = econ.lifetime_years * econ.utilization * SECONDS_PER_YEAR / lat_new if lat_new > 0 else math.nan
    return {"point": new["point"], "model": new["model"], "workload": new["workload"],
            "new_device": new["device"], "baseline": base["device"], "nre_usd": nre,
            "design_years": scenario.breakeven.design_years, "saving_usd_per_sample": saving,
            "breakeven_samples": samples, "breakeven_baseline_hours": samples * lat_base / 3600,
            "breakeven_chips": samples / per_chip if per_chip else math.nan}


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """One sentence per (model, baseline, NRE) at the base point."""
    out = []
    for r in rows:
        if r["point"] != 0:
            continue
        head = f"{r['model']}: {r['new_device']} vs {r['baseline']}, design cost ${r['nre_usd'] / 1e6:.0f}M"
        n = r["breakeven_samples"]
        if n is None or not math.isfinite(n):
            out.append(f"{head}: never pays (it saves nothing per sample)")
        else:
            out.append(f"{head}: pays after {r['breakeven_samples']:.3g} samples = {r['breakeven_baseline_hours']:.3g} "
                       f"{r['baseline']}-hours replaced = {r['breakeven_chips']:.3g} chips deployed for their lifetime")
    return out
