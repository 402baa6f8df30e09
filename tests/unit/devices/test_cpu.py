"""CpuModel: peaks per dtype, cache-level selection, overhead, unsupported rows, shipped YAMLs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import hwsim
from hwsim.devices import make_device
from hwsim.devices.base import Bound, UnsupportedDtypeError
from hwsim.devices.cpu import cpu_peaks_flops_per_s
from hwsim.devices.library import load_device_spec
from hwsim.ops.work import OpWork, WorkKind, WorkTable

CPU_DEVICES = ("xeon-8380", "epyc-9654", "cpu-generic")


def table(*works: OpWork, repeat: float = 1.0, supported: float = 1.0) -> WorkTable:
    """A WorkTable with one row per work."""
    rows = [(f"op{i}", "X", "", (), repeat, w, supported) for i, w in enumerate(works)]
    return WorkTable.from_rows(rows, nx.DiGraph())


def elementwise(n: float, dtype: str = "fp32", elem_bytes: float = 4.0) -> OpWork:
    """A unary op on n elements: 1 FLOP per element, n in and n out."""
    return OpWork(kind=WorkKind.ELEMENTWISE, flops=n, bytes_read=n * elem_bytes, bytes_written=n * elem_bytes,
                  dtype=dtype)


def ideal(name: str, **extra):
    """Device with ideal efficiency curves (peak_fraction 1, half_work 0) for exact arithmetic."""
    over = {f"efficiency.{k}.{f}": v for k in ("matmul", "elementwise")
            for f, v in (("peak_fraction", 1.0), ("half_work_flops", 0.0))}
    return make_device(load_device_spec(name, {**over, **extra}))


def test_xeon_peaks_by_hand():
    spec = load_device_spec("xeon-8380")
    fp32 = 40 * (512 / 32) * 2 * 2 * 2.3e9  # cores × lanes × FMA units × 2 FLOP × Hz = 5.888 TFLOP/s
    peaks = cpu_peaks_flops_per_s(spec)
    assert peaks["fp32"] == pytest.approx(fp32)
    assert peaks["fp64"] == pytest.approx(fp32 / 2)
    assert peaks["int8"] == pytest.approx(4 * fp32)
    assert "bf16" not in peaks


def test_epyc_fp32_peak_matches_hardware_facts():
    # hardware_facts 1c: 96 cores × 32 FLOP/cycle × 2.4 GHz = 7.37 TFLOP/s
    assert cpu_peaks_flops_per_s(load_device_spec("epyc-9654"))["fp32"] == pytest.approx(7.3728e12)


def test_dtype_selects_peak_and_missing_dtype_raises():
    dev = ideal("xeon-8380")
    gemm = dict(kind=WorkKind.MATMUL, flops=2e9, macs=1e9, bytes_read=1e3, bytes_written=1e3, gemm=(1, 1000, 1000, 1000))
    cost = dev.price(table(OpWork(dtype="fp32", **gemm), OpWork(dtype="int8", **gemm), OpWork(dtype="fp64", **gemm)))
    assert cost.peak_flops_per_s.tolist() == pytest.approx([5.888e12, 4 * 5.888e12, 5.888e12 / 2])
    assert cost.compute_s[0] == pytest.approx(2e9 / 5.888e12)
    with pytest.raises(UnsupportedDtypeError, match="bf16"):
        dev.price(table(OpWork(dtype="bf16", **gemm)))


def test_index_dtype_falls_back_to_fp32():
    cost = ideal("xeon-8380").price(table(elementwise(1e3, dtype="int64", elem_bytes=8)))
    assert cost.peak_flops_per_s[0] == pytest.approx(5.888e12)


@pytest.mark.parametrize(("n_elems", "level_bw"), [
    (1.25e6, 5.888e12),            # 10 MB working set: > L1d (1.875 MiB), fits L2 (50 MiB)
    (12.5e6, 204.8e9 * 0.8),       # 100 MB: spills L3 (60 MiB) to DRAM at bw × mem_efficiency
])
def test_cache_level_selection(n_elems, level_bw):
    dev = ideal("xeon-8380")
    cost = dev.price(table(elementwise(n_elems)))
    moved = 8 * n_elems
    assert cost.memory_s[0] == pytest.approx(moved / level_bw)
    e = dev.spec.energy
    per_byte = e.dram_byte_j if level_bw < 1e12 else e.sram_byte_j
    scale = dev.spec.compute_energy_scale  # TDP-anchored overhead on arithmetic energy only
    assert cost.energy_j[0] == pytest.approx(scale * n_elems * e.op_j["fp32"] + moved * per_byte)


def test_memory_bound_op_latency_by_hand():
    dev = ideal("xeon-8380")
    n = 12.5e6
    cost = dev.price(table(elementwise(n)))
    assert cost.bound[0] == Bound.MEMORY
    assert cost.latency_s[0] == pytest.approx(8 * n / (204.8e9 * 0.8) + 2e-6)


def test_tiny_op_is_overhead_bound_and_repeat_scales_overhead():
    dev = make_device(load_device_spec("xeon-8380"))
    cost = dev.price(table(elementwise(4)))
    assert cost.bound[0] == Bound.OVERHEAD
    looped = dev.price(table(elementwise(4 * 10), repeat=10))
    assert looped.overhead_s[0] == pytest.approx(10 * 2e-6)


def test_zero_work_is_free_and_unsupported_is_nan():
    dev = make_device(load_device_spec("xeon-8380"))
    cost = dev.price(table(OpWork(kind=WorkKind.NONE)))
    assert cost.latency_s[0] == 0.0 and cost.energy_j[0] == 0.0
    bad = dev.price(table(OpWork(kind=WorkKind.NONE), supported=0.0))
    assert math.isnan(bad.latency_s[0]) and bad.bound[0] == Bound.UNSUPPORTED
    assert not dev.supports(table(OpWork(kind=WorkKind.NONE), supported=0.0)).any()


@pytest.fixture(scope="module")
def resnet50() -> WorkTable:
    return hwsim.count_work(hwsim.load_model("zoo:resnet50"))


@pytest.mark.parametrize("name", CPU_DEVICES)
def test_resnet50_respects_roofline_bounds(resnet50, name):
    """Every op at least its roofline; the overhead is one dispatch per op with work. A fusing,
    blocked-layout spec (cpu-generic) is checked with those features off: they are tested apart."""
    spec = load_device_spec(name).model_copy(update={"fuse_epilogues": False, "blocked_layout": False})
    cost = make_device(spec).price(resnet50)
    c = resnet50.columns
    fastest_bw = max([spec.mem_bw_bytes_per_s] + [lv.bw_bytes_per_s for lv in spec.caches])
    peak = cpu_peaks_flops_per_s(spec)["fp32"]
    assert not np.isnan(cost.latency_s).any()
    assert (cost.latency_s >= c["flops"] / peak * (1 - 1e-12)).all()
    assert (cost.latency_s >= (c["bytes_read"] + c["bytes_written"]) / fastest_bw * (1 - 1e-12)).all()
    busy_rows = (c["flops"] > 0) | (c["bytes_read"] + c["bytes_written"] > 0)
    assert cost.overhead_s.sum() == pytest.approx(busy_rows.sum() * spec.dispatch_overhead_s)
    assert cost.total_energy_j > 0


def weights_op(weight_bytes: float, act_bytes: float = 1e3) -> OpWork:
    """A GEMV-like op reading ``weight_bytes`` of constants and ``act_bytes`` of activations."""
    return OpWork(kind=WorkKind.MATMUL, flops=2.0, macs=1.0, bytes_read=weight_bytes + act_bytes, bytes_written=act_bytes,
                  const_bytes=weight_bytes, gemm=(1, 1, 1, 1))


def test_weights_stream_from_dram_when_the_model_outgrows_the_last_cache():
    """xeon-8380: L2 50 MiB in all, L3 60 MiB. Two ops with 40 MB of weights each: 80 MB > L3, so
    each op's weights come from DRAM (204.8 GB/s × 0.8) although each op's 40 MB fits in L2."""
    dev = ideal("xeon-8380")
    l2 = next(lv for lv in dev.spec.caches if lv.name == "L2")
    assert 40e6 + 2e3 < l2.bytes
    one = dev.price(table(weights_op(40e6)))  # alone: weights stay in cache
    assert one.memory_s[0] == pytest.approx((40e6 + 2e3) / l2.bw_bytes_per_s)
    two = dev.price(table(weights_op(40e6), weights_op(40e6)))
    dram = 204.8e9 * 0.8
    assert two.memory_s[0] == pytest.approx(40e6 / dram + 2e3 / l2.bw_bytes_per_s)
    e = dev.spec.energy  # the streamed bytes are charged at DRAM energy instead of cache energy
    assert two.energy_j[0] - one.energy_j[0] == pytest.approx(40e6 * (e.dram_byte_j - e.sram_byte_j))
    # the calibration fit prices many one-op graphs in one table: their own footprint decides
    both = table(weights_op(40e6), weights_op(40e6)).with_columns(resident_weight_bytes=40e6)
    assert dev.price(both).memory_s[0] == pytest.approx(one.memory_s[0])


def test_op_overhead_replaces_dispatch_for_its_op_type():
    spec = load_device_spec("xeon-8380").model_copy(update={"op_overhead_s": {"Add": 1e-6}})
    rows = [("a", "Add", "", (), 3.0, elementwise(30), 1), ("r", "Relu", "", (), 1.0, elementwise(10), 1)]
    cost = make_device(spec).price(WorkTable.from_rows(rows, nx.DiGraph()))
    assert cost.overhead_s.tolist() == pytest.approx([3e-6, 2e-6])  # Add: 3 repeats × 1 us; Relu: xeon dispatch 2 us


def test_thread_share_uses_the_time_of_one_executed_op():
    """A chain of 8 identical ops (repeat 8, 8× the work) speeds up like one of them: the fork/join
    half-time compares with one op's time, not the chain's."""
    from hwsim.devices.cpu import thread_share

    spec = load_device_spec("cpu-generic").model_copy(update={"cores": 2, "threads": 2, "parallel_half_time_s": 2e-5})
    single = table(elementwise(1e5))
    chain = table(elementwise(8e5), repeat=8.0)
    assert thread_share(spec, chain)[0] == pytest.approx(thread_share(spec, single)[0])
    assert 0.5 < thread_share(spec, single)[0] < 1.0


@pytest.mark.parametrize(("flags", "int8", "bf16"), [
    ({"avx2", "fma"}, 1.0, None), ({"avx512f", "avx512_vnni"}, 4.0, None), ({"avx_vnni"}, 4.0, None),
    ({"asimd", "asimddp"}, 4.0, None), ({"avx512f", "avx512_vnni", "avx512_bf16"}, 4.0, 2.0)])
def test_probed_dtype_speedup_from_cpu_flags(flags, int8, bf16):
    from hwsim.devices.host import dtype_speedup

    got = dtype_speedup(flags)
    assert got["fp32"] == 1.0 and got["fp64"] == 0.5 and got["int8"] == int8
    assert got.get("bf16") == bf16


def test_op_bandwidth_scale_divides_one_op_types_memory_time():
    spec = load_device_spec("xeon-8380")
    move = OpWork(kind=WorkKind.DATA_MOVEMENT, bytes_read=4e6, bytes_written=4e6)
    rows = [("t", "Transpose", "", (), 1.0, move, 1), ("c", "Identity", "", (), 1.0, move, 1)]
    t = WorkTable.from_rows(rows, nx.DiGraph())
    plain = make_device(spec).price(t)
    scaled = make_device(spec.model_copy(update={"op_bandwidth_scale": {"Transpose": 0.2}})).price(t)
    assert scaled.memory_s[0] == pytest.approx(plain.memory_s[0] / 0.2)  # strided: a fifth of the bandwidth
    assert scaled.memory_s[1] == pytest.approx(plain.memory_s[1])


def test_chunked_transpose_pays_per_run_and_streams_at_full_bandwidth():
    """copy_chunks runs at copy_chunk_s each; the strided bandwidth scale applies only to
    transposes that move their last axis (copy_chunks 0)."""
    spec = load_device_spec("xeon-8380").model_copy(update={"op_bandwidth_scale": {"Transpose": 0.2}, "copy_chunk_s": 1e-8})
    move = OpWork(kind=WorkKind.DATA_MOVEMENT, bytes_read=16384, bytes_written=16384)
    rows = [("runs", "Transpose", "", (), 1.0, move, 1), ("elementwise", "Transpose", "", (), 1.0, move, 1)]
    t = WorkTable.from_rows(rows, nx.DiGraph()).with_columns(copy_chunks=[128.0, 0.0])
    cost = make_device(spec).price(t)
    assert cost.memory_s[1] == pytest.approx(cost.memory_s[0] / 0.2)
    base = make_device(spec.model_copy(update={"copy_chunk_s": 0.0})).price(t)
    assert cost.overhead_s - base.overhead_s == pytest.approx([128 * 1e-8, 0.0])


def test_fork_join_cost_follows_the_parallel_weight_and_recurrent_steps():
    """sync = q · parallel_sync_s × repeat × steps with q = r1 / (r1 + τ); none on one thread.
    An LSTM's r1 is per time step (gemm_batch), so it parallelises like one step."""
    from hwsim.devices.cpu import parallel_weight, serial_steps

    spec = load_device_spec("cpu-generic").model_copy(update={"cores": 2, "threads": 2, "parallel_half_time_s": 2e-6,
                                                              "parallel_sync_s": 1e-6})
    op = table(elementwise(1e5))
    q = parallel_weight(spec, op)[0]
    assert 0.0 < q < 1.0
    two = make_device(spec).price(op)
    one = make_device(spec.model_copy(update={"threads": 1})).price(op)
    assert two.overhead_s[0] - one.overhead_s[0] == pytest.approx(q * 1e-6)
    gemm = OpWork(kind=WorkKind.MATMUL, flops=2e6, macs=1e6, bytes_read=1e4, bytes_written=1e3, gemm=(8, 1, 512, 256))
    rows = [("lstm", "LSTM", "", (), 1.0, gemm, 1), ("bmm", "MatMul", "", (), 1.0, gemm, 1)]
    t = WorkTable.from_rows(rows, nx.DiGraph())
    assert serial_steps(t).tolist() == [8.0, 1.0]
    r1 = parallel_weight(spec, t) * 2e-6 / (1 - parallel_weight(spec, t))  # invert q = r1 / (r1 + τ)
    assert r1[0] == pytest.approx(r1[1] / 8)
