"""Run a model in another number format: the arithmetic dtype and the bytes follow.

``cast_dtype(table, "bf16")`` re-types every row that computes in a floating-point type (the
ones a framework would cast under autocast/quantisation) and scales its bytes by the ratio
of element sizes; index tensors and integer rows are left alone. Per-kind mixed precision
(e.g. int8 GEMMs, fp16 everything else) arrives with the workload issue.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hwsim.errors import ConfigError
from hwsim.graph.dtypes import DTYPE_BYTES, FLOAT_DTYPES
from hwsim.ops.work import WorkTable

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4")
#: Storage bytes per element; tf32 is stored as fp32.
_STORAGE = {**DTYPE_BYTES, "tf32": 4.0}


def cast_dtype(table: WorkTable, dtype: str) -> WorkTable:
    """A copy of ``table`` computing in ``dtype`` wherever it computed in a float type."""
    if dtype not in DTYPES:
        raise ConfigError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    floating = np.array([d in FLOAT_DTYPES for d in table.dtype], dtype=bool)
    old = np.array([_STORAGE.get(d, 4.0) for d in table.dtype])
    ratio = np.where(floating, _STORAGE[dtype] / old, 1.0)
    cols = dict(table.columns)
    for key in ("bytes_read", "bytes_written", "weight_bytes"):
        cols[key] = cols[key] * ratio
    new_dtype = table.dtype.copy()
    new_dtype[floating] = dtype
    return dataclasses.replace(table, columns=cols, dtype=new_dtype)
