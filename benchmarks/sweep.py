"""Sweep speed: device configurations priced per second on ResNet-50 (run by hand).

    python benchmarks/sweep.py [--points 10000]

A grid over a TPU-like chip (array rows × cols × filter buffer × HBM bandwidth) with 10,000
points, run in-process on one core through the scenario runner (spec re-validation, pricing,
roll-up and the results row for every point). Target: ≥ 10,000 configurations/s.
"""

from __future__ import annotations

import argparse
import math
import time

from hwsim.config.scenario import Scenario
from hwsim.scenario import run_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10_000)
    args = ap.parse_args()
    side = math.ceil(args.points ** 0.25)
    grid = {
        "devices.tpu-like.array_rows": [16 * (i + 1) for i in range(side)],
        "devices.tpu-like.array_cols": [16 * (i + 1) for i in range(side)],
        "devices.tpu-like.filter_sram_bytes": [1e6 * (i + 1) for i in range(side)],
        "devices.tpu-like.mem_bw_bytes_per_s": [0.4e12 * (i + 1) for i in range(side)],
    }
    scenario = Scenario.model_validate({
        "name": "sweep_bench", "question": "speed", "models": [{"name": "resnet50", "source": "zoo:resnet50"}],
        "devices": [{"ref": "tpu-v4", "label": "tpu-like"}], "sweep": {"mode": "grid", "parameters": grid},
        "max_points": side ** 4,
    })
    t0 = time.perf_counter()
    result = run_scenario(scenario, workers=1, write=False)
    dt = time.perf_counter() - t0
    n = len(result.rows)
    print(f"{n} configurations × ResNet-50 in {dt:.2f} s on one core: {n / dt:,.0f} configurations/s")


if __name__ == "__main__":
    main()
