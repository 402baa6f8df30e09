"""Constant folding of small tensors and measurement of weight sparsity.

Folding runs an op on known input values with onnx's reference implementation, so every
op in the default domain folds the same way onnx defines it. Only small results are kept
(:data:`MAX_FOLD_ELEMS`): they are the shape vectors, indices, scales and conditions that
decide other tensors' shapes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import onnx
from onnx.reference.ops import load_op

#: Largest tensor (elements) whose value is computed and kept during loading.
MAX_FOLD_ELEMS = 1 << 16

#: Ops whose output is not a function of their inputs alone; never folded.
NON_DETERMINISTIC = frozenset({
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
    "Bernoulli", "Dropout", "If", "Loop", "Scan",
})

_RUN_PARAMS = {"log": lambda *a: None, "verbose": 0, "new_ops": None, "existing_functions": {},
               "evaluator_cls": None}


@lru_cache(maxsize=1024)
def _op_class(domain: str, op_type: str, opset: int) -> Any:
    return load_op(domain, op_type, opset)


def fold(node: onnx.NodeProto, opset: int, values: list[np.ndarray | None]) -> list[np.ndarray] | None:
    """Outputs of ``node`` evaluated on ``values``, or None when it cannot or should not fold."""
    if node.domain not in ("", "ai.onnx") or node.op_type in NON_DETERMINISTIC:
        return None
    try:
        op = _op_class("", node.op_type, opset)(node, dict(_RUN_PARAMS, opsets={"": opset}))
        outs = op.run(*values)
    except Exception:  # the reference op refuses this input: leave it to shape inference
        return None
    if not isinstance(outs, (tuple, list)):
        outs = (outs,)
    if any(isinstance(o, (list, tuple)) or o is None for o in outs):
        return None  # sequences and optionals are not folded: shape rules describe them
    arrays = [np.asarray(o) for o in outs]
    if any(a.dtype == object or a.size > MAX_FOLD_ELEMS for a in arrays):
        return None
    return arrays


def constant_value(node: onnx.NodeProto) -> np.ndarray | None:
    """Value of a ``Constant`` node's attribute (tensor, scalar or list forms)."""
    for a in node.attribute:
        if a.name == "value":
            return onnx.numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_int"):
            return np.array(a.f if a.name == "value_float" else a.i,
                            dtype=np.float32 if a.name == "value_float" else np.int64)
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(a.floats) if a.name == "value_floats" else list(a.ints),
                            dtype=np.float32 if a.name == "value_floats" else np.int64)
    return None


def measure_density(arr: np.ndarray) -> tuple[float, str]:
    """Non-zero fraction of a weight and the structure of its zeros.

    Patterns: "dense" (no zeros), "2:4" (every aligned group of 4 along the reduction axis
    holds at most 2 non-zeros, as NVIDIA sparse tensor cores require), "block4x4" (zeros come
    in whole aligned 4×4 blocks), else "unstructured".
    """
    if arr.size == 0 or arr.dtype.kind not in "fiub":
        return 1.0, "dense"
    nz = np.count_nonzero(arr)
    density = nz / arr.size
    if nz == arr.size:
        return 1.0, "dense"
    mat = arr.reshape(arr.shape[0], -1) if arr.ndim >= 2 else arr.reshape(1, -1)
    if _is_n_m(mat, 2, 4) or _is_n_m(mat.T, 2, 4):
        return density, "2:4"
    if _is_block(mat, 4):
        return density, "block4x4"
    return density, "unstructured"


def _is_n_m(mat: np.ndarray, n: int, m: int) -> bool:
    if mat.shape[1] % m:
        return False
    groups = np.count_nonzero(mat.reshape(mat.shape[0], -1, m), axis=2)
    return bool((groups <= n).all())


def _is_block(mat: np.ndarray, b: int) -> bool:
    r, c = mat.shape
    if r % b or c % b:
        return False
    blocks = np.count_nonzero(mat.reshape(r // b, b, c // b, b), axis=(1, 3))
    return bool(((blocks == 0) | (blocks == b * b)).all())
