"""Global backprop training (hwsim/workload/training.py): counts derived by hand.

A dense layer Y[M×N] = X[M×K]·W[K×N] (no bias) costs 2MNK forward FLOPs. Its backward is
dX = dY·Wᵀ (2MNK) and dW = Xᵀ·dY (2MNK): 4MNK. Adam then costs 13 FLOPs per parameter
(m: 3, v: 4, denominator: 3, update: 3), reads w, g, m, v (16 B) and writes w, m, v (12 B)
per parameter in fp32. One training step of the layer is therefore 6MNK + 13KN FLOPs.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import hwsim
from hwsim.errors import ConfigError, HwsimError
from hwsim.ops.work import OpWork, WorkKind, WorkTable
from hwsim.workload.training import (
    BACKWARD,
    FORWARD,
    OPTIMIZER,
    backprop,
    model_flops,
    training_memory,
)

M, K, N = 4, 8, 3


def dense_table(m: int = M, k: int = K, n: int = N) -> WorkTable:
    macs = float(m * k * n)
    work = OpWork(kind=WorkKind.MATMUL, flops=2 * macs, macs=macs, bytes_read=4.0 * (m * k + k * n),
                  bytes_written=4.0 * m * n, params=k * n, weight_bytes=4.0 * k * n, const_bytes=4.0 * k * n,
                  gemm=(1, m, n, k))
    g = nx.DiGraph()
    g.add_node("fc")
    return WorkTable.from_rows([("fc", "MatMul", "", ((m, n),), 1, work, 1)], g)


def phase_sum(t: WorkTable, phase: int, key: str = "flops") -> float:
    return float(t.columns[key][t.columns["phase"] == phase].sum())


def test_dense_layer_fp32_adam_by_hand():
    t = backprop(dense_table(), "adam", mixed_precision=False)
    assert phase_sum(t, FORWARD) == 2 * M * N * K
    assert phase_sum(t, BACKWARD) == 4 * M * N * K
    assert phase_sum(t, OPTIMIZER) == 13 * K * N
    assert t.columns["flops"].sum() == 6 * M * N * K + 13 * K * N
    assert phase_sum(t, OPTIMIZER, "bytes_read") == 16 * K * N
    assert phase_sum(t, OPTIMIZER, "bytes_written") == 12 * K * N
    assert model_flops(t) == 6 * M * N * K


def test_dense_layer_gemm_views_are_transposed():
    t = backprop(dense_table(), "sgd", mixed_precision=False)
    view = {str(n): tuple(int(t.columns[f"gemm_{x}"][i]) for x in ("batch", "m", "n", "k")) for i, n in enumerate(t.name)}
    assert view["fc"] == (1, M, N, K)
    assert view["fc/bwd"] == (1, M, K, N)      # dX = dY·Wᵀ
    assert view["fc/bwd_w"] == (1, K, N, M)    # dW = Xᵀ·dY
    i = list(t.name).index("fc/bwd")
    assert t.columns["bytes_written"][i] == 4.0 * M * K  # dX
    j = list(t.name).index("fc/bwd_w")
    assert t.columns["bytes_written"][j] == 4.0 * K * N  # dW


@pytest.mark.parametrize(("optimizer", "flops"), [("sgd", 2), ("momentum", 4), ("adam", 13), ("adamw", 14)])
def test_optimizer_flops_per_param_mixed_precision_adds_two(optimizer, flops):
    t = backprop(dense_table(), optimizer, mixed_precision=True)
    assert phase_sum(t, OPTIMIZER) == (flops + 2) * K * N
    assert set(t.dtype[t.columns["phase"] <= BACKWARD]) == {"bf16"}
    assert set(t.dtype[t.columns["phase"] == OPTIMIZER]) == {"fp32"}


def test_mixed_precision_adam_bytes():
    t = backprop(dense_table(), "adam", mixed_precision=True)
    assert phase_sum(t, OPTIMIZER, "bytes_read") == (4 + 2 + 8) * K * N      # w, bf16 g, m, v
    assert phase_sum(t, OPTIMIZER, "bytes_written") == (4 + 8 + 2) * K * N   # w, m, v, bf16 copy
    assert phase_sum(t, FORWARD, "bytes_written") == 2.0 * M * N


@pytest.fixture(scope="module")
def mlp():
    return hwsim.count_work(hwsim.load_model("zoo:mlp?batch=4"))


def test_mlp_sums_the_layers(mlp):
    """784-256-256-10 with bias, batch m = 4: Gemm forward 2mnk + mn (bias), backward 4mnk +
    mn (bias gradient); ReLU 1 FLOP per element forward and backward; Adam 13 per parameter."""
    m, layers = 4, [(784, 256), (256, 256), (256, 10)]
    fwd = sum(2 * m * n * k + m * n for k, n in layers) + 2 * m * 256
    bwd = sum(4 * m * n * k + m * n for k, n in layers) + 2 * m * 256
    params = sum(k * n + n for k, n in layers)
    assert params == 269_322
    t = backprop(mlp, "adam", mixed_precision=False)
    assert phase_sum(t, FORWARD) == fwd
    assert phase_sum(t, BACKWARD) == bwd
    assert phase_sum(t, OPTIMIZER) == 13 * params


def test_recompute_adds_exactly_one_forward(mlp):
    plain = backprop(mlp, "sgd", mixed_precision=False)
    again = backprop(mlp, "sgd", mixed_precision=False, recompute=True)
    fwd = float(mlp.columns["flops"].sum())
    assert again.columns["flops"].sum() == pytest.approx(plain.columns["flops"].sum() + fwd)
    assert model_flops(again) == model_flops(plain)
    assert int(again.columns["recompute"].sum()) == len(mlp)


def test_joint_dag(mlp):
    t = backprop(mlp, "adam", recompute=True)
    g = t.graph
    assert nx.is_directed_acyclic_graph(g)
    assert set(g.nodes) == set(t.name)
    assert g.has_edge("fc2/bwd", "relu1/bwd")          # gradient flows backwards
    assert g.has_edge("fc2/bwd_w", "fc2/opt")          # optimizer after its weight gradient
    assert g.has_edge("fc1/recompute", "fc1/bwd")      # backward reads the recomputed output
    assert not g.has_edge("fc1/bwd", "fc2/bwd")


def test_activation_products_get_two_data_gradients():
    t = hwsim.count_work(hwsim.load_model("zoo:gpt2?seq=8"))
    tr = backprop(t, "sgd", mixed_precision=False)
    names = list(tr.name)
    assert "h.0.attn.scores/bwd_b" in names and "h.0.attn.scores/bwd_w" not in names
    assert "h.0.attn.c_attn/bwd_w" in names
    fwd = t.columns["flops"][list(t.name).index("h.0.attn.scores")]
    for suffix in ("/bwd", "/bwd_b"):
        assert tr.columns["flops"][names.index("h.0.attn.scores" + suffix)] == fwd


def test_memory_by_hand(mlp):
    p = 269_322
    acts = 4 * 4 * (256 + 256 + 256 + 256 + 10)  # fp32 outputs of fc1, relu1, fc2, relu2, fc3
    fp32 = training_memory(mlp, "adam", mixed_precision=False)
    assert fp32 == {"weights": 4 * p, "master_weights": 0, "gradients": 4 * p, "optimizer_state": 8 * p,
                    "activations": acts, "total": 16 * p + acts}
    mp = training_memory(mlp, "adam", mixed_precision=True, microbatch=3)
    assert (mp["weights"], mp["master_weights"], mp["gradients"], mp["optimizer_state"]) == (2 * p, 4 * p, 2 * p, 8 * p)
    assert mp["activations"] == 3 * acts / 2
    assert training_memory(mlp, "sgd", mixed_precision=False)["optimizer_state"] == 0
    assert training_memory(mlp, "momentum", mixed_precision=False)["optimizer_state"] == 4 * p


def test_recompute_memory_checkpoints_by_hand(mlp):
    """5 writing ops → segments of ⌈√5⌉ = 3: checkpoint = fc2's output (4096 B); largest
    segment fc1+relu1+fc2 = 12288 B, held once."""
    mem = training_memory(mlp, "sgd", mixed_precision=False, recompute=True, microbatch=2)
    assert mem["activations"] == 2 * 4096 + 12288


def test_gpt3_training_flops_are_6ND():
    """Brown et al. 2020 / Patterson et al. 2021: GPT-3 training ≈ 3.14e23 FLOPs (6·N·D, 300 B
    tokens). hwsim also counts attention scores and non-GEMM ops: +2.9%."""
    t = hwsim.count_work(hwsim.load_model("zoo:gpt3-175b?seq=2048"))
    tr = backprop(t, "adamw")
    tokens = 300e9
    ours = model_flops(tr) * tokens / 2048
    assert ours == pytest.approx(3.14e23, rel=0.05)
    assert 6 * float(t.columns["params"].sum()) * tokens == pytest.approx(3.14e23, rel=0.01)
    assert model_flops(tr) == pytest.approx(3 * t.columns["flops"].sum(), rel=0.01)


def test_bad_input_raises():
    with pytest.raises(ConfigError, match="unknown optimizer"):
        backprop(dense_table(), "lion")
    with pytest.raises(ConfigError, match="compute dtype"):
        backprop(dense_table(), "adam", compute_dtype="int8")
    with pytest.raises(HwsimError, match="microbatch"):
        training_memory(dense_table(), microbatch=0)
    assert math.isfinite(training_memory(dense_table())["total"])


def test_backward_multiples_documented_for_softmax_and_norm():
    t = hwsim.count_work(hwsim.load_model("zoo:gpt2?seq=8"))
    tr = backprop(t, "sgd", mixed_precision=False)
    names, fwd_names = list(tr.name), list(t.name)
    for op, mult in (("h.0.attn.softmax", 0.8), ("h.0.ln_1", 2.0), ("h.0.mlp.gelu.tanh", 2.0)):
        assert tr.columns["flops"][names.index(op + "/bwd")] == pytest.approx(mult * t.columns["flops"][fwd_names.index(op)])
    assert np.all(tr.columns["flops"] >= 0)
