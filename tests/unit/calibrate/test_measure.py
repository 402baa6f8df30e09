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
