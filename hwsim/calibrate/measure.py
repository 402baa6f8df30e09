"""Measure ONNX models with onnxruntime (CPU execution provider) on this machine.

Protocol (``measure_model``): one ``InferenceSession`` with ``intra_op_num_threads = threads``,
``inter_op_num_threads = 1`` and sequential execution; inputs are real random tensors of the
bound shapes (floats ~ U[-1, 1), integers in {0, 1} so that token ids, segment ids and indices stay valid);
``warmup`` untimed runs, then ``runs`` timed ``session.run`` calls (``time.perf_counter``).
The median, p10 and p90 of the run times are reported in seconds.

Allocator (:func:`steady_allocator`): before the first session, glibc's malloc is told to keep
freed memory (``M_TRIM_THRESHOLD`` 1 GiB, ``M_TOP_PAD`` 256 MiB), which also switches off its
dynamic mmap threshold. Without this, one process measuring many models drifts: after a large
model (light_resnet50) frees its buffers, glibc raises its thresholds and trims the heap, and
every later run pays page faults. Measured on this 2-core VM (ORT 1.23, p10 at 2 threads): a
0.121 ms transformer took 0.284 ms after light_resnet50 ran in the same process, and DenseNet-121
34 ms → 56 ms; with the setting, 0.121 ms before and after. A long-running inference server
reaches the same warm-heap steady state, which is what the device model predicts. On a shared machine the
timed runs are retried when other processes took the cores they needed (:func:`quiet_runs`,
load read from ``/proc/stat``); ``others_load_cores`` records the load seen by the kept try.

Per-op times (``per_op=True``) come from ORT's profiler (``SessionOptions.enable_profiling``):
every ``"cat": "Node"`` event named ``<node>_kernel_time`` gives one kernel's duration (µs).
**Choice:** the per-op session runs with graph optimisations *disabled*
(``ORT_DISABLE_ALL``), so every executed kernel is exactly one ONNX node and maps 1:1 onto a
hwsim op row (nodes are given stable names ``<op_type>_<index>`` before both hwsim and ORT see
the graph). The end-to-end numbers use the default, fully optimised session; the ops ORT fuses
there are listed in ``fused`` (kernels of the optimised graph whose op types do not exist in
the original, e.g. ``FusedConv`` = Conv+Relu, ``FusedMatMul``, ``FusedGemm``,
``LayerNormalization`` from Add/ReduceMean/Sub/Pow/Sqrt/Div chains, ``BiasGelu``...), each
with the original node names it covers where ORT keeps them in the fused node's name.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from hwsim.errors import ConfigError

log = logging.getLogger(__name__)

_NP_DTYPES = {"fp32": np.float32, "fp64": np.float64, "fp16": np.float16, "int64": np.int64,
              "int32": np.int32, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}


def require_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or ConfigError saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError("measuring needs onnxruntime, which is not installed: "
                          "pip install 'hwsim[calibrate]' (or pip install onnxruntime)") from None
    return onnxruntime


def runnable_source(model: str | os.PathLike | onnx.ModelProto) -> str | os.PathLike | onnx.ModelProto:
    """``model`` with ``weights=random`` added when it is a weights-free zoo URI."""
    if isinstance(model, str) and model.startswith("zoo:") and "weights=" not in model:
        return model + ("&" if "?" in model else "?") + "weights=random"
    return model


def named_proto(model: str | os.PathLike | onnx.ModelProto) -> onnx.ModelProto:
    """The ModelProto of ``model`` (zoo URI, path or proto) with every node named uniquely.

    Unnamed nodes become ``<op_type>_<index in graph.node>`` so that hwsim rows and ORT
    profile events share names.
    """
    from hwsim.graph.read import read_model

    proto = onnx.ModelProto()
    proto.CopyFrom(model if isinstance(model, onnx.ModelProto) else read_model(model).model)
    seen: set[str] = set()
    for i, node in enumerate(proto.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{i}"
        seen.add(node.name)
    return proto


def random_feeds(loaded: Any, seed: int = 0) -> dict[str, np.ndarray]:
    """Random input arrays of the bound shapes of a :class:`hwsim.LoadedModel`."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for t in loaded.inputs:
        np_dtype = _NP_DTYPES.get(t.dtype)
        if np_dtype is None:
            raise ConfigError(f"input {t.name!r} has dtype {t.dtype}, which measuring cannot fill")
        if np.issubdtype(np_dtype, np.floating):
            feeds[t.name] = rng.uniform(-1, 1, t.shape).astype(np_dtype)
        else:
            feeds[t.name] = rng.integers(0, 2, t.shape).astype(np_dtype)
    return feeds


_M_TRIM_THRESHOLD, _M_TOP_PAD = -1, -2  # glibc <malloc.h> mallopt parameter numbers


@functools.cache
def steady_allocator() -> bool:
    """Make glibc keep freed heap memory (see the module docstring); True when applied, False
    where the C library is not glibc. Process-wide and idempotent."""
    try:
        libc = ctypes.CDLL(None)
        ok = libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30) and libc.mallopt(_M_TOP_PAD, 256 << 20)
    except (OSError, AttributeError):
        return False
    return bool(ok)


def make_session(proto: onnx.ModelProto, threads: int, optimize: bool = True,
                 profile_prefix: str | None = None, optimized_path: str | None = None, spin: bool = True) -> Any:
    """An ORT CPU session: ``threads`` intra-op threads, 1 inter-op thread, sequential.
    ``spin`` False: its pool threads block instead of spinning after each parallel section (a
    side session that must not steal cores from the one being timed)."""
    ort = require_onnxruntime()
    steady_allocator()
    so = ort.SessionOptions()
    if not spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    if optimized_path:
        so.optimized_model_filepath = optimized_path
    return ort.InferenceSession(proto.SerializeToString(), so, providers=["CPUExecutionProvider"])


def time_runs(session: Any, feeds: Mapping[str, np.ndarray], runs: int, warmup: int) -> np.ndarray:
    """Wall seconds of ``runs`` timed ``session.run`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        session.run(None, dict(feeds))
    out = np.empty(runs)
    for i in range(runs):
        t0 = time.perf_counter()
        session.run(None, dict(feeds))
        out[i] = time.perf_counter() - t0
    return out


def _cpu_jiffies() -> tuple[float, float]:
    """(busy jiffies of the whole machine, jiffies of this process) from /proc; (0, 0) elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    v = [float(x) for x in fields]
    return sum(v) - v[3] - (v[4] if len(v) > 4 else 0.0), float(own[11]) + float(own[12])


def others_busy_cores(before: tuple[float, float], after: tuple[float, float], wall_s: float) -> float:
    """Cores' worth of CPU that other processes used between two :func:`_cpu_jiffies` samples."""
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = (after[0] - before[0]) - (after[1] - before[1])
    return max(busy, 0.0) / hz / max(wall_s, 1e-9)


#: Shortest try whose load reading means anything: /proc/stat counts in jiffies (10 ms), so over a
#: 20 ms try one stray kernel tick reads as half a core busy. Shorter tries are not retried (the
#: drift gauge of :func:`hwsim.calibrate.microbench.spread_tries` still catches slow spells).
MIN_LOAD_WINDOW_S = 0.1


def quiet_runs(session: Any, feeds: Mapping[str, np.ndarray], runs: int, warmup: int, threads: int,
               attempts: int = 3, pause_s: float = 1.0) -> tuple[np.ndarray, float]:
    """(run times, other processes' load in cores) of the least disturbed of up to ``attempts`` tries.

    A try of at least :data:`MIN_LOAD_WINDOW_S` counts as disturbed when other processes used
    more than ``cores - threads + 0.25`` cores while it ran (they then share the cores our
    ``threads`` need); it is retried after
    ``pause_s``. Of all tries, the one with the lowest p10 is kept. Noise protocol for shared
    machines: a burst of another job spoils one try, not the record.
    """
    spare = (os.cpu_count() or 1) - threads + 0.25
    best, load = None, 0.0
    for i in range(attempts):
        t0, j0 = time.perf_counter(), _cpu_jiffies()
        times = time_runs(session, feeds, runs, warmup if i == 0 else 1)
        wall = time.perf_counter() - t0
        busy = others_busy_cores(j0, _cpu_jiffies(), wall)
        if best is None or np.quantile(times, 0.1) < np.quantile(best, 0.1):
            best, load = times, busy
        if busy <= spare or wall < MIN_LOAD_WINDOW_S or i == attempts - 1:
            break
        time.sleep(pause_s)
    return best, load


def profile_per_op(proto: onnx.ModelProto, feeds: Mapping[str, np.ndarray], threads: int,
                   runs: int) -> dict[str, float]:
    """Mean kernel seconds per ONNX node name, from ORT's profiler on the unoptimised graph."""
    with tempfile.TemporaryDirectory() as tmp:
        sess = make_session(proto, threads, optimize=False, profile_prefix=str(Path(tmp) / "prof"))
        time_runs(sess, feeds, 1, 0)  # warm-up run, also profiled: dropped below
        time_runs(sess, feeds, runs, 0)
        events = json.loads(Path(sess.end_profiling()).read_text())
    totals: dict[str, list[float]] = {}
    for ev in events:
        if ev.get("cat") == "Node" and str(ev.get("name", "")).endswith("_kernel_time"):
            totals.setdefault(ev["name"][: -len("_kernel_time")], []).append(ev["dur"] * 1e-6)
    # each node appears runs + 1 times: drop the first (warm-up) occurrence
    return {name: float(np.mean(d[1:] if len(d) > 1 else d)) for name, d in totals.items()}


def fused_kernels(proto: onnx.ModelProto, threads: int) -> dict[str, Any]:
    """What ORT's optimiser did: new kernels (``domain::op_type`` absent from the original,
    e.g. FusedConv, nchwc Conv with a fused activation) with their node names, and the
    original op types it removed (folded or fused away) with counts."""
    original = {(n.domain, n.op_type) for n in proto.graph.node}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "opt.onnx")
        make_session(proto, threads, optimized_path=path)
        opt = onnx.load(path, load_external_data=False)
    new = [{"kernel": f"{n.domain}::{n.op_type}" if n.domain else n.op_type, "node": n.name}
           for n in opt.graph.node if (n.domain, n.op_type) not in original]
    before, after = _type_counts(proto), _type_counts(opt)
    removed = {t: c - after.get(t, 0) for t, c in before.items() if c > after.get(t, 0)}
    return {"new_kernels": new, "removed_op_types": removed}


def _type_counts(proto: onnx.ModelProto) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in proto.graph.node:
        out[n.op_type] = out.get(n.op_type, 0) + 1
    return out


def measure_model(model: str | os.PathLike | onnx.ModelProto, dims: Mapping[str, int] | None = None,
                  threads: int = 1, runs: int = 20, warmup: int = 3, per_op: bool = False) -> dict:
    """Measure ``model`` end to end (and per op) with onnxruntime on this machine's CPU.

    ``model``: zoo URI (``weights=random`` is added), ONNX path or ModelProto; ``dims`` binds
    symbolic dims. Returns ``{"model", "threads", "median_s", "p10_s", "p90_s", "runs",
    "per_op": [{"name", "op_type", "latency_s"}...], "fused": [...]}`` (``per_op`` empty
    unless asked; see the module docstring for how fused kernels map to ONNX nodes).
    """
    require_onnxruntime()
    from hwsim import load_model

    proto = named_proto(runnable_source(model))
    feeds = random_feeds(load_model(proto, dims))
    times, load = quiet_runs(make_session(proto, threads), feeds, runs, warmup, threads)
    out = {"model": str(model) if not isinstance(model, onnx.ModelProto) else proto.graph.name,
           "threads": int(threads), "others_load_cores": load, "median_s": float(np.median(times)),
           "p10_s": float(np.quantile(times, 0.1)), "p90_s": float(np.quantile(times, 0.9)),
           "runs": int(runs), "per_op": [], "fused": {}}
    if per_op:
        types = {n.name: n.op_type for n in proto.graph.node}
        ops = profile_per_op(proto, feeds, threads, max(3, runs // 4))
        out["per_op"] = [{"name": k, "op_type": types.get(k, "?"), "latency_s": v} for k, v in ops.items()]
        out["fused"] = fused_kernels(proto, threads)
    return out
