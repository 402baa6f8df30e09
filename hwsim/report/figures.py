"""Report figures (matplotlib, Agg; the only module of hwsim that imports matplotlib).

Every function draws one figure from the results table (``rows``) or the per-op costs
(``per_op``), saves it as ``<path_stem>.png`` and ``<path_stem>.svg`` and returns both paths.
Output is deterministic: fixed sizes and DPI, the SVG hash salt fixed, no dates or software
versions in the metadata, files written atomically (temp file + ``os.replace``). A function
raises :class:`ReportDataError` when the data hold nothing it could draw.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from hwsim.devices.base import Bound
from hwsim.fileio import atomic_file
from hwsim.ops.work import WorkKind
from hwsim.report.answer import (
    HIGHER_IS_BETTER,
    ReportDataError,
    arrival_rate_param,
    fmt,
    lottery_table,
    metric_label,
    metric_title,
    num,
    pareto_mask,
    si,
    slo_value,
    sort_key,
)

DPI = 100
_STYLE = {"svg.hashsalt": "hwsim", "svg.fonttype": "path", "font.size": 9, "axes.grid": True,
          "grid.alpha": 0.3, "legend.fontsize": 7, "figure.dpi": DPI}
_KIND_COLORS = dict(zip(WorkKind, ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f")))
_DEVICE_KIND_COLORS = {"cpu": "#1f77b4", "gpu": "#2ca02c", "systolic": "#ff7f0e", "sparse": "#9467bd",
                       "neuromorphic": "#d62728", "cluster": "#8c564b"}
_BOUND_MARKERS = {Bound.COMPUTE: "o", Bound.MEMORY: "s", Bound.OVERHEAD: "^", Bound.OFFLOAD: "x",
                  Bound.UNSUPPORTED: "+"}
_FAMILY_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_LINESTYLES = ("-", "--", ":", "-.")
Rows = Sequence[dict[str, Any]]
PerOp = dict[tuple[str, str], dict[str, Any]]
Stem = str | os.PathLike[str]


def _styled(fn: Callable[..., list[Path]]) -> Callable[..., list[Path]]:
    """Run ``fn`` with the report's rcParams, leaving the global ones untouched."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> list[Path]:
        with matplotlib.rc_context(_STYLE):
            return fn(*args, **kwargs)
    return wrapper


def save(fig: Figure, path_stem: Stem) -> list[Path]:
    """Write ``fig`` as PNG and SVG next to ``path_stem``, atomically and without timestamps."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        path = stem.with_name(f"{stem.name}.{ext}")
        with atomic_file(path, "wb") as f:
            fig.savefig(f, format=ext, dpi=DPI, metadata=meta)
        out.append(path)
    return out


def _values(rows: Rows, key: str) -> np.ndarray:
    return np.array([num(r.get(key)) for r in rows], dtype=float)


def _autolog(ax: Any, axis: str, values: np.ndarray) -> None:
    """Log scale when all finite values are positive and span more than 30×."""
    v = values[np.isfinite(values)]
    if v.size and (v > 0).all() and v.max() / v.min() > 30:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _reference_lines(ax: Any, refs: Sequence[dict[str, Any]], metric: str, axis: str = "y") -> None:
    """Draw each reference line whose metric is ``metric`` (e.g. the human brain's 20 W)."""
    for ref in refs:
        if ref.get("metric") != metric or not math.isfinite(num(ref.get("value"))):
            continue
        line = ax.axhline if axis == "y" else ax.axvline
        line(num(ref["value"]), color="#444444", linestyle="--", linewidth=1, label=str(ref.get("label")))


def op_key_label(key: tuple) -> str:
    """``model on device`` for a per-op key ``(model, device, *more)``, the rest in brackets."""
    return f"{key[0]} on {key[1]}" + (f" ({', '.join(map(str, key[2:]))})" if len(key) > 2 else "")


def per_op_keys(per_op: PerOp) -> list[tuple]:
    """The per-op keys in a stable order (text order of their parts)."""
    return sorted(per_op, key=lambda k: tuple(map(str, k)))


def _op_data(per_op: PerOp, model: str, device: str, workload: str | None) -> tuple[tuple, dict[str, Any]]:
    keys = [k for k in per_op_keys(per_op) if tuple(k[:2]) == (model, device)
            and (workload is None or tuple(k[2:3]) == (workload,))]
    if not keys:
        raise ReportDataError(f"no per-op costs for model {model!r} on device {device!r}")
    return keys[0], per_op[keys[0]]


@_styled
def roofline(per_op: PerOp, model: str, device: str, workload: str | None = None, *,
             path_stem: Stem) -> list[Path]:
    """Each op at (FLOPs / bytes moved, FLOPs / latency), coloured by work kind, marker by bound,
    under the device's roofline min(peak FLOP/s, bandwidth × intensity). ``per_op`` keys are
    ``(model, device)`` or ``(model, device, workload)``; the first match is drawn."""
    key, d = _op_data(per_op, model, device, workload)
    flops, moved, lat = (np.asarray(d[k], dtype=float) for k in ("flops", "bytes", "latency_s"))
    kinds, bounds = np.asarray(d["kind"]).astype(int), np.asarray(d["bound"]).astype(int)
    ok = (flops > 0) & (moved > 0) & (lat > 0) & np.isfinite(lat)
    if not ok.any():
        raise ReportDataError(f"{op_key_label(key)}: no op with FLOPs, bytes and a latency")
    ai, perf = flops / np.where(moved > 0, moved, 1), flops / np.where(lat > 0, lat, 1)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for kind in WorkKind:
        for bound in Bound:
            m = ok & (kinds == kind) & (bounds == bound)
            if m.any():
                ax.scatter(ai[m], perf[m], s=18, marker=_BOUND_MARKERS[bound], color=_KIND_COLORS[kind],
                           label=f"{kind.label}, {bound.label}-bound", alpha=0.8)
    peak, bw = float(d["peak_flops_per_s"]), float(d["mem_bw_bytes_per_s"])
    lo, hi = min(ai[ok].min(), peak / bw) / 4, max(ai[ok].max(), peak / bw) * 4
    x = np.logspace(math.log10(lo), math.log10(hi), 200)
    ax.plot(x, np.minimum(peak, bw * x), color="black", linewidth=1.5,
            label=f"roofline: {si(peak, 'FLOP/s')}, {si(bw, 'B/s')}")
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity [FLOP/B]",
           ylabel="achieved [FLOP/s]", title=f"Roofline: {op_key_label(key)}")
    ax.legend(loc="lower right")
    return save(fig, path_stem)


def _kind_shares(d: dict[str, Any], key: str) -> np.ndarray:
    vals = np.nan_to_num(np.asarray(d[key], dtype=float), nan=0.0)
    kinds = np.asarray(d["kind"]).astype(int)
    total = vals.sum()
    return np.array([vals[kinds == k].sum() / total if total > 0 else 0.0 for k in WorkKind])


@_styled
def breakdown(per_op: PerOp, *, path_stem: Stem) -> list[Path]:
    """Share of latency and of energy by work kind, one stacked bar per model @ device."""
    keys = per_op_keys(per_op)
    if not keys:
        raise ReportDataError("no per-op costs to break down")
    fig = Figure(figsize=(10, 1.2 + 0.35 * len(keys)))
    axes = fig.subplots(1, 2, sharey=True)
    labels = [op_key_label(k) for k in keys]
    y = np.arange(len(keys))
    for ax, key, title in zip(axes, ("latency_s", "energy_j"), ("latency share", "energy share")):
        shares = np.array([_kind_shares(per_op[k], key) for k in keys])
        left = np.zeros(len(keys))
        for kind in WorkKind:
            col = shares[:, kind]
            if col.any():
                ax.barh(y, col, left=left, color=_KIND_COLORS[kind], label=kind.label)
            left += col
        ax.set(xlim=(0, 1), title=title, xlabel="fraction")
        ax.grid(False)
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    axes[1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.subplots_adjust(left=0.3, right=0.85, bottom=0.6 / fig.get_figheight() + 0.05)
    return save(fig, path_stem)


def _scatter_front(ax: Any, rows: Rows, x: str, y: str, families: list[str]) -> None:
    xs, ys = _values(rows, x), _values(rows, y)
    ok = np.isfinite(xs) & np.isfinite(ys)
    front = pareto_mask(xs, ys)
    for i in np.flatnonzero(ok):
        r = rows[i]
        marker = _FAMILY_MARKERS[families.index(str(r.get("family"))) % len(_FAMILY_MARKERS)]
        ax.scatter(xs[i], ys[i], marker=marker, s=36 if front[i] else 20, alpha=0.9 if front[i] else 0.45,
                   color=_DEVICE_KIND_COLORS.get(str(r.get("device_kind")), "#333333"),
                   edgecolors="black" if front[i] else "none")
    order = np.flatnonzero(front)[np.argsort(xs[front], kind="stable")]
    ax.step(xs[order], ys[order], where="post", color="black", linewidth=1, label="Pareto front")
    for i in order[:12]:
        ax.annotate(f"{rows[i].get('model')}@{rows[i]['device']}", (xs[i], ys[i]), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    _autolog(ax, "x", xs)
    _autolog(ax, "y", ys)
    ax.set(xlabel=metric_label(x), ylabel=metric_label(y))


def _legend_handles(ax: Any, rows: Rows, families: list[str]) -> None:
    for k in sorted({str(r.get("device_kind")) for r in rows}):
        ax.scatter([], [], color=_DEVICE_KIND_COLORS.get(k, "#333333"), label=k)
    for i, f in enumerate(families):
        ax.scatter([], [], color="#777777", marker=_FAMILY_MARKERS[i % len(_FAMILY_MARKERS)], label=f)
    ax.legend(loc="upper right")


@_styled
def pareto(rows: Rows, x: str = "latency_s", y: str = "energy_j", z: str = "usd", *,
           path_stem: Stem, reference_lines: Sequence[dict[str, Any]] = ()) -> list[Path]:
    """``y`` against ``x`` (both minimised) with the Pareto front, and ``z`` (dollars) against
    ``x`` in a second panel where any row has a value; colour = device kind, marker = family."""
    if not (np.isfinite(_values(rows, x)) & np.isfinite(_values(rows, y))).any():
        raise ReportDataError(f"no row has both {x} and {y}")
    families = sorted({str(r.get("family")) for r in rows})
    has_z = bool(np.isfinite(_values(rows, z)).any())
    fig = Figure(figsize=(12 if has_z else 7, 5))
    axes = fig.subplots(1, 2 if has_z else 1, squeeze=False)[0]
    for ax, metric in zip(axes, (y, z)):
        _scatter_front(ax, rows, x, metric, families)
        _reference_lines(ax, reference_lines, metric, "y")
        _reference_lines(ax, reference_lines, x, "x")
        ax.set_title(f"{metric_title(metric)} vs {metric_title(x)}")
    _legend_handles(axes[0], rows, families)
    if not has_z:
        axes[0].set_title(axes[0].get_title() + f" (no {z} values: not plotted)")
    return save(fig, path_stem)


def _series_rows(rows: Rows, param: str, exclude: Sequence[str] = (), by_workload: bool = True) -> dict[str, list]:
    """Rows with ``param`` set, grouped by model, device, workload (if ``by_workload``) and the
    other swept params."""
    others = sorted({k for r in rows for k in r if k.startswith("param:") and k != param and k not in exclude
                     and len({repr(q.get(k)) for q in rows}) > 1})
    split = by_workload and len({q.get("workload") for q in rows}) > 1
    out: dict[str, list] = {}
    for r in rows:
        if r.get(param) is None:
            continue
        label = " ".join([f"{r.get('model')}@{r['device']}"] + ([f"({r.get('workload')})"] if split else [])
                         + [f"{k.removeprefix('param:')}={r.get(k)}" for k in others if r.get(k) is not None])
        out.setdefault(label, []).append(r)
    return out


@_styled
def sweep_lines(rows: Rows, param: str, metric: str, *, path_stem: Stem,
                reference_lines: Sequence[dict[str, Any]] = ()) -> list[Path]:
    """``metric`` against the swept ``param``, one line per model @ device (and other params)."""
    series = _series_rows(rows, param)
    if not series:
        raise ReportDataError(f"no rows sweep {param!r}")
    values = sorted({r[param] for s in series.values() for r in s}, key=sort_key)
    numeric = all(math.isfinite(num(v)) for v in values)
    fig = Figure(figsize=(8, 4.8))
    ax = fig.add_subplot()
    for i, (label, srows) in enumerate(sorted(series.items())):
        srows = sorted(srows, key=lambda r: sort_key(r[param]))
        xs = [num(r[param]) if numeric else values.index(r[param]) for r in srows]
        ax.plot(xs, _values(srows, metric), marker="o", markersize=3, label=label,
                linestyle=_LINESTYLES[(i // 10) % len(_LINESTYLES)])
    if numeric:
        _autolog(ax, "x", np.array([num(v) for v in values]))
    else:
        ax.set_xticks(range(len(values)), [_tick(v) for v in values])
    _autolog(ax, "y", _values(rows, metric))
    _reference_lines(ax, reference_lines, metric)
    ax.set(xlabel=param.removeprefix("param:"), ylabel=metric_label(metric),
           title=f"{metric_title(metric)} over {param.removeprefix('param:')}")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.subplots_adjust(right=0.62)
    return save(fig, path_stem)


def _grid(rows: Rows, px: str, py: str, metric: str) -> tuple[list, list, np.ndarray]:
    xs, ys = (sorted({r[p] for r in rows}, key=sort_key) for p in (px, py))
    grid = np.full((len(ys), len(xs)), math.nan)
    for r in rows:
        grid[ys.index(r[py]), xs.index(r[px])] = num(r.get(metric))
    return xs, ys, grid


@_styled
def sweep_heatmap(rows: Rows, param_x: str, param_y: str, metric: str, *,
                  path_stem: Stem, max_panels: int = 6) -> list[Path]:
    """``metric`` over the grid of two swept parameters, one panel per model @ device."""
    series = _series_rows([r for r in rows if r.get(param_y) is not None], param_x, exclude=(param_y,))
    if not series:
        raise ReportDataError(f"no rows sweep both {param_x!r} and {param_y!r}")
    items = sorted(series.items())[:max_panels]
    if len(series) > max_panels:
        items[-1] = (f"{items[-1][0]} (first {max_panels} of {len(series)})", items[-1][1])
    cols, nrows = min(3, len(items)), math.ceil(len(items) / min(3, len(items)))
    fig = Figure(figsize=(4.2 * cols, 3.6 * nrows))
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax, (label, srows) in zip(axes, items):
        xs, ys, grid = _grid(srows, param_x, param_y, metric)
        ok = grid[np.isfinite(grid)]
        norm = LogNorm(ok.min(), ok.max()) if ok.size and (ok > 0).all() and ok.max() > ok.min() else None
        im = ax.imshow(grid, origin="lower", aspect="auto", norm=norm,
                       cmap="viridis" if metric in HIGHER_IS_BETTER else "viridis_r")
        _annotate_grid(ax, grid, metric)
        ax.set_xticks(range(len(xs)), [_tick(v) for v in xs], rotation=45)
        ax.set_yticks(range(len(ys)), [_tick(v) for v in ys])
        ax.set(xlabel=param_x.removeprefix("param:"), ylabel=param_y.removeprefix("param:"), title=label)
        ax.grid(False)
        fig.colorbar(im, ax=ax, label=metric_label(metric))
    for ax in axes[len(items):]:
        ax.set_visible(False)
    fig.tight_layout()
    return save(fig, path_stem)


def _tick(value: Any) -> str:
    v = num(value)
    return f"{v:.4g}" if math.isfinite(v) else str(value)


def _annotate_grid(ax: Any, grid: np.ndarray, metric: str) -> None:
    """Write each cell's value when the grid is small enough to read."""
    if grid.size > 64:
        return
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, fmt(v, metric), ha="center", va="center", fontsize=7, color="black",
                path_effects=[patheffects.withStroke(linewidth=1.5, foreground="white")])


@_styled
def lottery_matrix(rows: Rows, metric: str = "energy_per_sample_j", *, path_stem: Stem) -> list[Path]:
    """Family × device heatmap of ``metric`` relative to each family's best device (1.0× = the
    winner), annotated with the ratio and the utilisation; grey cells have no value."""
    t = lottery_table(rows, metric)
    if not np.isfinite(t.ratios).any():
        raise ReportDataError(f"no {metric} values for the lottery matrix")
    finite = t.ratios[np.isfinite(t.ratios)]
    top = max(float(finite.max()), 2.0) if np.isfinite(finite.max()) else 1e6
    fig = Figure(figsize=(1.6 + 1.25 * len(t.devices), 1.4 + 0.6 * len(t.labels)))
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["RdYlGn_r"].with_extremes(bad="#dddddd", over="#7f0000")
    im = ax.imshow(np.ma.masked_invalid(t.ratios), cmap=cmap, norm=LogNorm(1.0, top), aspect="auto")
    for i in range(len(t.labels)):
        for j in range(len(t.devices)):
            ax.text(j, i, _cell_text(t.ratios[i, j], t.utilization[i, j], t.present[i, j]), ha="center",
                    va="center", fontsize=7, fontweight="bold" if t.ratios[i, j] == 1.0 else "normal")
    ax.set_xticks(range(len(t.devices)), t.devices, rotation=30, ha="right")
    ax.set_yticks(range(len(t.labels)), t.labels)
    ax.grid(False)
    ax.set_title(f"Hardware lottery: {metric_title(metric)} relative to each family's best device")
    fig.colorbar(im, ax=ax, label="× the best device")
    fig.tight_layout()
    return save(fig, path_stem)


def _cell_text(ratio: float, util: float, present: bool) -> str:
    if not present:
        return "—"
    if not math.isfinite(ratio):
        return "n/a" if math.isnan(ratio) else "∞×"
    return f"{ratio:.3g}×" + (f"\nu={100 * util:.2g}%" if math.isfinite(util) else "")


@_styled
def serving_curve(rows: Rows, *, path_stem: Stem,
                  rate_param: str | None = None, slo_s: float | None = None) -> list[Path]:
    """p50 (dashed) and p99 (solid) latency against the arrival rate (``rate_per_s`` or a swept
    rate parameter), one colour per model @ device, the SLO as a horizontal line when known.
    Serving rows are those with a p99 (whatever their workload label)."""
    serving = [r for r in rows if math.isfinite(num(r.get("p99_s")))]
    if not serving:
        raise ReportDataError("no serving rows")
    rate = rate_param or arrival_rate_param(serving)
    slo = slo_value(serving) if slo_s is None else slo_s
    fig = Figure(figsize=(8, 4.8))
    ax = fig.add_subplot()
    series = _series_rows(serving, rate, by_workload=False)
    for i, (label, srows) in enumerate(sorted(series.items())):
        srows = sorted(srows, key=lambda r: sort_key(r[rate]))
        xs, color = _values(srows, rate), f"C{i % 10}"
        ax.plot(xs, _values(srows, "p50_s"), linestyle="--", color=color, marker=".", label=f"{label} p50")
        ax.plot(xs, _values(srows, "p99_s"), linestyle="-", color=color, marker=".", label=f"{label} p99")
    if math.isfinite(slo):
        ax.axhline(slo, color="red", linestyle=":", linewidth=1.2, label=f"SLO {fmt(slo, 'p99_s')}")
    _autolog(ax, "y", np.concatenate([_values(serving, "p50_s"), _values(serving, "p99_s")]))
    ax.set(xlabel=f"arrival rate [{rate.removeprefix('param:')}]", ylabel="latency [s]",
           title="Serving latency vs arrival rate")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.subplots_adjust(right=0.62)
    return save(fig, path_stem)

