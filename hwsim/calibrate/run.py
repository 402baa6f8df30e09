"""``hwsim calibrate``: microbenchmarks → fit → calibrated ``cpu-local`` YAML (+ validation).

Statistic: fits and validation use ``STAT`` = the p10 of each benchmark's run times (the
fastest decile): on a shared machine the median absorbs other processes' bursts, while the
low quantile estimates the undisturbed time the model describes (the rationale of Python's
``timeit``, which reports the minimum). Medians are recorded too.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from hwsim.calibrate import fit as F
from hwsim.calibrate.store import (
    DEFAULT_OUT,
    atomic_write_text,
    check_writable,
    machine_name,
    sha256_file,
    write_device_yaml,
)
from hwsim.config.calibration import CalibrationBlock, CalibrationSource, ResidualStats
from hwsim.config.devices import CpuSpec

log = logging.getLogger(__name__)
STAT = "p10_s"
Progress = Callable[[int, int, str], None]


def residual_stats(log_ratio: np.ndarray) -> ResidualStats:
    """Statistics of ratios measured / predicted given their logarithms."""
    r = np.exp(np.asarray(log_ratio, dtype=float))
    if not len(r):
        return ResidualStats(n=0, rms_log=0.0, p10=1.0, p50=1.0, p90=1.0, within_10pct=0.0, within_15pct=0.0)
    q = np.quantile(r, [0.1, 0.5, 0.9])
    return ResidualStats(n=len(r), rms_log=float(np.sqrt(np.mean(np.log(r) ** 2))), p10=float(q[0]), p50=float(q[1]),
                         p90=float(q[2]), within_10pct=float(np.mean(np.abs(r - 1) <= 0.10)),
                         within_15pct=float(np.mean(np.abs(r - 1) <= 0.15)))


def cross_validate(base: CpuSpec, table, measured_s: np.ndarray, folds: int = 5, seed: int = 0,
                   start: dict[str, float] | None = None) -> np.ndarray:
    """Held-out ln(measured / predicted) of a ``folds``-fold cross-validation of the one-thread fit.

    ``start``: the full fit's parameters; each fold then starts its solve there (no restarts)
    instead of repeating the full fit's restarts, which cost ~20 s each on 2 cores. The fold
    still fits only its training part; the start only picks the basin."""
    idx = np.random.default_rng(seed).permutation(len(measured_s))
    out = np.empty(len(measured_s))
    for part in np.array_split(idx, folds):
        train = np.setdiff1d(idx, part)
        res = F.fit_one_thread(base, table.select(train), measured_s[train], restarts=0 if start else 1, start=start)
        out[part] = np.log(measured_s[part]) - np.log(F.predict(res.spec, table.select(part), res.session_s))
    return out


def split_threads(records: list[dict], stat: str = STAT) -> tuple[object, np.ndarray, np.ndarray]:
    """(WorkTable, measured seconds, threads) of measurement records."""
    return F.records_table(records), np.array([r[stat] for r in records]), np.array([int(r["threads"]) for r in records])


def disturbed(record: dict, cores: int) -> bool:
    """True when other processes held the cores a record's threads needed even on its best try
    (``others_load_cores`` > cores - threads + 0.25, :func:`hwsim.calibrate.measure.quiet_runs`)."""
    return record.get("others_load_cores", 0.0) > cores - int(record["threads"]) + 0.25


def fit_records(base: CpuSpec, records: list[dict], stat: str = STAT) -> tuple[CpuSpec, dict]:
    """Fit a CPU spec on microbenchmark records (disturbed ones dropped): (spec, block fields but source)."""
    cores = os.cpu_count() or base.cores
    records = [r for r in records if not disturbed(r, cores)] or records
    table, measured, threads = split_threads(records, stat)
    one = threads == 1
    res = F.fit_one_thread(base, table.select(one), measured[one])
    cv = cross_validate(base, table.select(one), measured[one], start=res.parameters)
    params = dict(res.parameters)
    spec = res.spec
    if (threads > 1).any():
        par = F.fit_parallel_fraction(spec, res.session_s, table, measured, threads)
        tau = float(np.median(list(par.half_times.values())))  # kinds without multi-thread records
        spec = spec.model_copy(update={"parallel_fraction": par.parallel_fraction, "parallel_half_time_s": tau,
                                       "parallel_half_time_kind_s": par.half_times, "parallel_sync_s": par.sync_s,
                                       "parallel_sync_kind_s": par.sync_keys})
        params.update({f"parallel_fraction.{k}": v for k, v in par.parallel_fraction.items()})
        params.update({f"parallel_half_time_kind_s.{k}": v for k, v in par.half_times.items()})
        params.update({f"parallel_sync_kind_s.{k}": v for k, v in par.sync_keys.items()})
        params.update(parallel_half_time_s=tau, parallel_sync_s=par.sync_s)
    stats = residual_stats(cv)
    fields = {"method": f"scipy.optimize.least_squares on ln latency ({F.LOSS}, f_scale {F.F_SCALE}); statistic {stat}",
              "parameters": params, "fit": residual_stats(res.log_residuals), "cross_validated": stats,
              "fit_error": res.cost, "band_low": stats.p10, "band_high": stats.p90, "session_overhead_s": res.session_s}
    return spec.model_copy(update={"threads": 1}), fields


def spec_document(spec: CpuSpec, block: CalibrationBlock, name: str = "cpu-local") -> dict:
    """The YAML mapping of a calibrated spec: every field concrete, fitted ones cited."""
    data = spec.model_copy(update={"name": name, "calibration": block}).model_dump(mode="json", exclude_none=True)
    data["description"] = f"this machine ({block.source.cpu_model}), calibrated {block.source.date[:10]} with {block.source.runtime}"
    cite = f"fitted by hwsim calibrate on {block.source.measurement_file} (sha256 {block.source.measurement_sha256[:12]})"
    fitted = ("efficiency", "op_efficiency", "op_overhead_s", "op_bandwidth_scale", "copy_chunk_s", "caches", "mem_bw_bytes_per_s", "mem_efficiency", "dispatch_overhead_s",
              "zero_work_dispatch_s", "parallel_fraction", "parallel_half_time_s", "parallel_half_time_kind_s", "parallel_sync_s", "parallel_sync_kind_s", "threads",
              "calibration")
    probed = {k: "probed from this machine at calibration time (hwsim/devices/host.py)"
              for k, v in data.get("sources", {}).items() if "probed" in str(v)}
    data["sources"] = {**data.get("sources", {}), **probed, **dict.fromkeys(fitted, cite)}
    return data


def source_block(measurement: Path, threads: Iterable[int], runtime: str = "onnxruntime CPUExecutionProvider") -> CalibrationSource:
    """Provenance of a fit on ``measurement``."""
    from hwsim.devices.host import probe_host

    try:
        import onnxruntime
        version = onnxruntime.__version__
    except ImportError:
        version = "unknown"
    return CalibrationSource(machine=machine_name(), cpu_model=str(probe_host().get("model", "unknown")),
                             date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), runtime=runtime,
                             runtime_version=version, measurement_file=str(measurement),
                             measurement_sha256=sha256_file(measurement), threads=sorted(set(threads)))


def calibrate_from_records(measurement: str | os.PathLike, base_device: str = "cpu-generic",
                           out: str | os.PathLike = DEFAULT_OUT, force: bool = False) -> tuple[Path, CpuSpec]:
    """Fit ``base_device`` on a recorded microbenchmark JSON file and write the calibrated YAML."""
    from hwsim.calibrate.energy import energy_status
    from hwsim.devices.library import load_device_spec

    check_writable(out, force)
    doc = json.loads(Path(measurement).read_text())
    base = load_device_spec(base_device)
    spec, fields = fit_records(base, doc["records"])
    block = CalibrationBlock(source=source_block(Path(measurement), (r["threads"] for r in doc["records"])),
                             training_set=[doc.get("grid", "microbenchmarks")], energy=doc.get("energy") or energy_status()[1], **fields)
    path = write_device_yaml(spec_document(spec, block), out, force, header="written by hwsim calibrate: do not edit by hand")
    return path, spec.model_copy(update={"calibration": block, "name": "cpu-local"})


def run_calibration(quick: bool = False, threads: Iterable[int] = (1, 2), out: str | os.PathLike = DEFAULT_OUT,
                    force: bool = False, progress: Progress | None = None) -> Path:
    """Measure the microbenchmark grid on this machine, fit, write the calibrated device YAML.

    quick: the small grid (whole run < 3 min on 2 cores) instead of the full one (< 15 min).
    threads: intra-op thread counts to measure (1 is always included: the fit needs it).
    out: the YAML to write (default ``~/.config/hwsim/devices/cpu/cpu-local.yaml``); its
    measurements go beside it as ``<stem>.measurements.json`` (what the sha256 names).
    force: overwrite an existing ``out``; without it ConfigError before anything runs.
    progress: called as ``progress(done, total, signature)`` after each benchmark.
    Returns the path written. Raises ConfigError when onnxruntime/scipy are missing.
    """
    from hwsim.calibrate.energy import energy_status
    from hwsim.calibrate.microbench import run_microbenchmarks

    out = check_writable(out, force)
    threads = sorted({1, *threads})
    records = run_microbenchmarks(quick, threads, progress)
    doc = {"grid": "quick" if quick else "full", "threads": threads, "energy": energy_status()[1], "records": records}
    meas = atomic_write_text(out.with_name(out.stem + ".measurements.json"), json.dumps(doc, indent=1))
    return calibrate_from_records(meas, "cpu-generic", out, force=True)[0]
