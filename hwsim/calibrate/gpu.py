"""GPU path: time GEMMs and elementwise ops with torch (or cupy) CUDA events, fit a GpuSpec.

Measurement (needs a CUDA device): each op signature (``MatMul:m,n,k:fp32``, ``Add:e:fp32``,
``Relu:e:fp32``) runs ``warmup`` times, then ``runs`` times between two
``torch.cuda.Event(enable_timing=True)`` records per run (milliseconds → seconds); the median,
p10 and p90 are kept, like the CPU records. Fitting replays such records (a JSON file with
``{"device", "records": [{"signature", "median_s", ...}]}``) through the generic fitter of
:mod:`hwsim.calibrate.csvfit`: per-kind efficiency curves and ``launch_overhead_s``, priced by
:class:`hwsim.devices.gpu.GpuModel` on hwsim's count of each signature's op.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from hwsim.calibrate.signature import parse_signature
from hwsim.errors import ConfigError


def require_cuda_backend():
    """torch with CUDA, else ConfigError naming what is missing."""
    try:
        import torch
    except ImportError:
        raise ConfigError("GPU calibration needs torch with CUDA (pip install torch)") from None
    if not torch.cuda.is_available():
        raise ConfigError("GPU calibration: torch finds no CUDA device on this machine")
    return torch


def _operands(torch, sig: str):
    op, p, _ = parse_signature(sig)
    dev = "cuda"
    if op in ("MatMul", "Gemm"):
        a, b = torch.randn(p["m"], p["k"], device=dev), torch.randn(p["k"], p["n"], device=dev)
        return lambda: torch.matmul(a, b)
    if op in ("Add", "Mul"):
        x, y = torch.randn(p["e"], device=dev), torch.randn(p["e"], device=dev)
        return (lambda: x + y) if op == "Add" else (lambda: x * y)
    if op == "Relu":
        x = torch.randn(p["e"], device=dev)
        return lambda: torch.relu(x)
    raise ConfigError(f"GPU microbenchmark {sig!r}: only MatMul, Gemm, Add, Mul, Relu are timed on GPU")


def time_gpu(sig: str, runs: int = 50, warmup: int = 5) -> dict:
    """Median/p10/p90 seconds of one op signature on the current CUDA device (CUDA events)."""
    torch = require_cuda_backend()
    fn = _operands(torch, sig)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e-3)
    t = np.array(times)
    return {"signature": sig, "threads": 0, "median_s": float(np.median(t)), "p10_s": float(np.quantile(t, 0.1)),
            "p90_s": float(np.quantile(t, 0.9)), "runs": runs}


def gpu_grid() -> list[str]:
    """Default GPU signatures: GEMMs from 64³ to 8192³ and elementwise ops from 4 KiB to 1 GiB."""
    sizes = (64, 256, 1024, 4096, 8192)
    gemms = [f"MatMul:m={m},n={n},k={n}:fp32" for m in sizes for n in sizes]
    return gemms + [f"{op}:e={e}:fp32" for op in ("Add", "Relu") for e in (1 << 10, 1 << 16, 1 << 22, 1 << 28)]


def measure_gpu(signatures: Iterable[str] | None = None, device_name: str = "") -> dict:
    """Records of every signature on the current CUDA device (``{"device", "records"}``)."""
    torch = require_cuda_backend()
    return {"device": device_name or torch.cuda.get_device_name(0),
            "records": [time_gpu(s) for s in (signatures or gpu_grid())]}


def fit_gpu_records(records_path: str | os.PathLike, base_device: str, stat: str = "median_s"):
    """(fitted GpuSpec, ln(measured / predicted) per record, cost) from a recorded GPU JSON file."""
    from hwsim.calibrate.csvfit import fit_tables, row_table
    from hwsim.devices.library import load_device_spec

    doc = json.loads(Path(records_path).read_text())
    base = load_device_spec(base_device)
    if base.kind != "gpu":
        raise ConfigError(f"{base_device!r} is a {base.kind} device; GPU records fit a gpu spec")
    tables = [row_table(r["signature"], i) for i, r in enumerate(doc["records"])]
    return fit_tables(base, tables, np.array([r[stat] for r in doc["records"]]))
