"""Results files: tidy CSV and JSON, written atomically (temp file + os.replace), and the
append-only partial log that lets an interrupted run resume."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BASE_COLUMNS = ("scenario", "point", "model", "family", "workload", "device", "device_kind")
METRIC_COLUMNS = (
    "flops", "macs", "params", "latency_s", "latency_p10_s", "latency_p90_s", "throughput_per_s", "energy_j", "energy_per_sample_j",
    "avg_power_w", "usd", "usd_per_1m", "co2_g", "co2_g_per_1m", "utilization", "bound_compute",
    "bound_memory", "bound_overhead", "bound_offload", "fits_in_memory", "devices_needed", "unpriced_ops",
    "wall_time_s", "energy_kwh", "mfu", "hfu", "co2_kg", "steps", "p50_s", "p95_s", "p99_s",
    "max_rate_meeting_slo",
)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Column order: identifiers, sweep parameters (sorted), known metrics, anything else (sorted)."""
    keys = {k for r in rows for k in r}
    params = sorted(k for k in keys if k.startswith("param:"))
    known = [c for c in METRIC_COLUMNS if c in keys]
    rest = sorted(keys - set(BASE_COLUMNS) - set(params) - set(known))
    return [c for c in BASE_COLUMNS if c in keys] + params + known + rest


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The tidy table as CSV text (deterministic formatting)."""
    cols = columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in cols])
    return buf.getvalue()


def json_safe(v: Any) -> Any:
    """NaN/inf -> None, tuples -> lists, numpy scalars -> Python, recursively."""
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class PartialLog:
    """``<out>/.partial/rows.jsonl``: one JSON line per finished chunk, keyed by a fingerprint
    of the scenario so a resume never mixes results of different studies."""

    def __init__(self, out_dir: Path, fingerprint: str) -> None:
        self.dir = out_dir / ".partial"
        self.path = self.dir / "rows.jsonl"
        self.fingerprint = fingerprint

    def load(self) -> dict[tuple[int, ...], list[dict]]:
        """Finished chunks (by their point indices) from an earlier run of the same scenario."""
        if not self.path.is_file():
            return {}
        done: dict[tuple[int, ...], list[dict]] = {}
        for line in self.path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut by the interruption: that chunk is recomputed
            if rec.get("fingerprint") == self.fingerprint:
                done[tuple(rec["points"])] = rec["rows"]
        return done

    def start(self, resume: bool) -> None:
        """Prepare the log; without ``resume`` any earlier log is discarded."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not resume and self.path.exists():
            self.path.unlink()

    def append(self, points: Iterable[int], rows: list[dict]) -> None:
        """Record one finished chunk (flushed, so an interruption loses at most this line)."""
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"fingerprint": self.fingerprint, "points": list(points),
                                 "rows": json_safe(rows)}, allow_nan=False) + "\n")
            fh.flush()

    def clear(self) -> None:
        """Remove the log once the final files are written."""
        self.path.unlink(missing_ok=True)
        try:
            self.dir.rmdir()
        except OSError:
            pass
