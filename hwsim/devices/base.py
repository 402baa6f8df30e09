"""What every device model shares: the protocol, the per-op CostTable, roofline helpers.

A device model prices a whole :class:`WorkTable` in one vectorised call. Per op it reports
``compute_s`` (arithmetic at the achievable rate), ``memory_s`` (bytes at the bandwidth of the
level they come from), ``overhead_s`` (dispatch/launch), ``latency_s`` (roofline:
max(compute, memory) + overhead, or the device's own composition), ``energy_j`` (dynamic
energy only; static power is added by the roll-up) and the ``bound`` that decided it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from hwsim.config.devices import DeviceSpecBase
from hwsim.errors import HwsimError
from hwsim.ops.work import WorkKind, WorkTable


class Bound(enum.IntEnum):
    """What limits an op's latency."""

    COMPUTE = 0
    MEMORY = 1
    OVERHEAD = 2
    OFFLOAD = 3
    UNSUPPORTED = 4

    @property
    def label(self) -> str:
        """Lower-case name used in reports."""
        return self.name.lower()


class UnsupportedDtypeError(HwsimError):
    """The device has no arithmetic for a dtype the work asks for."""


@dataclass(frozen=True)
class CostTable:
    """Per-op costs, aligned with the WorkTable rows they price. Seconds and joules."""

    latency_s: np.ndarray
    compute_s: np.ndarray
    memory_s: np.ndarray
    overhead_s: np.ndarray
    energy_j: np.ndarray
    bound: np.ndarray  # int8 codes of Bound
    utilization: np.ndarray  # achieved FLOP/s over the dtype's peak, per op
    peak_flops_per_s: np.ndarray  # the peak each op was priced against
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.latency_s)

    @property
    def total_latency_s(self) -> float:
        """Sum of op latencies: one op at a time (schedules with overlap come in issue 4)."""
        return float(self.latency_s.sum())

    @property
    def total_energy_j(self) -> float:
        """Sum of dynamic op energies."""
        return float(self.energy_j.sum())

    def bound_share(self) -> dict[str, float]:
        """Fraction of total latency spent in ops of each bound."""
        total = self.latency_s.sum()
        return {b.label: float(self.latency_s[self.bound == b].sum() / total) if total else 0.0 for b in Bound}


class DeviceModel(Protocol):
    """A priced device: its spec and a vectorised ``price``."""

    kind: str
    spec: DeviceSpecBase

    def supports(self, table: WorkTable) -> np.ndarray:
        """Boolean per row: whether this device runs the op itself."""

    def price(self, table: WorkTable) -> CostTable:
        """Per-op costs of ``table`` on this device."""


def efficiency(spec: DeviceSpecBase, table: WorkTable) -> np.ndarray:
    """Achieved fraction of peak per op from the spec's saturating curve per work kind."""
    eff = np.ones(len(table))
    flops = table.columns["flops"] / np.maximum(table.columns["repeat"], 1.0)
    for kind in WorkKind:
        mask = table.kind == kind
        if not mask.any():
            continue
        curve = spec.kind_efficiency(kind)
        w = flops[mask]
        with np.errstate(invalid="ignore", divide="ignore"):
            eff[mask] = curve.peak_fraction * np.where(w > 0, w / (w + curve.half_work_flops), 1.0)
    return np.maximum(eff, 1e-9)


def dtype_peaks(table: WorkTable, peaks: dict[str, float], device: str, default: str | None = None,
                mask: np.ndarray | None = None, widen: bool = False) -> np.ndarray:
    """Peak FLOP/s for each row's dtype; UnsupportedDtypeError names a dtype the device lacks.

    Ops with no arithmetic (zero FLOPs) never need a peak. ``default`` stands in for dtypes that
    are not arithmetic types (bool, int64 indices) on ops that do a little arithmetic. ``mask``
    restricts the lookup to some rows (e.g. those a GPU runs on tensor cores); others get 0.
    ``widen``: an 8- or 4-bit storage format (fp8, fp4, int4) with no rate of its own runs at the
    rate of the first wider one the device has (fp16 → bf16 → fp32; int4 → int8): vector units
    have no such ALUs, so elementwise work and conversions on them run on 16/32-bit units.
    """
    out = np.zeros(len(table))
    needs = table.columns["flops"] > 0
    if mask is not None:
        needs = needs & mask
    for dtype in sorted(set(table.dtype[needs])):
        key = dtype if dtype in peaks else _fallback(dtype, default)
        if widen and key not in peaks:
            key = next((w for w in _WIDER.get(dtype, ()) if w in peaks), key)
        if key not in peaks:
            raise UnsupportedDtypeError(
                f"device {device!r} has no {dtype} arithmetic (it supports {', '.join(sorted(peaks))}); "
                "quantise the model (--dtype) or pick another device")
        out[(table.dtype == dtype) & needs] = peaks[key]
    return out


#: Storage-only narrow formats: no vector unit computes in them natively (a device lacking a
#: 16-bit format such as bf16 on V100 is still an error).
_WIDER = {"fp8": ("fp16", "bf16", "fp32"), "fp4": ("fp16", "bf16", "fp32"), "int4": ("int8", "fp32")}
_NON_ARITH = {"int64", "int32", "bool", "uint8", "int16", "uint16", "uint32", "uint64", "string", "unknown"}


def _fallback(dtype: str, default: str | None) -> str:
    return default if default is not None and dtype in _NON_ARITH else dtype


def dynamic_energy(spec: DeviceSpecBase, table: WorkTable, dram_bytes: np.ndarray, sram_bytes: np.ndarray,
                   macs: np.ndarray | None = None) -> np.ndarray:
    """scale · (MACs × e_mac(dtype) + other FLOPs × e_op(dtype)) + bytes × e(level), per op (J).

    ``macs`` overrides the MACs actually executed (e.g. zeros skipped by a sparse device).
    """
    e = spec.energy
    macs = table.columns["macs"] if macs is None else macs
    other = np.maximum(table.columns["flops"] - 2 * table.columns["macs"], 0.0)
    e_mac, e_op = _per_dtype(table.dtype, e.mac_j), _per_dtype(table.dtype, e.op_j)
    scale = spec.compute_energy_scale
    return scale * (macs * e_mac + other * e_op) + dram_bytes * e.dram_byte_j + sram_bytes * e.sram_byte_j


def _per_dtype(dtypes: np.ndarray, joules: dict[str, float]) -> np.ndarray:
    """``joules[dtype]`` per row (fp32's figure for dtypes the table lacks, else 0); one pass per distinct dtype."""
    out = np.empty(len(dtypes))
    for d in set(dtypes.tolist()):
        out[dtypes == d] = joules.get(d, joules.get("fp32", 0.0))
    return out


def roofline(compute_s: np.ndarray, memory_s: np.ndarray, overhead_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(latency, bound): max(compute, memory) + overhead; overhead-bound when it dominates both."""
    busy = np.maximum(compute_s, memory_s)
    latency = busy + overhead_s
    bound = np.where(compute_s >= memory_s, Bound.COMPUTE, Bound.MEMORY).astype(np.int8)
    bound[overhead_s > busy] = Bound.OVERHEAD
    return latency, bound


def utilization(table: WorkTable, latency_s: np.ndarray, peak: np.ndarray, flops: np.ndarray | None = None) -> np.ndarray:
    """Achieved FLOP/s over peak, per op (0 where no arithmetic). ``flops``: the FLOPs the
    device actually executes when it differs from the table's (zeros skipped)."""
    work = table.columns["flops"] if flops is None else flops
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where((latency_s > 0) & (peak > 0), work / (latency_s * peak), 0.0)
    return np.clip(u, 0.0, 1.0)


def unsupported_rows(table: WorkTable) -> np.ndarray:
    """Rows the counter could not count (``supported`` = 0): never priced as free."""
    return table.columns["supported"] == 0
