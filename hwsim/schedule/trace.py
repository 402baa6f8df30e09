"""Chrome trace-event JSON of a :class:`~hwsim.schedule.timeline.Timeline` (opens in Perfetto
and chrome://tracing), written atomically.

Format (Trace Event Format, Google, "JSON Object Format"): ``{"traceEvents": [...],
"displayTimeUnit": "ms"}``. Each entry becomes one complete event ``{"name", "cat", "ph": "X",
"ts", "dur", "pid", "tid", "args"}`` with ts = start_s × 1e6 and dur = (end_s − start_s) × 1e6
(microseconds, the format's unit). pid is the device's index in order of first use and tid the
stream; "M" metadata events (process_name, thread_name) carry the device and stream names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwsim.errors import ConfigError
from hwsim.fileio import write_atomic

if TYPE_CHECKING:
    from hwsim.schedule.timeline import Timeline

US_PER_S = 1e6


def chrome_trace(timeline: Timeline) -> dict[str, Any]:
    """``{"traceEvents": [metadata..., one "X" event per entry], "displayTimeUnit": "ms"}``."""
    pids = {d: i for i, d in enumerate(timeline.devices())}
    meta: list[dict[str, Any]] = []
    seen_threads: set[tuple[int, int]] = set()
    for device, pid in pids.items():
        meta.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": device}})
    events = []
    for e in timeline.entries:
        pid = pids[e.device]
        if (pid, e.stream) not in seen_threads:
            seen_threads.add((pid, e.stream))
            label = "link" if e.kind == "transfer" else ("comm" if e.kind == "collective" else "stream")
            meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": e.stream,
                         "args": {"name": f"{label} {e.stream}"}})
        events.append({
            "name": e.op, "cat": e.kind, "ph": "X", "ts": e.start_s * US_PER_S,
            "dur": (e.end_s - e.start_s) * US_PER_S, "pid": pid, "tid": e.stream,
            "args": {"device": e.device, "kind": e.kind, "microbatch": e.microbatch,
                     "start_s": e.start_s, "end_s": e.end_s},
        })
    return {"traceEvents": meta + events, "displayTimeUnit": "ms"}


def write_json_atomic(data: Any, path: str | Path) -> Path:
    """Write ``data`` as JSON to ``path`` via a temp file in the same folder and ``os.replace``:
    readers see the old file or the whole new one, never a partial one."""
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigError(f"cannot write trace {str(target)!r}: folder {str(target.parent)!r} does not exist")
    return write_atomic(target, json.dumps(data, allow_nan=False))
