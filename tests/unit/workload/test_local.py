"""Local-update training (hwsim/workload/local.py) and its pricing on Loihi 2 vs A100.

MLP 784-256-256-10, batch m = 4. Hebbian update of a layer K×N: ΔW = Xᵀ·Y over the m rows =
m·K·N MACs, + 2 FLOPs per weight to apply; K·N plasticity events per step.
"""

from __future__ import annotations

import numpy as np
import pytest

import hwsim
from hwsim.devices import get_device
from hwsim.devices.base import Bound
from hwsim.errors import ConfigError
from hwsim.workload.local import local_memory, local_training
from hwsim.workload.training import BACKWARD, FORWARD, LOCAL_UPDATE, backprop, training_memory

LAYERS = [(784, 256), (256, 256), (256, 10)]
M = 4


@pytest.fixture(scope="module")
def mlp():
    return hwsim.count_work(hwsim.load_model(f"zoo:mlp?batch={M}"))


@pytest.fixture(scope="module")
def hebb(mlp):
    return local_training(mlp, "hebbian")


def updates(t):
    return t.columns["phase"] == LOCAL_UPDATE


def test_hebbian_structure(mlp, hebb):
    c = hebb.columns
    assert not np.any(c["phase"] == BACKWARD)
    assert not any(str(t).endswith("Grad") for t in hebb.op_type)
    assert int(updates(hebb).sum()) == 3
    assert c["plasticity"].sum() == sum(k * n for k, n in LAYERS)
    assert list(c["macs"][updates(hebb)]) == [M * k * n for k, n in LAYERS]
    assert list(c["flops"][updates(hebb)]) == [2 * M * k * n + 2 * k * n for k, n in LAYERS]
    assert c["flops"][c["phase"] == FORWARD].sum() == mlp.columns["flops"].sum()


def test_hebbian_holds_one_layer_of_activations(mlp):
    """Largest (input + output) of one op: fc1 reads 4·784·4 B and writes 4·256·4 B."""
    mem = local_memory(mlp, "hebbian")
    assert mem["activations"] == 4 * M * (784 + 256)
    assert mem["activations"] < training_memory(mlp, "sgd", mixed_precision=False)["activations"] + 4 * M * 784
    assert mem["feedback_matrices"] == 0
    assert local_memory(mlp, "forward_forward")["activations"] == 2 * mem["activations"]


def test_hebbian_on_loihi2_is_plasticity_energy(hebb):
    chip = get_device("loihi2")
    costs = chip.price(hebb)
    up = updates(hebb)
    assert np.all(costs.bound[up] != Bound.OFFLOAD)
    assert chip.supports(hebb)[up].all()
    expected = hebb.columns["plasticity"][up] * chip.spec.energy_per_plasticity_j
    assert np.allclose(costs.energy_j[up], expected)
    assert costs.energy_j[up].sum() == pytest.approx(sum(k * n for k, n in LAYERS) * 120e-12)


def test_hebbian_on_a100_is_gemm_rows(hebb):
    gpu = get_device("a100-sxm-80gb")
    costs = gpu.price(hebb)
    up = updates(hebb)
    assert np.all(np.isin(costs.bound[up], [Bound.COMPUTE, Bound.MEMORY, Bound.OVERHEAD]))
    assert np.all(costs.peak_flops_per_s[up] > 0)  # priced as arithmetic, not as plasticity events
    assert not np.allclose(costs.energy_j[up], hebb.columns["plasticity"][up] * 120e-12)


def test_backprop_backward_rows_refused_on_loihi2(mlp):
    t = backprop(mlp, "sgd", mixed_precision=False)
    costs = get_device("loihi2").price(t)
    grads = (t.columns["phase"] == BACKWARD) & (t.columns["macs"] > 0)
    assert grads.sum() == 6
    assert np.all(costs.bound[grads] == Bound.OFFLOAD)
    assert np.all(costs.bound[(t.columns["phase"] == FORWARD) & (t.columns["macs"] > 0)] != Bound.OFFLOAD)


def test_forward_forward(mlp):
    t = local_training(mlp, "forward_forward")
    c = t.columns
    assert c["flops"][c["phase"] == FORWARD].sum() == 2 * mlp.columns["flops"].sum()
    assert not np.any(c["phase"] == BACKWARD)
    up = updates(t)
    assert list(c["gemm_k"][up]) == [2 * M] * 3
    assert list(c["flops"][up]) == [2 * 2 * M * k * n + 4 * 2 * M * n + 2 * k * n for k, n in LAYERS]
    assert c["plasticity"].sum() == sum(k * n for k, n in LAYERS)


def test_feedback_alignment_costs_what_backprop_costs(mlp):
    fa = local_training(mlp, "feedback_alignment", optimizer="sgd")
    bp = backprop(mlp, "sgd", mixed_precision=False)
    assert fa.columns["flops"].sum() == bp.columns["flops"].sum()
    assert fa.columns["bytes_read"].sum() == bp.columns["bytes_read"].sum()
    mem = local_memory(mlp, "feedback_alignment")
    assert mem["feedback_matrices"] == sum(4 * (k * n + n) for k, n in LAYERS)


def test_unknown_rule():
    with pytest.raises(ConfigError, match="unknown local learning rule"):
        local_training(hwsim.count_work(hwsim.load_model("zoo:mlp")), "oja")
    with pytest.raises(ConfigError):
        local_memory(hwsim.count_work(hwsim.load_model("zoo:mlp")), "oja")
