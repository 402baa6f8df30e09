"""GPU model: tensor-core vs CUDA-core peaks, wave/tile quantisation, L2 vs HBM, launch overhead,
2:4 structured sparsity and unstructured sparse kernels.

Per op (vectorised over the rows of a :class:`WorkTable`):

**Which unit.** Matmul/conv rows whose dtype has a tensor-core peak (``tensor_flops_per_s``) run
there. fp32 GEMMs run on CUDA cores at ``vector_flops_per_s["fp32"]`` unless the spec sets
``fp32_gemm_uses_tf32`` (cuBLAS/cuDNN TF32 math mode) and has a ``tf32`` peak: then at the tf32
tensor peak. Off by default because PyTorch ≥ 1.12 disables TF32 for matmuls by default; cuDNN
convolutions do use it (set the flag for conv-heavy fp32 studies). Every other row runs at
``vector_flops_per_s[dtype]`` (index/bool dtypes at fp32); a missing dtype raises
:class:`UnsupportedDtypeError` naming it.

**Wave and tile quantisation** (NVIDIA, "Matrix Multiplication Background User's Guide",
DU-09799-001, ch. 3). On the GEMM view (batch, m, n, k) with tiles ``tm × tn``::

    tm = min(tile_m, ceil16(m)); tn = min(tile_n, ceil16(n))        # libraries shrink tiles for
    tiles = batch · ⌈m/tm⌉ · ⌈n/tn⌉                                  # skinny problems (cuBLASLt
    splits = clip(min(⌊sms/tiles⌋, ⌈k/128⌉), 1)                       # offers 8×8 ... 256×128)
    waves = ⌈tiles · splits / sms⌉                                   # split-K fills idle SMs
    padded_macs = waves · sms · tm · tn · ⌈k/splits⌉
    compute_s = flops · (padded_macs / (batch·m·n·k)) / (peak · eff(kind, size))

For large problems (tiles ≥ sms) this is exactly ``waves × sms × tile_m × tile_n × k × 2 / peak``:
109 tiles on 108 SMs take 2 waves. The split-K minimum of 128 per split and the clamp to 16 (the
tensor-core MMA m granularity) are assumptions pending calibration.

**Memory.** Working set per repeat ≤ ``l2_bytes`` → ``l2_bw_bytes_per_s`` (energy at
``sram_byte_j``), else HBM at ``mem_bw_bytes_per_s × mem_efficiency`` (``dram_byte_j``).
``overhead_s = launch_overhead_s × repeat`` per op with work; zero-work rows cost nothing.

**2:4 structured sparsity** (Mishra et al. 2021, arXiv 2104.08378; hardware_facts 1e): on a spec
with ``sparse_24``, tensor-core rows whose weights are 2:4 run at twice the tensor peak, and their
weight bytes shrink to ``0.5 · (1 + 2/bits)`` of dense (2-bit index per kept value: 0.5625 for
fp16). The structure comes from the ``weight_pattern`` column (code 2 = 2:4, measured on real
weights or declared by ``prune_table``); where it is unknown (-1) a row counts as 2:4 when
``weight_density ≤ 0.5``, optimistic for unstructured pruning. See :func:`two_four_rows`.

**Unstructured sparsity** (Gale et al., "Sparse GPU Kernels for Deep Learning", SC20; hardware_facts
5): a sparse kernel does ``density × macs`` at ``sparse_kernel_fraction × vector fp32 peak`` (Sputnik
reaches 27% of fp32 peak on V100) and reads ``nnz × (value + sparse_index_bytes)`` weight bytes;
per op the model takes the faster of dense and sparse, as a library would. For a compute-bound GEMM
the crossover density is ``d* = sparse_kernel_fraction · vector_fp32 / (dense_peak · eff)``
(:func:`unstructured_crossover_density`): on A100 fp16 tensor cores with the shipped
efficiency 0.7, d* = 0.27·19.5 / (312·0.7) ≈ 0.024, i.e. only above ~97.6% sparsity does a sparse
kernel win; against fp32 CUDA-core GEMMs on V100, d* = 0.27/0.7 ≈ 0.39, so 70–90% sparsity gives
1.3–3.9× per kernel — consistent with Sputnik's 1.2–2.1× end-to-end (whose baseline was fp32).
The model therefore agrees with Gale et al. where they measured, and says their gains do not
carry over to fp16 tensor-core baselines for compute-bound layers; memory-bound layers (GEMV,
small batch) gain once ``density · (value + index)/value < 1`` (d < 1/3 for fp16 + int32 index).
"""

from __future__ import annotations

import numpy as np

from hwsim.config.devices import GpuSpec
from hwsim.devices.base import CostTable, dtype_peaks, efficiency, unsupported_rows
from hwsim.devices.cpu import assemble_costs, safe_div, zero_work_rows
from hwsim.graph.dtypes import dtype_bytes
from hwsim.ops.work import WorkKind, WorkTable

#: Smallest K slice a split-K GEMM gives one SM (assumption; calibrate).
SPLIT_K_MIN = 128
#: Tile edges are rounded up to this many rows/columns (tensor-core MMA m granularity, m16n8k16).
TILE_GRANULE = 16
#: Index bits per kept value in the 2:4 compressed format (hardware_facts 1e).
INDEX_BITS_24 = 2


def tensor_peaks(spec: GpuSpec) -> dict[str, float]:
    """Tensor-core peak per operand dtype; fp32 maps to tf32 only when the spec allows it."""
    peaks = dict(spec.tensor_flops_per_s)
    if spec.fp32_gemm_uses_tf32 and "tf32" in peaks:
        peaks["fp32"] = peaks["tf32"]
    return peaks


def tensor_rows(spec: GpuSpec, table: WorkTable) -> np.ndarray:
    """Matmul/conv rows with MACs whose dtype has a tensor-core peak."""
    gemm_kind = np.isin(table.kind, (int(WorkKind.MATMUL), int(WorkKind.CONV)))
    dtype_ok = np.isin(table.dtype, list(tensor_peaks(spec)))
    return gemm_kind & dtype_ok & (table.columns["macs"] > 0) & ~unsupported_rows(table)


def two_four_rows(spec: GpuSpec, table: WorkTable, on_tensor: np.ndarray) -> np.ndarray:
    """Rows whose weights are 2:4 and run on sparse tensor cores.

    Uses the ``weight_pattern_24`` column when the WorkTable has one, else ``weight_pattern``
    (code 2 = 2:4, measured by the loader or declared by :func:`hwsim.workload.prune.prune_table`;
    code -1 = unknown falls back to the proxy ``weight_density ≤ 0.5``), else the proxy; only with
    ``spec.sparse_24`` and real (constant) weights.
    """
    if not spec.sparse_24:
        return np.zeros(len(table), dtype=bool)
    c = table.columns
    proxy = c["weight_density"] <= 0.5
    if "weight_pattern_24" in c:
        pattern = c["weight_pattern_24"] > 0
    elif "weight_pattern" in c:
        pattern = (c["weight_pattern"] == 2) | ((c["weight_pattern"] < 0) & proxy)
    else:
        pattern = proxy
    return on_tensor & pattern & (c["weight_bytes"] > 0)


def wave_factor(spec: GpuSpec, table: WorkTable, rows: np.ndarray) -> np.ndarray:
    """Padded / useful MACs of each row's GEMM view after tile and wave quantisation (1 elsewhere)."""
    c = table.columns
    b, m, n, k = (np.maximum(c[f"gemm_{x}"], 0.0) for x in ("batch", "m", "n", "k"))
    has = rows & (m > 0) & (n > 0) & (k > 0)
    b, m, n, k = (np.where(has, x, 1.0) for x in (np.maximum(b, 1.0), m, n, k))
    tm = np.minimum(spec.tile_m, np.ceil(m / TILE_GRANULE) * TILE_GRANULE)
    tn = np.minimum(spec.tile_n, np.ceil(n / TILE_GRANULE) * TILE_GRANULE)
    tiles = b * np.ceil(m / tm) * np.ceil(n / tn)
    splits = np.maximum(np.minimum(np.floor(spec.sms / tiles), np.ceil(k / SPLIT_K_MIN)), 1.0)
    waves = np.ceil(tiles * splits / spec.sms)
    padded = waves * spec.sms * tm * tn * np.ceil(k / splits)
    return np.where(has, padded / (b * m * n * k), 1.0)


def memory_level(spec: GpuSpec, ws_bytes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bandwidth bytes/s, from_hbm) per row: L2 when the working set fits, else derated HBM."""
    in_l2 = ws_bytes <= spec.l2_bytes
    bw = np.where(in_l2, spec.l2_bw_bytes_per_s, spec.mem_bw_bytes_per_s * spec.mem_efficiency)
    return bw, ~in_l2


def compressed_24_factor(dtypes: np.ndarray) -> np.ndarray:
    """Stored fraction of a 2:4 weight: half the values plus 2 index bits each, 0.5·(1 + 2/bits)."""
    bits = np.array([8.0 * dtype_bytes(d) if d in _BITS_OK else 16.0 for d in dtypes]) if len(dtypes) else np.zeros(0)
    return 0.5 * (1.0 + INDEX_BITS_24 / bits)


_BITS_OK = frozenset({"fp32", "fp16", "bf16", "fp8", "int8", "int4", "fp64"})


def unstructured_crossover_density(spec: GpuSpec, dtype: str, dense_efficiency: float | None = None) -> float:
    """Weight density below which a sparse kernel beats the dense GEMM (compute-bound, no padding).

    ``d* = sparse_kernel_fraction · vector_fp32 / (dense_peak(dtype) · eff)`` with ``eff`` the
    spec's matmul ``peak_fraction`` by default.
    """
    dense_peak = tensor_peaks(spec).get(dtype, spec.vector_flops_per_s.get(dtype, 0.0))
    eff = spec.kind_efficiency(WorkKind.MATMUL).peak_fraction if dense_efficiency is None else dense_efficiency
    return spec.sparse_kernel_fraction * spec.vector_flops_per_s["fp32"] / (dense_peak * eff)


class GpuModel:
    """Prices a WorkTable on a :class:`GpuSpec` (formulas and sources in the module docstring)."""

    kind = "gpu"

    def __init__(self, spec: GpuSpec) -> None:
        self.spec = spec

    def supports(self, table: WorkTable) -> np.ndarray:
        """Every counted op runs on the GPU; only uncounted rows are refused."""
        return ~unsupported_rows(table)

    def peaks(self, table: WorkTable, on_tensor: np.ndarray) -> np.ndarray:
        """Peak FLOP/s per row: tensor-core peak on tensor rows, vector peak elsewhere."""
        spec = self.spec
        vector_rows = ~on_tensor & ~unsupported_rows(table)
        gemm = _gemm_rows(table)
        vector = dict(spec.vector_flops_per_s)
        # matrix products in a format the GPU lacks are an error; narrow elementwise work and
        # format conversions run on the 16/32-bit vector units (widen)
        return (dtype_peaks(table, tensor_peaks(spec), spec.name, mask=on_tensor)
                + dtype_peaks(table, vector, spec.name, default="fp32", mask=vector_rows & gemm)
                + dtype_peaks(table, vector, spec.name, default="fp32", mask=vector_rows & ~gemm, widen=True))

    def price(self, table: WorkTable) -> CostTable:
        """Per-op latency, energy, bound and utilisation of ``table`` on this GPU."""
        spec, c = self.spec, table.columns
        on_tensor = tensor_rows(spec, table)
        s24 = two_four_rows(spec, table, on_tensor)
        peak = self.peaks(table, on_tensor) * np.where(s24, 2.0, 1.0)
        compute = safe_div(c["flops"] * wave_factor(spec, table, on_tensor), peak * efficiency(spec, table))
        saved = np.where(s24, c["weight_bytes"] * (1.0 - compressed_24_factor(table.dtype)), 0.0)
        moved = c["bytes_read"] + c["bytes_written"] - saved
        memory, from_hbm = self._memory(table, moved)
        repeat = np.maximum(c["repeat"], 1.0)
        parts = {"compute_s": compute, "memory_s": memory, "overhead_s": np.where(
                 zero_work_rows(table), 0.0, spec.launch_overhead_s * repeat),
                 "dram_bytes": np.where(from_hbm, moved, 0.0), "sram_bytes": np.where(from_hbm, 0.0, moved),
                 "macs": c["macs"] * np.where(s24, 0.5, 1.0), "peak": peak}
        notes = ("2:4 sparse tensor cores on ops with 2:4 weights (weight_pattern code 2)",) if s24.any() else ()
        return assemble_costs(spec, table, self._sparse_kernels(table, parts), notes)

    def _memory(self, table: WorkTable, moved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(memory_s, from_hbm) for ``moved`` bytes per row, the level chosen per repeat."""
        bw, from_hbm = memory_level(self.spec, moved / np.maximum(table.columns["repeat"], 1.0))
        return moved / bw, from_hbm

    def _sparse_kernels(self, table: WorkTable, parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Replace dense (or 2:4) costs by an unstructured sparse kernel's where that is faster.

        Sparse: compute = (d·2·macs + other flops) / (sparse_kernel_fraction · vector fp32 peak);
        bytes = dense bytes − weight_bytes + d·weight_bytes + d·params·sparse_index_bytes.
        """
        spec, c = self.spec, table.columns
        vec32 = spec.vector_flops_per_s.get("fp32", 0.0)
        d = c["weight_density"]
        cand = ((d < 1.0) & (c["macs"] > 0) & (c["params"] > 0) & (c["weight_bytes"] > 0)
                & np.isin(table.kind, (int(WorkKind.MATMUL), int(WorkKind.CONV))) & ~unsupported_rows(table))
        if vec32 <= 0 or not cand.any():
            return parts
        other = np.maximum(c["flops"] - 2 * c["macs"], 0.0)
        compute = (d * 2 * c["macs"] + other) / (spec.sparse_kernel_fraction * vec32)
        moved = (c["bytes_read"] + c["bytes_written"] - c["weight_bytes"] * (1.0 - d)
                 + d * c["params"] * spec.sparse_index_bytes)
        memory, from_hbm = self._memory(table, moved)
        use = cand & (np.maximum(compute, memory) < np.maximum(parts["compute_s"], parts["memory_s"]))
        if not use.any():
            return parts
        out = dict(parts)
        for key, sparse in (("compute_s", compute), ("memory_s", memory), ("macs", d * c["macs"]),
                            ("dram_bytes", np.where(from_hbm, moved, 0.0)),
                            ("sram_bytes", np.where(from_hbm, 0.0, moved)),
                            ("peak", np.full(len(table), vec32))):
            out[key] = np.where(use, sparse, parts[key])
        return out


def _gemm_rows(table: WorkTable) -> np.ndarray:
    """Rows that are matrix products (matmul/conv kinds with MACs)."""
    return np.isin(table.kind, (int(WorkKind.MATMUL), int(WorkKind.CONV))) & (table.columns["macs"] > 0)
