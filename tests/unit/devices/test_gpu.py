"""GpuModel: tensor vs vector peaks, wave quantisation, L2/HBM, 2:4 and unstructured sparsity."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import hwsim
from hwsim.devices import make_device
from hwsim.devices.base import Bound, UnsupportedDtypeError
from hwsim.devices.gpu import unstructured_crossover_density, wave_factor
from hwsim.devices.library import load_device_spec
from hwsim.ops.work import OpWork, WorkKind, WorkTable

GPU_DEVICES = ("v100-sxm2", "a100-sxm-40gb", "a100-sxm-80gb", "h100-sxm", "h200-sxm")
ELEM_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "fp8": 1}


def table(*works: OpWork, repeat: float = 1.0, supported: float = 1.0) -> WorkTable:
    """A WorkTable with one row per work."""
    rows = [(f"op{i}", "X", "", (), repeat, w, supported) for i, w in enumerate(works)]
    return WorkTable.from_rows(rows, nx.DiGraph())


def gemm(m: int, n: int, k: int, dtype: str = "fp16", density: float = 1.0) -> OpWork:
    """An (m×k)·(k×n) MatMul whose k×n operand is a weight of the given density."""
    e = ELEM_BYTES[dtype]
    return OpWork(kind=WorkKind.MATMUL, flops=2.0 * m * n * k, macs=float(m * n * k),
                  bytes_read=e * (m * k + k * n), bytes_written=e * m * n, params=k * n,
                  weight_bytes=e * k * n, gemm=(1, m, n, k), weight_density=density, dtype=dtype)


def elementwise(n: float, dtype: str = "fp32", density: float = 1.0) -> OpWork:
    e = ELEM_BYTES[dtype]
    return OpWork(kind=WorkKind.ELEMENTWISE, flops=n, bytes_read=2 * e * n, bytes_written=e * n, params=int(n),
                  weight_bytes=e * n, weight_density=density, dtype=dtype)


def device(name: str, ideal: bool = False, **overrides):
    """Library GPU with optional overrides; ``ideal`` makes the matmul/elementwise curves flat at 1."""
    over = dict(overrides)
    if ideal:
        over |= {f"efficiency.{k}.{f}": v for k in ("matmul", "elementwise")
                 for f, v in (("peak_fraction", 1.0), ("half_work_flops", 0.0))}
    return make_device(load_device_spec(name, over or None))


def test_4096_cubed_fp16_gemm_on_a100_80gb_by_hand():
    dev = device("a100-sxm-80gb")
    cost = dev.price(table(gemm(4096, 4096, 4096)))
    flops = 2 * 4096**3
    # tiles = 1·⌈4096/128⌉·⌈4096/128⌉ = 1024; waves = ⌈1024/108⌉ = 10; padded = 10·108 tiles of work
    quantisation = 10 * 108 / 1024
    eff = 0.7 * flops / (flops + 5.9e7)
    compute = flops * quantisation / (312e12 * eff)
    assert cost.compute_s[0] == pytest.approx(compute, rel=1e-12)
    moved = 3 * 4096 * 4096 * 2  # 96 MiB > 40 MiB L2: from HBM at 2039 GB/s × 0.85
    assert cost.memory_s[0] == pytest.approx(moved / (2039e9 * 0.85))
    assert cost.bound[0] == Bound.COMPUTE
    assert cost.latency_s[0] == pytest.approx(compute + 5e-6)


def test_memory_bound_elementwise_by_hand():
    dev = device("a100-sxm-80gb")
    n = 64e6  # 768 MB moved, far beyond L2
    cost = dev.price(table(OpWork(kind=WorkKind.ELEMENTWISE, flops=n, bytes_read=4 * n, bytes_written=4 * n)))
    assert cost.bound[0] == Bound.MEMORY
    assert cost.latency_s[0] == pytest.approx(8 * n / (2039e9 * 0.85) + 5e-6)


def test_small_working_set_uses_l2_bandwidth():
    dev = device("a100-sxm-40gb")
    n = 1e6  # 8 MB ≤ 40 MiB L2
    cost = dev.price(table(OpWork(kind=WorkKind.ELEMENTWISE, flops=n, bytes_read=4 * n, bytes_written=4 * n)))
    assert cost.memory_s[0] == pytest.approx(8 * n / 5.0e12)


def test_tiny_op_is_overhead_bound_zero_work_free_unsupported_nan():
    dev = device("h100-sxm")
    cost = dev.price(table(OpWork(kind=WorkKind.ELEMENTWISE, flops=4, bytes_read=32, bytes_written=16),
                           OpWork(kind=WorkKind.NONE)))
    assert cost.bound[0] == Bound.OVERHEAD
    assert cost.latency_s[1] == 0.0
    bad = dev.price(table(OpWork(kind=WorkKind.NONE), supported=0.0))
    assert math.isnan(bad.latency_s[0]) and bad.bound[0] == Bound.UNSUPPORTED


def test_wave_quantisation_sms_plus_one_tiles_take_twice_as_long():
    dev = device("a100-sxm-40gb", ideal=True)
    one_wave = dev.price(table(gemm(128 * 108, 128, 4096)))   # 108 tiles on 108 SMs
    two_waves = dev.price(table(gemm(128 * 109, 128, 4096)))  # 109 tiles
    assert two_waves.compute_s[0] == pytest.approx(2 * one_wave.compute_s[0])
    # waves × sms × tile_m × tile_n × k × 2 / peak
    assert one_wave.compute_s[0] == pytest.approx(1 * 108 * 128 * 128 * 4096 * 2 / 312e12)
    assert two_waves.compute_s[0] == pytest.approx(2 * 108 * 128 * 128 * 4096 * 2 / 312e12)


def test_skinny_gemm_uses_small_tiles_and_split_k():
    spec = load_device_spec("a100-sxm-40gb")
    t = table(gemm(1, 1024, 4096))
    # tm = 16, tn = 128 → 8 tiles; splits = min(⌊108/8⌋, ⌈4096/128⌉) = 13 → 104 units, one wave
    expected = 108 * 16 * 128 * math.ceil(4096 / 13) / (1 * 1024 * 4096)
    assert wave_factor(spec, t, np.array([True]))[0] == pytest.approx(expected)


def test_dtype_peaks_tensor_vector_and_tf32_flag():
    big = (4096, 4096, 4096)
    a100 = device("a100-sxm-40gb")
    cost = a100.price(table(*(gemm(*big, dtype=d) for d in ("fp32", "fp16", "bf16", "int8")),
                            elementwise(1e6, "fp16")))
    assert cost.peak_flops_per_s.tolist() == pytest.approx([19.5e12, 312e12, 312e12, 624e12, 78e12])
    tf32 = device("a100-sxm-40gb", fp32_gemm_uses_tf32=True).price(table(gemm(*big, dtype="fp32")))
    assert tf32.peak_flops_per_s[0] == pytest.approx(156e12)
    h100 = device("h100-sxm").price(table(gemm(*big, dtype="fp8")))
    assert h100.peak_flops_per_s[0] == pytest.approx(1979e12)


@pytest.mark.parametrize("work", [gemm(512, 512, 512, dtype="fp8"), elementwise(1e3, "bf16"),
                                  gemm(512, 512, 512, dtype="bf16")])
def test_v100_lacks_fp8_and_bf16(work):
    with pytest.raises(UnsupportedDtypeError, match=work.dtype):
        device("v100-sxm2").price(table(work))


@pytest.mark.parametrize("name", ["a100-sxm-40gb", "h100-sxm"])
def test_two_four_halves_eligible_tensor_math_only(name):
    dev = device(name)
    dense, sparse = (dev.price(table(gemm(4096, 4096, 4096, density=d), elementwise(1e6, "fp16", density=d)))
                     for d in (1.0, 0.5))
    assert sparse.compute_s[0] == pytest.approx(dense.compute_s[0] / 2)
    assert sparse.compute_s[1] == pytest.approx(dense.compute_s[1])
    # weights stored at 0.5625 of dense (fp16 values + 2-bit index): 32 MiB × 0.4375 fewer bytes
    saved = 4096 * 4096 * 2 * (1 - 0.5625)
    bw = dev.spec.mem_bw_bytes_per_s * dev.spec.mem_efficiency
    assert dense.memory_s[0] - sparse.memory_s[0] == pytest.approx(saved / bw)


def test_no_two_four_on_v100():
    dev = device("v100-sxm2")
    dense, half = (dev.price(table(gemm(4096, 4096, 4096, density=d))) for d in (1.0, 0.5))
    assert half.latency_s[0] == pytest.approx(dense.latency_s[0])


def test_unstructured_no_gain_at_half_density_on_a100_fp16():
    dev = device("a100-sxm-40gb", sparse_24=False)
    dense, half = (dev.price(table(gemm(4096, 4096, 4096, density=d))) for d in (1.0, 0.5))
    assert half.latency_s[0] == pytest.approx(dense.latency_s[0])
    assert half.energy_j[0] == pytest.approx(dense.energy_j[0])


def test_crossover_density_on_a100_fp16_and_v100_fp32():
    a100 = load_device_spec("a100-sxm-40gb")
    crossover = unstructured_crossover_density(a100, "fp16")
    assert crossover == pytest.approx(0.27 * 19.5e12 / (312e12 * 0.7))  # ≈ 0.024: > 97.6% sparsity
    dev = device("a100-sxm-40gb", sparse_24=False)
    dense = dev.price(table(gemm(4096, 4096, 4096))).latency_s[0]
    assert dev.price(table(gemm(4096, 4096, 4096, density=0.9 * crossover))).latency_s[0] < dense
    assert dev.price(table(gemm(4096, 4096, 4096, density=1.1 * crossover))).latency_s[0] == pytest.approx(dense)
    # V100 fp32 (Sputnik's baseline): d* = 0.27 / 0.7 ≈ 0.39
    assert unstructured_crossover_density(load_device_spec("v100-sxm2"), "fp32") == pytest.approx(0.27 / 0.7)


def test_sputnik_regime_gains_against_fp32_but_not_against_fp16_tensor_cores():
    """Gale et al. SC20: 1.2–2.1× end-to-end at 70–90% sparsity (fp32 baseline on V100)."""
    v100 = device("v100-sxm2")
    dense = v100.price(table(gemm(4096, 4096, 4096, dtype="fp32"))).latency_s[0]
    for d in (0.3, 0.1):
        assert dense / v100.price(table(gemm(4096, 4096, 4096, dtype="fp32", density=d))).latency_s[0] >= 1.2
    a100 = device("a100-sxm-40gb", sparse_24=False)
    dense16 = a100.price(table(gemm(4096, 4096, 4096))).latency_s[0]
    assert a100.price(table(gemm(4096, 4096, 4096, density=0.1))).latency_s[0] == pytest.approx(dense16)


def test_latency_monotone_in_density():
    dev = device("a100-sxm-40gb")
    densities = [1.0, 0.8, 0.6, 0.5, 0.3, 0.1, 0.03, 0.01, 0.001]
    lat = dev.price(table(*(gemm(4096, 4096, 4096, density=d) for d in densities))).latency_s
    assert (np.diff(lat) <= 1e-15).all()
    assert lat[-1] < lat[4] < lat[0]


@pytest.fixture(scope="module")
def resnet50() -> WorkTable:
    return hwsim.count_work(hwsim.load_model("zoo:resnet50"))


@pytest.mark.parametrize("name", GPU_DEVICES)
def test_resnet50_respects_roofline_bounds(resnet50, name):
    dev = device(name)
    cost = dev.price(resnet50)
    c, spec = resnet50.columns, dev.spec
    peak = max(spec.vector_flops_per_s["fp32"], spec.tensor_flops_per_s.get("tf32", 0.0))
    assert not np.isnan(cost.latency_s).any()
    assert (cost.latency_s >= c["flops"] / peak * (1 - 1e-12)).all()
    assert (cost.latency_s >= c["flops"] / np.where(cost.peak_flops_per_s > 0, cost.peak_flops_per_s, np.inf)).all()
    fastest_bw = max(spec.l2_bw_bytes_per_s, spec.mem_bw_bytes_per_s)
    assert (cost.latency_s >= (c["bytes_read"] + c["bytes_written"]) / fastest_bw * (1 - 1e-12)).all()
    busy = (c["flops"] > 0) | (c["bytes_read"] + c["bytes_written"] > 0)
    assert cost.overhead_s.sum() == pytest.approx(busy.sum() * 5e-6)
    assert cost.total_energy_j > 0


def test_derived_specs_inherit_compute_and_override_memory():
    a40, a80 = load_device_spec("a100-sxm-40gb"), load_device_spec("a100-sxm-80gb")
    h100, h200 = load_device_spec("h100-sxm"), load_device_spec("h200-sxm")
    assert a80.tensor_flops_per_s == a40.tensor_flops_per_s and a80.mem_bw_bytes_per_s == 2039e9
    assert a80.rental_usd_per_hour is None and a80.price_usd == 12500
    assert h200.tensor_flops_per_s == h100.tensor_flops_per_s and h200.mem_bytes == 141e9


def test_fp8_elementwise_widens_to_fp16_but_fp8_gemm_needs_fp8_tensor_cores():
    """Quantised fp8 inference keeps conversions on the 16-bit vector units (H100: 134 TFLOP/s
    fp16 vector); an fp8 GEMM on an A100 (no fp8 tensor cores) is an error."""
    cost = device("h100-sxm").price(table(elementwise(1e6, "fp8")))
    assert cost.peak_flops_per_s[0] == pytest.approx(134e12)
    with pytest.raises(UnsupportedDtypeError, match="fp8"):
        device("a100-sxm-40gb").price(table(gemm(512, 512, 512, dtype="fp8")))
