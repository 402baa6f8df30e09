"""One self-contained HTML report per study: the answer first, then figures, results, assumptions.

:func:`write_report` draws the figures (PNG and SVG under ``figures/``), embeds the PNGs as
base64 ``<img>``, inlines the CSS and a small script that marks ``<body
data-figures-loaded="N">`` once every image has decoded (headless-browser tests read it), and
writes ``report.html`` atomically. Nothing in the page loads from elsewhere; sources are shown
as text. Identical inputs give byte-identical output (no timestamps, stable ordering).
"""

from __future__ import annotations

import base64
import html
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwsim.fileio import write_atomic
from hwsim.report import figures
from hwsim.report.answer import (
    HIGHER_IS_BETTER,
    METRICS,
    ReportDataError,
    answer,
    fmt,
    headline_metric,
    metric_label,
    num,
    param_pairs,
    params_of,
)

log = logging.getLogger(__name__)

TOP_ROWS = 50
MAX_ROOFLINES = 8
_ID_COLUMNS = ("point", "model", "family", "workload", "device", "device_kind")
_METRIC_COLUMNS = ("latency_s", "throughput_per_s", "energy_per_sample_j", "energy_j", "avg_power_w", "usd",
                   "usd_per_1m", "co2_g_per_1m", "utilization", "bound_compute", "bound_memory",
                   "bound_overhead", "bound_offload", "fits_in_memory", "devices_needed", "wall_time_s",
                   "energy_kwh", "mfu", "co2_kg", "p50_s", "p99_s", "max_rate_meeting_slo")
_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}
.answer li{margin:.3em 0;font-size:1.05em}.question{font-style:italic;color:#444}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}
table{border-collapse:collapse;font-size:.8em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#8a4b00}.scroll{overflow-x:auto}"""
_SCRIPT = """(function(){function mark(){var n=0,im=document.images;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){n++;}}
document.body.setAttribute('data-figures-loaded',String(n));}
window.addEventListener('load',mark);mark();})();"""


@dataclass(frozen=True)
class FigureJob:
    """One figure to draw: file stem under ``figures/``, title, caption and the drawing call."""

    stem: str
    title: str
    caption: str
    draw: Callable[[Path], list[Path]]


Rows = Sequence[dict[str, Any]]
PerOp = dict[tuple[str, str], dict[str, Any]]


def _lottery_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    metric = kw.get("metric") or headline_metric(rows, meta)
    return [FigureJob("lottery_matrix", f"The hardware lottery: {metric_label(metric)}",
                      "Each family's cost on every device divided by its cost on its best device "
                      "(1.0× = the winner, bold); u = utilisation; grey = no value.",
                      lambda p: figures.lottery_matrix(rows, metric, path_stem=p))]


def _pareto_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    x, y, z = kw.get("x", "latency_s"), kw.get("y", "energy_j"), kw.get("z", "usd")
    refs = meta.get("reference_lines") or []
    jobs = []
    for load in sorted({str(r.get("workload")) for r in rows}):
        sub = [r for r in rows if str(r.get("workload")) == load]
        jobs.append(FigureJob(f"pareto_{_slug(load)}", f"Pareto front ({load}): {metric_label(y)} vs "
                              f"{metric_label(x)}", "Outlined points are Pareto-optimal (no other result is "
                              "better on both axes); the second panel uses dollars where priced.",
                              lambda p, sub=sub: figures.pareto(sub, x, y, z, path_stem=p, reference_lines=refs)))
    return jobs


def _roofline_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    keys = [tuple(kw["key"])] if "key" in kw else figures.per_op_keys(per_op)[:MAX_ROOFLINES]
    more = len(per_op) - len(keys) if "key" not in kw else 0
    note = f" ({more} more model/device pairs not drawn.)" if more > 0 else ""
    return [FigureJob("roofline_" + "_".join(_slug(x) for x in k), f"Roofline: {figures.op_key_label(k)}",
                      "Each op at its arithmetic intensity and achieved FLOP/s; colour = work kind, "
                      "marker = what bounds it; the black line is the device's roofline." + note,
                      lambda p, k=k: figures.roofline(per_op, k[0], k[1], *k[2:3], path_stem=p)) for k in keys]


def _breakdown_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    return [FigureJob("breakdown", "Where the time and energy go, by work kind",
                      "Share of latency and of dynamic op energy per work kind, base point.",
                      lambda p: figures.breakdown(per_op, path_stem=p))]


def _sweep_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    metric = kw.get("metric") or headline_metric(rows, meta)
    refs = meta.get("reference_lines") or []
    params = [kw["param"]] if "param" in kw else params_of(rows)
    return [FigureJob(f"sweep_{_slug(p)}_{metric}", f"{metric_label(metric)} over {p.removeprefix('param:')}",
                      "One line per model @ device (and the other swept parameters).",
                      lambda path, p=p: figures.sweep_lines(rows, p, metric, path_stem=path, reference_lines=refs))
            for p in params]


def _heatmap_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    metric = kw.get("metric") or headline_metric(rows, meta)
    px, py = kw.get("param_x"), kw.get("param_y")
    if not (px and py):
        pairs = param_pairs(rows)
        if not pairs:
            raise ReportDataError("a sweep heatmap needs two parameters swept together")
        px, py = pairs[0]
    return [FigureJob(f"heatmap_{_slug(px)}_{_slug(py)}_{metric}", f"{metric_label(metric)} over "
                      f"{px.removeprefix('param:')} × {py.removeprefix('param:')}",
                      "One panel per model @ device (first six).",
                      lambda p: figures.sweep_heatmap(rows, px, py, metric, path_stem=p))]


def _serving_jobs(rows: Rows, per_op: PerOp, meta: dict[str, Any], kw: dict[str, Any]) -> list[FigureJob]:
    return [FigureJob("serving_curve", "Serving latency vs arrival rate",
                      "p50 dashed, p99 solid; the red dotted line is the latency SLO.",
                      lambda p: figures.serving_curve(rows, path_stem=p, rate_param=kw.get("rate_param"),
                                                      slo_s=kw.get("slo_s")))]


_BUILDERS: dict[str, Callable[..., list[FigureJob]]] = {
    "lottery_matrix": _lottery_jobs, "pareto": _pareto_jobs, "roofline": _roofline_jobs,
    "breakdown": _breakdown_jobs, "sweep_lines": _sweep_jobs, "sweep_heatmap": _heatmap_jobs,
    "serving_curve": _serving_jobs,
}


def default_figures(rows: Rows, per_op: PerOp) -> list[str]:
    """The figures the data support, when the study names none."""
    names = ["lottery_matrix", "pareto"] if rows else []
    names += ["breakdown", "roofline"] if per_op else []
    names += ["sweep_lines"] if params_of(rows) else []
    names += ["sweep_heatmap"] if param_pairs(rows) else []
    return names + (["serving_curve"] if any(math.isfinite(num(r.get("p99_s"))) for r in rows) else [])


def plan_figures(rows: Rows, per_op: PerOp, meta: dict[str, Any]) -> tuple[list[FigureJob], list[str]]:
    """(jobs, notes): the figures ``meta["figures"]`` names (a name or ``{"name": ..., options}``),
    or :func:`default_figures`; notes say why a named figure cannot be drawn."""
    jobs: list[FigureJob] = []
    notes: list[str] = []
    for entry in meta.get("figures") or default_figures(rows, per_op):
        kw = dict(entry) if isinstance(entry, dict) else {"name": entry}
        name = str(kw.pop("name", ""))
        if name not in _BUILDERS:
            notes.append(f"unknown figure {name!r} (known: {', '.join(sorted(_BUILDERS))})")
            continue
        try:
            jobs += _BUILDERS[name](rows, per_op, meta, kw)
        except ReportDataError as e:
            notes.append(f"{name}: {e}")
    return jobs, notes


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text).removeprefix("param:"))


def _draw(jobs: list[FigureJob], fig_dir: Path) -> tuple[list[tuple[FigureJob, Path]], list[str]]:
    drawn, notes = [], []
    for job in jobs:
        try:
            paths = job.draw(fig_dir / job.stem)
        except ReportDataError as e:
            notes.append(f"{job.title}: {e}")
            log.warning("figure %s not drawn: %s", job.stem, e)
            continue
        drawn.append((job, next(p for p in paths if p.suffix == ".png")))
    return drawn, notes


def write_report(out_dir: str | os.PathLike[str], rows: Rows, per_op: PerOp, assumptions: dict[str, Any],
                 unpriced: Sequence[dict[str, Any]], meta: dict[str, Any]) -> Path:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/figures/*.png|svg``; return
    the report's path. ``rows``: the results table; ``per_op``: per-op cost arrays per
    (model, device) at the base point; ``assumptions``: every spec and economics value used,
    with ``sources`` maps; ``unpriced``: ops priced as nothing; ``meta``: name, question,
    reference_lines, figures."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs, notes = plan_figures(rows, per_op, meta)
    drawn, draw_notes = _draw(jobs, out / "figures")
    page = render_html(rows, drawn, assumptions, unpriced, meta, notes + draw_notes)
    return write_atomic(out / "report.html", page)


def render_html(rows: Rows, drawn: list[tuple[FigureJob, Path]], assumptions: dict[str, Any],
                unpriced: Sequence[dict[str, Any]], meta: dict[str, Any], notes: Sequence[str]) -> str:
    """The page as one string: answer, figures, results, assumptions, unpriced ops."""
    e = html.escape
    name = str(meta.get("name") or "hwsim study")
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(name)}</title>"
             f"<style>{_CSS}</style></head>\n<body data-figures-total=\"{len(drawn)}\">",
             f"<h1>{e(name)}</h1>"]
    if meta.get("question"):
        parts.append(f"<p class=\"question\">{e(str(meta['question']))}</p>")
    parts.append("<h2>Answer</h2><ul class=\"answer\">"
                 + "".join(f"<li>{e(s)}</li>" for s in answer(rows, meta)) + "</ul>")
    parts.append(_figures_html(drawn, notes))
    parts.append(_results_html(rows, headline_metric(rows, meta)))
    parts.append(_assumptions_html(assumptions))
    parts.append(_unpriced_html(unpriced))
    parts.append(f"<script>{_SCRIPT}</script>\n</body></html>\n")
    return "\n".join(p for p in parts if p)


def _figures_html(drawn: list[tuple[FigureJob, Path]], notes: Sequence[str]) -> str:
    e = html.escape
    out = ["<h2>Figures</h2>"]
    for i, (job, png) in enumerate(drawn, 1):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        out.append(f"<figure id=\"fig-{e(job.stem)}\"><img alt=\"{e(job.title)}\" "
                   f"src=\"data:image/png;base64,{data}\"><figcaption><b>Figure {i}. {e(job.title)}.</b> "
                   f"{e(job.caption)} Vector version: figures/{e(job.stem)}.svg</figcaption></figure>")
    if notes:
        out.append("<p class=\"note\">Figures not drawn:</p><ul>"
                   + "".join(f"<li class=\"note\">{e(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


def _sorted_rows(rows: Rows, metric: str) -> list[dict[str, Any]]:
    sign = -1.0 if metric in HIGHER_IS_BETTER else 1.0

    def key(r: dict[str, Any]) -> tuple:
        v = num(r.get(metric))
        return (0, sign * v) if math.isfinite(v) else (1, 0.0)
    return sorted(rows, key=key)


def _cell(value: Any, key: str) -> str:
    if value is None or isinstance(value, (bool, str)):
        return f"<td>{html.escape('n/a' if value is None else str(value))}</td>"
    if isinstance(value, int):
        return f"<td class=\"n\">{value}</td>"
    v = num(value)
    if not math.isfinite(v):
        text = "n/a"
    elif key.startswith("bound_"):
        text = f"{100 * v:.0f}%"
    else:
        text = fmt(v, key) if key in METRICS else f"{v:.4g}"
    return f"<td class=\"n\">{html.escape(text)}</td>"


def _results_html(rows: Rows, metric: str) -> str:
    """The top ``TOP_ROWS`` rows by the headline metric, swept parameters and metrics present."""
    if not rows:
        return "<h2>Results</h2><p>No results.</p>"
    cols = list(_ID_COLUMNS) + params_of(rows)
    cols += [m for m in _METRIC_COLUMNS if any(r.get(m) is not None for r in rows)]
    head = "".join(f"<th>{html.escape(c.removeprefix('param:'))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_cell(r.get(c), c) for c in cols) + "</tr>"
                   for r in _sorted_rows(rows, metric)[:TOP_ROWS])
    shown = min(TOP_ROWS, len(rows))
    return (f"<h2>Results</h2><p>Best {shown} of {len(rows)} results by {html.escape(metric_label(metric))}; "
            "n/a = no value (e.g. no sourced price), never ranked.</p>"
            f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def flatten_assumptions(tree: dict[str, Any], prefix: str = "",
                        scopes: tuple[tuple[str, Any], ...] = ()) -> list[tuple[str, str, str]]:
    """(dotted name, value, source) for every leaf of ``tree`` (lists of dicts by index).

    Sources come from a ``sources`` map beside the values (keys may be dotted, ``energy.mac_j``,
    or nested dicts; a key naming a sub-dict covers all of it) or from a ``<key>_sources``
    sibling (a text covering the whole of ``<key>``); the innermost match wins."""
    own = tree.get("sources")
    scopes = scopes + ((prefix, own),) if isinstance(own, (dict, str)) else scopes
    out = []
    for key, value in tree.items():
        if key == "sources" or (key.endswith("_sources") and key.removesuffix("_sources") in tree):
            continue
        name = f"{prefix}.{key}" if prefix else str(key)
        inner = scopes + ((name, tree[f"{key}_sources"]),) if f"{key}_sources" in tree else scopes
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = {str(i): v for i, v in enumerate(value)}
        if isinstance(value, dict) and value:
            out += flatten_assumptions(value, name, inner)
        else:
            out.append((name, _plain(value), _source_of(name, inner)))
    return out


def _source_of(name: str, scopes: tuple[tuple[str, Any], ...]) -> str:
    for base, src in reversed(scopes):
        if isinstance(src, str):
            return src
        found = _lookup(src, name.removeprefix(base).lstrip(".").split("."))
        if found:
            return found
    return ""


def _lookup(sources: dict[str, Any], parts: list[str]) -> str:
    """The source of the longest dotted prefix of ``parts`` found in ``sources``."""
    for n in range(len(parts), 0, -1):
        hit = sources.get(".".join(parts[:n]))
        if isinstance(hit, dict):
            hit = _lookup(hit, parts[n:]) if parts[n:] else None
        if hit:
            return _plain(hit)
    return ""


def _is_number(text: str) -> bool:
    return math.isfinite(num(text)) and text not in ("True", "False")


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _assumptions_html(assumptions: dict[str, Any]) -> str:
    e = html.escape
    rows = flatten_assumptions(assumptions or {})
    if not rows:
        return "<h2>Assumptions</h2><p class=\"note\">No assumptions were recorded.</p>"
    missing = sum(1 for _, v, s in rows if not s and _is_number(v))
    body = "".join(f"<tr><td>{e(n)}</td><td>{e(v)}</td><td>{e(s) if s else '<i>no source</i>'}</td></tr>"
                   for n, v, s in rows)
    note = f"<p class=\"note\">{missing} numeric value(s) have no recorded source.</p>" if missing else ""
    return ("<h2>Assumptions</h2><p>Every device spec and economics value the study used, with its "
            f"source.</p>{note}<table><thead><tr><th>value</th><th>setting</th><th>source</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _unpriced_html(unpriced: Sequence[dict[str, Any]]) -> str:
    if not unpriced:
        return ""
    e = html.escape
    body = "".join(f"<tr><td>{e(str(u.get('op_type')))}</td><td class=\"n\">{e(str(u.get('count')))}</td>"
                   f"<td>{e(str(u.get('model')))}</td><td>{e(str(u.get('device')))}</td></tr>" for u in unpriced)
    return ("<h2>Unpriced ops</h2><p class=\"note\">These ops were NOT priced: their time and energy are "
            "missing from every total above.</p><table><thead><tr><th>op type</th><th>count</th>"
            f"<th>model</th><th>device</th></tr></thead><tbody>{body}</tbody></table>")
