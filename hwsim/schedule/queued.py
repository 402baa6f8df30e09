"""Queued (discrete-event) schedules with simpy: contention for streams and shared links.

Resources: each device has a pool of ``streams`` compute engines (a ``simpy.PriorityStore`` of
stream ids, so an op takes the lowest-numbered free stream) and one collective stream; each
direction of each device pair is a **link of capacity 1** (``simpy.Resource``): two transfers
wanting the same link at once run one after the other, in request order. Op v starts when
every input has arrived (end(u), plus the transfer when u sits on another device) and a stream
is free; it holds the stream for latency(v). Without contention this gives exactly the times of
:func:`hwsim.schedule.analytic.schedule_analytic` (tested).

:func:`schedule_pipeline` runs GPipe-style pipeline parallelism (Huang et al. 2019): stage s on
device ``stage{s}``, micro-batch j enters stage 0 at time 0 and queues FIFO; each op of a
micro-batch takes latency/m. For p equal stages of t per micro-batch and no link the makespan
is (m + p − 1)·t and the idle (bubble) fraction (p − 1)/(m + p − 1).

This module and :mod:`hwsim.schedule.serving_sim` are the only ones importing simpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import simpy

from hwsim.devices.base import CostTable, DeviceModel
from hwsim.devices.cluster import pipeline_stages
from hwsim.errors import ConfigError
from hwsim.ops.work import WorkTable
from hwsim.schedule.problem import (
    LinkArg,
    Problem,
    StreamsArg,
    Task,
    build_problem,
    split_host_offload,
)
from hwsim.schedule.timeline import Entry, Link, Timeline, link_name


def schedule_queued(table: WorkTable, costs: CostTable, streams: StreamsArg = 1,
                    placement: Mapping[str, str] | None = None, link: LinkArg = None, *,
                    device: str = "device", collectives: set[str] | frozenset[str] | None = None) -> Timeline:
    """Discrete-event schedule of ``table`` priced by ``costs``; arguments as
    :func:`~hwsim.schedule.analytic.schedule_analytic`, but links and streams are contended."""
    problem = build_problem(table, costs, streams, placement, link, device, collectives)
    return solve_queued(problem)


def solve_queued(problem: Problem) -> Timeline:
    """Simulate an already built :class:`Problem` to completion."""
    env = simpy.Environment()
    entries: list[Entry] = []
    done = {t.name: env.event() for t in problem.tasks}
    device_of = {t.name: t.device for t in problem.tasks}
    pools: dict[tuple[str, str], simpy.PriorityStore] = {}
    links: dict[tuple[str, str], simpy.Resource] = {}
    for task in problem.tasks:
        key = (task.device, task.kind)
        if key not in pools:
            pools[key] = simpy.PriorityStore(env)
            for slot in _slots(problem, task):
                pools[key].put(slot)
    for task in problem.tasks:
        arrivals = []
        for pred, nbytes in task.preds:
            lk = problem.link(device_of[pred], task.device)
            if lk is None:
                arrivals.append(done[pred])
                continue
            pair = (device_of[pred], task.device)
            res = links.setdefault(pair, simpy.Resource(env, capacity=1))
            arrivals.append(env.process(_transfer(env, done[pred], res, lk, nbytes, f"{pred}->{task.name}",
                                                  link_name(*pair), entries)))
        env.process(_run(env, task, arrivals, pools[(task.device, task.kind)], done[task.name], entries))
    env.run()
    return Timeline.of(entries, problem.notes)


def _slots(problem: Problem, task: Task) -> range:
    k = problem.n_streams(task.device)
    return range(k, k + 1) if task.kind == "collective" else range(k)


def _run(env: simpy.Environment, task: Task, arrivals: list, pool: simpy.PriorityStore,
         done: simpy.Event, entries: list[Entry]):
    """Wait for every input, take the lowest free stream, run for the op's latency, release."""
    yield env.all_of(arrivals)
    slot = yield pool.get()
    start = env.now
    yield env.timeout(task.duration_s)
    entries.append(Entry(task.name, task.device, slot, start, env.now, task.kind))
    pool.put(slot)
    done.succeed()


def _transfer(env: simpy.Environment, produced: simpy.Event, res: simpy.Resource, lk: Link,
              nbytes: float, name: str, where: str, entries: list[Entry]):
    """After the producer ends: hold the link for latency + bytes / bw."""
    yield produced
    with res.request() as req:
        yield req
        start = env.now
        yield env.timeout(lk.transfer_s(nbytes))
        entries.append(Entry(name, where, 0, start, env.now, "transfer"))


def schedule_with_host(table: WorkTable, model: DeviceModel, streams: StreamsArg = 1,
                       device: str = "device") -> Timeline:
    """Price ``table`` on ``model`` and queue it with refused ops on "host" and their
    activations on the contended host link (:func:`~hwsim.schedule.problem.split_host_offload`)."""
    costs, placement, links = split_host_offload(table, model.price(table), model, device)
    return schedule_queued(table, costs, streams, placement, links, device=device)


def schedule_pipeline(table: WorkTable, costs: CostTable, stages: int | Sequence[int], microbatches: int,
                      link: Link | None = None, device_prefix: str = "stage") -> Timeline:
    """GPipe forward pass over ``stages`` devices with ``microbatches`` micro-batches.

    ``stages``: the stage count (contiguous cuts at equal latency shares,
    :func:`hwsim.devices.cluster.pipeline_stages`) or each row's stage index. Per micro-batch an
    op takes latency / m and the tensors crossing cut s (edges u → v with stage(u) ≤ s <
    stage(v), relayed stage by stage) move bytes / m over the link stage s → stage s+1.
    """
    lat = np.nan_to_num(np.asarray(costs.latency_s, dtype=float))
    stage_of = _stage_array(table, lat, stages)
    m = _positive_int(microbatches, "microbatches")
    p = int(stage_of.max()) + 1 if len(stage_of) else 1
    problem = build_problem(table, costs)
    order = [(t.name, t.duration_s / m) for t in problem.tasks]
    index = {str(n): i for i, n in enumerate(table.name)}
    by_stage = [[(n, d) for n, d in order if stage_of[index[n]] == s] for s in range(p)]
    cut_bytes = _cut_bytes(problem, stage_of, index, p) / m
    env = simpy.Environment()
    devices = [simpy.Resource(env, capacity=1) for _ in range(p)]
    wires = [simpy.Resource(env, capacity=1) for _ in range(max(p - 1, 0))]
    names = [f"{device_prefix}{s}" for s in range(p)]
    entries: list[Entry] = []
    for j in range(m):
        env.process(_microbatch(env, j, by_stage, devices, wires, link, cut_bytes, names, entries))
    env.run()
    return Timeline.of(entries, problem.notes)


def _microbatch(env, j, by_stage, devices, wires, link, cut_bytes, names, entries):
    """Micro-batch j: for each stage, receive over the link, then run the stage's ops in order."""
    for s, ops in enumerate(by_stage):
        if s > 0 and link is not None:
            with wires[s - 1].request() as req:
                yield req
                start = env.now
                yield env.timeout(link.transfer_s(float(cut_bytes[s - 1])))
                entries.append(Entry(f"send{s - 1}->{s}", link_name(names[s - 1], names[s]), 0, start, env.now,
                                     "transfer", j))
        with devices[s].request() as req:
            yield req
            t = env.now
            for name, dur in ops:
                entries.append(Entry(name, names[s], 0, t, t + dur, "compute", j))
                t += dur
            yield env.timeout(t - env.now)


def _stage_array(table: WorkTable, lat: np.ndarray, stages: int | Sequence[int]) -> np.ndarray:
    if isinstance(stages, (int, np.integer)):
        return pipeline_stages(lat, _positive_int(stages, "stages"))
    arr = np.asarray(stages, dtype=np.int64)
    if arr.shape != (len(table),) or (arr < 0).any():
        raise ConfigError(f"stages must give one stage index ≥ 0 per op ({len(table)}), got shape {arr.shape}")
    index = {str(n): i for i, n in enumerate(table.name)}
    back = [(u, v) for u, v in table.graph.edges if u in index and v in index and arr[index[u]] > arr[index[v]]]
    if back:
        raise ConfigError(f"edge {back[0][0]!r} -> {back[0][1]!r} runs from a later pipeline stage to an earlier one")
    return arr


def _cut_bytes(problem: Problem, stage_of: np.ndarray, index: Mapping[str, int], p: int) -> np.ndarray:
    """Bytes crossing each cut s | s+1 for the whole batch."""
    out = np.zeros(max(p - 1, 0))
    for task in problem.tasks:
        for pred, nbytes in task.preds:
            a, b = stage_of[index[pred]], stage_of[index[task.name]]
            out[a:b] += nbytes
    return out


def _positive_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{what} must be an integer ≥ 1, got {value!r}")
    return int(value)
