"""The simpy event loop of the serving simulation (the second module importing simpy; see
DESIGN deviation notes in :mod:`hwsim.schedule`).

Dynamic batching as in Triton's dynamic batcher: requests queue FIFO. Each of the N devices,
when free, takes the (single) batcher in turn — FIFO, so the device free first batches first —
and forms a batch: it waits until the queue holds ``max_batch`` requests or the oldest queued
request has waited ``max_wait_s``, whichever comes first (at least one request), takes up to
``max_batch`` requests from the head, hands the batcher on and serves the batch for
``service_s[k]`` seconds. With max_batch = 1 (or max_wait_s = 0) a free device serves the head
request at once: an M/D/N queue for Poisson arrivals and a constant service time.

Per request roughly 4–5 simpy events are scheduled (arrival, wake-up, batcher hand-off,
service); ``benchmarks/serving.py`` counts them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy


@dataclass
class _Shared:
    """Mutable state of one simulation run (local to :func:`run_batches`)."""

    queue: deque = field(default_factory=deque)
    signal: simpy.Event | None = None


@dataclass(frozen=True)
class BatchLog:
    """What happened: per request its service start and completion (s), per batch its device,
    start, end (s) and size."""

    start_s: np.ndarray
    done_s: np.ndarray
    batch_device: np.ndarray
    batch_start_s: np.ndarray
    batch_end_s: np.ndarray
    batch_size: np.ndarray


def run_batches(arrival_s: np.ndarray, service_s: Sequence[float], devices: int, max_batch: int,
                max_wait_s: float) -> BatchLog:
    """Simulate ``arrival_s`` (sorted, seconds) through the batcher and ``devices`` servers;
    ``service_s[k]`` is the time of a batch of k requests (index 0 unused)."""
    env = simpy.Environment()
    shared = _Shared()
    lock = simpy.Resource(env, capacity=1)
    n = len(arrival_s)
    start, done = np.full(n, np.nan), np.full(n, np.nan)
    batches: list[tuple[int, float, float, int]] = []
    env.process(_arrivals(env, arrival_s, shared))
    for dev in range(devices):
        env.process(_device(env, dev, lock, shared, arrival_s, service_s, max_batch, max_wait_s,
                            start, done, batches))
    env.run()
    rec = np.array(batches, dtype=float).reshape(-1, 4)
    return BatchLog(start, done, rec[:, 0].astype(np.int64), rec[:, 1], rec[:, 2], rec[:, 3].astype(np.int64))


def _arrivals(env: simpy.Environment, arrival_s: np.ndarray, shared: _Shared):
    """Put request i in the queue at arrival_s[i]; wake the batcher if it waits."""
    for i, t in enumerate(arrival_s.tolist()):
        if t > env.now:
            yield env.timeout(t - env.now)
        shared.queue.append(i)
        if shared.signal is not None and not shared.signal.triggered:
            shared.signal.succeed()


def _device(env, dev, lock, shared, arrival_s, service_s, max_batch, max_wait_s, start, done, batches):
    """One server: take the batcher, form a batch, release the batcher, serve; repeat."""
    while True:
        with lock.request() as req:
            yield req
            batch = yield from _form_batch(env, shared, arrival_s, max_batch, max_wait_s)
        t0 = env.now
        yield env.timeout(service_s[len(batch)])
        start[batch] = t0
        done[batch] = env.now
        batches.append((dev, t0, env.now, len(batch)))


def _form_batch(env, shared, arrival_s, max_batch, max_wait_s):
    """Wait for a first request, then until full or the head's deadline; pop the batch."""
    queue = shared.queue
    while not queue:
        shared.signal = env.event()
        yield shared.signal
    deadline = float(arrival_s[queue[0]]) + max_wait_s
    while len(queue) < max_batch and env.now < deadline:
        shared.signal = env.event()
        timer = env.timeout(deadline - env.now)
        yield shared.signal | timer
        if timer.processed:
            break
    k = min(len(queue), max_batch)
    return [queue.popleft() for _ in range(k)]
