"""What a schedule produces: a frozen :class:`Timeline` of timed entries, and the links between
devices that transfers run over.

An :class:`Entry` is one op (or one transfer, or one collective) on one engine: ``device`` is a
device name (or a link name ``"src->dst"`` for transfers), ``stream`` the engine index on it
(compute streams 0..k−1, the collective stream k). Times are seconds from the start of the
schedule. Derived figures:

* makespan = max over entries of end_s (0 for an empty timeline);
* busy_s(d) = measure of the union of d's entry intervals (a device with two streams busy at
  once counts that second once);
* idle fraction over a set D of devices = 1 − Σ_d busy_s(d) / (|D| · makespan); for a GPipe
  pipeline of p equal stages and m micro-batches this is the bubble (p − 1)/(m + p − 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hwsim.errors import ConfigError

EntryKind = Literal["compute", "transfer", "collective"]
KINDS: tuple[str, ...] = ("compute", "transfer", "collective")


@dataclass(frozen=True, slots=True)
class Entry:
    """One timed piece of work: ``op`` ran on ``device``/``stream`` from start_s to end_s (s)."""

    op: str
    device: str
    stream: int
    start_s: float
    end_s: float
    kind: EntryKind = "compute"
    microbatch: int = 0

    @property
    def duration_s(self) -> float:
        """end_s − start_s (seconds)."""
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class Link:
    """A point-to-point link, one direction: a transfer of n bytes takes latency_s + n / bw.

    ``bw_bytes_per_s`` > 0 and ``latency_s`` ≥ 0, e.g. NVLink 4 per direction 450e9 B/s
    (NVIDIA H100 datasheet) — callers pass their own sourced figures.
    """

    bw_bytes_per_s: float
    latency_s: float = 0.0

    def __post_init__(self) -> None:
        if not (self.bw_bytes_per_s > 0 and math.isfinite(self.bw_bytes_per_s)):
            raise ConfigError(f"link bw_bytes_per_s must be a positive finite number, got {self.bw_bytes_per_s!r}")
        if not (self.latency_s >= 0 and math.isfinite(self.latency_s)):
            raise ConfigError(f"link latency_s must be ≥ 0 and finite, got {self.latency_s!r}")

    def transfer_s(self, n_bytes: float) -> float:
        """latency_s + n_bytes / bw_bytes_per_s (seconds)."""
        return self.latency_s + n_bytes / self.bw_bytes_per_s


def link_name(src: str, dst: str) -> str:
    """The device name transfer entries carry: ``"src->dst"`` (one direction, one resource)."""
    return f"{src}->{dst}"


@dataclass(frozen=True)
class Timeline:
    """Timed entries of a schedule, sorted by (start_s, device, stream, op), plus notes."""

    entries: tuple[Entry, ...]
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, entries: Iterable[Entry], notes: Iterable[str] = ()) -> Timeline:
        """A timeline of ``entries`` in canonical (deterministic) order."""
        return cls(tuple(sorted(entries, key=_order)), tuple(notes))

    @property
    def makespan_s(self) -> float:
        """max end_s over entries (seconds; 0 when empty)."""
        return max((e.end_s for e in self.entries), default=0.0)

    def devices(self, kind: str | None = None) -> tuple[str, ...]:
        """Device (or link) names in order of first use, optionally only those with ``kind`` entries."""
        return tuple(dict.fromkeys(e.device for e in self.entries if kind is None or e.kind == kind))

    def busy_s(self) -> dict[str, float]:
        """Per device (and link): measure of the union of its entry intervals (seconds)."""
        spans: dict[str, list[tuple[float, float]]] = {}
        for e in self.entries:
            spans.setdefault(e.device, []).append((e.start_s, e.end_s))
        return {d: _union_length(s) for d, s in spans.items()}

    def utilisation(self) -> dict[str, float]:
        """Per device: busy_s / makespan_s (0 for a zero-length timeline)."""
        span = self.makespan_s
        return {d: (b / span if span > 0 else 0.0) for d, b in self.busy_s().items()}

    def idle_fraction(self, devices: Iterable[str] | None = None) -> float:
        """1 − Σ busy_s(d) / (|D| · makespan) over ``devices`` (default: those running compute)."""
        names = tuple(devices) if devices is not None else self.devices("compute")
        span, busy = self.makespan_s, self.busy_s()
        if not names or span <= 0:
            return 0.0
        return 1.0 - sum(busy.get(d, 0.0) for d in names) / (len(names) * span)

    def find(self, op: str, microbatch: int = 0, kind: str = "compute") -> Entry:
        """The entry of ``op`` (of ``kind``, for ``microbatch``); KeyError when there is none."""
        for e in self.entries:
            if e.op == op and e.microbatch == microbatch and e.kind == kind:
                return e
        raise KeyError(f"no {kind} entry for op {op!r} (micro-batch {microbatch})")

    def to_chrome_trace(self) -> dict[str, Any]:
        """Chrome trace-event JSON (one "X" event per entry, µs times); see :mod:`.trace`."""
        from hwsim.schedule.trace import chrome_trace

        return chrome_trace(self)

    def write_chrome_trace(self, path: str | Path) -> Path:
        """Write :meth:`to_chrome_trace` to ``path`` atomically (temp file + rename)."""
        from hwsim.schedule.trace import write_json_atomic

        return write_json_atomic(self.to_chrome_trace(), path)


def _order(e: Entry) -> tuple:
    return (e.start_s, e.device, e.stream, e.microbatch, e.op, e.end_s)


def _union_length(spans: list[tuple[float, float]]) -> float:
    """Total length of the union of [start, end) intervals."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(spans):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total
