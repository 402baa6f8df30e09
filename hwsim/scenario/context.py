"""What a scenario run needs prepared once: each model counted (and transformed) once, and
each point's device specs and economics built and validated."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hwsim.config.cluster import ClusterSpec
from hwsim.config.economics import Economics
from hwsim.config.loader import validate
from hwsim.config.scenario import DeviceEntry, ModelEntry, Scenario, WorkloadEntry
from hwsim.devices.library import apply_overrides, library_index, locate, raw_spec, validate_spec
from hwsim.errors import ConfigError, HwsimError
from hwsim.graph.load import load_model
from hwsim.ops.count import count_work
from hwsim.ops.work import WorkTable
from hwsim.workload.prune import parse_prune_spec
from hwsim.workload.quantize import apply_dtype
from hwsim.workload.sparsity import declare_density


@dataclass(frozen=True)
class PreparedModel:
    """A model counted once: the counted table, the transformed one, what rows report about it."""

    entry: ModelEntry
    table: WorkTable
    batch: int
    source: str
    counted: WorkTable
    seq: int = 1

    def with_overrides(self, overrides: dict[str, Any], where: str) -> PreparedModel:
        """The model with a sweep point's transform fields changed (prune, dtype, activation
        density), re-applied to the counted table — no recount."""
        if not overrides:
            return self
        entry = validate(ModelEntry, {**self.entry.model_dump(), **overrides}, where, {},
                         prefix=f"models.{self.entry.name}")
        return PreparedModel(entry, transform(self.counted, entry), self.batch, self.source, self.counted, self.seq)


MODEL_SWEEP_FIELDS = ("prune", "dtype", "activation_density")


def prepare_model(entry: ModelEntry, base: Path) -> PreparedModel:
    """Load, count and transform one model entry (paths relative to the scenario folder)."""
    source = entry.source if entry.source.startswith("zoo:") else str((base / entry.source).resolve())
    try:
        loaded = load_model(source, dims=entry.dims or None, batch=entry.batch)
    except HwsimError as exc:
        raise ConfigError(f"model {entry.name!r}: {exc}") from None
    counted = count_work(loaded)
    return PreparedModel(entry, transform(counted, entry), entry.batch or _batch_of(loaded), source, counted,
                         _seq_of(loaded))


def transform(table: WorkTable, entry: ModelEntry) -> WorkTable:
    """Apply the entry's dtype, pruning and activation density to a counted table."""
    if entry.dtype:
        table = apply_dtype(table, entry.dtype)
    if entry.prune:
        table = _prune(table, entry.prune)
    if entry.activation_density is not None:
        table = declare_density(table, activation=entry.activation_density)
    return table


def _prune(table: WorkTable, text: str) -> WorkTable:
    """Declare ``DENSITY[:pattern]`` pruning on the table (see hwsim.workload.prune)."""
    spec = parse_prune_spec(text)
    return declare_density(table, weight=spec.density, pattern=spec.label)


def _seq_of(loaded: Any) -> int:
    """Sequence length of a token model: axis 1 of its first integer input (1 otherwise)."""
    for t in loaded.inputs:
        if t.dtype in ("int64", "int32") and len(t.shape) >= 2:
            return int(t.shape[1])
    return 1


def _batch_of(loaded: Any) -> int:
    first = loaded.inputs[0].shape if loaded.inputs else ()
    return int(first[0]) if first else 1


@dataclass(frozen=True)
class PointOverrides:
    """A sweep point split by target."""

    devices: dict[str, dict[str, Any]]
    workloads: dict[int, dict[str, Any]]
    economics: dict[str, Any]
    models: dict[str, dict[str, Any]]


def split_point(point: dict[str, Any]) -> PointOverrides:
    """Device overrides by label (or '*'), workload overrides by index, economics, model fields."""
    out = PointOverrides({}, {}, {}, {})
    for path, value in point.items():
        head, _, rest = path.partition(".")
        if head == "economics":
            out.economics[rest] = value
            continue
        key, _, field = rest.partition(".")
        if head == "devices":
            out.devices.setdefault(key, {})[field] = value
        elif head == "workloads":
            out.workloads.setdefault(int(key), {})[field] = value
        else:
            out.models.setdefault(key, {})[field] = value
    return out


def device_spec(entry: DeviceEntry, base: Path, overrides: dict[str, Any], where: str) -> Any:
    """The validated spec of a device entry with its own and the point's overrides."""
    ref = entry.ref
    if ref.endswith((".yaml", ".yml")):
        ref = str((base / ref).resolve())
    elif entry.fallback and ref not in library_index():
        ref = entry.fallback
    located = locate(ref)
    data, path, lines = _raw_spec(str(located), located.stat().st_mtime_ns)
    merged = {**entry.set, **overrides}
    data = apply_overrides(data, merged) if merged else dict(data)
    data["name"] = entry.key
    return validate_spec(data, where, lines)


@lru_cache(maxsize=256)
def _raw_spec(path: str, mtime_ns: int) -> tuple[dict, Path, dict[str, int]]:
    """A device file's merged mapping, read once until the file changes (sweeps build specs
    per point; apply_overrides copies what it changes, so the cached mapping is never mutated)."""
    return raw_spec(path)


def cluster_spec(entry: DeviceEntry, device_ref: str) -> ClusterSpec | None:
    """The ClusterSpec of a clustered entry (None for a single device)."""
    if entry.cluster is None:
        return None
    c = entry.cluster.model_dump(exclude_none=True)
    return ClusterSpec(name=entry.key, device=device_ref, **c)


def point_workloads(scenario: Scenario, overrides: dict[int, dict[str, Any]], where: str) -> list[WorkloadEntry]:
    """Workloads with the point's overrides, re-validated."""
    if not overrides:
        return list(scenario.workloads)
    out = []
    for i, w in enumerate(scenario.workloads):
        data = {**w.model_dump(), **overrides.get(i, {})}
        out.append(validate(WorkloadEntry, data, where, {}, prefix=f"workloads.{i}"))
    return out  # type: ignore[return-value]


def point_economics(scenario: Scenario, overrides: dict[str, Any], where: str) -> Economics:
    """Economics with the point's overrides, re-validated."""
    if not overrides:
        return scenario.economics
    data = {**scenario.economics.model_dump(), **overrides}
    return validate(Economics, data, where, {}, prefix="economics")  # type: ignore[return-value]


def per_sample(value: float, batch: int) -> float:
    """value / batch, NaN-safe."""
    return value / batch if batch and not math.isnan(value) else math.nan
