"""Validation: predicted vs measured end-to-end latency of whole models that took no part in
the fit, and the uncertainty band every calibrated prediction carries.

Prediction of one inference: ``sum over ops of CpuModel latency + calibration.session_overhead_s``
(ops run one at a time: ORT's sequential executor). Band: ``[t · band_low, t · band_high]``
with ``band_low``/``band_high`` the p10/p90 of the cross-validated measured/predicted ratios
(:class:`hwsim.config.calibration.CalibrationBlock`), i.e. a nominal 80 % interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwsim.calibrate.microbench import best_of
from hwsim.config.devices import CpuSpec, DeviceSpecBase

EXPORTED = Path(__file__).resolve().parents[2] / "tests" / "data" / "exported"


def prediction_band(spec: DeviceSpecBase, latency_s: float) -> tuple[float, float]:
    """(lo, hi) p10–p90 band of a latency predicted on ``spec``: latency × (band_low, band_high).

    Uncalibrated specs have no residuals to draw a band from: (nan, nan).
    """
    cal = spec.calibration
    return (math.nan, math.nan) if cal is None else cal.band(latency_s)


def predict_latency(spec: CpuSpec, table) -> float:
    """Predicted seconds of one inference: sum of per-op CpuModel latencies + session overhead."""
    from hwsim.devices.cpu import CpuModel

    session = spec.calibration.session_overhead_s if spec.calibration else 0.0
    return float(np.nansum(CpuModel(spec).price(table).latency_s)) + session


@dataclass(frozen=True)
class Case:
    """One validation model: a display name, its source (zoo URI or path) and dim bindings."""

    name: str
    source: str
    dims: Mapping[str, int] = field(default_factory=dict)


def light_dir() -> Path:
    """Folder of the onnx wheel's 'light' Caffe2 models (weights from ConstantOfShape)."""
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def default_cases(quick: bool = False) -> list[Case]:
    """The held-out validation set: zoo models (random weights), the onnx wheel's light models
    and real exported graphs (tests/data/exported, bindings from its expected.json)."""
    light = light_dir()
    cases = [Case("resnet18", "zoo:resnet18"), Case("mobilenetv2", "zoo:mobilenetv2"),
             Case("bert-base seq64", "zoo:bert-base?seq=64"), Case("lstm-lm", "zoo:lstm-lm")]
    names = ["squeezenet", "shufflenet", "inception_v1", "resnet50", "densenet121"]
    if not quick:
        names += ["inception_v2", "bvlc_alexnet", "zfnet512"]
    cases += [Case(f"light_{n}", str(light / f"light_{n}.onnx")) for n in names]
    exported = {"torch_transformer_dynbs.onnx": {"batch": 2, "seq": 16}, "torch_cnn_bn_dynbatch.onnx": {"batch": 2},
                "paddle2onnx_cnn_dynbatch.onnx": {"DynamicDimension.0": 2}, "torch_lstm_lm_dynbs.onnx": {"batch": 2, "seq": 16},
                "tf2onnx_keras_cnn_dynbatch.onnx": {"unk__101": 2}, "ort_dynq_transformer.onnx": {"batch": 2, "seq": 16}}
    cases += [Case(f.removesuffix(".onnx"), str(EXPORTED / f), d) for f, d in exported.items() if (EXPORTED / f).is_file()]
    return cases


def validate(spec: CpuSpec, cases: list[Case], threads: int, runs: int = 10, warmup: int = 2,
             stat: str = "p10_s", rounds: int = 3) -> list[dict]:
    """Measure and predict every case at ``threads``; one row per model.

    Every case is measured in ``rounds`` round-robin passes over all cases (each a fresh
    session), plus one more try for a case whose best round ran while the machine was slow
    (:func:`hwsim.calibrate.microbench.spread_tries`), and the try with the lowest ``stat`` is
    kept (:func:`best_of`): on a shared VM whose speed drifts for seconds to minutes, tries spread
    over the run estimate the undisturbed time, as the microbenchmarks do. Row: ``model, threads, measured_s`` (that ``stat``),
    ``median_s, spread`` (worst / best round), ``predicted_s, band_lo_s, band_hi_s, error``
    with ``error = predicted / measured - 1``. A model that fails to load or run gets ``error``
    NaN and its message in ``skipped``.
    """
    from hwsim import count_work, load_model
    from hwsim.calibrate.measure import named_proto, runnable_source

    spec = spec.model_copy(update={"threads": threads})
    tries = _measure_rounds(cases, threads, runs, warmup, rounds)
    rows = []
    for case in cases:
        if isinstance(tries[case.name], str):
            rows.append({"model": case.name, "threads": threads, "skipped": tries[case.name], "error": math.nan})
            continue
        m = best_of(tries[case.name], stat)
        table = count_work(load_model(named_proto(runnable_source(case.source)), case.dims or None))
        pred = predict_latency(spec, table)
        lo, hi = prediction_band(spec, pred)
        rows.append({"model": case.name, "threads": threads, "measured_s": m[stat], "median_s": m["median_s"],
                     "spread": m["spread"], "predicted_s": pred, "band_lo_s": lo, "band_hi_s": hi,
                     "error": pred / m[stat] - 1.0})
    return rows


def _measure_rounds(cases: list[Case], threads: int, runs: int, warmup: int, rounds: int) -> dict[str, list | str]:
    """{case name: [one measure_model result per round]} or the error message of a case that
    failed; rounds are passes over all cases, gated by the drift gauge (:func:`spread_tries`)."""
    from hwsim.calibrate.measure import measure_model
    from hwsim.calibrate.microbench import spread_tries

    by_name = {c.name: c for c in cases}

    def measure(name: str) -> dict | str:
        case = by_name[name]
        try:
            return measure_model(case.source, case.dims or None, threads=threads, runs=runs, warmup=warmup)
        except Exception as exc:  # a model this runtime cannot run is reported, not fatal
            return f"{type(exc).__name__}: {exc}"[:200]

    return spread_tries(list(by_name), measure, max(rounds, 1), lambda name: threads)[0]


def summary(rows: list[dict]) -> dict[str, float]:
    """Fractions of models within ±10 % and ±15 %, and the median |error|."""
    err = np.array([abs(r["error"]) for r in rows if not math.isnan(r["error"])])
    if not len(err):
        return {"n": 0, "within_10pct": math.nan, "within_15pct": math.nan, "median_abs_error": math.nan}
    return {"n": int(len(err)), "within_10pct": float(np.mean(err <= 0.10)),
            "within_15pct": float(np.mean(err <= 0.15)), "median_abs_error": float(np.median(err))}
