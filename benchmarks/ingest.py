"""Ingest speed: hwsim load+count against bare onnx.load + onnx.shape_inference.infer_shapes.

Run by hand (not part of the test suite):  python benchmarks/ingest.py [--repeat 5]

For each model file it times, side by side in one process and interleaved, the median of
``repeat`` runs of
  * bare:   onnx.load(path, load_external_data=False) + infer_shapes(model)
  * hwsim:  hwsim.load_model(path) + hwsim.count_work(...)
and reports the ratio (target ≤ 1.3×), plus counting alone in ops/s (target ≥ 200k ops/s).
Models: a 50-layer CNN with real random weights (zoo resnet50, weights=random, ~100 MB),
BERT-large and GPT-2 XL weights-free (external-data placeholders).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import onnx

import hwsim
from hwsim.ops import count_node, count_work
from hwsim.zoo import build

MODELS = {
    "resnet50 (real weights)": ("resnet50", {"weights": "random"}),
    "bert-large (weights-free)": ("bert-large", {}),
    "gpt2-xl (weights-free)": ("gpt2-xl", {}),
}


def _bare(path: Path) -> None:
    onnx.shape_inference.infer_shapes(onnx.load(str(path), load_external_data=False))


def _ours(path: Path) -> None:
    count_work(hwsim.load_model(path))


def _time(fn, path: Path) -> float:
    t0 = time.perf_counter()
    fn(path)
    return time.perf_counter() - t0


def _count_rate(path: Path, repeat: int) -> tuple[int, float]:
    loaded = hwsim.load_model(path)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for n in loaded.nodes:
            count_node(n)
        times.append(time.perf_counter() - t0)
    return len(loaded.nodes), len(loaded.nodes) / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'model':28s} {'ops':>6s} {'bare s':>8s} {'hwsim s':>8s} {'ratio':>6s} {'count ops/s':>12s}")
        for label, (name, params) in MODELS.items():
            path = Path(tmp) / f"{name}.onnx"
            path.write_bytes(build(name, **params).SerializeToString())
            _bare(path), _ours(path)  # warm caches and imports
            bare, ours = [], []
            for _ in range(args.repeat):
                bare.append(_time(_bare, path))
                ours.append(_time(_ours, path))
            b, o = statistics.median(bare), statistics.median(ours)
            n, rate = _count_rate(path, args.repeat)
            print(f"{label:28s} {n:6d} {b:8.3f} {o:8.3f} {o / b:6.2f} {rate:12,.0f}")


if __name__ == "__main__":
    main()
