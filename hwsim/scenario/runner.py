"""Run a scenario: expand, check limits and the output folder, count each model once, compute
chunks of points (locally or on Dask), log them for --resume, then write the results table,
JSON and the report — nothing final is written unless the whole run succeeded."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwsim.config.scenario import Scenario
from hwsim.errors import ConfigError
from hwsim.fileio import write_atomic
from hwsim.scenario.breakeven import breakeven_rows
from hwsim.scenario.compute import RunContext, compute_chunk
from hwsim.scenario.context import prepare_model
from hwsim.scenario.executors import run_chunks
from hwsim.scenario.load import load_scenario
from hwsim.scenario.outputs import PartialLog, csv_text, json_safe
from hwsim.scenario.sweep import count_points, expand


@dataclass(frozen=True)
class ScenarioResult:
    """The rows of a finished run, what the report needs, and the files written."""

    rows: list[dict[str, Any]]
    per_op: dict[Any, Any]
    assumptions: dict[str, Any]
    meta: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)
    breakeven: list[dict[str, Any]] = field(default_factory=list)

    def dataframe(self) -> Any:
        """The tidy table as a pandas DataFrame (one row per model × workload × device × point)."""
        import pandas as pd

        return pd.DataFrame(self.rows)


def run_scenario(source: str | Path | Scenario, out: str | Path | None = None, executor: str = "local",
                 scheduler: str | None = None, workers: int | None = None, resume: bool = False,
                 yes: bool = False, ci: bool = False, progress: bool = False, write: bool = True,
                 base: Path | None = None) -> ScenarioResult:
    """Run a study from a YAML path (or a Scenario with its ``base`` folder) and write its outputs."""
    scenario, base = (source, base or Path.cwd()) if isinstance(source, Scenario) else load_scenario(source, ci=ci)
    n = count_points(scenario.sweep)
    if n > scenario.max_points and not yes:
        raise ConfigError(f"scenario {scenario.name!r} has {n} sweep points, more than its limit "
                          f"max_points={scenario.max_points}; pass --yes to run it anyway")
    out_dir = Path(out) if out else Path("results") / scenario.name
    if write:
        check_writable(out_dir)
    ctx = RunContext(scenario, base, tuple(prepare_model(m, base) for m in scenario.models), tuple(expand(scenario.sweep)))
    rows = _compute(ctx, out_dir if write else None, executor, scheduler, workers, resume, progress)
    _, per_op = compute_chunk(ctx, [0], keep_per_op=True)
    result = ScenarioResult(rows, per_op, assumptions(ctx), meta(scenario),
                            breakeven=json_safe(breakeven_rows(scenario, rows)))
    if write:
        result = _write(result, scenario, out_dir)
        PartialLog(out_dir, fingerprint(scenario)).clear()
    return result


def check_writable(out_dir: Path) -> None:
    """Fail before any work when the output folder cannot be created or written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".hwsim-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output folder {out_dir} cannot be written ({exc.strerror}); choose another with --out") from None


def fingerprint(scenario: Scenario) -> str:
    """Hash of the validated scenario: partial results are reused only for the same study."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()[:16]


def chunk_points(n: int, workers: int | None) -> list[list[int]]:
    """Contiguous chunks: ~8 per worker, at most 256 points each."""
    size = max(1, min(256, n // max(1, 8 * (workers or os.cpu_count() or 1))))
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


def _compute(ctx: RunContext, out_dir: Path | None, executor: str, scheduler: str | None,
             workers: int | None, resume: bool, progress: bool) -> list[dict]:
    chunks = chunk_points(len(ctx.points), workers)
    log = PartialLog(out_dir, fingerprint(ctx.scenario)) if out_dir is not None else None
    done = log.load() if (log and resume) else {}
    if log:
        log.start(resume)
    todo = [c for c in chunks if tuple(c) not in done]
    results: dict[tuple[int, ...], list[dict]] = dict(done)
    with _progress(progress, len(ctx.points), sum(len(c) for c in chunks if tuple(c) in done)) as advance:
        for i, (rows, _) in run_chunks(ctx, todo, executor, workers, scheduler):
            results[tuple(todo[i])] = rows
            if log:
                log.append(todo[i], rows)
            advance(len(todo[i]))
    return [r for c in chunks for r in results[tuple(c)]]


class _progress:
    """A rich progress bar on stderr (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: int, completed: int) -> None:
        self.enabled, self.total, self.completed = enabled, total, completed

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        task = self.bar.add_task("sweep points", total=self.total, completed=self.completed)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.bar.__exit__(*exc)


def assumptions(ctx: RunContext) -> dict[str, Any]:
    """Every spec and economics value of the base point, with sources."""
    from hwsim.scenario.context import device_spec

    s = ctx.scenario
    devices = {d.key: device_spec(d, ctx.base, {}, s.name).model_dump(mode="json") for d in s.devices}
    return json_safe({
        "economics": s.economics.model_dump(mode="json"),
        "economics_sources": "hwsim/config/economics.py docstring (EIA 2023, Uptime Institute 2023, 10-K filings)",
        "devices": devices,
        "clusters": {d.key: d.cluster.model_dump(mode="json") for d in s.devices if d.cluster},
        "models": {m.entry.name: {"source": m.source, "batch": m.batch, **m.entry.model_dump(exclude={"name", "source"})}
                   for m in ctx.models},
        "workloads": [w.model_dump(mode="json") for w in s.workloads],
        "sweep": s.sweep.model_dump(mode="json") if s.sweep else None,
        "schedule": "ops run one at a time per device; latency is the sum of op latencies",
    })


def meta(scenario: Scenario) -> dict[str, Any]:
    """What the report needs besides the rows."""
    return {"name": scenario.name, "question": scenario.question,
            "headline_metric": scenario.outputs.headline_metric,
            "reference_lines": [r.model_dump() for r in scenario.reference_lines],
            "figures": list(scenario.outputs.figures)}


def _write(result: ScenarioResult, scenario: Scenario, out_dir: Path) -> ScenarioResult:
    paths: dict[str, Path] = {}
    formats = scenario.outputs.formats
    if "csv" in formats:
        paths["csv"] = out_dir / "results.csv"
        write_atomic(paths["csv"], csv_text(result.rows))
    if "json" in formats:
        paths["json"] = out_dir / "results.json"
        doc = {"scenario": scenario.name, "question": scenario.question, "rows": result.rows,
               "breakeven": result.breakeven, "assumptions": result.assumptions}
        write_atomic(paths["json"], json.dumps(json_safe(doc), indent=1, allow_nan=False) + "\n")
    if result.breakeven and "csv" in formats:
        paths["breakeven_csv"] = out_dir / "breakeven.csv"
        write_atomic(paths["breakeven_csv"], csv_text(result.breakeven))
    if "html" in formats:
        from hwsim.report.html import write_report

        paths["html"] = write_report(out_dir, result.rows, result.per_op, result.assumptions,
                                     unpriced(result.rows), result.meta)
    return ScenarioResult(result.rows, result.per_op, result.assumptions, result.meta, paths, result.breakeven)


def unpriced(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose model had ops that could not be priced (for the report's unpriced table)."""
    return [{"model": r["model"], "device": r["device"], "count": r.get("unpriced_ops")}
            for r in rows if r.get("point") == 0 and r.get("unpriced_ops")]
