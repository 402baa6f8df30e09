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
  calibrated ``op_efficiency`` curve for the op type, or ``Conv/grouped`` on FLOPs per group,
  replaces it: :func:`op_efficiency`).
* ``memory_s = bytes / bw``: the op's working set ``(bytes_read + bytes_written) / repeat`` picks the
  smallest cache level that holds it (its aggregate bandwidth), else DRAM at
  ``mem_bw_bytes_per_s × mem_efficiency``. The data is assumed resident in that level (produced
  by the previous op or reused across repeats); cold misses are not modelled (calibration).
* ``overhead_s = dispatch_overhead_s × repeat`` for every op with work; ``zero_work_dispatch_s × repeat``
  for an executed op without work (Reshape, Shape, Unsqueeze...: the runtime still calls a kernel;
  default 0, calibrated); rows constant-folded at load time (``folded`` column) cost nothing,
  as the runtime folds them too (:func:`overhead_s`).
* ``latency_s = max(compute_s, memory_s) + overhead_s`` (:func:`roofline`); energy from
  :func:`dynamic_energy` with DRAM bytes at ``dram_byte_j`` and cache bytes at ``sram_byte_j``.
* Rows the counter could not count (``supported`` = 0) get bound UNSUPPORTED and NaN latency and
  energy: never zero.

The helpers :func:`zero_work_rows`, :func:`safe_div` and :func:`assemble_costs` are
shared with :mod:`hwsim.devices.gpu`.
"""

from __future__ import annotations

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
from hwsim.ops.work import WorkKind, WorkTable


def zero_work_rows(table: WorkTable) -> np.ndarray:
    """Rows with neither arithmetic nor bytes (folded constants, Reshape, Identity...): free."""
    c = table.columns
    return (c["flops"] <= 0) & (c["bytes_read"] + c["bytes_written"] <= 0)


def overhead_s(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per-row runtime overhead: dispatch × repeat for ops with work, zero_work_dispatch × repeat for
    executed zero-work ops, 0 for folded (and unsupported) rows."""
    c = table.columns
    reps = np.maximum(c["repeat"], 1.0)
    folded = c["folded"] > 0 if "folded" in c else np.zeros(len(table), dtype=bool)
    free = np.where(folded | (c["supported"] <= 0), 0.0, spec.zero_work_dispatch_s * reps)
    return np.where(zero_work_rows(table), free, spec.dispatch_overhead_s * reps)


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
    share = np.ones(len(table))
    if spec.threads is None and not spec.parallel_fraction:
        return share
    for k in set(table.kind.tolist()):
        share[table.kind == k] = spec.effective_cores(WorkKind(k).label) / spec.cores
    return share


def op_efficiency(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Kind efficiency, replaced by ``spec.op_efficiency[op_type]`` rows (``Conv/grouped``: w per group)."""
    eff = efficiency(spec, table)
    if not spec.op_efficiency:
        return eff
    c = table.columns
    w = c["flops"] / np.maximum(c["repeat"], 1.0)
    keys = np.where((table.op_type == "Conv") & (c["gemm_batch"] > 1), "Conv/grouped", table.op_type.astype(str))
    w = np.where(keys == "Conv/grouped", w / np.maximum(c["gemm_batch"], 1.0), w)
    for key, curve in spec.op_efficiency.items():
        m = (keys == key) & (w > 0)
        eff[m] = curve.peak_fraction * w[m] / (w[m] + curve.half_work_flops)
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
        peak, compute, memory, from_dram = roof_parts(spec, table, thread_share(spec, table))
        moved = c["bytes_read"] + c["bytes_written"]
        parts = {"compute_s": compute, "memory_s": memory, "overhead_s": overhead_s(spec, table),
                 "dram_bytes": np.where(from_dram, moved, 0.0), "sram_bytes": np.where(from_dram, 0.0, moved),
                 "macs": c["macs"], "peak": peak}
        return assemble_costs(spec, table, parts)


def roof_parts(spec: CpuSpec, table: WorkTable, share: np.ndarray) -> tuple[np.ndarray, ...]:
    """(peak, compute_s, memory_s, from_dram) per row with ``share`` of the cores' peak and cache bandwidth."""
    c = table.columns
    peak = dtype_peaks(table, cpu_peaks_flops_per_s(spec), spec.name, default="fp32", mask=~unsupported_rows(table)) * share
    compute = safe_div(c["flops"], peak * op_efficiency(spec, table))
    bw, from_dram = level_bandwidth(spec, working_set_bytes(table), share)
    return peak, compute, (c["bytes_read"] + c["bytes_written"]) / bw, from_dram


def thread_share(spec: CpuSpec, table: WorkTable) -> np.ndarray:
    """Per row: the share of the cores an op gets. :func:`core_share` (Amdahl), except with a
    calibrated ``parallel_half_time_s`` τ: an op of one-core roofline time r1 gets the speed-up
    ``1 + (E - 1) · r1 / (r1 + τ)`` (E = Amdahl effective cores): short ops barely parallelise
    (the runtime's fork/join costs as much as it saves; ONNX Runtime runs tiny kernels on one thread)."""
    share = core_share(spec, table)
    if spec.parallel_half_time_s <= 0 or (spec.threads or spec.cores) <= 1:
        return share
    one = np.full(len(table), 1.0 / spec.cores)
    _, compute, memory, _ = roof_parts(spec, table, one)
    r1 = np.maximum(compute, memory)
    return one * (1.0 + (share / one - 1.0) * r1 / (r1 + spec.parallel_half_time_s))
