"""Chained microbenchmarks: graph structure, counted work, best-of-passes records."""

from __future__ import annotations

from pathlib import Path

import pytest
from onnx import numpy_helper

from hwsim.calibrate.microbench import best_of, chain_length, work_record
from hwsim.calibrate.signature import signature_graph
from hwsim.errors import ConfigError


def test_conv_chain_alternates_channels_and_counts_each_op():
    g = signature_graph("Conv:n=1,c=16,h=8,w=8,k=32,r=3,s=1,g=1,l=4:fp32").graph
    weights = {t.name: numpy_helper.to_array(t).shape for t in g.initializer}
    assert [n.op_type for n in g.node] == ["Conv"] * 4
    assert [weights[n.input[1]] for n in g.node] == [(32, 16, 3, 3), (16, 32, 3, 3)] * 2
    w = work_record("Conv:n=1,c=16,h=8,w=8,k=32,r=3,s=1,g=1,l=4:fp32")
    assert w["repeat"] == 4.0
    assert w["macs"] == 4 * 16 * 32 * 9 * 8 * 8  # each op: c·k·r²·h·w MACs (pads keep 8×8)


def test_matmul_chain_alternates_k_n():
    g = signature_graph("MatMul:m=4,n=32,k=16,l=3:fp32").graph
    shapes = [numpy_helper.to_array(t).shape for t in g.initializer]
    assert shapes == [(16, 32), (32, 16), (16, 32)]
    assert work_record("MatMul:m=4,n=32,k=16,l=3:fp32")["macs"] == 3 * 4 * 32 * 16


def test_strided_conv_chain_is_refused():
    with pytest.raises(ConfigError, match="stride"):
        signature_graph("Conv:n=1,c=8,h=8,w=8,k=8,r=3,s=2,g=1,l=2:fp32")


def test_broadcast_binary_has_a_constant_row():
    g = signature_graph("Add:e=2048,c=64,l=2:fp32").graph
    assert [d.dim_value for d in g.input[0].type.tensor_type.shape.dim] == [32, 64]
    assert [numpy_helper.to_array(t).shape for t in g.initializer] == [(64,)]
    assert work_record("Add:e=2048,c=64,l=2:fp32")["const_bytes"] == 2 * 64 * 4


def test_chain_length_bounds():
    assert chain_length(1e3) == 8 and chain_length(5e7) == 4 and chain_length(1e10) == 2


def test_best_of_keeps_the_fastest_pass():
    tries = [{"p10_s": 2.0, "median_s": 2.1}, {"p10_s": 1.0, "median_s": 1.2}, {"p10_s": 1.5, "median_s": 1.6}]
    best = best_of(tries)
    assert best["p10_s"] == 1.0 and best["median_s"] == 1.2
    assert best["tries"] == 3 and best["spread"] == 2.0


def test_validation_report_measures_predicts_and_writes(tmp_path):
    """One held-out graph, one round: the row's error is predicted / measured - 1, and both files
    name the model. cpu-generic is uncalibrated: no band, no residuals by kind."""
    pytest.importorskip("onnxruntime")
    import math

    from hwsim.calibrate.report import validation_report
    from hwsim.calibrate.validate import EXPORTED, Case

    case = Case("torch_cnn_bn", str(EXPORTED / "torch_cnn_bn_dynbatch.onnx"), {"batch": 2})
    yaml = Path(__file__).resolve().parents[3] / "devices" / "cpu" / "cpu-generic.yaml"
    rows, (png, page) = validation_report(yaml, tmp_path, threads=(1,), runs=3, rounds=2, cases=[case])
    (row,) = rows
    assert row["measured_s"] > 0 and row["predicted_s"] > 0
    assert row["error"] == pytest.approx(row["predicted_s"] / row["measured_s"] - 1)
    assert row["spread"] >= 1.0 and math.isnan(row["band_lo_s"])
    assert png.stat().st_size > 1000 and "torch_cnn_bn" in page.read_text()
