"""The "answer first" summary of a study, and the pure analyses the figures share.

Everything here is computed generically from the results table (``rows``: one dict per model ×
workload × device × sweep point, see :func:`hwsim.report.html.write_report`): the lottery
table (each family's cost on every device relative to its best device), the Pareto front,
sweep optima and crossovers. Rows whose metric is missing (None/NaN, e.g. no sourced price)
are named, never ranked. No matplotlib here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.errors import HwsimError

#: metric -> (words, unit) for sentences and axis labels.
METRICS: dict[str, tuple[str, str]] = {
    "latency_s": ("latency", "s"), "throughput_per_s": ("throughput", "/s"),
    "energy_j": ("energy", "J"), "energy_per_sample_j": ("energy per sample", "J"),
    "avg_power_w": ("average power", "W"), "usd": ("dollars", "USD"),
    "usd_per_1m": ("dollars per million samples", "USD"), "co2_g": ("CO2", "g"),
    "co2_g_per_1m": ("CO2 per million samples", "g"), "utilization": ("utilisation", ""),
    "wall_time_s": ("training wall time", "s"), "energy_kwh": ("training energy", "kWh"),
    "co2_kg": ("training CO2", "kg"), "mfu": ("model FLOP utilisation", ""),
    "hfu": ("hardware FLOP utilisation", ""), "p50_s": ("p50 latency", "s"),
    "p95_s": ("p95 latency", "s"), "p99_s": ("p99 latency", "s"),
    "max_rate_meeting_slo": ("highest arrival rate meeting the SLO", "/s"),
}
#: metrics where more is better; every other metric is a cost.
HIGHER_IS_BETTER = frozenset({"throughput_per_s", "utilization", "mfu", "hfu", "max_rate_meeting_slo"})
_PREFIXED = frozenset({"s", "J", "W", "g"})
_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
             (1e-9, "n"), (1e-12, "p"))
_KIND_ORDER = ("cpu", "gpu", "systolic", "sparse", "neuromorphic", "cluster")


class ReportDataError(HwsimError):
    """The results hold nothing a requested figure or summary could be drawn from."""


def num(value: Any) -> float:
    """``value`` as a float; NaN for None, booleans and anything non-numeric."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def metric_label(metric: str) -> str:
    """Axis label: words and unit (``energy per sample [J]``)."""
    words, unit = METRICS.get(metric, (metric.removeprefix("param:"), ""))
    return f"{words} [{unit}]" if unit else words


def metric_title(metric: str) -> str:
    """Metric words without the unit (``energy per sample``)."""
    return metric_label(metric).split(" [")[0]


def fmt(value: Any, metric: str = "") -> str:
    """Display form of a metric value, 3 significant figures with an SI prefix where apt."""
    v = num(value)
    if not math.isfinite(v):
        return "n/a"
    unit = METRICS.get(metric, ("", ""))[1]
    if metric in ("utilization", "mfu", "hfu"):
        return f"{100 * v:.3g}%"
    if unit == "USD":
        return f"${v:.3g}"
    return si(v, unit) if unit in _PREFIXED else f"{v:.3g} {unit}".rstrip()


def si(value: float, unit: str) -> str:
    """``value`` with an SI prefix, 3 significant figures (``12 mJ``, ``312 TFLOP/s``)."""
    if value != 0 and math.isfinite(value):
        for factor, prefix in _PREFIXES:
            if abs(value) >= factor * 0.9995:
                return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def params_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The ``param:`` keys that take more than one value (None aside) over the rows, sorted."""
    keys = sorted({k for r in rows for k in r if k.startswith("param:")})
    return [k for k in keys if len({_hashable(r.get(k)) for r in rows} - {None}) > 1]


def param_pairs(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of swept parameters that both vary over the rows where both are set."""
    params = params_of(rows)
    return [(a, b) for i, a in enumerate(params) for b in params[i + 1:]
            if len(params_of([{a: r.get(a), b: r.get(b)} for r in rows
                              if r.get(a) is not None and r.get(b) is not None])) == 2]


def _hashable(v: Any) -> Any:
    return repr(v) if isinstance(v, (list, dict)) else v


def sort_key(v: Any) -> tuple:
    """Orders mixed sweep values: numbers by value first, then everything else by text."""
    x = num(v)
    return (0, x, "") if math.isfinite(x) else (1, 0.0, str(v))


def device_order(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Devices ordered by kind (cpu, gpu, systolic, sparse, neuromorphic, cluster), then name."""
    kinds = {r["device"]: r.get("device_kind") for r in rows}
    rank = {k: i for i, k in enumerate(_KIND_ORDER)}
    return sorted(kinds, key=lambda d: (rank.get(kinds[d], len(rank)), str(d)))


def base_point(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the smallest sweep point (the base scenario)."""
    if not rows:
        return []
    first = min(int(r.get("point") or 0) for r in rows)
    return [r for r in rows if int(r.get("point") or 0) == first]


def cost_ratio(value: float, best: float, metric: str) -> float:
    """How many times worse ``value`` is than ``best`` (1.0 for the best; ≥ 1)."""
    if not (math.isfinite(value) and math.isfinite(best)):
        return math.nan
    low, high = (value, best) if metric in HIGHER_IS_BETTER else (best, value)
    if low > 0:
        return high / low
    return 1.0 if high == low else math.inf


@dataclass(frozen=True)
class LotteryTable:
    """Cost of each group (family, model, workload) on each device, and its ratio to the
    group's best device. ``values``/``ratios``/``utilization`` are len(labels) × len(devices),
    NaN where a group has no row or no value on a device."""

    metric: str
    labels: tuple[str, ...]
    groups: tuple[tuple[str, str, str], ...]
    devices: tuple[str, ...]
    values: np.ndarray
    ratios: np.ndarray
    utilization: np.ndarray
    present: np.ndarray


def lottery_table(rows: Sequence[dict[str, Any]], metric: str = "energy_per_sample_j") -> LotteryTable:
    """The lottery table of the base point's rows (see :class:`LotteryTable`)."""
    rows = base_point(rows)
    if not rows:
        raise ReportDataError("no rows: nothing to compare across devices")
    groups = sorted({(str(r.get("family")), str(r.get("model")), str(r.get("workload"))) for r in rows})
    devices = device_order(rows)
    values = np.full((len(groups), len(devices)), math.nan)
    util = np.full_like(values, math.nan)
    present = np.zeros(values.shape, dtype=bool)
    gi, di = {g: i for i, g in enumerate(groups)}, {d: j for j, d in enumerate(devices)}
    for r in rows:
        i, j = gi[(str(r.get("family")), str(r.get("model")), str(r.get("workload")))], di[r["device"]]
        values[i, j], util[i, j] = num(r.get(metric)), num(r.get("utilization"))
        present[i, j] = True
    ratios = np.full_like(values, math.nan)
    for i in range(len(groups)):
        best = _best(values[i], metric)
        ratios[i] = [cost_ratio(v, best, metric) for v in values[i]]
    return LotteryTable(metric, tuple(_group_labels(groups)), tuple(groups), tuple(devices), values, ratios, util,
                        present)


def _best(values: np.ndarray, metric: str) -> float:
    ok = values[np.isfinite(values)]
    if not ok.size:
        return math.nan
    return float(ok.max() if metric in HIGHER_IS_BETTER else ok.min())


def _group_labels(groups: Sequence[tuple[str, str, str]]) -> list[str]:
    """Family alone when it names one group; the model and workload added only where needed."""
    fam_models = {f: {m for f2, m, _ in groups if f2 == f} for f, _, _ in groups}
    fam_loads = {f: {w for f2, _, w in groups if f2 == f} for f, _, _ in groups}
    out = []
    for f, m, w in groups:
        parts = [f] + ([m] if len(fam_models[f]) > 1 else []) + ([w] if len(fam_loads[f]) > 1 else [])
        out.append(parts[0] + (f" ({', '.join(parts[1:])})" if parts[1:] else ""))
    return out


def pareto_mask(xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """True for the points no other point beats on both x and y (both minimised); NaN: False."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    mask = np.zeros(len(x), dtype=bool)
    for i in np.flatnonzero(ok):
        no_worse = ok & (x <= x[i]) & (y <= y[i])
        better = no_worse & ((x < x[i]) | (y < y[i]))
        mask[i] = not better.any()
    return mask


@dataclass(frozen=True)
class Crossover:
    """Along ``param``, ``winner`` becomes better than ``loser`` between ``before`` and ``after``."""

    series: str
    param: str
    winner: str
    loser: str
    before: Any
    after: Any


def crossovers(rows: Sequence[dict[str, Any]], param: str, metric: str) -> list[Crossover]:
    """Where one device's metric crosses another's along ``param`` (same model, workload and
    other parameters): the order of the pair flips between two consecutive values."""
    out: list[Crossover] = []
    for series, by_dev in sorted(_series(rows, param, metric).items()):
        devs = sorted(by_dev)
        for a_i, a in enumerate(devs):
            for b in devs[a_i + 1:]:
                out += _pair_crossings(series, param, metric, a, by_dev[a], b, by_dev[b])
    return out


def _series(rows: Sequence[dict[str, Any]], param: str, metric: str) -> dict[str, dict[str, dict]]:
    """{series label: {device: {param value: metric}}}, series = model, workload, other params."""
    others = [p for p in params_of(rows) if p != param]
    out: dict[str, dict[str, dict]] = {}
    for r in rows:
        if r.get(param) is None or not math.isfinite(num(r.get(metric))):
            continue
        label = " ".join([f"{r.get('model')} ({r.get('workload')})"]
                         + [f"{p.removeprefix('param:')}={r.get(p)}" for p in others if r.get(p) is not None])
        out.setdefault(label, {}).setdefault(r["device"], {})[_hashable(r[param])] = num(r[metric])
    return out


def _pair_crossings(series: str, param: str, metric: str, a: str, va: dict, b: str, vb: dict) -> list[Crossover]:
    xs = sorted(set(va) & set(vb), key=sort_key)
    sign = -1.0 if metric in HIGHER_IS_BETTER else 1.0
    out, prev = [], None
    for x in xs:
        d = sign * (va[x] - vb[x])  # < 0: a better
        if d != 0:
            if prev is not None and (d < 0) != (prev[1] < 0):
                win, lose = (a, b) if d < 0 else (b, a)
                out.append(Crossover(series, param, win, lose, prev[0], x))
            prev = (x, d)
    return out


def arrival_rate_param(rows: Sequence[dict[str, Any]]) -> str:
    """``rate_per_s`` where rows carry it, else the first ``param:`` key naming a rate or arrival."""
    if any(math.isfinite(num(r.get("rate_per_s"))) for r in rows):
        return "rate_per_s"
    for k in sorted({k for r in rows for k in r if k.startswith("param:")}):
        if "rate" in k or "arrival" in k:
            return k
    raise ReportDataError("serving rows have no arrival-rate parameter (a param: key naming 'rate')")


def slo_value(rows: Sequence[dict[str, Any]]) -> float:
    """The latency SLO (s): the one value of a key naming ``slo``; NaN when none or several."""
    for k in sorted({k for r in rows for k in r}):
        if "slo" in k and k != "max_rate_meeting_slo":
            vals = {num(r.get(k)) for r in rows} - {math.nan}
            if len(vals) == 1 and math.isfinite(next(iter(vals))):
                return next(iter(vals))
    return math.nan


def headline_metric(rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    """``meta["headline_metric"]`` (or ``meta["metric"]``) if given, else energy per sample,
    else latency (whichever has values)."""
    if meta.get("headline_metric") or meta.get("metric"):
        return str(meta.get("headline_metric") or meta["metric"])
    for m in ("energy_per_sample_j", "latency_s"):
        if any(math.isfinite(num(r.get(m))) for r in rows):
            return m
    return "latency_s"


def answer(rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> list[str]:
    """The study's answer in plain sentences, most important first."""
    if not rows:
        return ["The study produced no results."]
    metric = headline_metric(rows, meta)
    table = lottery_table(rows, metric)
    out = [_group_sentence(table, i) for i in range(len(table.labels))]
    out += _lottery_summary(table) + _missing_sentences(rows, metric)
    out += _reference_sentences(rows, meta.get("reference_lines") or [])
    out += _sweep_sentences(rows, metric) + _memory_sentences(base_point(rows))
    return out


def _group_sentence(t: LotteryTable, i: int) -> str:
    words = METRICS.get(t.metric, (t.metric, ""))[0]
    fam, model, load = t.groups[i]
    who = f"the {fam} model {model} ({load})" if fam != model else f"the model {model} ({load})"
    vals, ratios = t.values[i], t.ratios[i]
    ok = np.flatnonzero(np.isfinite(vals))
    if not ok.size:
        return f"On {words}, {who} has no value on any device."
    best = ok[np.argmin(ratios[ok])]
    worst = ok[np.argmax(ratios[ok])]
    s = f"On {words}, {who} wins on {t.devices[best]} ({fmt(vals[best], t.metric)})"
    if ok.size == 1:
        s += " (the only device with a value)"
    elif ratios[worst] == ratios[best]:
        s = f"On {words}, {who} ties on {', '.join(t.devices[j] for j in ok)} ({fmt(vals[best], t.metric)})"
    else:
        s += (f" and loses on {t.devices[worst]} ({fmt(vals[worst], t.metric)}, "
              f"{ratios[worst]:.3g}× worse)")
    missing = [t.devices[j] for j in np.flatnonzero(~np.isfinite(vals) & t.present[i])]
    return s + (f"; no value on {', '.join(missing)}, not ranked." if missing else ".")


def _lottery_summary(t: LotteryTable) -> list[str]:
    winners: dict[str, list[str]] = {}
    for i, label in enumerate(t.labels):
        r = t.ratios[i]
        if (r == 1.0).sum() == 1:  # a unique winner; ties decide nothing
            winners.setdefault(t.devices[int(np.nanargmin(r))], []).append(label)
    if len(t.labels) < 2 or not winners:
        return []
    if len(winners) == 1:
        return [f"{next(iter(winners))} wins every family: no lottery on this metric."]
    parts = "; ".join(f"{d} wins {', '.join(ls)}" for d, ls in winners.items())
    return [f"No single device wins every family ({parts}): the hardware lottery in one line."]


def _missing_sentences(rows: Sequence[dict[str, Any]], metric: str) -> list[str]:
    out = []
    checks = [(metric, f"No {METRICS.get(metric, (metric,))[0]} value")]
    checks += [("usd", "No sourced price")] if metric not in ("usd", "usd_per_1m") else []
    for key, why in checks:
        devs = sorted({r["device"] for r in rows if key in r and not math.isfinite(num(r.get(key)))})
        if devs:
            out.append(f"{why} for {', '.join(devs)}: shown as n/a and not ranked.")
    return out


def _reference_sentences(rows: Sequence[dict[str, Any]], refs: Sequence[dict[str, Any]]) -> list[str]:
    out = []
    for ref in refs:
        m, v = ref.get("metric"), num(ref.get("value"))
        vals = [(num(r.get(m)), r) for r in rows if math.isfinite(num(r.get(m)))]
        if not vals or not math.isfinite(v):
            continue
        below = sum(1 for x, _ in vals if x <= v)
        x, r = min(vals, key=lambda p: p[0])
        out.append(f"Against the {ref.get('label')} reference ({fmt(v, m)}), {below} of {len(vals)} "
                   f"results are at or below it; the lowest is {r.get('model')} on {r['device']} ({fmt(x, m)}).")
    return out


def _sweep_sentences(rows: Sequence[dict[str, Any]], metric: str, limit: int = 5) -> list[str]:
    out = []
    for p in params_of(rows):
        ok = [r for r in rows if r.get(p) is not None and math.isfinite(num(r.get(metric)))]
        if not ok:
            continue
        pick = max if metric in HIGHER_IS_BETTER else min
        best = pick(ok, key=lambda r: num(r[metric]))
        name = p.removeprefix("param:")
        out.append(f"Over the sweep of {name}, the best {METRICS.get(metric, (metric,))[0]} is "
                   f"{fmt(best[metric], metric)}: {best.get('model')} on {best['device']} at {name}={best[p]}.")
        cross = crossovers(rows, p, metric)
        out += [f"{c.series}: {c.winner} overtakes {c.loser} between {name}={c.before} and {c.after}."
                for c in cross[:limit]]
        if len(cross) > limit:
            out.append(f"({len(cross) - limit} more crossovers along {name} not listed.)")
    return out


def _memory_sentences(rows: Sequence[dict[str, Any]]) -> list[str]:
    big = [r for r in rows if r.get("fits_in_memory") is False]
    if not big:
        return []
    parts = [f"{r.get('model')} on {r['device']} ({r.get('devices_needed')} devices)" for r in big[:8]]
    more = f" and {len(big) - 8} more" if len(big) > 8 else ""
    return [f"Does not fit in one device's memory: {', '.join(parts)}{more}."]
