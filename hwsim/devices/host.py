"""Probe the running machine for a `cpu-generic` spec: cores, clock, SIMD width, caches.

Reads /proc/cpuinfo and /sys/devices/system/cpu/cpu0/cache (Linux) and os.cpu_count(); no
measurement. Fields it cannot find are left out, and the spec then fails validation naming them.
Cache *sizes* come from the OS; cache *bandwidths* are not reported anywhere, so they are set
from conservative per-core bytes/cycle (:data:`CACHE_BYTES_PER_CYCLE`) × cores × clock, to be
replaced by calibration (issue 6).
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def probe_host() -> dict:
    """{"cores", "freq_hz", "simd_bits", "fma_units", "dtype_speedup", "model"} as far as this machine tells."""
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
    out["dtype_speedup"] = dtype_speedup(flags)
    mhz = info.get("cpu MHz")
    if mhz:
        out["freq_hz"] = float(mhz) * 1e6
    out["model"] = info.get("model name", platform.processor() or platform.machine())
    caches = _caches(out["cores"], out.get("freq_hz"))
    if caches:
        out["caches"] = caches
    return out


def dtype_speedup(flags: set[str]) -> dict[str, float]:
    """Throughput per cycle relative to fp32 FMA lanes, from the CPU's instruction-set flags.

    fp64 is half the fp32 lanes on every x86/Arm SIMD unit. int8 is 4× with a 4-way int8 dot
    product into 32-bit lanes (x86 ``avx512_vnni``/``avx_vnni`` VPDPBUSD, Arm ``asimddp`` SDOT:
    4 int8 MACs per 32-bit lane per instruction, Intel SDM vol. 2 VPDPBUSD; Arm ARM SDOT),
    otherwise 1× (conservative: the AVX2 VPMADDUBSW path needs two extra instructions). bf16 is
    2× with ``avx512_bf16`` VDPBF16PS (2 bf16 MACs per fp32 lane) and absent otherwise."""
    out = {"fp32": 1.0, "fp64": 0.5, "int8": 4.0 if flags & {"avx512_vnni", "avx_vnni", "asimddp"} else 1.0}
    if "avx512_bf16" in flags:
        out["bf16"] = 2.0
    return out


#: Sustained per-core load bandwidth assumed per cache level (bytes/cycle): L1 one 64-byte load
#: per cycle (AVX2/AVX-512 cores sustain two), L2 32, L3 16 (half of a 64-byte line per cycle
#: and a quarter, typical of x86 cores). Conservative pre-calibration defaults.
CACHE_BYTES_PER_CYCLE = {1: 64.0, 2: 32.0, 3: 16.0}
_SYS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")


def _caches(cores: int, freq_hz: float | None) -> list[dict]:
    """Data/unified cache levels of cpu0 totalled over the chip, smallest first (needs the clock)."""
    if not freq_hz or not _SYS_CACHE.is_dir():
        return []
    out = []
    for index in sorted(_SYS_CACHE.glob("index*")):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = _size_bytes((index / "size").read_text().strip())
            sharing = len(_cpu_list((index / "shared_cpu_list").read_text().strip())) or 1
        except (OSError, ValueError):
            continue
        if kind == "Instruction" or level not in CACHE_BYTES_PER_CYCLE:
            continue
        instances = -(-cores // sharing)
        out.append({"name": f"L{level}", "bytes": size * instances,
                    "bw_bytes_per_s": CACHE_BYTES_PER_CYCLE[level] * cores * freq_hz})
    return sorted(out, key=lambda c: c["bytes"])


def _size_bytes(text: str) -> float:
    units = {"K": 1024.0, "M": 1024.0 ** 2, "G": 1024.0 ** 3}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def _cpu_list(text: str) -> list[int]:
    cpus: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        cpus += list(range(int(lo), int(hi or lo) + 1))
    return cpus


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
