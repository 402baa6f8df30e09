"""Run a model in another number format: the arithmetic dtype and the bytes follow.

``cast_dtype(table, "bf16")`` re-types every row that computes in a floating-point type (the
ones a framework would cast under autocast/quantisation) and scales its bytes by the ratio
of element sizes; index tensors and integer rows are left alone.

``quantize(table, {"matmul": "int8", "conv": "int8", "default": "fp16"})`` picks the format per
work kind (keys: the :class:`~hwsim.ops.work.WorkKind` labels and ``default``). A format is a
dtype (weights and activations in it) or ``"WEIGHT:ACTIVATION"`` for weight-only quantisation,
e.g. ``"int4:fp16"`` (alias ``"w4a16"``): weights stored in int4, dequantised in the kernel,
arithmetic in fp16 (GPTQ, Frantar et al. 2023; AWQ, Lin et al. 2024). Conventions:

* **Bytes.** With e0 the row's old element size: weight bytes (``weight_bytes``,
  ``const_bytes``, and the constant part min(const_bytes, bytes_read) of ``bytes_read``) scale
  by size(weight dtype)/e0; activation bytes (the rest of ``bytes_read``, ``bytes_written``) by
  size(activation dtype)/e0. Biases scale with the weights (int8 kernels keep int32 biases: a
  small underestimate). The row's ``dtype`` becomes the activation (arithmetic) dtype.
* **Requantisation.** An integer matmul/conv accumulates in int32 and requantises every output
  element to its output format: +2 FLOPs per output element (scale multiply, round/saturate;
  the same count as QLinearMatMul in ``hwsim/ops/matmul.py``).
* **Weight-only dequantisation.** +2 FLOPs per weight element per call (subtract zero point,
  multiply by scale; DequantizeLinear's count in ``hwsim/ops/quantize.py``).
* **Format changes between ops.** Where a producer's new dtype differs from a consumer's, the
  producer converts its output once per distinct target format, as an epilogue: to an integer
  format 4 FLOPs per element (QuantizeLinear: divide, round, add zero point, saturate), integer
  to float 2 (DequantizeLinear), float to float 1 (Cast). Zero-work pass-through rows (kind
  NONE: Reshape, Flatten...) take their producer's format unless ``none`` is given, so they
  never force a conversion. Converting the model's own inputs is not counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from hwsim.errors import ConfigError
from hwsim.graph.dtypes import DTYPE_BYTES, FLOAT_DTYPES
from hwsim.ops.work import WorkKind, WorkTable

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4")
#: Storage bytes per element; tf32 is stored as fp32.
_STORAGE = {**DTYPE_BYTES, "tf32": 4.0}
_FLOATISH = FLOAT_DTYPES | {"tf32"}
#: Weight-only aliases: wXaY = weights intX, activations fpY.
ALIASES = {"w4a16": "int4:fp16", "w8a16": "int8:fp16", "w4a8": "int4:int8", "w4bf16": "int4:bf16"}
#: FLOPs per element of each epilogue (conventions in the module docstring).
REQUANT_FLOPS, DEQUANT_FLOPS, QUANT_FLOPS, CAST_FLOPS = 2.0, 2.0, 4.0, 1.0
_KEYS = tuple(k.label for k in WorkKind) + ("default",)


def cast_dtype(table: WorkTable, dtype: str) -> WorkTable:
    """A copy of ``table`` computing in ``dtype`` wherever it computed in a float type."""
    if dtype not in DTYPES:
        raise ConfigError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    floating = np.array([d in FLOAT_DTYPES for d in table.dtype], dtype=bool)
    ratio = np.where(floating, _STORAGE[dtype] / _sizes(table.dtype), 1.0)
    cols = dict(table.columns)
    for key in ("bytes_read", "bytes_written", "weight_bytes", "const_bytes"):
        cols[key] = cols[key] * ratio
    new_dtype = table.dtype.copy()
    new_dtype[floating] = dtype
    return dataclasses.replace(table, columns=cols, dtype=new_dtype)


def parse_format(text: str) -> tuple[str, str]:
    """(weight dtype, activation dtype) of ``"int8"``, ``"int4:fp16"`` or an alias (``"w4a16"``)."""
    weight, _, act = ALIASES.get(text, text).partition(":")
    act = act or weight
    for d in (weight, act):
        if d not in DTYPES:
            raise ConfigError(f"quantisation format {text!r}: {d!r} is not one of {', '.join(DTYPES)}")
    if act not in _FLOATISH and weight in _FLOATISH:
        raise ConfigError(f"quantisation format {text!r}: integer activations need integer weights")
    return weight, act


def _row_formats(table: WorkTable, formats: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(weight dtype, activation dtype) per row: the format of its kind, else ``default``, else
    unchanged (also for rows not computing in a float type). Pass-through rows (kind NONE)
    follow their first producer unless ``none`` is given."""
    bad = sorted(set(formats) - set(_KEYS))
    if bad:
        raise ConfigError(f"quantize: unknown work kind(s) {', '.join(bad)}; use {', '.join(_KEYS)}")
    parsed = {k: parse_format(v) for k, v in formats.items()}
    w, a = table.dtype.copy(), table.dtype.copy()
    index = {name: i for i, name in enumerate(table.name)}
    for i, (kind, dtype) in enumerate(zip(table.kind, table.dtype)):
        label = WorkKind(int(kind)).label
        if dtype not in _FLOATISH:
            continue
        if label == "none" and "none" not in parsed:
            src = [index[p] for p in table.graph.predecessors(table.name[i])] if table.name[i] in table.graph else []
            if src and table.dtype[src[0]] in _FLOATISH:
                w[i], a[i] = a[src[0]], a[src[0]]
                continue
        if (fmt := parsed.get(label, parsed.get("default"))) is not None:
            w[i], a[i] = fmt
    return w, a


def _sizes(dtypes: np.ndarray) -> np.ndarray:
    return np.array([_STORAGE.get(d, 4.0) for d in dtypes], dtype=np.float64)


def quantize(table: WorkTable, formats: Mapping[str, str]) -> WorkTable:
    """A copy of ``table`` with each row in the format of its work kind; bytes, dtype and the
    requantise/dequantise/convert epilogue FLOPs follow the module docstring's conventions."""
    w, a = _row_formats(table, formats)
    c = table.columns
    e0 = _sizes(table.dtype)
    rw, ra = _sizes(w) / e0, _sizes(a) / e0
    weight_read = np.minimum(c["const_bytes"], c["bytes_read"])
    cols = dict(c)
    cols["bytes_read"] = weight_read * rw + (c["bytes_read"] - weight_read) * ra
    cols["bytes_written"] = c["bytes_written"] * ra
    cols["weight_bytes"], cols["const_bytes"] = c["weight_bytes"] * rw, c["const_bytes"] * rw
    gemm = np.isin(table.kind, (int(WorkKind.MATMUL), int(WorkKind.CONV))) & (c["macs"] > 0)
    integer = np.array([d not in _FLOATISH for d in a]) & (a != table.dtype)
    out_elems = c["bytes_written"] / e0
    w_elems = c["const_bytes"] / e0 * np.maximum(c["repeat"], 1.0)
    weight_only = w != a
    cols["flops"] = (c["flops"] + np.where(gemm & integer, REQUANT_FLOPS * out_elems, 0.0)
                     + np.where(weight_only, DEQUANT_FLOPS * w_elems, 0.0)
                     + conversion_flops(table, a))
    notes = (f"quantised per kind: {', '.join(f'{k}={v}' for k, v in formats.items())}",)
    return dataclasses.replace(table, columns=cols, dtype=a, notes=table.notes + notes)


def _convert_cost(src: str, dst: str) -> float:
    """FLOPs per element to convert from ``src`` to ``dst`` (0 when equal)."""
    if src == dst:
        return 0.0
    if dst not in _FLOATISH:
        return QUANT_FLOPS
    return DEQUANT_FLOPS if src not in _FLOATISH else CAST_FLOPS


def conversion_flops(table: WorkTable, new: np.ndarray) -> np.ndarray:
    """Epilogue FLOPs per producer row: for each distinct consumer format differing from the
    producer's ``new`` dtype, the elements of the largest edge needing it × the conversion cost.
    Only edges between rows that computed in a float type (float tensors) are considered."""
    out = np.zeros(len(table))
    index = {name: i for i, name in enumerate(table.name)}
    per_target: dict[tuple[int, str], float] = {}
    for src, dst, data in table.graph.edges(data=True):
        i, j = index.get(src), index.get(dst)
        if i is None or j is None or table.dtype[i] not in _FLOATISH or table.dtype[j] not in _FLOATISH:
            continue
        elems = float(data.get("bytes", 0.0)) / _STORAGE.get(table.dtype[i], 4.0) * max(table.columns["repeat"][i], 1.0)
        key = (i, str(new[j]))
        per_target[key] = max(per_target.get(key, 0.0), elems)
    for (i, dst_dtype), elems in per_target.items():
        out[i] += elems * _convert_cost(str(new[i]), dst_dtype)
    return out


LOW_BIT = ("fp8", "int8", "int4")


def apply_dtype(table: WorkTable, dtype: str) -> WorkTable:
    """The ``--dtype`` / scenario ``dtype`` transform. 32- and 16-bit float formats cast every
    float row (mixed-precision autocast); 8- and 4-bit formats quantise the matrix products only
    (matmul and conv), as quantised inference does — the other ops keep their format and the
    conversions between formats are counted (:func:`quantize`)."""
    if dtype in LOW_BIT:
        return quantize(table, {"matmul": dtype, "conv": dtype})
    return cast_dtype(table, dtype)
