"""Measurement on real onnxruntime (skipped without it): JSON shape, per-op names map to hwsim rows."""

from __future__ import annotations

import pytest

from hwsim.calibrate.signature import make_signature, parse_signature, signature_graph
from hwsim.errors import ConfigError


def test_measure_model_shape_and_per_op_names():
    pytest.importorskip("onnxruntime")
    from hwsim import count_work, load_model
    from hwsim.calibrate.measure import measure_model, named_proto, runnable_source

    r = measure_model("zoo:lenet5", threads=1, runs=3, warmup=1, per_op=True)
    assert set(r) >= {"model", "threads", "median_s", "p10_s", "p90_s", "runs", "per_op"}
    assert 0 < r["p10_s"] <= r["median_s"] <= r["p90_s"]
    rows = set(count_work(load_model(named_proto(runnable_source("zoo:lenet5")))).name)
    assert {o["name"] for o in r["per_op"]} <= rows and len(r["per_op"]) >= 5
    assert "removed_op_types" in r["fused"]


def test_signature_roundtrip_and_errors():
    sig = make_signature("Conv", {"n": 1, "c": 8, "h": 8, "w": 8, "k": 8, "r": 3})
    assert parse_signature(sig) == ("Conv", {"n": 1, "c": 8, "h": 8, "w": 8, "k": 8, "r": 3}, "fp32")
    assert len(signature_graph("Relu:e=8,n=4:fp32").graph.node) == 4
    with pytest.raises(ConfigError, match="missing key 'k'"):
        signature_graph("MatMul:m=1,n=2:fp32")
    with pytest.raises(ConfigError, match="dtype"):
        parse_signature("MatMul:m=1,n=1,k=1:fp8")


def test_microbench_grid_sizes():
    from hwsim.calibrate.microbench import grid

    quick, full = grid(True), grid(False)
    assert 100 <= len(quick) < len(full)
    assert any(s.startswith("MatMulInteger") for s in quick) and any(",g=" in s and "g=1:" not in s for s in quick)


def test_a_benchmark_measured_slow_in_every_pass_is_measured_again(monkeypatch):
    """Scripted gauge: fast (10 us) except while job B's two passes run (15 us, drift 1.5). B is
    timed a third time once the gauge reads fast again and keeps that try; A keeps its own."""
    from hwsim.calibrate import microbench as mb

    gauge_times = iter([10e-6, 15e-6, 10e-6, 15e-6, 15e-6, 10e-6])  # A, B, A, B, then B's retry waits
    sleeps = []

    class Gauge:
        def __init__(self, threads=1):
            self.samples = []

        def sample(self):
            self.samples.append(next(gauge_times))
            return self.samples[-1]

        def usual(self):
            return min(self.samples)

        def wait_fast(self, limit, attempts=5, pause_s=0.5):
            t = self.sample()
            while t > limit * self.usual():
                sleeps.append(pause_s)
                t = self.sample()
            return t

    calls = {"A": 0, "B": 0}

    def fake_time(sig, threads, budget_s):
        calls[sig] += 1
        p10 = {"A": 1e-4, "B": 3e-4 if calls[sig] <= 2 else 2e-4}[sig]
        return {"signature": sig, "threads": threads, "p10_s": p10, "median_s": p10, "p90_s": p10, "runs": 5}

    monkeypatch.setattr(mb, "grid", lambda quick: ["A", "B"])
    monkeypatch.setattr(mb, "work_record", lambda sig: {"op_type": sig})
    monkeypatch.setattr(mb, "time_signature", fake_time)
    monkeypatch.setattr(mb, "DriftGauge", Gauge)
    recs = {r["signature"]: r for r in mb.run_microbenchmarks(True, [1], passes=2)}
    assert calls == {"A": 2, "B": 3} and sleeps == [0.5]
    assert recs["B"]["p10_s"] == 2e-4 and recs["B"]["tries"] == 3 and recs["B"]["drift"] == 1.0
    assert recs["A"]["p10_s"] == 1e-4 and recs["A"]["drift"] == 1.0
