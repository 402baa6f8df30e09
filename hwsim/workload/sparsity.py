"""Declared sparsity: set weight and activation density (and the weights' zero pattern) on a
WorkTable without real weights.

Real magnitude pruning of ONNX weights is :func:`hwsim.workload.prune.prune_model`; this is the
declaration used when only the target density is known (weights-free zoo graphs). The zero
pattern goes to the ``weight_pattern`` column (codes in :data:`hwsim.ops.work.PATTERN_CODES`:
0 dense, 1 unstructured, 2 2:4, 3 block4x4), which device models read (the GPU's sparse tensor
cores only accelerate code 2; Mishra et al. 2021, arXiv 2104.08378).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hwsim.errors import ConfigError
from hwsim.ops.work import PATTERN_CODES, WorkKind, WorkTable

_GEMM_KINDS = (WorkKind.MATMUL, WorkKind.CONV)


def gemm_rows(table: WorkTable) -> np.ndarray:
    """Matmul and conv rows (boolean mask)."""
    return np.isin(table.kind, [int(k) for k in _GEMM_KINDS])


def weighted_gemm_rows(table: WorkTable) -> np.ndarray:
    """Matmul/conv rows that read a constant weight (``const_bytes`` > 0)."""
    return gemm_rows(table) & (table.columns["const_bytes"] > 0)


def declare_density(table: WorkTable, weight: float | None = None, activation: float | None = None,
                    pattern: str | None = None) -> WorkTable:
    """A copy of ``table`` whose matmul/conv rows have the given weight and/or activation
    density (non-zero fraction in (0, 1]). MACs stay the dense count: what zeros buy is the
    device's business.

    ``pattern`` ("dense", "unstructured", "2:4", "block4x4") sets ``weight_pattern`` on the
    weighted GEMM rows; when omitted, a declared ``weight`` < 1 is "unstructured" and 1 is
    "dense". A "2:4" declaration needs ``weight`` ≤ 0.5 (at most 2 of every 4 kept).
    """
    for label, value in (("weight density", weight), ("activation density", activation)):
        if value is not None and not 0.0 < value <= 1.0:
            raise ConfigError(f"{label} {value} must be in (0, 1]")
    if pattern is not None and pattern not in PATTERN_CODES:
        raise ConfigError(f"weight pattern {pattern!r} is not one of {', '.join(PATTERN_CODES)}")
    if pattern == "2:4" and weight is not None and weight > 0.5:
        raise ConfigError(f"weight density {weight} cannot be 2:4: at most 2 of every 4 weights are kept (≤ 0.5)")
    cols = dict(table.columns)
    has_weights = weighted_gemm_rows(table)
    if weight is not None:
        cols["weight_density"] = np.where(has_weights, weight, cols["weight_density"])
        if pattern is None:
            pattern = "dense" if weight >= 1.0 else "unstructured"
    if pattern is not None:
        old = cols.get("weight_pattern", np.zeros(len(table)))
        cols["weight_pattern"] = np.where(has_weights, float(PATTERN_CODES[pattern]), old)
    if activation is not None:
        cols["act_density"] = np.where(gemm_rows(table), activation, cols["act_density"])
    return dataclasses.replace(table, columns=cols)
