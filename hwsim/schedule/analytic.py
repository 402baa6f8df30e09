"""Analytic list scheduling (pure; the default schedule).

Ops are taken in topological order (:mod:`hwsim.schedule.problem`). For op v on device d:

    ready(v) = max over edges u → v of  end(u) + transfer(u, v)
    transfer(u, v) = link.latency_s + bytes(u, v) / link.bw_bytes_per_s   if device(u) ≠ d, else 0
    start(v) = max(ready(v), min over d's streams of free(stream)),  end(v) = start(v) + latency(v)

and v takes the lowest-numbered stream of d that is free at start(v). Collectives use d's own
communication stream. Transfers do not contend here (every link has unbounded capacity); the
queued schedule (:mod:`hwsim.schedule.queued`) serialises them. Consequences, both tested:

* one device, one stream: makespan = Σ latency (ops run back to back in topological order);
* streams ≥ width of the DAG, no transfers: makespan = the node-weighted critical path
  (:func:`hwsim.graph.paths.critical_path`).
"""

from __future__ import annotations

from collections.abc import Mapping

from hwsim.devices.base import CostTable
from hwsim.ops.work import WorkTable
from hwsim.schedule.problem import LinkArg, Problem, StreamsArg, Task, build_problem
from hwsim.schedule.timeline import Entry, Timeline, link_name


def schedule_analytic(table: WorkTable, costs: CostTable, streams: StreamsArg = 1,
                      placement: Mapping[str, str] | None = None, link: LinkArg = None, *,
                      device: str = "device", collectives: set[str] | frozenset[str] | None = None) -> Timeline:
    """List-schedule ``table`` priced by ``costs`` (see the module docstring for the rule).

    ``streams``: concurrent engines per device (an int for all, or device → int).
    ``placement``: op name → device (default: all on ``device``, OFFLOAD rows on "host").
    ``link``: a Link for every device pair, a (src, dst) → Link map, or None (no transfers).
    """
    problem = build_problem(table, costs, streams, placement, link, device, collectives)
    return solve_analytic(problem)


def solve_analytic(problem: Problem) -> Timeline:
    """List-schedule an already built :class:`Problem`."""
    end: dict[str, float] = {}
    device_of = {t.name: t.device for t in problem.tasks}
    free: dict[tuple[str, str], list[float]] = {}
    entries: list[Entry] = []
    for task in problem.tasks:
        ready = 0.0
        for pred, nbytes in task.preds:
            arrive = end[pred]
            lk = problem.link(device_of[pred], task.device)
            if lk is not None:
                arrive = end[pred] + lk.transfer_s(nbytes)
                entries.append(Entry(f"{pred}->{task.name}", link_name(device_of[pred], task.device), 0,
                                     end[pred], arrive, "transfer"))
            ready = max(ready, arrive)
        pool = free.setdefault((task.device, task.kind), [0.0] * _pool_size(problem, task))
        slot, start = pick_stream(pool, ready)
        end[task.name] = start + task.duration_s
        pool[slot] = end[task.name]
        entries.append(Entry(task.name, task.device, _stream_index(problem, task, slot), start,
                             end[task.name], task.kind))
    return Timeline.of(entries, problem.notes)


def pick_stream(free_s: list[float], ready_s: float) -> tuple[int, float]:
    """(slot, start): start = max(ready, min free); the lowest slot free at that start."""
    start = max(ready_s, min(free_s))
    slot = next(i for i, f in enumerate(free_s) if f <= start)
    return slot, start


def _pool_size(problem: Problem, task: Task) -> int:
    return 1 if task.kind == "collective" else problem.n_streams(task.device)


def _stream_index(problem: Problem, task: Task, slot: int) -> int:
    """Compute streams are 0..k−1; a device's collective stream is k."""
    return problem.n_streams(task.device) if task.kind == "collective" else slot
