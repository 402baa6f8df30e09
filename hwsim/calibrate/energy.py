"""Energy counters: Intel/AMD RAPL through Linux powercap, NVIDIA NVML through pynvml.

Never invents energy: a reader that finds no readable counter says why, and measurements then
carry ``energy_j: null`` with that reason.

* RAPL: ``/sys/class/powercap/intel-rapl:<n>/energy_uj`` (package domains; AMD Zen exposes the
  same interface), microjoules, wrapping at ``max_energy_range_uj``
  (Linux Documentation/power/powercap/powercap.rst). Often root-only since CVE-2020-8694.
* NVML: ``nvmlDeviceGetTotalEnergyConsumption`` (millijoules since driver load, Volta and
  newer; NVML API reference).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POWERCAP = Path("/sys/class/powercap")


@dataclass(frozen=True)
class EnergyReader:
    """A readable cumulative energy counter: ``read()`` in joules, ``wrap_j`` its range."""

    name: str
    read: Callable[[], float]
    wrap_j: float = float("inf")

    def delta_j(self, before: float, after: float) -> float:
        """Joules between two readings, undoing one counter wrap."""
        return after - before if after >= before else after + self.wrap_j - before


def rapl_domains(root: Path = POWERCAP) -> list[Path]:
    """Top-level RAPL package domains (``intel-rapl:N``, not sub-zones ``intel-rapl:N:M``)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)


def rapl_reader(root: Path = POWERCAP) -> tuple[EnergyReader | None, str]:
    """(reader summing every package domain, "") or (None, why not)."""
    domains = rapl_domains(root)
    if not domains:
        return None, f"no RAPL domains under {root} (not Linux, no powercap driver, or a VM)"
    try:
        files = [d / "energy_uj" for d in domains]
        for f in files:
            float(f.read_text())
        wrap = sum(float((d / "max_energy_range_uj").read_text()) for d in domains) * 1e-6
    except (OSError, ValueError) as exc:
        return None, f"RAPL counters not readable ({exc}); reading energy_uj usually needs root"
    return EnergyReader("rapl:" + ",".join(d.name for d in domains),
                        lambda: sum(float(f.read_text()) for f in files) * 1e-6, wrap), ""


def nvml_reader(index: int = 0) -> tuple[EnergyReader | None, str]:
    """(reader of GPU ``index``'s total energy, "") or (None, why not)."""
    try:
        import pynvml
    except ImportError:
        return None, "pynvml not installed (pip install nvidia-ml-py)"
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except Exception as exc:  # NVMLError has many subclasses; any means "no counter"
        return None, f"NVML energy counter unavailable: {exc}"
    return EnergyReader(f"nvml:{index}", lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) * 1e-3), ""


def energy_status(gpu: bool = False) -> tuple[EnergyReader | None, str]:
    """The reader for this machine (NVML when ``gpu``, else RAPL) and a one-line status."""
    reader, why = nvml_reader() if gpu else rapl_reader()
    return reader, (f"measured with {reader.name}" if reader else f"not measured: {why}")


def measure_energy(reader: EnergyReader | None, fn: Callable[[], object], repeats: int) -> float | None:
    """Mean joules of one ``fn()`` call over ``repeats`` calls, or None without a reader."""
    if reader is None:
        return None
    before = reader.read()
    for _ in range(repeats):
        fn()
    return reader.delta_j(before, reader.read()) / repeats
