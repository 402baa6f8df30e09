"""Time to price a GPT-3 175B training run (run by hand; not part of the test run).

    python benchmarks/training.py [--repeat 5]

Counts ``zoo:gpt3-175b?seq=2048`` once, then times :func:`hwsim.workload.parallel.price_training`
of 300 B tokens (batch 1536) on 1024 A100s (tp 8, pp 16, dp 8, full recompute) — median of
``repeat`` calls — and prints the run's days, energy, dollars, CO2, MFU and HFU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import hwsim
from hwsim.config.cluster import ClusterSpec
from hwsim.workload.parallel import Link, price_training
from hwsim.workload.steps import TrainingRun


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    table = hwsim.count_work(hwsim.load_model("zoo:gpt3-175b?seq=2048"))
    count_s = time.perf_counter() - t0
    cluster = ClusterSpec(device="a100-sxm-80gb", count=1024, tp=8, pp=16, dp=8, topology="switch",
                          link_bw_bytes_per_s=300e9, link_latency_s=5e-6)
    run = TrainingRun(batch=1536, seq=2048, tokens=300e9)
    times, result = [], None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = price_training(table, cluster, "adam", run, recompute=True, heads=96,
                                inter_node=Link(25e9, 5e-6, 10.4e-12))
        times.append(time.perf_counter() - t0)
    print(f"count GPT-3 175B forward ({len(table)} ops): {count_s:.3f} s")
    print(f"price training run (median of {args.repeat}): {statistics.median(times):.3f} s")
    r = result
    print(f"  {r.days:.1f} days, {r.energy_kwh / 1e3:.0f} MWh IT ({r.facility_energy_kwh / 1e3:.0f} MWh facility), "
          f"${r.usd / 1e6:.2f}M, {r.co2_kg / 1e3:.0f} tCO2, MFU {r.mfu:.3f}, HFU {r.hfu:.3f}")


if __name__ == "__main__":
    main()
