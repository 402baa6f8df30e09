"""Serving-simulation speed: simpy events per second on a 100k-request run (run by hand).

    python benchmarks/serving.py [--requests 100000]

Two workloads: M/D/1 (one device, max_batch 1, utilisation 0.8) and a batched one (4 devices,
max_batch 8, max_wait 2 ms, utilisation ≈ 0.5). Each is run twice with the same seed: once
timed, once with ``simpy.Environment.schedule`` wrapped to count the events the run schedules
(the count is deterministic). Reported: requests/s and events/s = events / timed wall time,
with events per request = events / requests.
"""

from __future__ import annotations

import argparse
import time

import simpy

from hwsim.schedule import latency_table, simulate_serving

WORKLOADS = {
    "M/D/1 rho=0.8": (latency_table({1: 1e-3}), {"devices": 1, "rate_per_s": 800.0, "max_batch": 1}),
    "4 dev, batch<=8": (latency_table({1: 2e-3, 2: 2.4e-3, 4: 3.2e-3, 8: 4.8e-3}),
                        {"devices": 4, "rate_per_s": 3000.0, "max_batch": 8, "max_wait_s": 2e-3}),
}


def count_events(table, kw, n: int) -> int:
    """Events scheduled by one run (simpy.Environment.schedule wrapped for the duration)."""
    original = simpy.Environment.schedule
    counter = [0]

    def counting(self, event, priority=1, delay=0):
        counter[0] += 1
        return original(self, event, priority, delay)

    simpy.Environment.schedule = counting
    try:
        simulate_serving(table, n_requests=n, seed=0, **kw)
    finally:
        simpy.Environment.schedule = original
    return counter[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    n = parser.parse_args().requests
    for name, (table, kw) in WORKLOADS.items():
        t0 = time.perf_counter()
        result = simulate_serving(table, n_requests=n, seed=0, **kw)
        wall = time.perf_counter() - t0
        events = count_events(table, kw, n)
        print(f"{name:18s} {n} requests in {wall:.2f} s: {n / wall:,.0f} requests/s, "
              f"{events / n:.2f} events/request, {events / wall:,.0f} events/s "
              f"(p99 {result.latency_p99_s * 1e3:.2f} ms, utilisation {result.utilisation:.2f}, "
              f"mean batch {result.mean_batch:.2f})")


if __name__ == "__main__":
    main()
