"""Fit CPU model parameters to measured latencies (scipy.optimize.least_squares in log space).

Model (exactly :class:`hwsim.devices.cpu.CpuModel`, plus one per-inference term):
``t_pred = max(flops / (peak · eff_kind(w)), bytes / bw_level) + dispatch_overhead_s + session_s``
(a chain of n zero-work ops: ``n · zero_work_dispatch_s + session_s``)
with ``eff_kind(w) = peak_fraction · w / (w + half_work_flops)``. Parameters, all fitted as
logarithms: per work kind with arithmetic (``peak_fraction``, ``half_work_flops``),
``dispatch_overhead_s``, ``zero_work_dispatch_s`` (when zero-work chains were measured), ``copy_chunk_s``
(when transposes copying strided runs were measured), every cache level's ``bw_bytes_per_s``, the effective DRAM bandwidth
(→ ``mem_efficiency``), and ``session_s`` (the cost of one ``session.run`` around a
single-op benchmark, added once per measured graph). Residuals ``ln t_pred − ln t_meas``
with a soft-L1 loss (f_scale 0.1: a robust fit, outliers beyond ~10 % count linearly).
Thread scaling is fitted last: with the one-thread parameters held, the Amdahl fraction
``p`` of :meth:`CpuSpec.effective_cores` and the half-time τ (the one-core time of one executed
op at which it gets half its speed-up, :func:`hwsim.devices.cpu.thread_share`), both per kind,
minimise the same loss on multi-thread records.
Source: scipy.optimize.least_squares (trust-region reflective, bounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, get_args

import networkx as nx
import numpy as np
from scipy.optimize import least_squares

from hwsim.config.devices import CacheLevel, ConvKey, CpuSpec, Efficiency
from hwsim.devices.cpu import CpuModel, copies_runs, curve_keys, zero_work_rows
from hwsim.devices.cpu import working_set_bytes as working_set
from hwsim.ops.work import OpWork, WorkKind, WorkTable

LOSS, F_SCALE = "soft_l1", 0.1
#: Ops whose speed differs from their kind's curve (transcendentals, recurrence, integer GEMM,
#: grouped/depthwise convolution): each gets its own ``op_efficiency`` curve when measured.
#: Data-movement ops whose bandwidth differs from a streaming op's (strided, indexed): each gets an
#: ``op_bandwidth_scale`` when measured.
BW_KEYS = ("Transpose", "Gather", "Concat")
#: Convolution keys with a fork/join cost of their own: ORT's NCHW-input convolution took 4.5 µs
#: longer on 2 threads than on 1 (an 8→16-channel 1×1 conv, 11.0 → 15.5 µs) where a 16→16 one
#: took 0.7 µs longer. Other keys share ``parallel_sync_s``: given their own, a few records let
#: the fit trade a 45 µs fork/join against a zero half-time (Conv/grouped once did).
SYNC_KEYS = ("Conv/nchw_input",)
TAPS_FLOOR = 3.0  # smallest starting half-work of the Conv/nchw_input curve (in taps c·r·r)
DISPATCH_PRIOR = 0.05  # weight of the dispatch ≈ zero-work-dispatch residual (a 10× gap weighs like one 11 % miss)
OP_KEYS = ("Conv/depthwise", "Conv/grouped", "Conv/narrow", "Conv/nchw_input", "Erf", "Tanh", "Sigmoid", "Softmax", "LSTM", "MatMulInteger", "LRN")


def records_table(records: list[dict]) -> WorkTable:
    """A WorkTable with one row per measurement record (its recorded ``work``); each record's
    weights are its own graph's (``resident_weight_bytes``, :func:`hwsim.devices.cpu.streamed_weight_bytes`)."""
    rows = []
    for i, rec in enumerate(records):
        w = rec["work"]
        gemm = tuple(int(w.get(k, 0)) for k in ("gemm_batch", "gemm_m", "gemm_n", "gemm_k"))
        work = OpWork(kind=WorkKind(int(w["kind"])), flops=w["flops"], macs=w.get("macs", 0.0),
                      bytes_read=w["bytes_read"], bytes_written=w["bytes_written"], const_bytes=w.get("const_bytes", 0.0),
                      gemm=gemm if any(gemm) else None, dtype=w.get("dtype", "fp32"))
        rows.append((f"{rec.get('signature', 'op')}#{i}", w.get("op_type", "?"), "", (), w.get("repeat", 1.0), work, 1))
    table = WorkTable.from_rows(rows, nx.DiGraph())
    layout = {k: [float(r["work"].get(k, 0.0)) for r in records] for k in ("layout_bytes", "layout_ops", "copy_chunks", "nchw_input")}
    return table.with_columns(resident_weight_bytes=table.columns["const_bytes"], **layout)  # each record is its own graph


@dataclass(frozen=True)
class Layout:
    """Which parameters the vector holds: kinds with arithmetic, then cache levels."""

    kinds: tuple[str, ...]
    levels: tuple[str, ...]
    ops: tuple[str, ...] = ()
    zero_work: bool = False  # some record is a chain of zero-work ops: fit zero_work_dispatch_s
    bw_ops: tuple[str, ...] = ()  # op types with their own op_bandwidth_scale
    chunks: bool = False  # records copy strided runs: fit copy_chunk_s

    def names(self) -> list[str]:
        """Dotted parameter names in vector order."""
        out = [f"efficiency.{k}.{f}" for k in self.kinds for f in ("peak_fraction", "half_work_flops")]
        out += [f"op_efficiency.{k}.{f}" for k in self.ops for f in ("peak_fraction", "half_work_flops")]
        out += [f"op_bandwidth_scale.{k}" for k in self.bw_ops]
        out += [f"caches.{lv}.bw_bytes_per_s" for lv in self.levels] + ["copy_chunk_s"] * self.chunks
        return out + ["zero_work_dispatch_s"] * self.zero_work + [
            "dram_effective_bw_bytes_per_s", "dispatch_overhead_s", "session_overhead_s"]


def layout_for(spec: CpuSpec, table: WorkTable) -> Layout:
    """Fit a kind's curve only where some record of that kind does arithmetic."""
    kinds = tuple(WorkKind(k).label for k in sorted(set(table.kind.tolist()))
                  if (table.columns["flops"][table.kind == k] > 0).any())
    keys = curve_keys(table)
    ops = tuple(k for k in OP_KEYS if ((keys == k) & (table.columns["flops"] > 0)).sum() >= 2)
    zero = bool((zero_work_rows(table) & (table.columns["repeat"] > 0)).any())
    moved = table.columns["bytes_read"] + table.columns["bytes_written"]
    bw_ops = tuple(k for k in BW_KEYS if ((table.op_type == k) & (moved > 0) & ~copies_runs(table)).sum() >= 2)
    chunks = int(copies_runs(table).sum()) >= 2
    return Layout(kinds, tuple(c.name for c in spec.caches), ops, zero, bw_ops, chunks)


def small_rows(table: WorkTable) -> np.ndarray:
    """Records of small instances (< 1e5 FLOPs and < 256 KiB touched per executed op, with work),
    whose time a fixed per-op cost dominates."""
    c = table.columns
    reps = np.maximum(c["repeat"], 1.0)
    return (c["flops"] / reps < 1e5) & (working_set(table) < 256 * 1024) & ~zero_work_rows(table)


def overhead_ops(table: WorkTable) -> tuple[str, ...]:
    """Op types with at least two small records (:func:`small_rows`): only there is
    ``op_overhead_s`` identifiable."""
    types, counts = np.unique(table.op_type[small_rows(table)].astype(str), return_counts=True)
    return tuple(str(t) for t, n in zip(types, counts) if n >= 2)


def initial(spec: CpuSpec, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x0, lower, upper) in natural-log units, from the base spec's values."""
    x0, lo, hi = [], [], []
    keys = list(layout.kinds) + list(layout.ops)
    curves = [spec.efficiency.get(k) for k in layout.kinds] + [spec.op_efficiency.get(k) for k in layout.ops]  # type: ignore[call-overload]
    for key, e in zip(keys, curves):
        # the Conv/nchw_input curve's w counts taps per output, not FLOPs
        floor, default = (TAPS_FLOOR, 30.0) if key == "Conv/nchw_input" else (1e3, 1e5)
        e = e or Efficiency(peak_fraction=0.2, half_work_flops=default)
        x0 += [np.log(e.peak_fraction), np.log(max(e.half_work_flops, floor))]
        lo += [np.log(1e-4), np.log(1.0)]
        hi += [0.0, np.log(1e12)]
    for k in layout.bw_ops:
        x0.append(np.log(spec.op_bandwidth_scale.get(k, 1.0)))
        lo.append(np.log(0.02))
        hi.append(np.log(20.0))
    for c in spec.caches:
        x0.append(np.log(c.bw_bytes_per_s))
        lo.append(np.log(1e8))
        hi.append(np.log(1e14))
    if layout.chunks:
        x0.append(np.log(max(spec.copy_chunk_s, 1e-8)))
        lo.append(np.log(1e-11))
        hi.append(np.log(1e-5))
    if layout.zero_work:
        x0.append(np.log(max(spec.zero_work_dispatch_s, 1e-6)))
        lo.append(np.log(1e-9))
        hi.append(np.log(1e-3))
    x0 += [np.log(spec.mem_bw_bytes_per_s * spec.mem_efficiency), np.log(max(spec.dispatch_overhead_s, 1e-7)), np.log(5e-6)]
    lo += [np.log(1e8), np.log(1e-9), np.log(1e-9)]
    hi += [np.log(1e13), np.log(1e-2), np.log(1e-2)]
    x0 = np.clip(x0, np.array(lo) + 1e-6, np.array(hi) - 1e-6)
    return x0, np.array(lo), np.array(hi)


def slow_restarts(layout: Layout, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    """Restart points from solution ``x``: each per-op curve in turn set to 1 % of peak.
    ``max(compute, memory)`` is flat in the compute parameters wherever an op is memory-bound,
    so a transcendental (Erf, Tanh) that the first solve leaves memory-bound cannot be slowed
    down by the gradient; restarted slow, it is compute-bound and the solver can speed it up.
    The fit keeps a restart only when it lowers the cost."""
    first, out = 2 * len(layout.kinds), []
    for k in range(len(layout.ops)):
        y = x.copy()
        y[first + 2 * k] = np.log(0.01)
        out.append(np.clip(y, lo + 1e-6, hi - 1e-6))
    return out


def apply(spec: CpuSpec, layout: Layout, x: np.ndarray) -> tuple[CpuSpec, float]:
    """(spec with the fitted fields set, session_overhead_s) for parameter vector ``x``."""
    v = np.exp(x)
    eff, ops = dict(spec.efficiency), dict(spec.op_efficiency)
    for i, k in enumerate(layout.kinds + layout.ops):
        target = eff if i < len(layout.kinds) else ops
        target[k] = Efficiency.model_construct(peak_fraction=float(min(v[2 * i], 1.0)), half_work_flops=float(v[2 * i + 1]))
    j = 2 * (len(layout.kinds) + len(layout.ops))
    scales = {**spec.op_bandwidth_scale, **{k: float(v[j + i]) for i, k in enumerate(layout.bw_ops)}}
    j += len(layout.bw_ops)
    caches = [CacheLevel.model_construct(name=c.name, bytes=c.bytes, bw_bytes_per_s=float(v[j + i]))
              for i, c in enumerate(spec.caches)]
    j += len(spec.caches)
    chunk = float(v[j]) if layout.chunks else spec.copy_chunk_s
    dram, dispatch, session = (float(a) for a in v[-3:])
    zero = float(v[-4]) if layout.zero_work else spec.zero_work_dispatch_s
    mem_bw = max(spec.mem_bw_bytes_per_s, dram)
    out = spec.model_copy(update={"efficiency": eff, "op_efficiency": ops, "op_bandwidth_scale": scales, "caches": caches,
                                  "dispatch_overhead_s": dispatch,
                                  "zero_work_dispatch_s": zero, "copy_chunk_s": chunk, "mem_bw_bytes_per_s": mem_bw,
                                  "mem_efficiency": min(dram / mem_bw, 1.0)})
    return out, session


def predict(spec: CpuSpec, table: WorkTable, session_s: float) -> np.ndarray:
    """Predicted seconds of each record's single-op graph: CpuModel latency + session_s."""
    return CpuModel(spec).price(table).latency_s + session_s


@dataclass(frozen=True)
class FitResult:
    """A fitted spec, its per-inference overhead, parameters by name and the final cost."""

    spec: CpuSpec
    session_s: float
    parameters: dict[str, float]
    cost: float
    log_residuals: np.ndarray  # ln(measured / predicted), in-sample


def fit_one_thread(base: CpuSpec, table: WorkTable, measured_s: np.ndarray, restarts: int = 1,
                   start: dict[str, float] | None = None) -> FitResult:
    """Fit efficiency curves, bandwidths, dispatch and session overhead at ``threads = 1``
    (``restarts`` rounds of :func:`slow_restarts` after the first solve; ``start``: parameter
    values by name to start from instead of the base spec's, e.g. a previous fit's), then the
    per-op-type fixed costs (:func:`fit_op_overheads`) and, with those in place, once more."""
    base = base.model_copy(update={"threads": 1, "parallel_fraction": {}})
    layout = layout_for(base, table)
    x0, lo, hi = initial(base, layout)
    if start:
        given = np.array([np.log(start.get(n, np.exp(v))) for n, v in zip(layout.names(), x0)])
        x0 = np.clip(given, lo + 1e-6, hi - 1e-6)
    solve = _solver(layout, table, np.log(measured_s), lo, hi)
    x = solve(base, x0, restarts)
    spec, session = apply(base, layout, x)
    overheads = fit_op_overheads(spec, session, table, measured_s)
    if overheads:  # once more with the op types' own costs in place, so the kind curves stop absorbing them
        x = solve(base.model_copy(update={"op_overhead_s": overheads}), x, 0)
        spec, session = apply(base, layout, x)
        overheads = fit_op_overheads(spec, session, table, measured_s)
    spec = spec.model_copy(update={"op_overhead_s": overheads})
    params = dict(zip(layout.names(), (float(a) for a in np.exp(x))))
    params.update({f"op_overhead_s.{k}": v for k, v in overheads.items()})
    resid = np.log(predict(spec, table, session)) - np.log(measured_s)
    return FitResult(spec, session, params, float(np.sum(_soft_l1(resid))), -resid)


def _solver(layout: Layout, table: WorkTable, target: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """``solve(base, x0, restarts) -> x``: least squares on ln latency from ``x0``, then
    ``restarts`` rounds of :func:`slow_restarts`, each kept only when it lowers the cost. With
    zero-work chains measured, one more residual ``DISPATCH_PRIOR · ln(dispatch / zero_work)``
    pulls the generic per-op dispatch towards the measured cost of a kernel call without work:
    once most op types have their own ``op_overhead_s`` the data barely constrain it (a fit once
    left it at its 1 ns bound, pricing every Cast and DynamicQuantizeLinear at nothing)."""

    names = layout.names()
    tie = (names.index("dispatch_overhead_s"), names.index("zero_work_dispatch_s")) if layout.zero_work else None

    def solve(base: CpuSpec, x0: np.ndarray, restarts: int) -> np.ndarray:
        def resid(x: np.ndarray) -> np.ndarray:
            spec, session = apply(base, layout, x)
            r = np.log(predict(spec, table, session)) - target
            return r if tie is None else np.append(r, DISPATCH_PRIOR * (x[tie[0]] - x[tie[1]]))

        def run(x: np.ndarray):
            return least_squares(resid, x, bounds=(lo, hi), loss=LOSS, f_scale=F_SCALE, x_scale=1.0, max_nfev=400)

        sol = run(x0)
        for _ in range(restarts):
            for y in slow_restarts(layout, sol.x, lo, hi):
                again = run(y)
                sol = again if again.cost < sol.cost else sol
        return sol.x

    return solve


def _soft_l1(r: np.ndarray) -> np.ndarray:
    """scipy's soft_l1 loss at F_SCALE, halved as least_squares reports its cost."""
    z = (r / F_SCALE) ** 2
    return F_SCALE ** 2 * (np.sqrt(1.0 + z) - 1.0)  # ½ · f² · 2(√(1 + z) − 1)


def fit_op_overheads(spec: CpuSpec, session_s: float, table: WorkTable, measured_s: np.ndarray) -> dict[str, float]:
    """Second stage: the fixed cost of each op type in :func:`overhead_ops`, fitted on its small
    records only, every other parameter held. Small instances are where a fixed cost is
    identifiable; left in the joint fit, a per-op constant also soaks up the size-dependent
    misfit of large instances (a 10 us GlobalAveragePool "overhead" once did)."""
    c = table.columns
    reps = np.maximum(c["repeat"], 1.0)
    rest = predict(spec, table, session_s) - spec.dispatch_overhead_s * reps * ~zero_work_rows(table)
    small = small_rows(table)
    out = {}
    for op in overhead_ops(table):
        m = small & (table.op_type == op)

        def resid(x: np.ndarray, m: np.ndarray = m) -> np.ndarray:
            return np.log(rest[m] + np.exp(x[0]) * reps[m]) - np.log(measured_s[m])

        x0 = [np.log(max(spec.dispatch_overhead_s, 1e-8))]
        sol = least_squares(resid, x0, bounds=([np.log(1e-9)], [np.log(1e-4)]), loss=LOSS, f_scale=F_SCALE)
        out[op] = float(np.exp(sol.x[0]))
    return out


class ParallelFit(NamedTuple):
    """Thread-scaling parameters fitted on multi-thread records (:func:`fit_parallel_fraction`)."""

    parallel_fraction: dict[str, float]  # Amdahl p per kind or convolution key
    half_times: dict[str, float]  # parallel half-time τ per kind or convolution key
    sync_s: float  # parallel_sync_s: fork/join per op spread over threads
    cost: float
    sync_keys: dict[str, float] = {}  # parallel_sync_kind_s: a convolution key's own fork/join


def fit_parallel_fraction(spec: CpuSpec, session_s: float, table: WorkTable, measured_s: np.ndarray,
                          threads: np.ndarray, half_time: bool = True) -> ParallelFit:
    """Amdahl fractions p, parallel half-times τ and the fork/join cost ``parallel_sync_s`` (and
    ``parallel_sync_kind_s`` for the keys of :data:`SYNC_KEYS`) from multi-thread records, every other parameter held (``half_time`` False: τ and the sync cost
    stay at the spec's; ``half_times`` is empty). Convolution keys with at least two multi-thread
    records get their own p and τ: a narrow convolution ran slower at 2 threads than at 1 where a
    64-channel one sped up 1.9×."""
    multi = threads > 1
    keys = curve_keys(table)
    convs = tuple(k for k in get_args(ConvKey) if (multi & (keys == k)).sum() >= 2)
    kinds = tuple(WorkKind(k).label for k in sorted(set(table.kind[multi].tolist()))) + convs
    groups = [(int(t), threads == t) for t in sorted(set(threads[multi].tolist()))]
    n = len(kinds)
    own_sync = tuple(k for k in SYNC_KEYS if k in convs)

    def unpack(x: np.ndarray) -> dict:
        if not half_time:
            return {"parallel_fraction": {k: float(v) for k, v in zip(kinds, x[:n])}}
        return {"parallel_fraction": {k: float(v) for k, v in zip(kinds, x[:n])},
                "parallel_half_time_kind_s": {k: float(np.exp(v)) for k, v in zip(kinds, x[n:2 * n])},
                "parallel_sync_s": float(np.exp(x[2 * n])),
                "parallel_sync_kind_s": {k: float(np.exp(v)) for k, v in zip(own_sync, x[2 * n + 1:])}}

    def resid(x: np.ndarray) -> np.ndarray:
        upd = unpack(x)
        parts = [np.log(predict(spec.model_copy(update={"threads": t, **upd}), table.select(m), session_s))
                 - np.log(measured_s[m]) for t, m in groups]
        return np.concatenate(parts)

    x0, lo, hi = np.full(n, 0.9), np.full(n, 1e-4), np.ones(n)
    if half_time:
        syncs = 1 + len(own_sync)  # one for every kind, one per key of SYNC_KEYS measured
        x0 = np.concatenate([x0, np.full(n, np.log(1e-5)), np.full(syncs, np.log(1e-7))])
        lo = np.concatenate([lo, np.full(n, np.log(1e-8)), np.full(syncs, np.log(1e-10))])
        hi = np.concatenate([hi, np.full(n, np.log(1e-2)), np.full(syncs, np.log(1e-4))])
    sol = least_squares(resid, x0, bounds=(lo, hi), loss=LOSS, f_scale=F_SCALE)
    upd = unpack(sol.x)
    return ParallelFit(upd["parallel_fraction"], upd.get("parallel_half_time_kind_s", {}),
                       upd.get("parallel_sync_s", spec.parallel_sync_s), float(sol.cost), upd.get("parallel_sync_kind_s", {}))
