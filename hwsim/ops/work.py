"""Counted work of one op (:class:`OpWork`) and of a whole graph (:class:`WorkTable`).

Conventions (see docs/counting.md): 1 MAC = 2 FLOPs; ``bytes_read`` counts every input byte an
op must read once (weights included), ``bytes_written`` every output byte; data-movement ops
count only the bytes they move. A GEMM view ``(batch, m, n, k)`` is given for every
matmul-like op: ``batch`` independent products of an m×k by a k×n matrix (convolutions via
im2col: m = N·output pixels, n = output channels per group, k = input channels per group ·
kernel volume, batch = groups).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np


class WorkKind(enum.IntEnum):
    """What kind of hardware unit the work wants."""

    MATMUL = 0
    CONV = 1
    ELEMENTWISE = 2
    REDUCE = 3
    NORM = 4
    POOL = 5
    DATA_MOVEMENT = 6
    NONE = 7

    @property
    def label(self) -> str:
        """Lower-case name used in reports and JSON."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class OpWork:
    """The work of one op, device-independent. Additive with ``+``.

    ``macs``: multiply-accumulates (matmul-like ops). ``flops``: all floating/integer arithmetic,
    2 per MAC plus everything else (activations, normalisation...). Bytes in bytes; ``params``
    in elements; ``weight_bytes`` the parameters (and buffers) this op owns, ``const_bytes``
    every constant weight-like input it reads, owned or shared (what a device must hold or
    shard to run it). ``gemm``: (batch, m, n, k) or None. Densities are non-zero fractions in (0, 1].
    """

    kind: WorkKind
    flops: float = 0.0
    macs: float = 0.0
    bytes_read: float = 0.0
    bytes_written: float = 0.0
    params: int = 0
    weight_bytes: float = 0.0
    const_bytes: float = 0.0
    gemm: tuple[int, int, int, int] | None = None
    weight_density: float = 1.0
    act_density: float = 1.0
    dtype: str = "fp32"
    notes: tuple[str, ...] = ()
    weight_pattern: str = ""

    def __add__(self, other: OpWork) -> OpWork:
        """Sum of two works: numbers add; kind and GEMM view follow the larger FLOP count."""
        big = self if self.flops >= other.flops else other
        macs = self.macs + other.macs
        wd = (self.weight_density * self.macs + other.weight_density * other.macs) / macs if macs else 1.0
        return OpWork(
            kind=big.kind, flops=self.flops + other.flops, macs=macs,
            bytes_read=self.bytes_read + other.bytes_read,
            bytes_written=self.bytes_written + other.bytes_written,
            params=self.params + other.params, weight_bytes=self.weight_bytes + other.weight_bytes,
            const_bytes=self.const_bytes + other.const_bytes, gemm=big.gemm, weight_density=wd, act_density=big.act_density, dtype=big.dtype,
            notes=self.notes + other.notes, weight_pattern=big.weight_pattern,
        )

    def scaled(self, times: int) -> OpWork:
        """The work of running this op ``times`` times (Loop bodies); params are not repeated."""
        if times == 1:
            return self
        return OpWork(
            kind=self.kind, flops=self.flops * times, macs=self.macs * times,
            bytes_read=self.bytes_read * times, bytes_written=self.bytes_written * times,
            params=self.params, weight_bytes=self.weight_bytes, const_bytes=self.const_bytes, gemm=self.gemm,
            weight_density=self.weight_density, act_density=self.act_density, dtype=self.dtype,
            notes=self.notes, weight_pattern=self.weight_pattern,
        )

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte moved (0 when nothing moves)."""
        moved = self.bytes_read + self.bytes_written
        return self.flops / moved if moved else 0.0


NUMERIC_COLUMNS = (
    "flops", "macs", "bytes_read", "bytes_written", "params", "weight_bytes", "const_bytes",
    "gemm_batch", "gemm_m", "gemm_n", "gemm_k", "weight_density", "act_density", "repeat",
    "supported", "weight_pattern", "folded",
)

#: ``weight_pattern`` column codes for the structure of a weight's zeros (TensorInfo.pattern /
#: measure_density names): 0 dense, 1 unstructured, 2 every aligned group of 4 along the
#: reduction axis holds <= 2 non-zeros (2:4, what sparse tensor cores run), 3 whole 4x4 blocks.
#: -1: not known (an OpWork built by hand with density < 1 and no pattern).
PATTERN_CODES = {"dense": 0, "unstructured": 1, "2:4": 2, "block4x4": 3}


def pattern_code(pattern: str, density: float) -> int:
    """Column code of ``pattern``; an empty pattern is dense at density 1, else unknown (-1)."""
    if not pattern:
        return 0 if density >= 1.0 else -1
    return PATTERN_CODES[pattern]


@dataclass(frozen=True)
class WorkTable:
    """One row per op, as numpy columns, plus the DAG the ops form.

    Device models price this in one vectorised call. Columns: ``name``, ``op_type``,
    ``domain``, ``dtype`` (object arrays), ``kind`` (int8 of :class:`WorkKind`), and the
    float64 columns in :data:`NUMERIC_COLUMNS` (GEMM columns are 0 where an op has no GEMM
    view; ``supported`` is 0 for ops hwsim could not count; ``folded`` is 1 for ops constant-folded at load time). ``output_shapes`` keeps each op's output shapes for reports.
    """

    name: np.ndarray
    op_type: np.ndarray
    domain: np.ndarray
    dtype: np.ndarray
    kind: np.ndarray
    columns: dict[str, np.ndarray]
    output_shapes: tuple[tuple[tuple[int, ...], ...], ...]
    graph: nx.DiGraph = field(repr=False)
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.name)

    def __getattr__(self, item: str) -> np.ndarray:
        cols = object.__getattribute__(self, "columns")
        if item in cols:
            return cols[item]
        raise AttributeError(item)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple], graph: nx.DiGraph, notes: tuple[str, ...] = ()) -> WorkTable:
        """Build from ``(name, op_type, domain, output_shapes, repeat, OpWork, supported[, folded])`` rows
        (``folded``: 1 for an op computed once at load time from constants, default 0)."""
        rows = list(rows)
        works = [r[5] for r in rows]
        gemms = [w.gemm or (0, 0, 0, 0) for w in works]
        cols = {
            "flops": [w.flops for w in works], "macs": [w.macs for w in works],
            "bytes_read": [w.bytes_read for w in works], "bytes_written": [w.bytes_written for w in works],
            "params": [w.params for w in works], "weight_bytes": [w.weight_bytes for w in works],
            "const_bytes": [w.const_bytes for w in works],
            "gemm_batch": [g[0] for g in gemms], "gemm_m": [g[1] for g in gemms],
            "gemm_n": [g[2] for g in gemms], "gemm_k": [g[3] for g in gemms],
            "weight_density": [w.weight_density for w in works],
            "act_density": [w.act_density for w in works], "repeat": [r[4] for r in rows],
            "supported": [r[6] for r in rows],
            "weight_pattern": [pattern_code(w.weight_pattern, w.weight_density) for w in works],
            "folded": [float(r[7]) if len(r) > 7 else 0.0 for r in rows],
        }
        return cls(
            name=_obj([r[0] for r in rows]), op_type=_obj([r[1] for r in rows]),
            domain=_obj([r[2] for r in rows]), dtype=_obj([w.dtype for w in works]),
            kind=np.array([int(w.kind) for w in works], dtype=np.int8),
            columns={k: np.asarray(v, dtype=np.float64) for k, v in cols.items()},
            output_shapes=tuple(r[3] for r in rows), graph=graph, notes=notes,
        )

    def select(self, mask: np.ndarray) -> WorkTable:
        """The rows in boolean ``mask`` (or index array), same graph, columns filtered."""
        idx = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask, dtype=np.int64)
        return dataclasses.replace(
            self, name=self.name[idx], op_type=self.op_type[idx], domain=self.domain[idx],
            dtype=self.dtype[idx], kind=self.kind[idx], columns={k: v[idx] for k, v in self.columns.items()},
            output_shapes=tuple(self.output_shapes[i] for i in idx))

    def with_columns(self, **columns: np.ndarray) -> WorkTable:
        """A copy with some numeric columns replaced or added (each one value per row)."""
        cols = dict(self.columns)
        for key, value in columns.items():
            cols[key] = np.broadcast_to(np.asarray(value, dtype=np.float64), (len(self),)).copy()
        return dataclasses.replace(self, columns=cols)

    @classmethod
    def concat(cls, tables: list[WorkTable], graph: nx.DiGraph, notes: tuple[str, ...] = ()) -> WorkTable:
        """Rows of ``tables`` one after another, over ``graph`` (the caller builds the joint DAG).
        A numeric column missing from a table is 0 there, except ``repeat``/``supported`` (1)."""
        keys = sorted(set().union(*(t.columns for t in tables)))
        ones = {"repeat", "supported", "weight_density", "act_density"}

        def col(t: WorkTable, k: str) -> np.ndarray:
            return t.columns[k] if k in t.columns else np.full(len(t), 1.0 if k in ones else 0.0)

        return cls(
            name=np.concatenate([t.name for t in tables]), op_type=np.concatenate([t.op_type for t in tables]),
            domain=np.concatenate([t.domain for t in tables]), dtype=np.concatenate([t.dtype for t in tables]),
            kind=np.concatenate([t.kind for t in tables]),
            columns={k: np.concatenate([col(t, k) for t in tables]) for k in keys},
            output_shapes=tuple(s for t in tables for s in t.output_shapes), graph=graph,
            notes=tuple(dict.fromkeys(n for t in tables for n in t.notes)) + notes,
        )

    def totals(self) -> dict[str, float]:
        """Column sums over all ops for the additive columns."""
        keys = ("flops", "macs", "bytes_read", "bytes_written", "params", "weight_bytes")
        return {k: float(self.columns[k].sum()) for k in keys}

    def by_kind(self) -> dict[str, dict[str, float]]:
        """Per work kind: op count, FLOPs, MACs and bytes moved."""
        out: dict[str, dict[str, float]] = {}
        for kind in WorkKind:
            mask = self.kind == kind
            if mask.any():
                out[kind.label] = self._sums(mask)
        return out

    def by_op_type(self) -> dict[str, dict[str, float]]:
        """Per op type (domain-qualified outside the default domain), sorted by name."""
        qual = np.array([t if d in ("", "ai.onnx") else f"{d}::{t}" for t, d in zip(self.op_type, self.domain)], dtype=object)
        return {t: self._sums(qual == t) for t in sorted(set(qual))}

    def _sums(self, mask: np.ndarray) -> dict[str, float]:
        c = self.columns
        return {
            "ops": int(mask.sum()), "flops": float(c["flops"][mask].sum()),
            "macs": float(c["macs"][mask].sum()), "bytes_read": float(c["bytes_read"][mask].sum()),
            "bytes_written": float(c["bytes_written"][mask].sum()), "params": float(c["params"][mask].sum()),
        }


def _obj(values: list) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr
