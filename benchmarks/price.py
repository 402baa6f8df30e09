"""Pricing throughput: op-rows priced per second, per device kind (run by hand).

    python benchmarks/price.py [--repeat 20]

Counts GPT-2 XL (seq 1024) and ResNet-50 once, then times ``device.price(table)`` (median of
``repeat`` calls) for one library device of each kind. Target: ≥ 1M op-rows/s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import hwsim
from hwsim.devices import get_device

DEVICES = ("xeon-8380", "a100-sxm-80gb", "tpu-v4", "eie", "loihi2")
MODELS = ("zoo:gpt2-xl", "zoo:resnet50")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    tables = {m: hwsim.count_work(hwsim.load_model(m)) for m in MODELS}
    print(f"{'device':16s} {'model':14s} {'rows':>6s} {'ms/call':>9s} {'rows/s':>12s}")
    for name in DEVICES:
        device = get_device(name)
        for m, table in tables.items():
            device.price(table)  # warm-up
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                device.price(table)
                times.append(time.perf_counter() - t0)
            t = statistics.median(times)
            print(f"{name:16s} {m:14s} {len(table):6d} {t * 1e3:9.3f} {len(table) / t:12,.0f}")


if __name__ == "__main__":
    main()
