"""Multi-core CPU model: SIMD peaks per dtype, cache-aware bandwidth, per-op dispatch overhead.

Per op (one row of a :class:`WorkTable`, vectorised over rows):

* ``peak_flops_per_s(dtype) = cores × (simd_bits / 32) × fma_units × 2 × freq_hz × dtype_speedup[dtype]``
  × :func:`thread_share` per row (1 unless the spec sets ``threads`` or a calibrated per-kind Amdahl
  ``parallel_fraction``: effective_cores(kind) / cores, reduced for short ops by a calibrated
  ``parallel_half_time_s``; cache bandwidths scale by it too)
  (fp32 FMA lanes × 2 FLOPs per FMA; int8 VNNI = 4, fp64 = 0.5, ...). Index/bool dtypes on ops
  that do a little arithmetic run at the fp32 rate; a dtype absent from ``dtype_speedup`` raises
  :class:`UnsupportedDtypeError` naming it.
* ``compute_s = flops / (peak × eff(kind, flops per repeat))`` (the spec's saturating curve; a
  calibrated ``op_efficiency`` curve for the op type, or ``Conv/depthwise``/``Conv/grouped`` on FLOPs per group,
  replaces it: :func:`op_efficiency`).
* ``memory_s = bytes / bw``: the op's working set ``(bytes_read + bytes_written) / repeat`` picks the
  smallest cache level that holds it (its aggregate bandwidth), else DRAM at
  ``mem_bw_bytes_per_s × mem_efficiency`` (divided by a calibrated ``op_bandwidth_scale`` for
  its op type: strided Transposes, Gathers). Activations are assumed resident in that level
  (produced by the previous op); weights too, unless the model's weights (sum of
  ``const_bytes``) exceed the largest cache: then each op's weight bytes stream from DRAM
  every inference (:func:`streamed_weight_bytes`: a GEMV over a 4 MB weight matrix runs at
  L3 speed alone but at DRAM speed inside an 80 MB LSTM language model).
* ``overhead_s = dispatch_overhead_s × repeat`` for every op with work (a calibrated per-op-type
  ``op_overhead_s`` replaces it for its op type); ``zero_work_dispatch_s × repeat``
  for an executed op without work (Reshape, Shape, Unsqueeze...: the runtime still calls a kernel;
  default 0, calibrated); rows constant-folded at load time (``folded`` column) cost nothing,
  as the runtime folds them too (:func:`overhead_s`), except, with ``dynamic_shapes``, the shape
  computations of a graph with symbolic dims (``runtime_shape``, :mod:`hwsim.ops.shape_ops`).
* With ``fuse_epilogues``, rows marked ``epilogue`` (:mod:`hwsim.ops.epilogue`) cost no dispatch:
  an activation or bias applied in the producer's kernel (code 2) keeps its pass over the output
  tile; BatchNormalization or a constant Add/Mul after a Conv, folded into its weights (code 1),
  costs nothing.
* With ``blocked_layout``, the NCHWc conversions the runtime inserts (:mod:`hwsim.ops.layout`) add
  to the overhead of the op that needs them (:func:`layout_s`).
* A transpose keeping its last axis pays ``copy_chunk_s`` per contiguous run it copies
  (:func:`copy_s`, :mod:`hwsim.ops.strided`).
* ``latency_s = max(compute_s, memory_s) + overhead_s`` (:func:`roofline`); energy from
  :func:`dynamic_energy` with DRAM bytes at ``dram_byte_j`` and cache bytes at ``sram_byte_j``.
* Rows the counter could not count (``supported`` = 0) get bound UNSUPPORTED and NaN latency and
  energy: never zero.

The helpers :func:`zero_work_rows`, :func:`safe_div` and :func:`assemble_costs` are
shared with :mod:`hwsim.devices.gpu`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hwsim.config.devices import CpuSpec, DeviceSpecBase
from hwsim.devices.base import (
    Bound,
    CostTable,
    dtype_peaks,
    dynamic_energy,
    efficiency,
    roofline,
    unsupported_rows,
    utilization,
)
from hwsim.ops.epilogue import FOLDED_INTO_WEIGHTS
from hwsim.ops.work import WorkKind, WorkTable


def zero_work_rows(table: WorkTable) -> np.ndarray:
    """Rows with neither arithmetic nor bytes (folded constants, Reshape, Identity...): free."""
    c = table.columns
    return (c["flops"] <= 0) & (c["bytes_read"] + c["bytes_written"] <= 0)


def overhead_s(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per-row runtime overhead: dispatch × repeat for ops with work, zero_work_dispatch × repeat for
    executed zero-work ops, 0 for folded (and unsupported) rows. A calibrated ``op_overhead_s``
    replaces both for its op type: a Concat of shape dims runs the Concat kernel (~1.5 µs in ONNX
    Runtime on this project's VM, where a Gather of one dim costs ~0.2 µs)."""
    c = table.columns
    reps = np.maximum(c["repeat"], 1.0)
    folded = c["folded"] > 0 if "folded" in c else np.zeros(len(table), dtype=bool)
    if spec.dynamic_shapes and "runtime_shape" in c:  # folded by hwsim, run by the runtime every inference
        folded &= c["runtime_shape"] <= 0
    dispatch, call = np.full(len(table), spec.dispatch_overhead_s), np.full(len(table), spec.zero_work_dispatch_s)
    for op, cost in spec.op_overhead_s.items():
        dispatch[table.op_type == op] = call[table.op_type == op] = cost
    free = np.where(folded | (c["supported"] <= 0), 0.0, call * reps)
    return np.where(zero_work_rows(table), free, dispatch * reps)


def layout_s(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per row: the blocked-layout conversions the runtime runs before the op (``layout_ops``
    kernels copying ``layout_bytes``, :mod:`hwsim.ops.layout`) when ``spec.blocked_layout``:
    one zero-work dispatch each plus a read and a write of the bytes at the bandwidth of the
    level they fit in; 0 otherwise."""
    c = table.columns
    if not spec.blocked_layout or "layout_bytes" not in c:
        return np.zeros(len(table))
    bw, _ = level_bandwidth(spec, 2.0 * c["layout_bytes"])
    return c["layout_ops"] * spec.zero_work_dispatch_s + 2.0 * c["layout_bytes"] / bw


def copy_s(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per row: ``copy_chunks × copy_chunk_s``, the separate copies of a transpose keeping its
    last axis (:mod:`hwsim.ops.strided`); 0 where the column is absent."""
    c = table.columns
    return c["copy_chunks"] * spec.copy_chunk_s if "copy_chunks" in c else np.zeros(len(table))


def copies_runs(table: WorkTable) -> np.ndarray:
    """Per row: True where the op copies contiguous runs (``copy_chunks`` > 0): its bytes stream
    at full bandwidth, so a strided ``op_bandwidth_scale`` does not apply."""
    c = table.columns
    return c["copy_chunks"] > 0 if "copy_chunks" in c else np.zeros(len(table), dtype=bool)


def working_set_bytes(table: WorkTable) -> np.ndarray:
    """Bytes one execution of the op touches: (bytes_read + bytes_written) / repeat."""
    c = table.columns
    return (c["bytes_read"] + c["bytes_written"]) / np.maximum(c["repeat"], 1.0)


def safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (rows without arithmetic have no peak)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def assemble_costs(spec: DeviceSpecBase, table: WorkTable, parts: dict[str, np.ndarray],
                   notes: tuple[str, ...] = ()) -> CostTable:
    """CostTable from ``parts`` (compute_s, memory_s, overhead_s, dram_bytes, sram_bytes, macs, peak).

    Latency by :func:`roofline`, energy by :func:`dynamic_energy` (``macs`` = MACs executed),
    utilisation by :func:`utilization`; unsupported rows get NaN latency/energy and bound
    UNSUPPORTED.
    """
    compute, memory, overhead = parts["compute_s"], parts["memory_s"], parts["overhead_s"]
    latency, bound = roofline(compute, memory, overhead)
    energy = dynamic_energy(spec, table, parts["dram_bytes"], parts["sram_bytes"], macs=parts["macs"])
    util = utilization(table, latency, parts["peak"])
    bad = unsupported_rows(table)
    if bad.any():
        latency, energy, compute, memory, overhead = (
            np.where(bad, np.nan, a) for a in (latency, energy, compute, memory, overhead))
        bound[bad] = Bound.UNSUPPORTED
        util = np.where(bad, 0.0, util)
    return CostTable(latency_s=latency, compute_s=compute, memory_s=memory, overhead_s=overhead,
                     energy_j=energy, bound=bound, utilization=util, peak_flops_per_s=parts["peak"],
                     notes=notes)


def cpu_peaks_flops_per_s(spec: CpuSpec) -> dict[str, float]:
    """Peak FLOP/s per dtype: cores × simd_bits/32 × fma_units × 2 × freq_hz × dtype_speedup."""
    fp32 = spec.cores * (spec.simd_bits / 32) * spec.fma_units * 2 * spec.freq_hz
    return {dtype: fp32 * speedup for dtype, speedup in spec.dtype_speedup.items()}


def core_share(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per row: effective_cores(kind) / cores (Amdahl at ``spec.threads``); 1 for an uncalibrated spec."""
    if spec.threads is None and not spec.parallel_fraction:
        return np.ones(len(table))
    keys = {WorkKind(k).label for k in set(table.kind.tolist())} | set(spec.parallel_fraction)
    return keyed_rows(table, {k: spec.effective_cores(k) / spec.cores for k in keys}, 1.0)


def keyed_rows(table: WorkTable, values: Mapping[str, float], default: float) -> np.ndarray:
    """Per row: ``values`` of its work kind's label, overridden by its convolution key
    (``Conv/narrow``, :func:`curve_keys`) where ``values`` has one; ``default`` elsewhere."""
    out = np.full(len(table), float(default))
    for k in set(table.kind.tolist()):
        label = WorkKind(k).label
        if label in values:
            out[table.kind == k] = values[label]
    conv_keys = [k for k in values if k.startswith("Conv/")]
    if conv_keys:
        rows = curve_keys(table)
        for key in conv_keys:
            out[rows == key] = values[key]
    return out


#: Output channels below which a convolution misses MLAS's NCHWc kernels (block of 8 floats on
#: AVX2, 16 on AVX-512) and runs the generic im2col path: measured 25 GFLOP/s for a 3→8-channel
#: 3×3 conv where 64 channels reach 120 GFLOP/s on one core of this project's VM.
NARROW_CHANNELS = 16


def curve_keys(table: WorkTable) -> np.ndarray:
    """Per row, the key of its ``op_efficiency`` curve: the op type, except convolutions:
    ``Conv/nchw_input`` (no groups, blocked, reading a plain input of few channels: the
    ``nchw_input`` column, :func:`hwsim.ops.layout.layout_columns`), ``Conv/depthwise`` (one
    output channel per group: MLAS runs a dedicated depthwise kernel), ``Conv/grouped`` (several:
    one GEMM per group) and ``Conv/narrow`` (no groups, fewer than :data:`NARROW_CHANNELS` output
    channels)."""
    c = table.columns
    conv = table.op_type == "Conv"
    grouped = conv & (c["gemm_batch"] > 1)
    keys = np.where(grouped & (c["gemm_n"] <= 1), "Conv/depthwise", "Conv/grouped")
    keys = np.where(conv & ~grouped & (c["gemm_n"] < NARROW_CHANNELS), "Conv/narrow", keys)
    plain = conv & ~grouped & (c["nchw_input"] > 0) if "nchw_input" in c else np.zeros(len(table), dtype=bool)
    keys = np.where(plain, "Conv/nchw_input", keys)
    return np.where(conv & (grouped | plain | (c["gemm_n"] < NARROW_CHANNELS)), keys, table.op_type.astype(str))


def curve_work(table: WorkTable, keys: np.ndarray) -> np.ndarray:
    """Per row, the work w its efficiency curve saturates in: FLOPs per executed op; per group
    for convolution keys; for ``Conv/nchw_input`` the reduction depth c·r·r (``gemm_k``): that
    kernel broadcasts one input value per filter tap and channel, so its speed follows the taps
    per output, not the size (one core here: c·r·r = 8 ran at 25 GFLOP/s for 0.13 and for 2.1
    MFLOP, 27 at 79 GFLOP/s, 147 at 113)."""
    c = table.columns
    w = c["flops"] / np.maximum(c["repeat"], 1.0)
    w = np.where(np.char.startswith(keys.astype(str), "Conv/"), w / np.maximum(c["gemm_batch"], 1.0), w)
    return np.where(keys == "Conv/nchw_input", c["gemm_k"], w)


def op_efficiency(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Kind efficiency, replaced by ``spec.op_efficiency[key]`` rows (:func:`curve_keys`, on
    :func:`curve_work`). A ``Conv/nchw_input`` row computes its output channels in whole blocks
    of :data:`NARROW_CHANNELS`: its efficiency is scaled by k / (k rounded up to a block)."""
    eff = efficiency(spec, table)
    if not spec.op_efficiency:
        return eff
    keys = curve_keys(table)
    w = curve_work(table, keys)
    k = np.maximum(table.columns["gemm_n"], 1.0)
    used = np.where(keys == "Conv/nchw_input", k / (np.ceil(k / NARROW_CHANNELS) * NARROW_CHANNELS), 1.0)
    for key, curve in spec.op_efficiency.items():
        m = (keys == key) & (w > 0)
        eff[m] = curve.peak_fraction * w[m] / (w[m] + curve.half_work_flops) * used[m]
    return np.maximum(eff, 1e-9)


def level_bandwidth(spec: CpuSpec, ws_bytes: np.ndarray, share: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(bandwidth in bytes/s, from_dram bool) per row: smallest cache level holding the working set
    (cache bandwidth × ``share`` of the cores in use; DRAM unscaled)."""
    bw = np.full(len(ws_bytes), spec.mem_bw_bytes_per_s * spec.mem_efficiency)
    from_dram = np.ones(len(ws_bytes), dtype=bool)
    share = np.broadcast_to(share, bw.shape)
    for level in sorted(spec.caches, key=lambda lv: lv.bytes, reverse=True):
        fits = ws_bytes <= level.bytes
        bw[fits] = level.bw_bytes_per_s * share[fits]
        from_dram[fits] = False
    return bw, from_dram


class CpuModel:
    """Prices a WorkTable on a :class:`CpuSpec` (see the module docstring for the formulas)."""

    kind = "cpu"

    def __init__(self, spec: CpuSpec) -> None:
        self.spec = spec

    def supports(self, table: WorkTable) -> np.ndarray:
        """Every counted op runs on the CPU; only uncounted rows are refused."""
        return ~unsupported_rows(table)

    def price(self, table: WorkTable) -> CostTable:
        """Per-op latency, energy, bound and utilisation of ``table`` on this CPU."""
        spec, c = self.spec, table.columns
        q = parallel_weight(spec, table)
        peak, compute, memory, dram = roof_parts(spec, table, thread_share(spec, table, q))
        moved = c["bytes_read"] + c["bytes_written"]
        overhead = overhead_s(spec, table) + layout_s(spec, table) + copy_s(spec, table) + sync_s(spec, table, q)
        if spec.fuse_epilogues and "epilogue" in c:  # no kernel of its own; folded into the weights: no work at all
            overhead = overhead * (c["epilogue"] <= 0)
            keep = c["epilogue"] != FOLDED_INTO_WEIGHTS
            compute, memory, dram, moved = (a * keep for a in (compute, memory, dram, moved))
        parts = {"compute_s": compute, "memory_s": memory, "overhead_s": overhead,
                 "dram_bytes": dram, "sram_bytes": moved - dram, "macs": c["macs"], "peak": peak}
        return assemble_costs(spec, table, parts)


def roof_parts(spec: CpuSpec, table: WorkTable, share: np.ndarray) -> tuple[np.ndarray, ...]:
    """(peak, compute_s, memory_s, dram_bytes) per row with ``share`` of the cores' peak and cache bandwidth.

    Bytes move at the bandwidth of the level the op's working set fits in, except the weights
    (constant inputs) of a model whose weights do not fit in the largest cache
    (:func:`streamed_weight_bytes`): those stream from DRAM on every inference."""
    c = table.columns
    peak = dtype_peaks(table, cpu_peaks_flops_per_s(spec), spec.name, default="fp32", mask=~unsupported_rows(table)) * share
    compute = safe_div(c["flops"], peak * op_efficiency(spec, table))
    bw, from_dram = level_bandwidth(spec, working_set_bytes(table), share)
    moved = c["bytes_read"] + c["bytes_written"]
    streamed = np.where(from_dram, 0.0, streamed_weight_bytes(spec, table))
    dram_bw = spec.mem_bw_bytes_per_s * spec.mem_efficiency
    memory = (moved - streamed) / bw + streamed / dram_bw
    strided = ~copies_runs(table)
    for op, scale in spec.op_bandwidth_scale.items():  # runs copied whole (copy_chunks) stream at full bandwidth
        memory = np.where((table.op_type == op) & strided, memory / scale, memory)
    return peak, compute, memory, np.where(from_dram, moved, streamed)


def streamed_weight_bytes(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per row: the constant bytes it reads, min(const_bytes, bytes_read), where the model's
    weights do not fit in the largest cache; else 0. The model's weights are the
    ``resident_weight_bytes`` column where present (the calibration fit prices many one-op
    graphs in one table) or the sum of ``const_bytes`` over the table."""
    c = table.columns
    largest = max((lv.bytes for lv in spec.caches), default=0.0)
    footprint = c["resident_weight_bytes"] if "resident_weight_bytes" in c else np.full(len(table), c["const_bytes"].sum())
    return np.where(footprint > largest, np.minimum(c["const_bytes"], c["bytes_read"]), 0.0)


def parallel_weight(spec: CpuSpec, table: WorkTable) -> np.ndarray | None:
    """Per row ``q = r1 / (r1 + τ)``: how far the runtime spreads an op of one-core roofline time
    r1 (per executed op, i.e. divided by ``repeat``) over its threads, with τ the calibrated
    half-time (``parallel_half_time_kind_s`` for the row's kind, else ``parallel_half_time_s``);
    a recurrent op's r1 is per time step (:func:`serial_steps`).
    None where no τ is calibrated or the spec runs one thread."""
    tau = keyed_rows(table, spec.parallel_half_time_kind_s, spec.parallel_half_time_s)
    if not (tau > 0).any() or (spec.threads or spec.cores) <= 1:
        return None
    _, compute, memory, _ = roof_parts(spec, table, np.full(len(table), 1.0 / spec.cores))
    r1 = np.maximum(compute, memory) / parallel_sections(table)
    return r1 / (r1 + tau)


#: Recurrent ops: the runtime parallelises each time step on its own (one fork/join per step).
RECURRENT = ("LSTM", "GRU", "RNN", "DynamicQuantizeLSTM")


def serial_steps(table: WorkTable) -> np.ndarray:
    """Per row: the sequential steps one execution runs, each parallelised on its own: a
    recurrent op's time steps × directions (its ``gemm_batch``), else 1. A 42 µs LSTM over 8
    steps sped up 1.15× on 2 threads here, like the 5 µs GEMVs it is made of, not like a 42 µs GEMM."""
    rec = np.isin(table.op_type, RECURRENT)
    return np.where(rec, np.maximum(table.columns["gemm_batch"], 1.0), 1.0)


def parallel_sections(table: WorkTable) -> np.ndarray:
    """Per row: the sections the runtime forks and joins separately per inference: executions
    (``repeat``) × :func:`serial_steps`."""
    return np.maximum(table.columns["repeat"], 1.0) * serial_steps(table)


def thread_share(spec: CpuSpec, table: WorkTable, weight: np.ndarray | None = None) -> np.ndarray:
    """Per row: the share of the cores an op gets. :func:`core_share` (Amdahl), except with a
    calibrated half-time: speed-up ``1 + (E - 1) · q`` (E = Amdahl effective cores, q =
    :func:`parallel_weight`, passed as ``weight`` when already computed): short ops barely
    parallelise (ONNX Runtime runs tiny kernels on one thread)."""
    q = parallel_weight(spec, table) if weight is None else weight
    share = core_share(spec, table)
    if q is None:
        return share
    one = np.full(len(table), 1.0 / spec.cores)
    return one * (1.0 + (share / one - 1.0) * q)


def sync_s(spec: CpuSpec, table: WorkTable, weight: np.ndarray | None) -> np.ndarray:
    """Per row: ``q · sync × sections`` (:func:`parallel_sections`; sync: ``parallel_sync_kind_s`` of
    the row's kind or convolution key, else ``parallel_sync_s``), the fork/join an op spread over threads pays
    (q = :func:`parallel_weight`); 0 on one thread. Measured on this project's VM at 2 threads:
    a 1.7 µs LayerNormalization took 2.0 µs, a 2.1 µs 16-channel convolution 2.4 µs."""
    if weight is None:
        return np.zeros(len(table))
    sync = keyed_rows(table, spec.parallel_sync_kind_s, spec.parallel_sync_s)
    return weight * sync * parallel_sections(table)
