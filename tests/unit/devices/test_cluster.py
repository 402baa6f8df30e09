"""Cluster pricing: degenerate cases equal one device; parallel degrees change what they should."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

import hwsim
from hwsim.config.cluster import ClusterSpec
from hwsim.devices import get_device
from hwsim.devices.cluster import pipeline_stages, price_cluster, tensor_parallel
from hwsim.devices.collectives import all_reduce_s
from hwsim.rollup import price_on

LINK = {"link_bw_bytes_per_s": 300e9, "link_latency_s": 2e-6}


@pytest.fixture(scope="module")
def gpt2():
    return hwsim.count_work(hwsim.load_model("zoo:gpt2?seq=128"))


def test_one_device_cluster_equals_the_device(gpt2):
    single = price_on(gpt2, get_device("a100-sxm-80gb"))
    one = price_cluster(gpt2, ClusterSpec(device="a100-sxm-80gb", count=1, **LINK))
    assert one.latency_s == pytest.approx(single.latency_s)
    assert one.energy_j == pytest.approx(single.energy_j)


def test_data_parallel_multiplies_throughput_only(gpt2):
    one = price_cluster(gpt2, ClusterSpec(device="a100-sxm-80gb", count=1, **LINK))
    four = price_cluster(gpt2, ClusterSpec(device="a100-sxm-80gb", count=4, dp=4, **LINK))
    assert four.latency_s == pytest.approx(one.latency_s)
    assert four.throughput_per_s == pytest.approx(4 * one.throughput_per_s)


def test_tensor_parallel_halves_gemms_and_adds_all_reduces(gpt2):
    rank, row_par = tensor_parallel(gpt2, 2)
    weighted = np.isin(gpt2.kind, [0, 1]) & (gpt2.columns["const_bytes"] > 0)
    assert np.allclose(rank.columns["macs"][weighted], gpt2.columns["macs"][weighted] / 2)
    # GPT-2 small: 12 layers × 4 weighted GEMMs (QKV, attention out-proj, MLP up, MLP down) + the
    # tied LM head = 49; alternating column/row parallel gives 24 row-parallel ones (out-proj, down)
    assert weighted.sum() == 49 and row_par.sum() == 24
    comm = float(all_reduce_s(gpt2.columns["bytes_written"][row_par], 2, 300e9, 2e-6).sum())
    tp2 = price_cluster(gpt2, ClusterSpec(device="a100-sxm-80gb", count=2, tp=2, **LINK))
    rank_latency = float(np.nansum(get_device("a100-sxm-80gb").price(rank).latency_s))
    assert tp2.latency_s == pytest.approx(rank_latency + comm)


def test_pipeline_stages_are_contiguous_and_balanced():
    stages = pipeline_stages(np.array([1.0, 1.0, 1.0, 1.0, 2.0, 2.0]), 2)
    assert list(stages) == [0, 0, 0, 0, 1, 1]


def test_impossible_degrees_rejected():
    with pytest.raises(ValidationError, match="must equal count"):
        ClusterSpec(device="a100-sxm-80gb", count=8, dp=2, tp=2, pp=1, **LINK)
