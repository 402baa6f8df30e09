"""Magnitude pruning of real weights (loader sees density and pattern), declared pruning on
weights-free tables, and what each pattern buys on GPU and sparse-accelerator models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import hwsim
from hwsim.devices import make_device
from hwsim.devices.library import load_device_spec
from hwsim.errors import ConfigError
from hwsim.ops.work import PATTERN_CODES, WorkKind
from hwsim.workload.prune import PruneSpec, parse_prune_spec, prune_model, prune_table
from hwsim.workload.quantize import cast_dtype

RESNET = "zoo:resnet18?weights=random"


def two_layer(m: int = 64, k: int = 256, n: int = 128, seed: int = 0) -> onnx.ModelProto:
    """x[m,k] · W1[k,n] (MatMul) → Relu → Gemm(W2[32,n], transB=1): real random weights."""
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((k, n)).astype(np.float32)
    w2 = rng.standard_normal((32, n)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "w2"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, 32])],
                              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def loaded_weights(model) -> dict[str, tuple[float, str]]:
    """Op name → (density, pattern) the loader measured on its weight input."""
    return {n.name: (n.inputs[1].density, n.inputs[1].pattern) for n in hwsim.load_model(model).nodes
            if n.op_type in ("MatMul", "Gemm", "Conv")}


@pytest.fixture(scope="module")
def resnet_2_4():
    return prune_model(RESNET, 0.5, "2:4")


@pytest.mark.parametrize("density", [0.1, 0.3, 0.7])
def test_unstructured_hits_density_per_layer_and_loader_sees_it(density):
    model = two_layer()
    before = onnx.ModelProto()
    before.CopyFrom(model)
    out = prune_model(model, density)
    assert model == before  # input never mutated
    for name, (d, pattern) in loaded_weights(out).items():
        assert d == pytest.approx(density, abs=1e-3), name
        assert pattern == "unstructured"
    # magnitude: every kept weight is at least as large as every pruned one
    w, p = weights(model)["w1"], weights(out)["w1"]
    assert np.abs(w[p != 0]).min() >= np.abs(w[p == 0]).max()
    assert np.array_equal(p[p != 0], w[p != 0])


def test_global_threshold_keeps_total_density_and_one_threshold():
    model = two_layer()
    rng = np.random.default_rng(1)
    model.graph.initializer[1].CopyFrom(numpy_helper.from_array(
        (rng.standard_normal((32, 128)) * 10).astype(np.float32), "w2"))  # a layer of larger weights
    out = weights(prune_model(model, 0.2, threshold="global"))
    total = sum(np.count_nonzero(a) for a in out.values()) / sum(a.size for a in out.values())
    assert total == pytest.approx(0.2, abs=1e-3)
    assert np.count_nonzero(out["w2"]) / out["w2"].size > 0.8  # the large layer mostly survives
    assert np.count_nonzero(out["w1"]) / out["w1"].size < 0.15
    src = weights(model)
    kept = min(np.abs(src[n][out[n] != 0]).min() for n in out)
    dropped = max(np.abs(src[n][out[n] == 0]).max() for n in out)
    assert kept >= dropped


def test_two_four_along_reduction_axis_every_group(resnet_2_4):
    model = two_layer()
    out = weights(prune_model(model, 0.5, "2:4"))
    # MatMul W1 [K, N]: groups of 4 along K (axis 0); Gemm transB=1 W2 [N, K]: along axis 1
    assert (np.count_nonzero(out["w1"].reshape(-1, 4, 128), axis=1) == 2).all()
    assert (np.count_nonzero(out["w2"].reshape(32, -1, 4), axis=2) == 2).all()
    assert set(loaded_weights(prune_model(model, 0.5, "2:4")).values()) == {(0.5, "2:4")}
    layers = loaded_weights(resnet_2_4)
    conv = weights(resnet_2_4)["layer2.0.conv2.weight"]  # [128, 128, 3, 3]: im2col K = 1152
    assert (np.count_nonzero(conv.reshape(128, -1, 4), axis=2) == 2).all()
    assert layers["conv1"] == (1.0, "dense")  # K = 3·7·7 = 147 is not a multiple of 4: left dense
    assert all(v == (0.5, "2:4") for k, v in layers.items() if k != "conv1")
    assert "skipped=conv1.weight" in {p.key: p.value for p in resnet_2_4.metadata_props}["hwsim.prune"]


def test_one_four_is_two_four_compatible():
    out = prune_model(two_layer(), 0.25, "1:4")
    w1 = weights(out)["w1"]
    assert (np.count_nonzero(w1.reshape(-1, 4, 128), axis=1) == 1).all()
    assert set(loaded_weights(out).values()) == {(0.25, "2:4")}


def test_block_pruning_zeros_whole_blocks():
    out = prune_model(two_layer(), 0.25, "block4x4")
    for name, w in weights(out).items():
        mat = w.reshape(w.shape[0], -1)
        blocks = np.count_nonzero(mat.reshape(mat.shape[0] // 4, 4, -1, 4), axis=(1, 3))
        assert set(np.unique(blocks)) == {0, 16}, name
        assert (blocks == 16).mean() == pytest.approx(0.25, abs=1e-3)
    assert set(loaded_weights(out).values()) == {(0.25, "block4x4")}


def test_block_keeps_largest_l1_blocks():
    w = np.ones((8, 8), np.float32)
    w[4:, 4:] = 5.0  # the heaviest block
    model = two_layer()
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.tile(w, (32, 16)), "w1"))
    out = weights(prune_model(model, 0.25, "block4x4", scope="matmul"))["w1"]
    assert (out.reshape(32, 8, 16, 8)[:, 4:, :, 4:] == 5.0).all()
    assert np.count_nonzero(out) == out.size // 4


def test_scope_conv_only_leaves_fc_dense():
    layers = loaded_weights(prune_model(RESNET, 0.5, "unstructured", scope="conv"))
    assert layers["fc"] == (1.0, "dense")
    assert layers["layer3.1.conv1"][0] == pytest.approx(0.5, abs=1e-3)


def test_weights_free_model_is_refused_with_a_hint():
    with pytest.raises(ConfigError, match="weights=random"):
        prune_model("zoo:mlp", 0.5)


def test_counted_table_carries_measured_pattern_codes(resnet_2_4):
    table = hwsim.count_work(hwsim.load_model(resnet_2_4))
    codes = dict(zip(table.name, table.columns["weight_pattern"]))
    assert codes["layer1.0.conv1"] == PATTERN_CODES["2:4"] == 2
    assert codes["conv1"] == 0 and codes["layer1.0.conv1.relu"] == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("0.1", PruneSpec(0.1)), ("0.5:2:4", PruneSpec(0.5, "nm", 2, 4)), ("2:4", PruneSpec(0.5, "nm", 2, 4)),
    ("0.25:1:4", PruneSpec(0.25, "nm", 1, 4)), ("0.25:block4x4", PruneSpec(0.25, "block", block=(4, 4))),
    ("0.3:block", PruneSpec(0.3, "block", block=(4, 4))), ("1", PruneSpec(1.0)),
    ("0.2:unstructured", PruneSpec(0.2)),
])
def test_parse_prune_spec(text, expected):
    assert parse_prune_spec(text) == expected


@pytest.mark.parametrize(("text", "match"), [
    ("0", r"\(0, 1\]"), ("1.5", r"\(0, 1\]"), ("-0.1:2:4", r"\(0, 1\]"), ("0.3:2:4", "2/4 = 0.5"),
    ("0.5:diagonal", "unknown prune pattern"), ("half", "not a density"), ("5:4", "0 < N <= M"),
    ("0.5:0:4", "0 < N <= M"),
])
def test_parse_prune_spec_errors(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_prune_spec(text)


def test_pattern_labels():
    assert parse_prune_spec("0.5:4:8").label == "unstructured"  # not guaranteed ≤ 2 per 4
    assert parse_prune_spec("0.25:2:8").label == "2:4"
    assert parse_prune_spec("0.25:block8x8").label == "unstructured"


@pytest.fixture(scope="module")
def bert16():
    return cast_dtype(hwsim.count_work(hwsim.load_model("zoo:bert-base?seq=512&batch=8")), "fp16")


def test_prune_table_declares_density_and_pattern(bert16):
    out = prune_table(bert16, 0.5, "2:4")
    weighted = np.isin(bert16.kind, [int(WorkKind.MATMUL), int(WorkKind.CONV)]) & (bert16.columns["const_bytes"] > 0)
    assert weighted.sum() == 12 * 6 + 1  # Q, K, V, O, FFN1, FFN2 per layer + pooler
    assert (out.columns["weight_pattern"][weighted] == 2).all()
    assert (out.columns["weight_pattern"][~weighted] == bert16.columns["weight_pattern"][~weighted]).all()
    assert (out.columns["weight_density"][weighted] == 0.5).all()
    unstructured = prune_table(bert16, 0.5)
    assert (unstructured.columns["weight_pattern"][weighted] == 1).all()
    with pytest.raises(ConfigError):
        prune_table(bert16, 0.3, "2:4")


def test_two_four_doubles_tensor_math_on_a100_unstructured_gives_nothing(bert16):
    a100 = make_device(load_device_spec("a100-sxm-40gb"))
    dense = a100.price(bert16)
    s24 = a100.price(prune_table(bert16, 0.5, "2:4"))
    half = a100.price(prune_table(bert16, 0.5, "unstructured"))
    # the token-wise projections (m = 8·512 rows); the tiny pooler GEMM is memory-bound
    weighted = (bert16.kind == int(WorkKind.MATMUL)) & (bert16.columns["const_bytes"] > 0)
    big = weighted & (bert16.columns["gemm_m"] * bert16.columns["gemm_batch"] == 8 * 512)
    assert big.sum() == 72 and (dense.bound[big] == dense.bound[big][0]).all()
    assert np.allclose(s24.compute_s[big], dense.compute_s[big] / 2)
    assert np.allclose(s24.compute_s[~weighted], dense.compute_s[~weighted])  # attention, softmax, norms
    assert np.allclose(half.latency_s[big], dense.latency_s[big])  # unstructured 0.5: nothing
    assert half.total_latency_s == pytest.approx(dense.total_latency_s, rel=1e-3)
    assert s24.total_latency_s < dense.total_latency_s


def test_measured_two_four_runs_on_sparse_tensor_cores():
    model = two_layer(m=4096, k=2048, n=2048)
    a100 = make_device(load_device_spec("a100-sxm-40gb"))
    dense, s24 = (a100.price(cast_dtype(hwsim.count_work(hwsim.load_model(m)), "fp16"))
                  for m in (model, prune_model(model, 0.5, "2:4")))
    assert s24.compute_s[0] == pytest.approx(dense.compute_s[0] / 2)
    assert s24.compute_s[1] == pytest.approx(dense.compute_s[1])  # Relu


def test_sparse_accelerator_gains_from_unstructured_density():
    mlp = hwsim.count_work(hwsim.load_model("zoo:mlp?batch=1"))
    eie = make_device(load_device_spec("eie"))
    lat = [eie.price(prune_table(mlp, d)).total_latency_s for d in (1.0, 0.5, 0.1)]
    assert lat[0] > lat[1] > lat[2]
    assert lat[0] / lat[2] > 2  # 10x fewer MACs, less index padding, load imbalance, vector ops
    assert eie.price(prune_table(mlp, 0.5, "2:4")).total_latency_s == pytest.approx(lat[1])  # any pattern
