"""Validation report: predicted vs measured scatter (log-log, ±10 % band) and per-kind
residuals of the microbenchmark fit, as a PNG and a self-contained HTML page (PNG embedded).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from pathlib import Path

import numpy as np

from hwsim.calibrate.store import atomic_write_text


def _figure(rows: list[dict], kind_residuals: dict[str, np.ndarray]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.5))
    ok = [r for r in rows if not math.isnan(r.get("error", math.nan))]
    for t in sorted({r["threads"] for r in ok}):
        sel = [r for r in ok if r["threads"] == t]
        ax.scatter([r["measured_s"] for r in sel], [r["predicted_s"] for r in sel], label=f"{t} thread(s)", s=18)
    if ok:
        lo = min(min(r["measured_s"], r["predicted_s"]) for r in ok) / 2
        hi = max(max(r["measured_s"], r["predicted_s"]) for r in ok) * 2
        xs = np.geomspace(lo, hi, 50)
        ax.plot(xs, xs, "k-", lw=0.8)
        ax.fill_between(xs, xs * 0.9, xs * 1.1, color="grey", alpha=0.25, label="±10 %")
    ax.set(xscale="log", yscale="log", xlabel="measured (s)", ylabel="predicted (s)", title="held-out models")
    ax.legend(fontsize=8)
    labels = sorted(kind_residuals)
    if labels:
        bx.boxplot([np.exp(kind_residuals[k]) for k in labels], tick_labels=labels)
    bx.axhline(1.0, color="k", lw=0.8)
    bx.set(yscale="log", ylabel="measured / predicted", title="microbenchmark residuals by kind")
    bx.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _table(rows: list[dict]) -> str:
    head = "<tr><th>model</th><th>threads</th><th>measured (ms)</th><th>predicted (ms)</th><th>band (ms)</th><th>error</th></tr>"
    body = []
    for r in rows:
        if math.isnan(r.get("error", math.nan)):
            body.append(f"<tr><td>{html.escape(r['model'])}</td><td>{r['threads']}</td><td colspan=4>skipped: {html.escape(r.get('skipped', ''))}</td></tr>")
            continue
        band = f"{r['band_lo_s'] * 1e3:.3g}–{r['band_hi_s'] * 1e3:.3g}" if not math.isnan(r["band_lo_s"]) else "n/a"
        body.append(f"<tr><td>{html.escape(r['model'])}</td><td>{r['threads']}</td><td>{r['measured_s'] * 1e3:.3f}</td>"
                    f"<td>{r['predicted_s'] * 1e3:.3f}</td><td>{band}</td><td>{r['error']:+.1%}</td></tr>")
    return f"<table border=1 cellpadding=3>{head}{''.join(body)}</table>"


def write_report(rows: list[dict], kind_residuals: dict[str, np.ndarray], out_dir: str | os.PathLike,
                 title: str = "hwsim calibration") -> tuple[Path, Path]:
    """Write ``validation.png`` and ``validation.html`` into ``out_dir``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = _figure(rows, kind_residuals)
    png_path = out / "validation.png"
    tmp = png_path.with_suffix(".png.tmp")
    tmp.write_bytes(png)
    os.replace(tmp, png_path)
    page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
            f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}' alt='predicted vs measured'>"
            f"{_table(rows)}")
    return png_path, atomic_write_text(out / "validation.html", page)


def kind_residuals(records: list[dict], spec, session_s: float, stat: str = "p10_s") -> dict[str, np.ndarray]:
    """ln(measured / predicted) of microbenchmark records grouped by work kind (label)."""
    from hwsim.calibrate.fit import predict, records_table
    from hwsim.ops.work import WorkKind

    table = records_table(records)
    r = np.log([rec[stat] for rec in records]) - np.log(predict(spec, table, session_s))
    return {WorkKind(k).label: r[table.kind == k] for k in sorted(set(table.kind.tolist()))}


def validation_report(device_yaml: str | os.PathLike, out_dir: str | os.PathLike, quick: bool = False,
                      threads: tuple[int, ...] = (1, 2), runs: int = 10, rounds: int = 3,
                      cases: list | None = None) -> tuple[list[dict], tuple[Path, Path]]:
    """Measure the held-out models (:func:`hwsim.calibrate.validate.default_cases`, or ``cases``) at
    each thread count, compare with the calibrated ``device_yaml``, and write the report into
    ``out_dir`` (residuals by kind from the measurements file beside the YAML, when present).
    Returns the rows and the (PNG, HTML) paths."""
    from hwsim.calibrate.validate import default_cases, validate
    from hwsim.devices.library import load_device_spec

    spec = load_device_spec(str(device_yaml))
    rows = [row for t in threads for row in validate(spec, cases or default_cases(quick), t, runs=runs, rounds=rounds)]
    return rows, write_report(rows, measured_residuals(device_yaml, spec), out_dir)


def measured_residuals(device_yaml: str | os.PathLike, spec) -> dict[str, np.ndarray]:
    """:func:`kind_residuals` of the one-thread records in the measurements file written beside a
    calibrated YAML (``<stem>.measurements.json``); empty when there is none."""
    import json

    path = Path(device_yaml)
    meas = path.with_name(path.stem + ".measurements.json")
    if not meas.is_file():
        return {}
    records = [r for r in json.loads(meas.read_text())["records"] if r["threads"] == 1]
    session = spec.calibration.session_overhead_s if spec.calibration else 0.0
    return kind_residuals(records, spec, session) if records else {}
