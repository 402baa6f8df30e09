"""Load a scenario YAML: safe parsing, line-numbered errors, paths relative to the file,
CI overrides, and an early check of every sweep path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hwsim.config.loader import load_yaml, validate
from hwsim.config.scenario import Scenario
from hwsim.errors import ConfigError


def load_scenario(path: str | Path, ci: bool = False) -> tuple[Scenario, Path]:
    """(validated scenario, its folder). ``ci`` applies the scenario's ``ci:`` overrides."""
    p = Path(path)
    data, lines = load_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a scenario must be a mapping (name, question, models, devices, ...)")
    if ci and isinstance(data.get("ci"), dict):
        data = apply_dotted(data, data["ci"], str(p))
    scenario = validate(Scenario, data, str(p), lines)
    check_sweep_paths(scenario, str(p), lines)  # type: ignore[arg-type]
    return scenario, p.resolve().parent  # type: ignore[return-value]


def apply_dotted(data: dict, overrides: dict[str, Any], where: str) -> dict:
    """Set dotted paths (``sweep.samples: 10``, ``models: [...]``) in a copy of ``data``."""
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        node: Any = out
        parts = str(dotted).split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return out


def check_sweep_paths(scenario: Scenario, where: str, lines: dict[str, int]) -> None:
    """Every sweep path must name an existing device label (or *), model transform field,
    workload index or economics field."""
    if scenario.sweep is None:
        return
    labels = {d.key for d in scenario.devices} | {"*"}
    for path in scenario.sweep.parameters:
        line = lines.get(f"sweep.parameters.{path}")
        at = f"line {line}: " if line else ""
        head, _, rest = path.partition(".")
        if head == "devices":
            label, _, field = rest.partition(".")
            if label not in labels or not field:
                raise ConfigError(f"{where}: {at}sweep path {path!r}: no device labelled {label!r} "
                                  f"(labels: {', '.join(sorted(labels))}) or no field after it")
        elif head == "workloads":
            idx, _, field = rest.partition(".")
            if not idx.isdigit() or int(idx) >= len(scenario.workloads) or field not in type(scenario.workloads[0]).model_fields:
                raise ConfigError(f"{where}: {at}sweep path {path!r} does not name a workload field (workloads.<index>.<field>)")
        elif head == "models":
            name, _, field = rest.partition(".")
            from hwsim.scenario.context import MODEL_SWEEP_FIELDS

            if name not in {m.name for m in scenario.models} or field not in MODEL_SWEEP_FIELDS:
                raise ConfigError(f"{where}: {at}sweep path {path!r}: models.<name>.<field> with a model name of "
                                  f"this scenario and a field in {', '.join(MODEL_SWEEP_FIELDS)}")
        elif head == "economics":
            if rest not in type(scenario.economics).model_fields:
                raise ConfigError(f"{where}: {at}sweep path {path!r}: economics has no field {rest!r}")
        else:
            raise ConfigError(f"{where}: {at}sweep path {path!r} must start with devices., models., workloads. or economics.")
