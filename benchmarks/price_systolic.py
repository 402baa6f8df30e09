"""Speed of hwsim's systolic pricing against SCALE-Sim, and pricing throughput in op-rows/s.

    python benchmarks/price_systolic.py [--repeats 2000]

1. ResNet-18 (batch 1, 224×224) on a 128×128 weight-stationary array with SCALE-Sim's
   "bigsram" buffers: median wall time of one ``SystolicModel.price`` call versus SCALE-Sim's
   recorded wall time for the same network and config
   (tests/data/scalesim/resnet18_128x128_ws.json, scalesim 3.0.0) -> speedup (target ≥ 1000×).
   The conv/FC compute cycles are compared with SCALE-Sim's too (its "padded_topology"
   variant has the torchvision output sizes hwsim's zoo model has).
2. Pricing throughput on GPT-2 XL and ResNet-50 on tpu-v4: rows / median seconds per
   ``price`` call (target ≥ 1e6 rows/s). Counting the graph is not timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import hwsim
from hwsim.config.devices import SystolicSpec
from hwsim.devices import get_device
from hwsim.devices.energy import table_at_node
from hwsim.devices.systolic import SystolicModel

REF = Path(__file__).resolve().parents[1] / "tests" / "data" / "scalesim" / "resnet18_128x128_ws.json"


def median_call_s(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after 20 warm-up calls."""
    for _ in range(20):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scalesim_like_model() -> SystolicModel:
    """128×128 ws with SCALE-Sim's bigsram config (8192 kB per buffer, 1-byte words)."""
    kb = 1024.0
    return SystolicModel(SystolicSpec(
        name="scalesim-128x128-ws", mem_bytes=1e10, mem_bw_bytes_per_s=1e12, tdp_w=100.0, power_idle_w=1.0,
        energy=table_at_node(16.0, hbm=True), array_rows=128, array_cols=128, arrays=1, freq_hz=1e9,
        dataflow="ws", ifmap_sram_bytes=8192 * kb, filter_sram_bytes=8192 * kb, ofmap_sram_bytes=8192 * kb,
        sram_bw_bytes_per_s=1e15, vector_flops_per_s=1e12, dtype_speedup={"fp32": 1.0}))


def resnet18_vs_scalesim(repeats: int) -> None:
    table = hwsim.inspect_model("zoo:resnet18")
    model = scalesim_like_model()
    t = median_call_s(lambda: model.price(table), repeats)
    ours = model.compute_cycles(table)
    print(f"ResNet-18 on 128x128 ws: {len(table)} op rows, hwsim price() median {t * 1e6:.1f} us")
    if not REF.is_file():
        print(f"  SCALE-Sim reference {REF} not recorded yet: no speedup figure")
        return
    ref = json.loads(REF.read_text())
    wall = float(ref["wall_s"])
    print(f"  SCALE-Sim {ref.get('version', '?')} wall time {wall:.2f} s (shipped topology, one run) "
          f"-> speedup {wall / t:,.0f}x")
    padded = ref["variants"]["padded_topology"]
    theirs = float(padded["total_compute_cycles"])
    mine = float(ours[table.columns["gemm_m"] > 0].sum())
    print(f"  compute cycles, 20 convs + FC: SCALE-Sim {theirs:,.0f}, hwsim {mine:,.0f} "
          f"({(mine - theirs) / theirs:+.3%}); SCALE-Sim padded-variant wall {padded['wall_s']:.2f} s")


def throughput(repeats: int) -> None:
    device = get_device("tpu-v4")
    for uri in ("zoo:gpt2-xl", "zoo:resnet50"):
        table = hwsim.inspect_model(uri)
        t = median_call_s(lambda table=table: device.price(table), repeats)
        cost = device.price(table)
        print(f"{uri} on tpu-v4: {len(table)} rows, price() median {t * 1e6:.0f} us -> "
              f"{len(table) / t:,.0f} rows/s; total latency {np.nansum(cost.latency_s) * 1e3:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2000)
    args = ap.parse_args()
    resnet18_vs_scalesim(args.repeats)
    throughput(max(args.repeats // 4, 50))


if __name__ == "__main__":
    main()
