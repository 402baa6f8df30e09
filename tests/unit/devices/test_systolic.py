"""Systolic-array device model: fold cycles, dataflows, re-fetch traffic, vector unit, presets."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from hwsim.config.devices import SystolicSpec
from hwsim.devices import get_device, make_device
from hwsim.devices.base import Bound, UnsupportedDtypeError
from hwsim.devices.systolic import SystolicModel
from hwsim.ops.work import OpWork, WorkKind, WorkTable

ENERGY = {"mac_j": {"fp32": 4e-12, "bf16": 1e-12, "int8": 2e-13}, "op_j": {"fp32": 1e-12, "bf16": 5e-13},
          "sram_byte_j": 1e-12, "dram_byte_j": 3e-11}


def spec(**over) -> SystolicSpec:
    """A 32×32 ws test chip with huge buffers (no re-fetch) unless overridden."""
    base = dict(name="test-systolic", mem_bytes=1e10, mem_bw_bytes_per_s=1e12, tdp_w=100.0, power_idle_w=10.0,
                energy=ENERGY, array_rows=32, array_cols=32, arrays=1, freq_hz=1e9, dataflow="ws",
                ifmap_sram_bytes=1e9, filter_sram_bytes=1e9, ofmap_sram_bytes=1e9, sram_bw_bytes_per_s=1e15,
                vector_flops_per_s=1e12, dtype_speedup={"fp32": 1.0, "bf16": 1.0, "int8": 2.0})
    base.update(over)
    return SystolicSpec(**base)


def gemm_work(m: int, n: int, k: int, batch: int = 1, dtype: str = "fp32", extra_flops: float = 0.0) -> OpWork:
    """A GEMM op's work with compulsory bytes (A, B read once, C written once)."""
    e = {"fp32": 4, "bf16": 2, "int8": 1, "fp64": 8}[dtype]
    macs = batch * m * n * k
    return OpWork(kind=WorkKind.MATMUL, flops=2.0 * macs + extra_flops, macs=macs,
                  bytes_read=batch * (m * k + k * n) * e, bytes_written=batch * m * n * e,
                  params=k * n, weight_bytes=batch * k * n * e, gemm=(batch, m, n, k), dtype=dtype)


def table(*works: OpWork, supported: tuple[float, ...] | None = None) -> WorkTable:
    ok = supported or (1.0,) * len(works)
    rows = [(f"op{i}", "MatMul", "", ((1,),), 1, w, ok[i]) for i, w in enumerate(works)]
    return WorkTable.from_rows(rows, nx.DiGraph())


def cycles(sp: SystolicSpec, *works: OpWork) -> np.ndarray:
    return SystolicModel(sp).compute_cycles(table(*works))


# --- cycle model -------------------------------------------------------------------------------

def test_dataflows_hand_example():
    """GEMM M=100, K=64, N=32 on a 32×32 array (R = C = 32), by hand:

    ws: Sr = K = 64 -> 2 row folds, Sc = N = 32 -> 1 col fold, T = M = 100;
        per fold 2R + C + T - 2 = 64 + 32 + 100 - 2 = 194; cycles = 2·194 - 1 = 387.
    os: Sr = M = 100 -> 4 row folds, Sc = N -> 1, T = K = 64;
        per fold R + C + T - 2 = 32 + 32 + 64 - 2 = 126; cycles = 4·126 - 1 = 503.
    is: Sr = K = 64 -> 2, Sc = M = 100 -> 4, T = N = 32;
        per fold 2R + C + T - 2 = 64 + 32 + 32 - 2 = 126; cycles = 8·126 - 1 = 1007.
    """
    w = gemm_work(100, 32, 64)
    assert cycles(spec(dataflow="ws"), w)[0] == 387
    assert cycles(spec(dataflow="os"), w)[0] == 503
    assert cycles(spec(dataflow="is"), w)[0] == 1007


def test_groups_and_arrays_share_folds():
    """8 groups × 2 folds = 16 folds of 194 cycles; 4 arrays take ⌈16/4⌉ = 4 folds each."""
    w = gemm_work(100, 32, 64, batch=8)
    assert cycles(spec(), w)[0] == 16 * 194 - 1
    assert cycles(spec(arrays=4), w)[0] == 4 * 194 - 1
    assert cycles(spec(arrays=5), w)[0] == 4 * 194 - 1  # ⌈16/5⌉ = 4


def test_fill_drain_makes_tiny_gemm_far_below_peak():
    sp = spec(array_rows=128, array_cols=128, mem_bw_bytes_per_s=1e13)
    tiny, big = gemm_work(1, 128, 128), gemm_work(65536, 128, 128)
    cost = SystolicModel(sp).price(table(tiny, big))
    # GEMV: 2·128 + 128 + 1 - 2 - 1 = 382 cycles for 128·128 MACs -> 1/382 of peak
    assert SystolicModel(sp).compute_cycles(table(tiny))[0] == 382
    assert cost.utilization[0] < 0.01
    assert cost.utilization[1] > 0.99


def test_bigger_array_slower_on_tiny_gemm_faster_on_big_one():
    """SCALE-Sim's fill/drain grows with R and C: a 4× bigger array loses on a GEMV, wins on a big GEMM."""
    tiny, big = gemm_work(1, 16, 16), gemm_work(4096, 1024, 1024)
    small_arr, big_arr = spec(array_rows=32, array_cols=32), spec(array_rows=128, array_cols=128)
    assert cycles(big_arr, tiny)[0] > cycles(small_arr, tiny)[0]
    assert cycles(big_arr, big)[0] < cycles(small_arr, big)[0] / 10


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_monotone_in_resources(dataflow):
    """More arrays, higher clock, more bandwidth, bigger buffers, bigger array (on layers that fill it): never slower."""
    works = [gemm_work(3136, 64, 576), gemm_work(128, 3072, 768), gemm_work(49, 512, 4608, batch=2),
             gemm_work(1, 1000, 2048)]
    t = table(*works)
    base = SystolicModel(spec(dataflow=dataflow, ifmap_sram_bytes=1e5, filter_sram_bytes=1e5,
                              ofmap_sram_bytes=1e5)).price(t).latency_s
    for over in (dict(arrays=2), dict(freq_hz=2e9), dict(mem_bw_bytes_per_s=4e12), dict(ifmap_sram_bytes=1e9),
                 dict(filter_sram_bytes=1e9, ofmap_sram_bytes=1e9), dict(sram_bw_bytes_per_s=1e16)):
        more = dict(dataflow=dataflow, ifmap_sram_bytes=1e5, filter_sram_bytes=1e5, ofmap_sram_bytes=1e5)
        more.update(over)
        lat = SystolicModel(spec(**more)).price(t).latency_s
        assert np.all(lat <= base * (1 + 1e-12)), over
    big = SystolicModel(spec(dataflow=dataflow, array_rows=64, array_cols=64, ifmap_sram_bytes=1e5,
                             filter_sram_bytes=1e5, ofmap_sram_bytes=1e5)).price(table(*works[:3])).latency_s
    assert np.all(big <= base[:3])


def test_monotone_in_problem_size():
    sp = spec()
    for grow in ((200, 32, 64), (100, 64, 64), (100, 32, 128)):
        assert cycles(sp, gemm_work(*grow))[0] > cycles(sp, gemm_work(100, 32, 64))[0]


def test_dtype_speedup_and_unsupported_dtype():
    sp = spec()
    fp32 = SystolicModel(sp).price(table(gemm_work(4096, 256, 256))).compute_s[0]
    int8 = SystolicModel(sp).price(table(gemm_work(4096, 256, 256, dtype="int8"))).compute_s[0]
    assert int8 == pytest.approx(fp32 / 2)
    with pytest.raises(UnsupportedDtypeError, match="fp64"):
        SystolicModel(sp).price(table(gemm_work(64, 64, 64, dtype="fp64")))


def test_efficiency_applies_only_when_given():
    w = table(gemm_work(4096, 256, 256))
    ideal = SystolicModel(spec()).price(w).compute_s[0]
    eff = SystolicModel(spec(efficiency={"matmul": {"peak_fraction": 0.5, "half_work_flops": 0.0}})).price(w)
    assert eff.compute_s[0] == pytest.approx(2 * ideal)


def test_per_tap_mapping_hand_example():
    """3×3 conv, Cin = Cout = 64, 56×56 output on 128×128 ws (per fold 2·128 + 128 + 3136 - 2 = 3518):
    im2col K = 576 -> 5 row folds: 5·3518 - 1 = 17589; per tap K = 64 -> 9 taps × 1 fold: 9·3518 - 1 = 31661."""
    t = table(gemm_work(3136, 64, 576))
    t_taps = dataclasses.replace(t, columns={**t.columns, "gemm_taps": np.array([9.0])})
    im2col = spec(array_rows=128, array_cols=128)
    per_tap = spec(array_rows=128, array_cols=128, conv_mapping="per_tap")
    assert SystolicModel(im2col).compute_cycles(t_taps)[0] == 17589
    assert SystolicModel(per_tap).compute_cycles(t_taps)[0] == 31661
    cost = SystolicModel(per_tap).price(t)  # no taps column: priced as im2col, with a note
    assert SystolicModel(per_tap).compute_cycles(t)[0] == 17589
    assert any("per_tap" in n for n in cost.notes)


# --- memory traffic ----------------------------------------------------------------------------

def test_ifmap_buffer_too_small_refetches_per_column_fold():
    """ws, M=1000, K=64, N=128 fp32 on 32×32: 4 column folds. The 256 kB ifmap re-streams 3 more times
    when the ifmap buffer holds less than it."""
    w = gemm_work(1000, 128, 64)
    compulsory = w.bytes_read + w.bytes_written
    ifmap = 1000 * 64 * 4
    big = SystolicModel(spec()).dram_bytes(table(w))[0]
    small = SystolicModel(spec(ifmap_sram_bytes=1e5)).dram_bytes(table(w))[0]
    assert big == compulsory
    assert small == compulsory + 3 * ifmap


def test_psum_spill_when_ofmap_buffer_too_small():
    """ws, K = 128 -> 4 row folds: partial sums (M × 32 per column fold) spill and reload 3 times."""
    w = gemm_work(1000, 32, 128)
    extra = SystolicModel(spec(ofmap_sram_bytes=1e4)).dram_bytes(table(w))[0] - (w.bytes_read + w.bytes_written)
    assert extra == 2 * 3 * 1000 * 32 * 4


@pytest.mark.parametrize("dataflow", ["os", "is"])
def test_small_filter_buffer_refetches_in_os_and_is(dataflow):
    w = gemm_work(1000, 128, 256)
    t = table(w)
    big = SystolicModel(spec(dataflow=dataflow)).price(t)
    small = SystolicModel(spec(dataflow=dataflow, filter_sram_bytes=1e4)).price(t)
    assert SystolicModel(spec(dataflow=dataflow, filter_sram_bytes=1e4)).dram_bytes(t)[0] > w.bytes_read + w.bytes_written
    assert small.energy_j[0] > big.energy_j[0]
    assert small.memory_s[0] > big.memory_s[0]


def test_memory_bound_gemv_and_latency_is_roofline():
    sp = spec(mem_bw_bytes_per_s=1e9)
    cost = SystolicModel(sp).price(table(gemm_work(1, 4096, 4096)))
    assert cost.bound[0] == Bound.MEMORY
    assert cost.latency_s[0] == pytest.approx(max(cost.compute_s[0], cost.memory_s[0]))


# --- vector unit, unsupported rows, energy -----------------------------------------------------

def test_vector_rows_and_epilogue():
    relu = OpWork(kind=WorkKind.ELEMENTWISE, flops=1e6, bytes_read=4e6, bytes_written=4e6, dtype="fp32")
    cost = SystolicModel(spec()).price(table(relu))
    assert cost.compute_s[0] == pytest.approx(1e6 / 1e12)
    assert cost.memory_s[0] == pytest.approx(8e6 / 1e12)
    assert cost.peak_flops_per_s[0] == 1e12
    # a GEMM whose epilogue dominates is timed by the vector unit
    heavy = SystolicModel(spec()).price(table(gemm_work(32, 32, 32, extra_flops=1e9)))
    assert heavy.compute_s[0] == pytest.approx(1e9 / 1e12)


def test_unsupported_rows_are_never_free():
    t = table(gemm_work(64, 64, 64), OpWork(kind=WorkKind.NONE), supported=(1.0, 0.0))
    model = SystolicModel(spec())
    cost = model.price(t)
    assert list(model.supports(t)) == [True, False]
    assert np.isnan(cost.latency_s[1]) and np.isnan(cost.energy_j[1])
    assert cost.bound[1] == Bound.UNSUPPORTED and cost.bound[0] != Bound.UNSUPPORTED
    assert cost.latency_s[0] > 0


def test_energy_counts_macs_and_bytes():
    w = gemm_work(1024, 128, 128)
    cost = SystolicModel(spec()).price(table(w))
    assert cost.energy_j[0] > w.macs * ENERGY["mac_j"]["fp32"] + (w.bytes_read + w.bytes_written) * ENERGY["dram_byte_j"]


# --- presets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, dtype, published", [
    ("tpu-v3", "bf16", 123e12), ("tpu-v4", "bf16", 275e12), ("tpu-v5e", "bf16", 197e12), ("tpu-v5e", "int8", 393e12),
])
def test_preset_peaks_reproduce_published(name, dtype, published):
    """arrays × rows × cols × 2 × freq × dtype_speedup within 1% of the published chip peak."""
    model = get_device(name)
    s = model.spec
    assert s.arrays * s.array_rows * s.array_cols * 2 * s.freq_hz * s.dtype_speedup[dtype] == pytest.approx(published, rel=0.01)
    assert model.peak_flops_per_s[dtype] == pytest.approx(published, rel=0.01)


@pytest.mark.parametrize("name", ["tpu-v3", "tpu-v4", "tpu-v5e"])
def test_presets_price_a_gemm(name):
    model = make_device(get_device(name).spec)
    assert model.kind == "systolic"
    cost = model.price(table(gemm_work(128, 768, 768, dtype="bf16")))
    assert cost.latency_s[0] > 0 and cost.energy_j[0] > 0
