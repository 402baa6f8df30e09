"""Probe the running machine for a `cpu-generic` spec: cores, clock, SIMD width.

Reads /proc/cpuinfo (Linux) and os.cpu_count(); no measurement, no guesswork beyond what the
OS reports. Fields it cannot find are left out, and the spec then fails validation naming them.
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def probe_host() -> dict:
    """{"cores", "freq_hz", "simd_bits", "fma_units", "model"} as far as this machine tells."""
    out: dict = {"cores": os.cpu_count() or 1}
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    if "avx512f" in flags:
        out["simd_bits"] = 512
    elif "avx2" in flags or "avx" in flags:
        out["simd_bits"] = 256
    elif flags or platform.machine() in ("aarch64", "arm64"):
        out["simd_bits"] = 128
    out["fma_units"] = 2 if ("fma" in flags or "avx512f" in flags) else 1
    mhz = info.get("cpu MHz")
    if mhz:
        out["freq_hz"] = float(mhz) * 1e6
    out["model"] = info.get("model name", platform.processor() or platform.machine())
    return out


def _cpuinfo() -> dict[str, str]:
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out
