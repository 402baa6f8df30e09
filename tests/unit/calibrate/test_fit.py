"""The fit recovers known parameters from data the model generated (plus noise), and on
recorded measurements it does better than the uncalibrated spec."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.calibrate import fit as F
from hwsim.calibrate.run import cross_validate, fit_records, residual_stats

from .conftest import synthetic


def _one_thread(recorded):
    return [r for r in recorded["records"] if r["threads"] == 1 and r["work"]["op_type"] not in ("LSTM", "LRN")]


def test_fit_recovers_known_parameters(recorded, true_spec):
    recs = _one_thread(recorded)
    measured = synthetic(true_spec, recs, 4e-6, sigma=0.02)
    start = true_spec.model_copy(update={"efficiency": {}, "dispatch_overhead_s": 1e-5})
    res = F.fit_one_thread(start, F.records_table(recs), measured)
    assert res.spec.efficiency["matmul"].peak_fraction == pytest.approx(0.6, rel=0.1)
    assert res.spec.efficiency["conv"].peak_fraction == pytest.approx(0.5, rel=0.1)
    assert res.spec.dispatch_overhead_s + res.session_s == pytest.approx(1.5e-6 + 4e-6, rel=0.15)
    assert np.median(np.abs(res.log_residuals)) < 0.03  # noise sigma 0.02; op-specific curves may trade a few rows


def test_fit_recovers_parallel_fraction(recorded, true_spec):
    recs = [r for r in recorded["records"] if r["work"]["kind"] == 0 and r["work"]["op_type"] == "MatMul"]
    truth = true_spec.model_copy(update={"threads": 2, "parallel_fraction": {"matmul": 0.7}})
    measured = synthetic(truth, recs, 4e-6, sigma=0.01, seed=1)
    pf = F.fit_parallel_fraction(true_spec, 4e-6, F.records_table(recs), measured, np.full(len(recs), 2), half_time=False).parallel_fraction
    assert pf["matmul"] == pytest.approx(0.7, abs=0.08)


def test_effective_cores_is_amdahl(true_spec):
    spec = true_spec.model_copy(update={"threads": 4, "parallel_fraction": {"conv": 0.5}})
    assert spec.effective_cores("conv") == pytest.approx(1 / (0.5 + 0.5 / 4))
    assert spec.effective_cores("matmul") == 4.0


def test_recorded_fit_beats_uncalibrated(recorded):
    from hwsim.devices.library import load_device_spec

    base = load_device_spec("epyc-9654").model_copy(update={"cores": 2})
    recs = [r for r in recorded["records"] if r["threads"] == 1]
    table, measured = F.records_table(recs), np.array([r["p10_s"] for r in recs])
    before = np.log(measured) - np.log(F.predict(base.model_copy(update={"threads": 1}), table, 0.0))
    res = F.fit_one_thread(base, table, measured)
    assert np.sqrt(np.mean(res.log_residuals ** 2)) < 0.5 * np.sqrt(np.mean(before ** 2))


def test_band_covers_held_out_at_nominal_rate(recorded, true_spec):
    """p10-p90 of cross-validated residuals covers ~80 % of fresh measurements."""
    recs = _one_thread(recorded)
    table = F.records_table(recs)
    measured = synthetic(true_spec, recs, 4e-6, sigma=0.15, seed=2)
    cv = residual_stats(cross_validate(true_spec, table, measured, folds=4))
    res = F.fit_one_thread(true_spec, table, measured)
    fresh = synthetic(true_spec, recs, 4e-6, sigma=0.15, seed=3)
    ratio = fresh / F.predict(res.spec, table, res.session_s)
    coverage = np.mean((ratio >= cv.p10) & (ratio <= cv.p90))
    assert 0.6 <= coverage <= 0.95


def test_fit_records_block_fields(recorded):
    from hwsim.devices.library import load_device_spec

    spec, fields = fit_records(load_device_spec("epyc-9654").model_copy(update={"cores": 2}), recorded["records"])
    assert spec.threads == 1 and set(spec.parallel_fraction) >= {"matmul", "conv"}
    assert fields["band_low"] < 1.0 < fields["band_high"]
    assert fields["cross_validated"].n == sum(r["threads"] == 1 for r in recorded["records"])


def test_fit_recovers_a_slow_transcendental_and_an_op_overhead(recorded, true_spec):
    """Erf compute-bound at 1 % of peak and Add with its own 1 us fixed cost: the first solve starts
    Erf memory-bound (flat in its curve); the slow restart and op_overhead_s recover both."""
    from hwsim.config.devices import Efficiency

    recs = _one_thread(recorded)
    truth = true_spec.model_copy(update={"op_efficiency": {"Erf": Efficiency(peak_fraction=0.01, half_work_flops=1e3)},
                                         "op_overhead_s": {"Add": 1e-6}})
    measured = synthetic(truth, recs, 4e-6, sigma=0.01, seed=4)
    table = F.records_table(recs)
    assert "Add" in F.overhead_ops(table)
    res = F.fit_one_thread(true_spec, table, measured)
    assert res.spec.op_efficiency["Erf"].peak_fraction == pytest.approx(0.01, rel=0.2)
    # the Add records' times are recovered; the split of a small op's time between its fixed
    # cost and its kind curve's small-size term is only loosely identified by two records
    adds = np.flatnonzero(table.op_type == "Add")
    clean = F.predict(truth, table, 4e-6)[adds]
    assert F.predict(res.spec, table, res.session_s)[adds] == pytest.approx(clean, rel=0.05)
    assert 0.5e-6 < res.spec.op_overhead_s["Add"] < 1.6e-6 < res.spec.dispatch_overhead_s * 1.2


def test_fit_recovers_the_cost_per_copied_run(recorded, true_spec):
    """Head-split transposes (perm 0,2,1,3) added to the recorded grid, timed by a model that
    charges 8 ns per contiguous run: the fit finds copy_chunk_s."""
    from hwsim.calibrate.microbench import work_record

    sigs = [f"Transpose:a={a},b={b},c={c},d={d}:fp32" for a, b, c, d in ((2, 16, 4, 16), (2, 32, 8, 32), (1, 64, 12, 64), (1, 256, 12, 64))]
    recs = _one_thread(recorded) + [{"signature": s, "threads": 1, "work": work_record(s)} for s in sigs]
    truth = true_spec.model_copy(update={"copy_chunk_s": 8e-9})
    measured = synthetic(truth, recs, 4e-6, sigma=0.01, seed=5)
    res = F.fit_one_thread(true_spec, F.records_table(recs), measured)
    assert res.spec.copy_chunk_s == pytest.approx(8e-9, rel=0.25)


def test_fit_recovers_the_fork_join_cost(recorded, true_spec):
    """Two-thread times from a model with a 3 us half-time and a 1 us fork/join per op: the
    thread fit finds the fork/join cost with p and τ free."""
    recs = [r for r in _one_thread(recorded) if r["work"]["op_type"] in ("MatMul", "Gemm", "Conv")]
    table = F.records_table(recs)
    truth = true_spec.model_copy(update={"threads": 2, "parallel_fraction": {"matmul": 0.9, "conv": 0.9},
                                         "parallel_half_time_s": 3e-6, "parallel_sync_s": 1e-6})
    measured = synthetic(truth, recs, 4e-6, sigma=0.01, seed=6)
    par = F.fit_parallel_fraction(true_spec, 4e-6, table, measured, np.full(len(recs), 2))
    assert par.sync_s == pytest.approx(1e-6, rel=0.3)
    assert par.parallel_fraction["matmul"] == pytest.approx(0.9, abs=0.08)
