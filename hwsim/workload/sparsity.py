"""Declared sparsity: set weight and activation density on a WorkTable without real weights.

Pruning of real weights and N:M patterns arrive with the workload issue; this is the
declaration used when only the target density is known (weights-free graphs).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hwsim.errors import ConfigError
from hwsim.ops.work import WorkKind, WorkTable

_GEMM_KINDS = (WorkKind.MATMUL, WorkKind.CONV)


def declare_density(table: WorkTable, weight: float | None = None, activation: float | None = None) -> WorkTable:
    """A copy of ``table`` whose matmul/conv rows have the given weight and/or activation
    density (non-zero fraction in (0, 1]). MACs stay the dense count: what zeros buy is the
    device's business."""
    for label, value in (("weight density", weight), ("activation density", activation)):
        if value is not None and not 0.0 < value <= 1.0:
            raise ConfigError(f"{label} {value} must be in (0, 1]")
    cols = dict(table.columns)
    gemm = np.isin(table.kind, [int(k) for k in _GEMM_KINDS])
    has_weights = gemm & (cols["const_bytes"] > 0)
    if weight is not None:
        cols["weight_density"] = np.where(has_weights, weight, cols["weight_density"])
    if activation is not None:
        cols["act_density"] = np.where(gemm, activation, cols["act_density"])
    return dataclasses.replace(table, columns=cols)
