"""The `price` use case: a loaded model on a list of devices, with economics and assumptions.

``price_model`` counts the model once, optionally casts it to another dtype, and prices the
same WorkTable on each device; it returns the table, one DeviceResult per device and the
assumptions (every spec and economics value used, with sources) for the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hwsim.config.economics import Economics
from hwsim.config.loader import load_yaml, validate
from hwsim.devices import get_device
from hwsim.graph.load import LoadedModel
from hwsim.ops.count import count_work
from hwsim.ops.work import WorkTable
from hwsim.rollup import DeviceResult, price_on
from hwsim.workload.prune import parse_prune_spec
from hwsim.workload.quantize import apply_dtype
from hwsim.workload.sparsity import declare_density


def load_economics(path: str | None) -> Economics:
    """Economics from a YAML file (fields of :class:`Economics`), or the sourced defaults."""
    if path is None:
        return Economics()
    data, lines = load_yaml(path)
    return validate(Economics, data or {}, str(path), lines)  # type: ignore[return-value]


def price_model(model: LoadedModel, devices: Sequence[str], overrides: Mapping[str, Any] | None = None,
                dtype: str | None = None, economics: str | Economics | None = None,
                batch: int = 1, prune: str | None = None) -> tuple[WorkTable, list[DeviceResult], dict[str, Any]]:
    """(table, results, assumptions) of ``model`` on each of ``devices``."""
    econ = economics if isinstance(economics, Economics) else load_economics(economics)
    table = count_work(model)
    if dtype is not None:
        table = apply_dtype(table, dtype)
    if prune is not None:
        spec = parse_prune_spec(prune)
        table = declare_density(table, weight=spec.density, pattern=spec.label)
    results, specs = [], {}
    for ref in devices:
        device = get_device(ref, overrides or None)
        results.append(price_on(table, device, econ, batch))
        specs[device.spec.name] = device.spec.model_dump(mode="json")
    assumptions = {"economics": econ.model_dump(mode="json"), "devices": specs,
                   "batch": batch, "dtype": dtype, "prune": prune, "overrides": dict(overrides or {}),
                   "schedule": "ops run one at a time; latency is the sum of op latencies"}
    return table, results, assumptions


def price_workload(args: Any, overrides: Mapping[str, Any], dims: Mapping[str, int]) -> dict[str, Any]:
    """`hwsim price` for training, local training or clusters: a one-model scenario (same code
    path as studies). ``args`` carries the CLI fields, ``dims`` the parsed --dim bindings;
    returns the JSON document."""
    from hwsim.config.scenario import Scenario
    from hwsim.scenario import run_scenario

    device_entries = []
    for ref in args.device:
        entry: dict[str, Any] = {"ref": ref, "set": dict(overrides)}
        if args.cluster:
            entry["cluster"] = {"count": args.cluster, "dp": args.dp, "tp": args.tp, "pp": args.pp,
                                "microbatches": args.microbatches, "link_bw_bytes_per_s": args.link_bw,
                                "link_latency_s": args.link_latency}
        device_entries.append(entry)
    workload = {"type": args.workload, "optimizer": args.optimizer, "rule": args.rule, "recompute": args.recompute,
                "tokens": args.tokens, "samples": args.samples, "steps": args.steps, "global_batch": args.global_batch}
    if args.workload != "inference" and not any((args.tokens, args.samples, args.steps)):
        workload["steps"] = 1
    scenario = validate(Scenario, {
        "name": "cli", "question": f"What does {args.workload} of {args.model} cost?",
        "models": [{"name": args.model, "source": args.model, "batch": args.batch, "dtype": args.dtype,
                    "prune": args.prune, "dims": dict(dims)}],
        "devices": device_entries, "workloads": [{k: v for k, v in workload.items() if v is not None}],
        "economics": load_economics(args.economics).model_dump(),
    }, "command line", {})
    result = run_scenario(scenario, write=False, workers=1, base=Path.cwd())
    return {"model": args.model, "workload": args.workload, "results": result.rows, "assumptions": result.assumptions}
