"""Cycle and traffic model of one GEMM on a systolic array, after SCALE-Sim (vectorised).

SCALE-Sim (Samajdar et al., "SCALE-Sim: Systolic CNN Accelerator Simulator", arXiv 1811.02883;
code: github.com/scalesim-project/scale-sim-v2, ``scalesim/compute/systolic_compute_{ws,os,is}.py``)
maps a GEMM ``ifmap (M × K) · filter (K × N) = ofmap (M × N)`` (conv via im2col: M = output
pixels, K = Cin·kh·kw, N = filters) onto an ``R × C`` array as an ``Sr × Sc`` spatial tile
grid with ``T`` operand rows streamed per tile ("fold"):

=========  ===========================  =========  ==========================
dataflow   stationary on the array      (Sr, Sc)   T (streamed)   cycles/fold
=========  ===========================  =========  ==========================
ws         filter: K on rows, N on cols  (K, N)     M              2R + C + T − 2
os         ofmap: M on rows, N on cols   (M, N)     K              R + C + T − 2
is         ifmap: K on rows, M on cols   (K, M)     N              2R + C + T − 2
=========  ===========================  =========  ==========================

Folds = ⌈Sr/R⌉ · ⌈Sc/C⌉ and SCALE-Sim's compute cycles (its "Total Cycles" without stalls)
are ``folds · cycles_per_fold − 1``. Where the per-fold term comes from, in SCALE-Sim's demand
matrices: ws streams R cycles of weight load, then T ifmap rows, then C − 1 drain cycles, skewed
over R rows (+R − 1); os streams T + C − 1 rows skewed over R (+R − 1); is loads R ifmap rows
then streams the filter like ws. hwsim extends this to ``batch`` independent GEMMs (conv
groups), to ``taps`` separate per-tap GEMMs (``conv_mapping: per_tap``: K → K/taps, folds ×
taps) and to ``arrays`` identical arrays sharing the folds: cycles = ⌈folds/arrays⌉ ·
cycles_per_fold − 1 (folds are independent, so they are dealt round-robin to the arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: dataflow -> (index of Sr, index of Sc, index of T) in (M, N, K), and the R multiple in the fill.
_LAYOUT = {"ws": (2, 1, 0, 2), "os": (0, 1, 2, 1), "is": (2, 0, 1, 2)}


@dataclass(frozen=True)
class FoldPlan:
    """How one GEMM (per row of a WorkTable) folds onto the arrays; all arrays per row.

    ``row_folds``/``col_folds`` are per group and include per-tap splitting; ``folds`` is the
    total over groups and taps; ``cycles`` the compute cycles of one execution (0 without GEMM).
    """

    sr: np.ndarray
    sc: np.ndarray
    t: np.ndarray
    row_folds: np.ndarray
    col_folds: np.ndarray
    folds: np.ndarray
    cycles_per_fold: np.ndarray
    cycles: np.ndarray


def fold_plan(dataflow: str, rows: int, cols: int, arrays: int, batch: np.ndarray, m: np.ndarray,
              n: np.ndarray, k: np.ndarray, taps: np.ndarray | float = 1.0) -> FoldPlan:
    """SCALE-Sim's fold geometry and compute cycles for each GEMM (see module docstring).

    ``k`` is the im2col depth; with ``taps`` > 1 each tap is its own GEMM of depth k/taps.
    """
    i_sr, i_sc, i_t, r_mult = _LAYOUT[dataflow]
    dims = (m, n, k / taps)
    sr, sc, t = dims[i_sr], dims[i_sc], dims[i_t]
    row_folds = np.ceil(sr / rows)
    col_folds = np.ceil(sc / cols)
    if i_sr == 2:  # ws, is: K on the rows -> each tap adds its own row folds
        row_folds = row_folds * taps
        folds = row_folds * col_folds * batch
    else:  # os: K is streamed -> each tap repeats the whole tile grid
        folds = row_folds * col_folds * taps * batch
    per_fold = r_mult * rows + cols + t - 2
    cycles = np.where(folds > 0, np.ceil(folds / arrays) * per_fold - 1, 0.0)
    return FoldPlan(sr, sc, t, row_folds, col_folds, folds, per_fold, cycles)


def refetch_bytes(dataflow: str, plan: FoldPlan, cols: int, sram_bytes: tuple[float, float, float],
                  operand_bytes: tuple[np.ndarray, np.ndarray, np.ndarray], batch: np.ndarray,
                  elem_bytes: np.ndarray) -> np.ndarray:
    """DRAM bytes read/written beyond the compulsory traffic because a buffer is too small.

    ``sram_bytes`` = (ifmap, filter, ofmap) buffer capacities; ``operand_bytes`` = (ifmap,
    filter, ofmap) tensor bytes over all groups. Loop order as in SCALE-Sim: column folds
    outer, row folds inner. Capacity checks use one group's operand. A buffer either holds
    what is reused or nothing (cyclic streaming through an LRU buffer that is too small hits
    never):

    * ws: the ifmap is re-streamed once per column fold → ifmap·(col_folds − 1) extra when the
      ifmap does not fit; partial sums of a column fold (M × min(N, C)) accumulate over the
      row folds → 2·ofmap·(row_folds − 1) extra (spill + reload) when they do not fit the
      ofmap buffer. Weights are read once (each fold loads its own R × C tile).
    * is: the same with ifmap and filter swapped (the filter is streamed); partial sums
      N × min(M, C).
    * os: the ifmap is re-streamed per column fold (as ws); a column fold's filter slice
      K × min(N, C) is reused over the row folds → filter·(row_folds − 1) extra when it does
      not fit the filter buffer. Outputs stay on the array: written once.
    """
    ifm_buf, filt_buf, ofm_buf = sram_bytes
    ifm, filt, ofm = operand_bytes
    g = np.maximum(batch, 1.0)
    if dataflow == "os":
        ifm_extra = np.where(ifm / g > ifm_buf, ifm * (plan.col_folds - 1), 0.0)
        slice_b = plan.t * np.minimum(plan.sc, cols) * elem_bytes
        return ifm_extra + np.where(slice_b > filt_buf, filt * (plan.row_folds - 1), 0.0)
    streamed, buf = (ifm, ifm_buf) if dataflow == "ws" else (filt, filt_buf)
    extra = np.where(streamed / g > buf, streamed * (plan.col_folds - 1), 0.0)
    psum_b = plan.t * np.minimum(plan.sc, cols) * elem_bytes
    return extra + np.where(psum_b > ofm_buf, 2 * ofm * (plan.row_folds - 1), 0.0)


def sram_access_bytes(dataflow: str, plan: FoldPlan, batch: np.ndarray, m: np.ndarray, n: np.ndarray,
                      k: np.ndarray, elem_bytes: np.ndarray) -> np.ndarray:
    """Bytes read from / written to the on-chip buffers by the array, as SCALE-Sim counts them.

    Every operand element is read once per use: ws: filter K·N once, ifmap M·K once per column
    fold, ofmap M·N written once per row fold and read back for all but the first
    (M·N·(2·row_folds − 1)); is: the same with ifmap ↔ filter; os: ifmap M·K per column fold,
    filter K·N per row fold, ofmap M·N once. Summed over groups.
    """
    if dataflow == "os":
        elems = m * k * plan.col_folds + k * n * plan.row_folds + m * n
    else:
        stationary = k * n if dataflow == "ws" else k * m
        streamed = (m if dataflow == "ws" else n) * k * plan.col_folds
        elems = stationary + streamed + m * n * (2 * plan.row_folds - 1)
    return elems * batch * elem_bytes
