"""Per-node cost of executed zero-work ops (``CpuSpec.zero_work_dispatch_s``): default free,
folded rows always free, recovered by the fit from chains of Unsqueeze/Squeeze, and the
shared-machine noise guard of the measurement protocol."""

from __future__ import annotations

import networkx as nx
import pytest

from hwsim.calibrate import fit as F
from hwsim.calibrate.measure import others_busy_cores
from hwsim.devices.cpu import CpuModel
from hwsim.ops.work import OpWork, WorkKind, WorkTable

from .conftest import synthetic

CHAINS = ("Unsqueeze:e=64,n=2:fp32", "Unsqueeze:e=64,n=16:fp32", "Unsqueeze:e=4096,n=32:fp32")


def _zero_rows(folded: tuple[int, ...]) -> WorkTable:
    rows = [(f"r{i}", "Reshape", "", ((4,),), 1, OpWork(kind=WorkKind.NONE), 1.0, f) for i, f in enumerate(folded)]
    return WorkTable.from_rows(rows, nx.DiGraph())


def test_default_spec_prices_zero_work_rows_free():
    from hwsim.devices.library import load_device_spec

    spec = load_device_spec("epyc-9654")
    assert spec.zero_work_dispatch_s == 0.0
    assert CpuModel(spec).price(_zero_rows((0, 0, 1))).latency_s.tolist() == [0.0, 0.0, 0.0]


def test_executed_zero_work_rows_cost_one_dispatch_folded_stay_free(true_spec):
    spec = true_spec.model_copy(update={"zero_work_dispatch_s": 3e-7})
    lat = CpuModel(spec).price(_zero_rows((0, 1, 0))).latency_s
    assert lat.tolist() == pytest.approx([3e-7, 0.0, 3e-7])


def test_loader_marks_folded_rows():
    from hwsim import count_work, load_model
    from hwsim.calibrate.validate import EXPORTED

    table = count_work(load_model(str(EXPORTED / "torch_transformer_dynbs.onnx"), {"batch": 2, "seq": 16}))
    folded = table.columns["folded"] > 0
    assert folded.any() and (~folded).any()
    assert (table.columns["flops"][folded] == 0).all()


def test_fit_recovers_synthetic_zero_work_dispatch(recorded, true_spec):
    from hwsim.calibrate.microbench import work_record

    recs = [r for r in recorded["records"] if r["threads"] == 1 and r["work"]["op_type"] not in ("LSTM", "LRN")]
    recs += [{"signature": s, "threads": 1, "work": work_record(s)} for s in CHAINS]
    truth = true_spec.model_copy(update={"zero_work_dispatch_s": 4e-7})
    measured = synthetic(truth, recs, 4e-6, sigma=0.01, seed=3)
    res = F.fit_one_thread(true_spec, F.records_table(recs), measured)
    assert "zero_work_dispatch_s" in res.parameters
    assert res.spec.zero_work_dispatch_s == pytest.approx(4e-7, rel=0.2)
    assert res.session_s == pytest.approx(4e-6, rel=0.15)


def test_fit_without_chains_keeps_base_value(recorded, true_spec):
    recs = [r for r in recorded["records"] if r["threads"] == 1][:20]
    table = F.records_table(recs)
    res = F.fit_one_thread(true_spec, table, synthetic(true_spec, recs, 4e-6, sigma=0.01))
    assert "zero_work_dispatch_s" not in res.parameters and res.spec.zero_work_dispatch_s == 0.0


def test_others_busy_cores_excludes_own_cpu_time():
    import os

    hz = os.sysconf("SC_CLK_TCK")
    # machine busy 3 s worth of jiffies in 2 s of wall time, 1 s of it ours: others used 1 core
    assert others_busy_cores((0.0, 0.0), (3.0 * hz, 1.0 * hz), 2.0) == pytest.approx(1.0)
    assert others_busy_cores((10.0, 0.0), (10.0, 5.0), 1.0) == 0.0


def test_a_busy_reading_retries_only_tries_long_enough_to_mean_it(monkeypatch):
    """Scripted: other processes always read 1.5 cores busy. A 0.2 s try is retried (3 attempts,
    2 pauses); a 20 ms one is not (10 ms jiffies: one stray tick reads as half a core)."""
    import numpy as np

    from hwsim.calibrate import measure as M

    pauses = []
    monkeypatch.setattr(M, "others_busy_cores", lambda before, after, wall: 1.5)
    monkeypatch.setattr(M.time, "sleep", pauses.append)
    monkeypatch.setattr(M.os, "cpu_count", lambda: 2)
    for wall, expected in ((0.2, 2), (0.02, 0)):
        clock = iter(np.arange(0.0, 100.0, wall))
        monkeypatch.setattr(M.time, "perf_counter", lambda clock=clock: next(clock))
        monkeypatch.setattr(M, "time_runs", lambda *a, **k: np.full(5, 1e-3))
        pauses.clear()
        M.quiet_runs(None, {}, 5, 0, threads=2, attempts=3, pause_s=1.0)
        assert len(pauses) == expected
