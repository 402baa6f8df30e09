"""Neuromorphic model (hwsim/devices/neuromorphic.py) on Loihi 2 and TrueNorth, by hand."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from hwsim import count_work, load_model
from hwsim.devices.base import Bound, CostTable
from hwsim.devices.library import load_device_spec
from hwsim.devices.neuromorphic import NeuromorphicModel
from hwsim.ops.work import OpWork, WorkKind, WorkTable

PJ = 1e-12


class FixedHost:
    """Stand-in host CPU: every op costs 1 ms and 2 mJ."""

    kind = "cpu"

    def price(self, table: WorkTable) -> CostTable:
        n = len(table)
        ones = np.ones(n)
        return CostTable(latency_s=1e-3 * ones, compute_s=1e-3 * ones, memory_s=0 * ones, overhead_s=0 * ones,
                         energy_j=2e-3 * ones, bound=np.zeros(n, dtype=np.int8), utilization=0 * ones,
                         peak_flops_per_s=1e9 * ones)


def chip(name: str = "loihi2", host=None, **update) -> NeuromorphicModel:
    return NeuromorphicModel(load_device_spec(name).model_copy(update=update), host=host)


def fc_row(name: str, k: int, n: int) -> tuple:
    macs = float(k * n)
    work = OpWork(kind=WorkKind.MATMUL, flops=2 * macs, macs=macs, bytes_read=4.0 * (k + k * n),
                  bytes_written=4.0 * n, params=k * n, weight_bytes=4.0 * k * n, gemm=(1, 1, n, k))
    return (name, "Gemm", "", ((1, n),), 1, work, 1)


def softmax_row(n: int) -> tuple:
    work = OpWork(kind=WorkKind.REDUCE, flops=5.0 * n, bytes_read=4.0 * n, bytes_written=4.0 * n)
    return ("softmax", "Softmax", "", ((1, n),), 1, work, 1)


@pytest.mark.parametrize("name", ["loihi2", "truenorth"])
def test_chip_capacity_matches_the_papers(name):
    spec = load_device_spec(name)
    assert spec.cores * spec.neurons_per_core == pytest.approx({"loihi2": 1_048_576, "truenorth": 1_048_576}[name])


def test_one_layer_energy_and_latency_by_hand():
    model = chip(timesteps=10, firing_rate=0.2, timestep_s=1e-5, energy_per_synop_j=1 * PJ,
                 energy_per_spike_j=2 * PJ, energy_per_neuron_update_j=3 * PJ)
    table = WorkTable.from_rows([fc_row("fc", 784, 256)], nx.DiGraph())
    synops = 784 * 256 * 0.2 * 10  # every input spike hits its 256 outgoing synapses
    spikes = 256 * 0.2 * 10
    updates = 256 * 10
    costs = model.price(table)
    assert costs.energy_j[0] == pytest.approx(synops * 1 * PJ + spikes * 2 * PJ + updates * 3 * PJ)
    assert costs.latency_s[0] == pytest.approx(10 * 1e-5)
    assert costs.bound[0] == Bound.COMPUTE


def test_synops_scale_with_weight_density():
    model = chip()
    table = WorkTable.from_rows([fc_row("fc", 100, 10)], nx.DiGraph())
    import dataclasses

    half = dataclasses.replace(table, columns=dict(table.columns, weight_density=np.array([0.5])))
    assert model.counts(half)["synops"][0] == pytest.approx(0.5 * model.counts(table)["synops"][0])


def test_mlp_chips_needed_by_hand():
    table = count_work(load_model("zoo:mlp"))  # 784-256-256-10: Gemm neurons 256 + 256 + 10 = 522
    params = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10  # 269,322 synapses (biases included)
    assert chip().counts(table)["neurons"].sum() == 522
    by_neurons = chip(cores=2, neurons_per_core=100, synapses_per_core=1_000_000)
    assert by_neurons.devices_needed(table) == math.ceil(522 / 200)  # 3
    by_synapses = chip(cores=2, neurons_per_core=10_000, synapses_per_core=20_000)
    assert by_synapses.devices_needed(table) == math.ceil(params / 40_000)  # 7
    assert chip().devices_needed(table) == 1


def test_refused_op_is_offloaded_with_transfer_priced():
    model = chip(host=FixedHost(), host_link_bw_bytes_per_s=1e6, host_link_latency_s=1e-4)
    table = WorkTable.from_rows([fc_row("fc", 64, 32), softmax_row(32)], nx.DiGraph())
    costs = model.price(table)
    assert list(model.supports(table)) == [True, False]
    transfer = (4 * 32 + 4 * 32) / 1e6 + 2 * 1e-4  # activations in + out, one round trip
    assert costs.bound[1] == Bound.OFFLOAD
    assert costs.latency_s[1] == pytest.approx(1e-3 + transfer)
    assert costs.overhead_s[1] == pytest.approx(transfer)
    assert costs.energy_j[1] == pytest.approx(2e-3)
    assert costs.bound[0] == Bound.COMPUTE


def test_real_host_prices_offloaded_rows():
    table = WorkTable.from_rows([fc_row("fc", 64, 32), softmax_row(32)], nx.DiGraph())
    model = chip()
    costs = model.price(table)
    assert costs.bound[1] == Bound.OFFLOAD
    assert costs.latency_s[1] > model.transfer_s(table)[1] > 0
    assert costs.energy_j[1] > 0


def test_bert_refusals_by_kind_and_op_type():
    table = count_work(load_model("zoo:bert-base"))
    model = chip(host=FixedHost())
    refused = set(table.op_type[model.row_classes(table)["refused"]])
    assert {"LayerNormalization", "Softmax", "Erf", "Mul", "Div", "Tanh"} <= refused
    assert not {"Gemm", "Add", "Reshape", "Transpose"} & refused
    attention = (table.op_type == "MatMul") & (table.columns["params"] == 0)
    assert attention.any() and not model.supports(table)[attention].any()  # activation x activation
    weighted = (table.op_type == "MatMul") & (table.columns["params"] > 0)
    assert model.supports(table)[weighted].all()
    costs = model.price(table)
    assert (costs.bound[model.row_classes(table)["refused"]] == Bound.OFFLOAD).all()


def test_resnet50_runs_entirely_on_chip():
    table = count_work(load_model("zoo:resnet50"))
    model = chip(host=FixedHost())
    assert model.supports(table).all()
    assert not (model.price(table).bound == Bound.OFFLOAD).any()
    assert model.devices_needed(table) > 1  # 11M neurons > 1M per Loihi 2


def test_pipelined_latency_and_refill_after_offload():
    T, step = 8, 1e-5
    model = chip(host=FixedHost(), timesteps=T, timestep_s=step, host_link_latency_s=0.0)
    chain = WorkTable.from_rows([fc_row("a", 8, 8), fc_row("b", 8, 8), fc_row("c", 8, 8)], nx.DiGraph())
    assert model.price(chain).total_latency_s == pytest.approx((T + 3 - 1) * step)
    broken = WorkTable.from_rows([fc_row("a", 8, 8), softmax_row(8), fc_row("c", 8, 8)], nx.DiGraph())
    on_chip = model.price(broken).latency_s[[0, 2]]
    assert on_chip == pytest.approx([T * step, T * step])  # the pipeline refills after the host


def test_plasticity_energy():
    assert chip().plasticity_energy_j(1e6) == pytest.approx(1e6 * 120 * PJ)


def test_more_spikes_or_timesteps_never_cheaper_or_faster():
    table = count_work(load_model("zoo:mlp"))
    energies = [chip(firing_rate=r).price(table).total_energy_j for r in (0.01, 0.05, 0.2, 0.5)]
    assert energies == sorted(energies)
    times = [chip(timesteps=t).price(table).total_latency_s for t in (1, 8, 32, 128)]
    assert times == sorted(times)
