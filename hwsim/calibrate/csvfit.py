"""Calibrate any device kind from a CSV of measured latencies.

Columns: ``device`` (free text, recorded), ``model`` (a zoo URI, an ONNX path, or an op
signature ``MatMul:m=128,n=768,k=768:fp32``), ``latency_s`` (seconds, > 0, < 1e4), optional
``energy_j``. Each row's work is counted by hwsim; the device model of ``base_device``'s kind
prices it (``sum of op latencies``). Fitted (log space, soft-L1, scipy least_squares): the
per-kind efficiency curves of the kinds with arithmetic and the kind's per-op overhead field
(:data:`OVERHEAD_FIELD`: cpu ``dispatch_overhead_s``, gpu ``launch_overhead_s``).
Bad input raises ConfigError naming the row and column.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.optimize import least_squares

from hwsim.calibrate.fit import F_SCALE, LOSS
from hwsim.calibrate.store import DEFAULT_OUT, check_writable, sha256_file, write_device_yaml
from hwsim.config.devices import Efficiency
from hwsim.errors import ConfigError, HwsimError
from hwsim.ops.work import WorkKind, WorkTable

REQUIRED = ("device", "model", "latency_s")
OVERHEAD_FIELD = {"cpu": "dispatch_overhead_s", "gpu": "launch_overhead_s"}
MAX_LATENCY_S = 1e4


def _number(text: str, row: int, col: str, required: bool) -> float | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise ConfigError(f"CSV row {row}, column {col!r}: empty; give seconds as a plain number")
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"CSV row {row}, column {col!r}: {text!r} is not a plain number "
                          f"(give SI units without suffixes, e.g. 0.003 not '3 ms')") from None
    if math.isnan(value) or value < 0 or (required and value == 0):
        raise ConfigError(f"CSV row {row}, column {col!r}: {text!r} must be a positive number")
    if col == "latency_s" and value > MAX_LATENCY_S:
        raise ConfigError(f"CSV row {row}, column {col!r}: {value} s is over {MAX_LATENCY_S:g} s; "
                          "is the column in ms or µs? latency_s is in seconds")
    return value


def read_rows(path: str | os.PathLike) -> list[dict]:
    """Validated rows ``{"device", "model", "latency_s", "energy_j"}`` (row numbers count the header as 1)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(REQUIRED)}, optional energy_j)")
        rows = []
        for i, raw in enumerate(reader, start=2):
            if raw.get(None):
                raise ConfigError(f"{path}: CSV row {i}, column 'model': more fields than the header; "
                                  'quote op signatures, which contain commas ("MatMul:m=1,n=2,k=3:fp32")')
            model = (raw.get("model") or "").strip()
            if not model:
                raise ConfigError(f"{path}: CSV row {i}, column 'model': empty")
            rows.append({"device": (raw.get("device") or "").strip(), "model": model,
                         "latency_s": _number(raw.get("latency_s", ""), i, "latency_s", True),
                         "energy_j": _number(raw.get("energy_j", "") or "", i, "energy_j", False), "row": i})
    if not rows:
        raise ConfigError(f"{path}: no data rows")
    return rows


def row_table(model: str, row: int) -> WorkTable:
    """hwsim's WorkTable of a row's model (op signature, zoo URI or ONNX path)."""
    from hwsim import count_work, load_model
    from hwsim.calibrate.signature import signature_graph

    try:
        is_sig = not model.startswith("zoo:") and model.count(":") == 2 and not Path(model).exists()
        return count_work(load_model(signature_graph(model) if is_sig else model))
    except HwsimError as exc:
        raise ConfigError(f"CSV row {row}, column 'model': {exc}") from None


def _apply(base, kinds: tuple[str, ...], x: np.ndarray):
    v = np.exp(x)
    eff = dict(base.efficiency)
    for i, k in enumerate(kinds):
        eff[k] = Efficiency.model_construct(peak_fraction=float(min(v[2 * i], 1.0)), half_work_flops=float(v[2 * i + 1]))
    return base.model_copy(update={"efficiency": eff, OVERHEAD_FIELD[base.kind]: float(v[-1])})


def fit_tables(base, tables: list[WorkTable], measured_s: np.ndarray):
    """(fitted spec, ln(measured / predicted) per row, cost) for any kind in OVERHEAD_FIELD."""
    from hwsim.devices import make_device

    if base.kind not in OVERHEAD_FIELD:
        raise ConfigError(f"CSV calibration supports device kinds {', '.join(OVERHEAD_FIELD)}, not {base.kind!r}")
    joint = WorkTable.concat(tables, nx.DiGraph())
    group = np.repeat(np.arange(len(tables)), [len(t) for t in tables])
    kinds = tuple(WorkKind(k).label for k in sorted(set(joint.kind.tolist())) if (joint.columns["flops"][joint.kind == k] > 0).any())
    x0 = [a for k in kinds for a in (np.log(base.kind_efficiency(WorkKind[k.upper()]).peak_fraction), np.log(1e6))]
    x0.append(np.log(max(getattr(base, OVERHEAD_FIELD[base.kind]), 1e-7)))
    lo = [a for _ in kinds for a in (np.log(1e-4), 0.0)] + [np.log(1e-9)]
    hi = [a for _ in kinds for a in (0.0, np.log(1e13))] + [np.log(1.0)]

    def resid(x: np.ndarray) -> np.ndarray:
        lat = np.nan_to_num(make_device(_apply(base, kinds, x)).price(joint).latency_s)
        return np.log(np.maximum(np.bincount(group, lat, minlength=len(tables)), 1e-12)) - np.log(measured_s)

    sol = least_squares(resid, np.clip(x0, np.array(lo) + 1e-6, np.array(hi) - 1e-6), bounds=(lo, hi), loss=LOSS, f_scale=F_SCALE)
    return _apply(base, kinds, sol.x), -sol.fun, float(sol.cost)


def calibrate_from_csv(path: str | os.PathLike, base_device: str, out: str | os.PathLike = DEFAULT_OUT,
                       force: bool = False) -> Path:
    """Fit ``base_device`` (cpu or gpu) to the latencies of a CSV and write the calibrated YAML.

    path: CSV with columns device, model (zoo URI, ONNX path or op signature), latency_s,
    optional energy_j. base_device: library name or YAML path of the spec to start from.
    out: YAML to write (never overwritten without ``force``; atomic). Returns the path written.
    Raises ConfigError naming the row and column of bad input.
    """
    from hwsim.calibrate.run import residual_stats, source_block
    from hwsim.config.calibration import CalibrationBlock
    from hwsim.devices.library import load_device_spec

    check_writable(out, force)
    rows = read_rows(path)
    tables = [row_table(r["model"], r["row"]) for r in rows]
    base = load_device_spec(base_device)
    spec, log_ratio, cost = fit_tables(base, tables, np.array([r["latency_s"] for r in rows]))
    stats = residual_stats(log_ratio)
    src = source_block(Path(path), (), runtime=f"CSV ({sorted({r['device'] for r in rows})[0] or 'unnamed device'})")
    block = CalibrationBlock(source=src.model_copy(update={"cpu_model": rows[0]["device"] or "unknown"}),
                             method=f"scipy.optimize.least_squares on ln latency ({LOSS}); CSV rows", parameters={},
                             training_set=[str(path)], fit=stats, cross_validated=stats, fit_error=cost,
                             band_low=stats.p10, band_high=stats.p90,
                             energy="energy_j given in CSV, not fitted" if any(r["energy_j"] is not None for r in rows) else "not measured")
    data = spec.model_copy(update={"calibration": block}).model_dump(mode="json", exclude_none=True)
    data["sources"] = {**data.get("sources", {}), "efficiency": f"fitted on {path} (sha256 {sha256_file(path)[:12]})",
                       OVERHEAD_FIELD[base.kind]: f"fitted on {path}", "calibration": f"fitted on {path}"}
    return write_device_yaml(data, out, force, header="written by hwsim calibrate --csv")
