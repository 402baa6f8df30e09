"""Sparse accelerators (EIE / SCNN / Cambricon-X style): PEs that skip zero operands.

Per matmul/conv row (GEMM view batch, m, n, k; W is the k×n weight of each group):

* **Effective MACs** = macs × d_w (if ``skip_zero_weights``) × d_a (if
  ``skip_zero_activations``): the products with both operands non-zero (Han et al., "EIE",
  ISCA 2016, Eq. 3; Parashar et al., "SCNN", ISCA 2017, Sec. III).
* **Storage format** (decided per row): a row with d_w < 1 on a zero-skipping chip is stored
  compressed when that is smaller than dense. Compressed bytes =
  nnz × (1 + pad) × (weight_bits + index_bits) / 8 + batch × (k + 1) × pes × pointer_bits / 8:
  nnz = params × d_w; a relative index of b bits spans at most 2^b − 1 zeros, so a run longer
  than that needs a padding zero entry (EIE Sec. III-B) — with zeros i.i.d. the expected
  padding per non-zero is pad = q / (1 − q), q = (1 − d_w)^(2^b) (4-bit, d_w = 0.1: 0.228);
  the pointer term is EIE's per-PE column-pointer array (16-bit, Sec. IV "Pointer Read
  Unit"), one per input column k per PE. **Dense rows are stored dense** in the model's dtype
  (``weight_bytes``) with no index: weight sharing (EIE's 4-bit codebook) is part of the
  Deep-Compression pipeline that produced the sparse model, so a dense model is priced as it
  is; quantise it (a dtype transform) to model a quantised dense model.
* **Executed entries** = effective MACs × (1 + pad) on compressed rows (padding zeros occupy
  a PE cycle); on dense rows = macs (× d_a if activations are skipped). Dense work therefore
  runs exactly at pes × macs_per_pe_per_cycle × freq_hz: no gain, no index overhead.
* **Load balance** (compressed rows only): compute_s = entries / (pes × macs_per_pe_per_cycle ×
  freq_hz × load_balance × occupancy). ``load_balance`` is the spec's measured average PE
  utilisation (EIE Table IV: actual/theoretical time, 0.90-0.96 on the AlexNet layers with an
  8-deep activation FIFO). ``occupancy`` adds the structural loss EIE describes for small
  matrices (Sec. VI-C, NT-We): rows are interleaved over PEs, so each PE holds r = n / pes rows
  of every column and X ~ Binomial(r, d_w) of its non-zeros; a PE spends at least one cycle
  on every broadcast column, E[max(X, 1)] = μ + P(X = 0), so
  occupancy = μ / (μ + (1 − d_w)^r) with μ = r·d_w / macs_per_pe_per_cycle. Checked against
  EIE Table IV (64 PEs): NT-We (600 rows, 10%) 0.72 × 0.90 = 0.64 vs 0.65 measured; Alex-8
  (1000 rows, 25%) 0.90 vs 0.90; Alex-6 0.90 vs 0.93; VGG-6 (4%) 0.87 vs 0.82.
* **Memory**: compressed weights are resident in ``sram_bytes`` (EIE's premise: the whole
  compressed model on chip) for the rows that fit, greedily in graph order; the others stream
  from DRAM every inference. Activations are read and written once from DRAM, dense.
  memory_s = DRAM bytes / (mem_bw × mem_efficiency). Non-MAC FLOPs run on the vector path at
  ``vector_flops_per_s``. latency = max(compute, memory) (roofline).
* **Energy** = executed entries × e_mac + other FLOPs × e_op + SRAM bytes × e_sram + DRAM bytes ×
  e_dram, where SRAM bytes = executed entries × bytes per entry (every MAC reads its stored
  weight+index from the weight SRAM, EIE Sec. IV) and DRAM bytes are the streamed weights and
  the activations (:func:`hwsim.devices.base.dynamic_energy` with the ``macs=`` override).
"""

from __future__ import annotations

import numpy as np

from hwsim.config.devices import SparseSpec
from hwsim.devices.base import (
    Bound,
    CostTable,
    dtype_peaks,
    dynamic_energy,
    roofline,
    unsupported_rows,
    utilization,
)
from hwsim.ops.work import WorkKind, WorkTable

_GEMM = (int(WorkKind.MATMUL), int(WorkKind.CONV))


class SparseModel:
    """Prices a WorkTable on a zero-skipping sparse accelerator (see the module docstring)."""

    kind = "sparse"

    def __init__(self, spec: SparseSpec) -> None:
        self.spec = spec

    @property
    def mac_rate(self) -> float:
        """Peak MAC/s of the PE array: pes × macs_per_pe_per_cycle × freq_hz."""
        s = self.spec
        return s.pes * s.macs_per_pe_per_cycle * s.freq_hz

    def supports(self, table: WorkTable) -> np.ndarray:
        """Every counted op runs here: GEMMs on the PEs, the rest on the vector path."""
        return ~unsupported_rows(table)

    def compressed(self, table: WorkTable) -> np.ndarray:
        """Rows whose weights are stored in the compressed (value + index) format."""
        c = table.columns
        sparse = np.isin(table.kind, _GEMM) & (c["params"] > 0) & (c["weight_density"] < 1.0)
        if not self.spec.skip_zero_weights:
            return np.zeros(len(table), dtype=bool)
        return sparse & (self._compressed_bytes(table) < c["weight_bytes"])

    def padding_ratio(self, table: WorkTable) -> np.ndarray:
        """Expected padding zeros per non-zero: q / (1 − q) · max(0, 1 − 2^b / r), q = (1 − d_w)^(2^b).

        Runs restart in every column slice of r = n / pes rows, so a slice no longer than the
        2^b − 1 zeros an index spans never needs padding; longer slices are scaled linearly."""
        span = 2.0 ** min(self.spec.index_bits, 60.0)
        q = (1.0 - table.columns["weight_density"]) ** span
        rows = table.columns["gemm_n"] / self.spec.pes
        return q / np.maximum(1.0 - q, 1e-12) * np.clip(1.0 - span / np.maximum(rows, 1e-12), 0.0, 1.0)

    def _compressed_bytes(self, table: WorkTable) -> np.ndarray:
        s, c = self.spec, table.columns
        nnz = c["params"] * c["weight_density"]
        values = nnz * (1.0 + self.padding_ratio(table)) * (s.weight_bits + s.index_bits) / 8.0
        pointers = c["gemm_batch"] * (c["gemm_k"] + 1.0) * s.pes * s.pointer_bits / 8.0
        return values + pointers

    def weight_storage_bytes(self, table: WorkTable) -> np.ndarray:
        """Stored weight bytes per row: compressed where :meth:`compressed`, else ``weight_bytes``."""
        return np.where(self.compressed(table), self._compressed_bytes(table), table.columns["weight_bytes"])

    def effective_macs(self, table: WorkTable) -> np.ndarray:
        """MACs with both operands non-zero that the PEs perform (zeros skipped as the spec allows)."""
        c = table.columns
        macs = np.where(np.isin(table.kind, _GEMM), c["macs"], 0.0)
        if self.spec.skip_zero_weights:
            macs = np.where(self.compressed(table), macs * c["weight_density"], macs)
        if self.spec.skip_zero_activations:
            macs = macs * c["act_density"]
        return macs

    def executed_entries(self, table: WorkTable) -> np.ndarray:
        """PE MAC slots used: effective MACs plus the padding zeros of compressed rows."""
        pad = np.where(self.compressed(table), self.padding_ratio(table), 0.0)
        return self.effective_macs(table) * (1.0 + pad)

    def occupancy(self, table: WorkTable) -> np.ndarray:
        """Structural PE utilisation μ / (μ + (1 − d_w)^r), r = n / pes rows per PE, μ the stored
        entries (padding included) per slice per MAC lane (1 on dense rows)."""
        c, s = table.columns, self.spec
        rows = np.maximum(c["gemm_n"] / s.pes, 1e-12)
        d = c["weight_density"]
        mu = rows * d * (1.0 + self.padding_ratio(table)) / s.macs_per_pe_per_cycle
        occ = mu / np.maximum(mu + (1.0 - d) ** rows, 1e-300)
        return np.where(self.compressed(table), np.clip(occ, 1e-9, 1.0), 1.0)

    def _dense_mac_s(self, table: WorkTable) -> np.ndarray:
        """Ceiling on a compressed row's MAC time: every PE visits every row slot of every
        (non-zero) column, i.e. the dense time; a compressed row is never slower than that."""
        macs = np.where(np.isin(table.kind, _GEMM), table.columns["macs"], 0.0)
        if self.spec.skip_zero_activations:
            macs = macs * table.columns["act_density"]
        return macs / self.mac_rate

    def resident(self, table: WorkTable) -> np.ndarray:
        """Rows whose stored weights stay in on-chip SRAM: greedy in graph order until full."""
        stored = self.weight_storage_bytes(table)
        return (np.cumsum(stored) <= self.spec.sram_bytes) | (stored == 0)

    def dram_bytes(self, table: WorkTable) -> np.ndarray:
        """DRAM bytes per row: activations in and out once, plus non-resident weights."""
        c = table.columns
        activations = np.maximum(c["bytes_read"] - c["weight_bytes"], 0.0) + c["bytes_written"]
        return activations + np.where(self.resident(table), 0.0, self.weight_storage_bytes(table))

    def price(self, table: WorkTable) -> CostTable:
        """Per-op latency and dynamic energy (formulas in the module docstring)."""
        s, c = self.spec, table.columns
        vector_peak = dtype_peaks(table, {d: s.vector_flops_per_s for d in s.dtypes}, s.name, default=s.dtypes[0])
        entries = self.executed_entries(table)
        eff = np.where(self.compressed(table), s.load_balance * self.occupancy(table), 1.0)
        other = np.maximum(c["flops"] - 2.0 * c["macs"], 0.0)
        mac_s = np.minimum(entries / (self.mac_rate * eff), self._dense_mac_s(table))
        compute = mac_s + np.where(vector_peak > 0, other / np.maximum(vector_peak, 1e-300), 0.0)
        dram = self.dram_bytes(table)
        memory = dram / (s.mem_bw_bytes_per_s * s.mem_efficiency)
        latency, bound = roofline(compute, memory, np.zeros(len(table)))
        per_entry = np.where(self.compressed(table), (s.weight_bits + s.index_bits) / 8.0,
                             np.divide(c["weight_bytes"], c["params"], out=np.zeros(len(table)), where=c["params"] > 0))
        energy = dynamic_energy(s, table, dram, entries * per_entry, macs=entries)
        peak = np.where(np.isin(table.kind, _GEMM), 2.0 * self.mac_rate, vector_peak)
        return _finish(table, latency, compute, memory, energy, bound, peak, 2.0 * entries + other)


def _finish(table: WorkTable, latency: np.ndarray, compute: np.ndarray, memory: np.ndarray,
            energy: np.ndarray, bound: np.ndarray, peak: np.ndarray, executed_flops: np.ndarray) -> CostTable:
    """CostTable with unsupported rows (never priced as free) set to NaN / UNSUPPORTED."""
    bad = unsupported_rows(table)
    latency, energy, bound = latency.copy(), energy.copy(), bound.copy()
    latency[bad], energy[bad], bound[bad] = np.nan, np.nan, Bound.UNSUPPORTED
    util = utilization(table, np.nan_to_num(latency), peak, executed_flops)
    return CostTable(latency_s=latency, compute_s=compute, memory_s=memory, overhead_s=np.zeros(len(table)),
                     energy_j=energy, bound=bound, utilization=util, peak_flops_per_s=peak)
