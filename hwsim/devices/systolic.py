"""TPU-like systolic-array device model: GEMM folds with fill/drain, buffer re-fetch, vector unit.

Per WorkTable row (vectorised over rows, one call per table):

* **GEMM rows** (a GEMM view batch·m·n·k > 0; convolutions via im2col, or per tap with
  ``conv_mapping: per_tap`` when the table carries a ``gemm_taps`` column): compute cycles from
  SCALE-Sim's fold model (:mod:`hwsim.devices.systolic_cycles`), times ``repeat``;
  ``array_s = cycles / freq_hz / dtype_speedup[dtype]``. The epilogue (bias, fused activation:
  FLOPs beyond 2·MACs) runs on the vector unit, pipelined with the array:
  ``compute_s = max(array_s, epilogue_flops / vector_flops_per_s)``.
* **Other rows**: ``compute_s = flops / vector_flops_per_s``.
* A spec ``efficiency`` entry for a work kind divides compute_s (none by default: the cycle
  model already captures mapping and fill/drain losses).
* **Memory**: DRAM bytes = compulsory (bytes_read + bytes_written) + buffer re-fetch
  (:func:`~hwsim.devices.systolic_cycles.refetch_bytes`); SRAM bytes = array operand
  accesses (:func:`~hwsim.devices.systolic_cycles.sram_access_bytes`) + the DRAM bytes that
  pass through the buffers (vector rows: their bytes once).
  ``memory_s = max(dram / (mem_bw · mem_efficiency), sram / sram_bw)``.
* ``latency = max(compute_s, memory_s)`` (double-buffered DMA overlaps transfers with compute;
  no per-op launch overhead: TPU programs are compiled whole by XLA).
* Energy: :func:`hwsim.devices.base.dynamic_energy` with those DRAM and SRAM bytes.
* Rows the counter could not count: bound ``unsupported``, NaN latency and energy.
"""

from __future__ import annotations

import numpy as np

from hwsim.config.devices import SystolicSpec
from hwsim.devices.base import (
    Bound,
    CostTable,
    UnsupportedDtypeError,
    dynamic_energy,
    efficiency,
    roofline,
    unsupported_rows,
    utilization,
)
from hwsim.devices.systolic_cycles import FoldPlan, fold_plan, refetch_bytes, sram_access_bytes
from hwsim.graph.dtypes import DTYPE_BYTES
from hwsim.ops.work import WorkTable


class SystolicModel:
    """A chip of ``arrays`` systolic arrays (MXUs) of ``array_rows × array_cols`` MACs."""

    kind = "systolic"

    def __init__(self, spec: SystolicSpec) -> None:
        self.spec = spec

    @property
    def peak_flops_per_s(self) -> dict[str, float]:
        """Array peak by dtype: arrays · rows · cols · 2 · freq_hz · dtype_speedup (FLOP/s)."""
        s = self.spec
        base = s.arrays * s.array_rows * s.array_cols * 2.0 * s.freq_hz
        return {d: base * x for d, x in s.dtype_speedup.items()}

    def supports(self, table: WorkTable) -> np.ndarray:
        """Every counted op runs here (GEMMs on the arrays, the rest on the vector unit)."""
        return ~unsupported_rows(table)

    def price(self, table: WorkTable) -> CostTable:
        """Per-op latency, energy and bound of ``table`` on this chip (see module docstring)."""
        s, c = self.spec, table.columns
        rep = np.maximum(c["repeat"], 1.0)
        unsup = unsupported_rows(table)
        gemm, batch, plan = self._plan(table, unsup)
        elem, speedup = self._dtype_columns(table, gemm)
        array_s = plan.cycles * rep / (s.freq_hz * speedup)
        vec_flops = np.where(gemm, np.maximum(c["flops"] - 2.0 * c["macs"], 0.0), c["flops"])
        compute_s = np.maximum(array_s, vec_flops / s.vector_flops_per_s)
        if s.efficiency:
            compute_s = compute_s / efficiency(s, table)
        dram, sram = self._traffic(table, plan, gemm, batch, elem, rep)
        memory_s = np.maximum(dram / (s.mem_bw_bytes_per_s * s.mem_efficiency), sram / s.sram_bw_bytes_per_s)
        overhead_s = np.zeros(len(table))
        latency, bound = roofline(compute_s, memory_s, overhead_s)
        energy = dynamic_energy(s, table, dram, sram)
        peak = np.where(gemm, self._array_peak() * speedup, s.vector_flops_per_s)
        util = utilization(table, latency, peak)
        if unsup.any():
            latency, energy = np.where(unsup, np.nan, latency), np.where(unsup, np.nan, energy)
            bound[unsup] = Bound.UNSUPPORTED
        notes = self._notes(table)
        return CostTable(latency, compute_s, memory_s, overhead_s, energy, bound, util, peak, notes)

    def compute_cycles(self, table: WorkTable) -> np.ndarray:
        """Array compute cycles per row (SCALE-Sim's no-stall count, times ``repeat``; 0 off-array)."""
        _, _, plan = self._plan(table, unsupported_rows(table))
        return plan.cycles * np.maximum(table.columns["repeat"], 1.0)

    def dram_bytes(self, table: WorkTable) -> np.ndarray:
        """DRAM bytes per row: compulsory traffic plus buffer-capacity re-fetch."""
        gemm, batch, plan = self._plan(table, unsupported_rows(table))
        elem, _ = self._dtype_columns(table, gemm)
        return self._traffic(table, plan, gemm, batch, elem, np.maximum(table.columns["repeat"], 1.0))[0]

    def _plan(self, table: WorkTable, unsup: np.ndarray) -> tuple[np.ndarray, np.ndarray, FoldPlan]:
        """(GEMM-row mask, groups per row (0 off-array), fold plan)."""
        s, c = self.spec, table.columns
        gemm = (c["gemm_batch"] * c["gemm_m"] * c["gemm_n"] * c["gemm_k"] > 0) & ~unsup
        batch = np.where(gemm, c["gemm_batch"], 0.0)
        plan = fold_plan(s.dataflow, s.array_rows, s.array_cols, s.arrays, batch, c["gemm_m"],
                         c["gemm_n"], c["gemm_k"], self._taps(table))
        return gemm, batch, plan

    def _array_peak(self) -> float:
        s = self.spec
        return s.arrays * s.array_rows * s.array_cols * 2.0 * s.freq_hz

    def _taps(self, table: WorkTable) -> np.ndarray | float:
        """Kernel taps per row for ``per_tap`` mapping (needs a ``gemm_taps`` column), else 1."""
        if self.spec.conv_mapping == "per_tap" and "gemm_taps" in table.columns:
            return np.maximum(table.columns["gemm_taps"], 1.0)
        return 1.0

    def _notes(self, table: WorkTable) -> tuple[str, ...]:
        if self.spec.conv_mapping == "per_tap" and "gemm_taps" not in table.columns:
            return ("conv_mapping per_tap needs a gemm_taps column (kernel taps per op), which this "
                    "WorkTable lacks: convolutions were priced as im2col",)
        return ()

    def _dtype_columns(self, table: WorkTable, gemm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bytes per element, array dtype speedup) per row; GEMMs in a dtype the arrays lack raise."""
        elem = np.full(len(table), 4.0)
        speedup = np.ones(len(table))
        for d in set(table.dtype.tolist()):
            rows = table.dtype == d
            elem[rows] = DTYPE_BYTES.get(d, 4.0)
            if not (rows & gemm).any():
                continue
            if d not in self.spec.dtype_speedup:
                raise UnsupportedDtypeError(
                    f"device {self.spec.name!r} has no {d} matrix arithmetic (its arrays support "
                    f"{', '.join(sorted(self.spec.dtype_speedup))}); quantise the model (--dtype) or pick another device")
            speedup[rows] = self.spec.dtype_speedup[d]
        return elem, speedup

    def _traffic(self, table: WorkTable, plan: FoldPlan, gemm: np.ndarray, batch: np.ndarray, elem: np.ndarray,
                 rep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(DRAM bytes, SRAM bytes) per row, ``repeat`` included."""
        s, c = self.spec, table.columns
        m, n, k = c["gemm_m"], c["gemm_n"], c["gemm_k"]
        compulsory = c["bytes_read"] + c["bytes_written"]
        filt = batch * k * n * elem
        ifm = np.maximum(c["bytes_read"] / rep - filt, 0.0)
        ofm = batch * m * n * elem
        buffers = (s.ifmap_sram_bytes, s.filter_sram_bytes, s.ofmap_sram_bytes)
        extra = refetch_bytes(s.dataflow, plan, s.array_cols, buffers, (ifm, filt, ofm), batch, elem) * rep
        dram = compulsory + np.where(gemm, extra, 0.0)
        on_array = sram_access_bytes(s.dataflow, plan, batch, m, n, k, elem) * rep
        return dram, dram + np.where(gemm, on_array, 0.0)
