"""Microbenchmarks: single-op ONNX graphs (:mod:`hwsim.calibrate.signature`) timed with the
same runtime and protocol as whole models (:mod:`hwsim.calibrate.measure`).

Grids (``quick`` for a whole ``hwsim calibrate --quick`` under 3 minutes on 2 cores, ``full``
under 15): GEMMs over (m, n, k); convolutions 1×1, 3×3, depthwise, strided and grouped over
channels × spatial size; elementwise/activations over element counts spanning L1 → DRAM;
reductions, softmax, layer norm over rows × columns; pooling; transpose/concat/gather; LSTM;
int8 MatMulInteger (ORT's integer GEMM). Each benchmark runs ``warmup`` untimed calls and then
timed calls until ``budget_s`` of timed work or ``max_runs`` (at least ``min_runs``).

A record holds the signature, threads, median/p10/p90 seconds, runs, and the op's hwsim work
(kind, flops, macs, bytes, GEMM view, dtype), so fits replay recorded files without recounting.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable

import numpy as np

from hwsim.calibrate.measure import (
    make_session,
    quiet_runs,
    random_feeds,
    require_onnxruntime,
    time_runs,
)
from hwsim.calibrate.signature import make_signature, signature_graph

log = logging.getLogger(__name__)


def chain_length(flops: float) -> int:
    """Ops in a benchmark chain (``l`` key, :mod:`hwsim.calibrate.signature`): 8 for small ops,
    down to 2 for ops above ~25 MFLOP so that one timed run stays short."""
    return int(np.clip(2e8 / max(flops, 1.0), 2, 8))


def _chained(op: str, params: dict[str, int], flops: float) -> str:
    return make_signature(op, {**params, "l": chain_length(flops)})


def _gemms(sizes: Iterable[int], ms: Iterable[int]) -> list[str]:
    return [_chained("MatMul", {"m": m, "n": n, "k": k}, 2.0 * m * n * k)
            for m, n, k in itertools.product(ms, sizes, sizes)]


def _convs(chans: Iterable[int], spatial: Iterable[int]) -> list[str]:
    out = []
    for c, hw in itertools.product(chans, spatial):
        base = {"n": 1, "c": c, "h": hw, "w": hw, "k": c}
        out += [_chained("Conv", {**base, "r": r, "s": 1, "g": g}, 2.0 * c * c * r * r * hw * hw / g)
                for r, g in ((1, 1), (3, 1), (3, c), (3, 4))]
        out.append(make_signature("Conv", {**base, "k": 2 * c, "r": 3, "s": 2, "g": 1}))
    return out


def _memory_bound(elems: Iterable[int], rows: Iterable[tuple[int, int]]) -> list[str]:
    out = [make_signature(op, {"e": e}) for op, e in itertools.product(("Relu", "Sigmoid", "Tanh", "Erf", "Clip"), elems)]
    out += [_chained(op, {"e": e}, e) for op, e in itertools.product(("Add", "Mul"), elems)]
    out += [_chained(op, {"e": e, "c": 64}, e) for op, e in itertools.product(("Add", "Mul"), (2048, 16384))]
    for op, (r, c) in itertools.product(("ReduceMean", "Softmax", "LayerNormalization", "Concat"), rows):
        chain = op in ("Softmax", "LayerNormalization")
        out.append(_chained(op, {"r": r, "c": c}, 8.0 * r * c) if chain else make_signature(op, {"r": r, "c": c}))
    out.append(make_signature("Transpose", {"a": 2, "b": 16, "c": 64}))  # attention-head sized
    out += [make_signature("Transpose", {"a": a, "b": b, "c": c, "d": d})  # head splits: runs of d elements
            for a, b, c, d in ((2, 16, 4, 16), (2, 32, 8, 32), (1, 64, 12, 64), (1, 256, 12, 64))]
    out += [make_signature("Concat", {"r": r, "c": c}) for r, c in ((1, 4), (2, 16))]  # shape-vector sized
    for r, c in rows:
        out.append(make_signature("Transpose", {"a": max(1, r // 64), "b": 64, "c": c}))
        out.append(make_signature("Gather", {"v": 4 * r, "d": c, "i": r}))
    return out


def _pools(chans: Iterable[int], spatial: Iterable[int]) -> list[str]:
    out = []
    for c, hw in itertools.product(chans, spatial):
        out += [make_signature("MaxPool", {"n": 1, "c": c, "h": hw, "w": hw, "r": 3, "s": 2}),
                _chained("AveragePool", {"n": 1, "c": c, "h": hw, "w": hw, "r": 3, "s": 1}, 9.0 * c * hw * hw),
                make_signature("GlobalAveragePool", {"n": 1, "c": c, "h": hw, "w": hw})]
    return out


def grid(quick: bool) -> list[str]:
    """Signatures of the quick or full benchmark grid."""
    if quick:
        sigs = (_gemms((64, 256, 1024), (1, 16, 128)) + _convs((16, 64, 256), (14, 56))
                + _memory_bound((256, 16384, 262144, 2097152), ((16, 64), (64, 768), (512, 1024)))
                + _pools((32, 256), (14, 56)))
        extra = [("LSTM", {"t": t, "b": b, "i": h, "h": h}) for t, b, h in ((8, 1, 128), (16, 4, 256), (32, 1, 512), (16, 1, 768))]
        extra += [("Gemm", {"m": 1, "n": n, "k": k, "l": 2}) for n, k in ((1000, 512), (2048, 4096), (4096, 8192))]
        extra += [("MatMul", {"b": 12, "m": 64, "n": 64, "k": 64, "l": 8})]
    else:
        sigs = (_gemms((32, 128, 512, 2048), (1, 8, 64, 256, 1024)) + _convs((8, 32, 128, 512), (7, 28, 112))
                + _memory_bound((64, 4096, 65536, 524288, 4194304, 16777216),
                                ((8, 32), (64, 768), (256, 512), (2048, 1024)))
                + _pools((16, 64, 256), (7, 28, 112)))
        extra = [("LSTM", {"t": t, "b": b, "i": h, "h": h}) for t, b, h in itertools.product((8, 32), (1, 8), (64, 256, 512))]
        extra += [("LSTM", {"t": t, "b": 1, "i": h, "h": h}) for t, h in ((16, 768), (32, 1024))]  # language-model widths
        extra += [("Gemm", {"m": m, "n": n, "k": k, "l": 2}) for m, n, k in itertools.product((1, 16), (1000, 4096), (2048, 8192))]
        extra += [("MatMul", {"b": 12, "m": s, "n": s, "k": 64, "l": 4}) for s in (16, 64, 256)]
    chains = [make_signature("Relu", {"e": e, "n": n}) for e, n in ((64, 8), (64, 32), (4096, 16))]
    chains += [make_signature("Unsqueeze", {"e": e, "n": n}) for e, n in ((64, 2), (64, 16), (4096, 32))]
    chains += [make_signature("MatMul", {"m": m, "n": k, "k": k, "l": n}) for m, k, n in ((2, 16, 2), (2, 16, 16), (32, 64, 8))]
    chains += [make_signature("Add", {"e": e}) for e in (64, 4096)] + [make_signature("Relu", {"e": 64, "n": 2})]
    ints = chains + [make_signature("MatMulInteger", {"m": m, "n": n, "k": n}, "int8") for m in (1, 64, 256) for n in (64, 512)]
    return sigs + [make_signature(op, p) for op, p in extra] + [_stem(p) for p in _stems(quick)] + _nchw_input(quick) + ints


def _nchw_input(quick: bool) -> list[str]:
    """Single convolutions reading a plain input of few channels (MLAS's NCHW-input kernel, as in
    small exported CNNs): taps c·r·r from 8 to 72, output channels from 8 (half a block) to 64."""
    sizes = [(2, 3, 32, 16, 3), (1, 3, 56, 32, 3), (2, 8, 16, 16, 1), (2, 8, 32, 64, 1), (2, 8, 16, 32, 3), (2, 3, 32, 8, 3)]
    if not quick:
        sizes += [(2, 4, 16, 16, 1), (1, 8, 56, 64, 3), (2, 12, 16, 24, 1), (1, 3, 112, 16, 3)]
    return [make_signature("Conv", {"n": n, "c": c, "h": h, "w": h, "k": k, "r": r, "s": 1, "g": 1}) for n, c, h, k, r in sizes]


def _stem(p: dict[str, int]) -> str:
    """A stem convolution's signature (LRN has no ``k``): chained when its stride is 1."""
    if "k" not in p or p["s"] != 1:
        return make_signature("LRN" if "k" not in p else "Conv", p)
    return _chained("Conv", p, 2.0 * p["n"] * p["c"] * p["k"] * p["r"] ** 2 * p["h"] * p["w"] / p["g"])


def _stems(quick: bool) -> list[dict[str, int]]:
    """Large-kernel/strided convolutions (network stems) and LRN (Caffe-era CNNs)."""
    out = [{"n": 1, "c": 3, "h": 224, "w": 224, "k": 64, "r": 7, "s": 2, "g": 1},
           {"n": 1, "c": 3, "h": 224, "w": 224, "k": 96, "r": 11, "s": 4, "g": 1},
           {"n": 1, "c": 64, "h": 28, "w": 28, "k": 128, "r": 5, "s": 1, "g": 1},
           {"n": 1, "c": 128, "h": 28, "w": 28, "k": 128, "r": 3, "s": 1, "g": 2},
           # few channels (toy and exported CNNs): MLAS's NCHWc kernels do not apply (cpu.NARROW_CHANNELS)
           {"n": 2, "c": 3, "h": 32, "w": 32, "k": 8, "r": 3, "s": 1, "g": 1},
           {"n": 2, "c": 8, "h": 16, "w": 16, "k": 8, "r": 3, "s": 1, "g": 1},
           {"n": 2, "c": 8, "h": 32, "w": 32, "k": 8, "r": 3, "s": 1, "g": 1},
           {"n": 2, "c": 8, "h": 8, "w": 8, "k": 16, "r": 1, "s": 1, "g": 1}]
    out += [{"n": 1, "c": c, "h": h, "w": h} for c, h in ((64, 56), (256, 14), (32, 28))]  # LRN
    return out if quick else out + [{"n": 1, "c": 128, "h": 112, "w": 112}]


def work_record(sig: str) -> dict:
    """hwsim's counted work of the op a signature names (one WorkTable row, as a dict)."""
    from hwsim import count_work, load_model

    table = count_work(load_model(signature_graph(sig)))
    c = table.columns
    busy = (c["flops"] + c["bytes_read"] + c["bytes_written"]) > 0
    if not busy.any():  # a chain of zero-work ops: every executed (not folded) node counts
        busy = c["folded"] <= 0
    row = int(np.argmax(c["flops"] + c["bytes_read"]))
    out = {k: float(c[k][row]) for k in ("gemm_batch", "gemm_m", "gemm_n", "gemm_k")}
    # a chain of n identical ops is one row repeated n times (CpuModel: w per repeat, n dispatches)
    out.update({k: float(c[k][busy].sum()) for k in ("flops", "macs", "bytes_read", "bytes_written", "const_bytes")})
    out["repeat"] = float(c["repeat"][busy].sum())
    out.update({k: float(c[k].sum()) for k in ("layout_bytes", "layout_ops", "copy_chunks")})  # NCHWc conversions, strided runs
    # MLAS's NCHW-input convolution: a single conv on the graph input; in a chain, only when most links are
    out["nchw_input"] = float(c["nchw_input"][busy].mean() > 0.5)
    return {**out, "kind": table.kind.tolist()[row], "op_type": str(table.op_type[row]), "dtype": str(table.dtype[row])}


def time_signature(sig: str, threads: int, budget_s: float = 0.08, min_runs: int = 5,
                   max_runs: int = 200, warmup: int = 3) -> dict:
    """Median/p10/p90 seconds of one benchmark at ``threads`` intra-op threads."""
    from hwsim import load_model

    proto = signature_graph(sig)
    session = make_session(proto, threads)
    feeds = random_feeds(load_model(proto))
    first = time_runs(session, feeds, 1, warmup)[0]
    runs = int(np.clip(budget_s / max(first, 1e-7), min_runs, max_runs))
    times, load = quiet_runs(session, feeds, runs, 0, threads)
    return {"signature": sig, "threads": int(threads), "others_load_cores": load, "median_s": float(np.median(times)),
            "p10_s": float(np.quantile(times, 0.1)), "p90_s": float(np.quantile(times, 0.9)), "runs": runs}


def best_of(tries: list[dict], stat: str = "p10_s") -> dict:
    """The try with the lowest ``stat``, with ``tries`` (how many) and ``spread`` (worst / best
    ``stat``) added: the record the fit uses."""
    best = min(tries, key=lambda r: r[stat])
    return {**best, "tries": len(tries), "spread": float(max(r[stat] for r in tries) / best[stat])}


class DriftGauge:
    """The machine's current speed: the p10 of a fixed reference graph (a chain of eight small
    MatMuls, ~17 µs, dispatch and arithmetic alike) timed just before each try, at the try's
    thread count (the second vCPU of this VM has slow spells of its own).

    A try's ``drift`` is its gauge time over the gauge's usual time (:meth:`usual`) in the run. On this
    project's VM slow spells last seconds to minutes and slow everything alike (an Unsqueeze
    chain and the gauge both took 1.5× in one), so a record whose best try has drift above
    :data:`DRIFT_LIMIT` was measured slow in every pass and is measured again when the gauge
    reads fast (:func:`spread_tries`)."""

    SIGNATURE = "MatMul:m=16,n=64,k=64,l=8:fp32"

    def __init__(self, threads: int = 1, runs: int = 30) -> None:
        from hwsim import load_model

        proto = signature_graph(self.SIGNATURE)
        self.session, self.runs = make_session(proto, threads, spin=False), runs  # its threads must not spin on after a sample
        self.feeds = random_feeds(load_model(proto))
        self.samples: list[float] = []

    def sample(self) -> float:
        """Seconds (p10) of the reference graph now; every sample is kept."""
        t = float(np.quantile(time_runs(self.session, self.feeds, self.runs, 2), 0.1))
        self.samples.append(t)
        return t

    def usual(self) -> float:
        """The gauge's undisturbed reading: the 10th percentile of its samples (the single
        fastest is an outlier on this VM: against it half of all tries read slow)."""
        return float(np.quantile(self.samples, 0.1))

    def wait_fast(self, limit: float, attempts: int = 4, pause_s: float = 0.25) -> float:
        """Sample until the gauge reads within ``limit`` of its usual (:meth:`usual`; at most
        ``attempts`` samples, ``pause_s`` apart); the last sample."""
        t = self.sample()
        for _ in range(attempts - 1):
            if t <= limit * self.usual():
                break
            time.sleep(pause_s)
            t = self.sample()
        return t


#: A try measured while the gauge ran this much slower than its usual reading counts as slow.
DRIFT_LIMIT = 1.10


def spread_tries(jobs: list, measure: Callable[[object], dict | str], passes: int, threads_of: Callable[[object], int],
                 progress: Callable[[int, int, str], None] | None = None,
                 retry_share: float = 0.3) -> tuple[dict, dict[int, float]]:
    """({job: [try, ...] or an error message}, {threads: usual gauge seconds}): ``passes``
    passes over ``jobs``, each try ``measure(job)`` tagged with the reading of a
    :class:`DriftGauge` at the job's thread count (``threads_of(job)``) taken just before it
    (``gauge_s``); then, worst first and for at most ``retry_share`` of the passes' time, one
    more try once the gauge reads fast for each job whose best try ran slow (gauge above
    :data:`DRIFT_LIMIT` × its usual reading). ``measure`` returns a dict with ``p10_s``, or a message
    for a job that cannot run (no more tries for it).

    Passes, not repeats: this VM's speed drifts for seconds to minutes at a time (a 26 µs graph
    measured 26–56 µs over minutes, with no other process running), so tries of one job are
    spread across the whole run and the fastest is kept."""
    gauges: dict[int, DriftGauge] = {}
    tries: dict = {job: [] for job in jobs}

    def reading(job) -> float:
        t = threads_of(job)
        if t not in gauges:
            gauges[t] = DriftGauge(t)
        return gauges[t].sample()

    def attempt(job, gauge_s: float) -> None:
        if isinstance(tries[job], list):
            got = measure(job)
            tries[job] = got if isinstance(got, str) else [*tries[job], {**got, "gauge_s": gauge_s}]

    t0 = time.perf_counter()
    for k in range(passes):
        for i, job in enumerate(jobs):
            attempt(job, reading(job))
            if progress is not None:
                progress(k * len(jobs) + i + 1, len(jobs) * passes, str(job[0] if isinstance(job, tuple) else job))
    usual = {t: g.usual() for t, g in gauges.items()}
    drift = {job: best_of(v)["gauge_s"] / usual[threads_of(job)] for job, v in tries.items() if isinstance(v, list)}
    slow = sorted((job for job, d in drift.items() if d > DRIFT_LIMIT), key=lambda j: -drift[j])
    deadline, again = time.perf_counter() + retry_share * (time.perf_counter() - t0), 0
    for job in slow:  # the worst one always; more while time is left
        attempt(job, gauges[threads_of(job)].wait_fast(DRIFT_LIMIT))
        again += 1
        if time.perf_counter() > deadline:
            break
    log.info("%d tries (%d of %d slow ones again)", len(jobs) * passes + again, again, len(slow))
    return tries, {t: g.usual() for t, g in gauges.items()}


def run_microbenchmarks(quick: bool, threads: Iterable[int],
                        progress: Callable[[int, int, str], None] | None = None, passes: int | None = None) -> list[dict]:
    """Time every signature of the grid at every thread count in ``passes`` passes (default 3
    for the quick grid, 2 for the full one, which measures sizes more densely: < 15 minutes)
    (:func:`spread_tries`); one record per (sig, threads): the try with the lowest p10
    (:func:`best_of`), with the ``drift`` of that try (gauge / usual gauge)."""
    require_onnxruntime()
    sigs, threads = grid(quick), list(threads)
    passes = passes or (3 if quick else 2)
    budget = (0.02 if quick else 0.1) * 2 / max(passes, 1)
    works = {sig: work_record(sig) for sig in sigs}
    t0 = time.perf_counter()
    tries, usual = spread_tries(list(itertools.product(sigs, threads)),
                                  lambda job: time_signature(job[0], job[1], budget_s=budget), passes, lambda job: job[1], progress)
    log.info("microbenchmarks timed in %.1f s", time.perf_counter() - t0)
    return [{**(b := best_of(t)), "drift": b["gauge_s"] / usual[job[1]], "work": works[job[0]]} for job, t in tries.items()]
