"""Argument parsers of the `hwsim` verbs (one function per verb)."""

from __future__ import annotations

import argparse

EXIT_USAGE = 2

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit is 2 as well; keep one line
        self.exit(EXIT_USAGE, f"hwsim: error: {message}\n")


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="path to an .onnx file, or zoo:NAME[?batch=N&seq=N] (see `hwsim zoo`)")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE",
                   help="bind a symbolic input dim (repeatable)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=D0xD1x...",
                   help="give an input's whole shape, by name or position (repeatable)")
    p.add_argument("--on-unsupported", choices=("raise", "warn"), default="raise",
                   help="ops hwsim cannot count: fail (default) or list them as unpriced")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every verb."""
    parser = _Parser(prog="hwsim", description="Hardware cost simulator for ML models (ONNX).")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for add in (_args_inspect, _args_price, _args_serve, _args_measure, _args_calibrate, _args_run, _args_devices, _args_zoo, _args_ops):
        add(sub)
    return parser


def _args_inspect(sub) -> None:
    """Arguments of `hwsim inspect`."""
    p = sub.add_parser("inspect", help="count a model's work: params, MACs, FLOPs, bytes, per op")
    _model_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--top", type=int, default=None, metavar="K", help="show the K most expensive ops")


def _args_price(sub) -> None:
    """Arguments of `hwsim price`."""
    p = sub.add_parser("price", help="price a model on devices: latency, energy, dollars, CO2")
    _model_args(p)
    p.add_argument("--device", action="append", required=True, metavar="NAME",
                   help="library device name or YAML path (repeatable); see `hwsim devices`")
    p.add_argument("--batch", type=int, default=None, help="samples per inference (zoo batch or symbolic axis 0)")
    p.add_argument("--dtype", choices=("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4"), default=None,
                   help="run the model's float arithmetic in this format")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="overrides",
                   help="override a spec field of every device, e.g. --set mem_bw_bytes_per_s=4e12 (repeatable)")
    p.add_argument("--economics", metavar="YAML", default=None, help="economics block (prices, PUE, grid intensity)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--explain", type=int, default=0, metavar="K", help="show the K most expensive ops per device")
    p.add_argument("--per-op", action="store_true", help="JSON: add per-op costs to each result")
    p.add_argument("--workload", choices=("inference", "training", "local-training"), default="inference")
    p.add_argument("--optimizer", choices=("sgd", "momentum", "adam", "adamw"), default="adamw")
    p.add_argument("--rule", choices=("hebbian", "forward_forward", "feedback_alignment"), default="hebbian",
                   help="local learning rule (--workload local-training)")
    run_len = p.add_mutually_exclusive_group()
    run_len.add_argument("--tokens", type=float, default=None, help="training run length in tokens")
    run_len.add_argument("--samples", type=float, default=None, help="training run length in samples")
    run_len.add_argument("--steps", type=int, default=None, help="training run length in optimizer steps")
    p.add_argument("--global-batch", type=int, default=None, help="training samples per step (default: the model's batch)")
    p.add_argument("--recompute", action="store_true", help="activation recomputation (training)")
    p.add_argument("--cluster", type=int, default=None, metavar="N", help="price on N devices of each --device")
    for flag in ("--dp", "--tp", "--pp", "--microbatches"):
        p.add_argument(flag, type=int, default=1)
    p.add_argument("--link-bw", type=float, default=300e9, help="cluster link bandwidth per direction (bytes/s)")
    p.add_argument("--link-latency", type=float, default=5e-6, help="cluster link hop latency (s)")
    p.add_argument("--prune", default=None, metavar="DENSITY[:pattern]", help="declare weight pruning, e.g. 0.1 or 0.5:2:4")
    p.add_argument("--trace", default=None, metavar="OUT.json", help="write the first device's schedule as Chrome-trace JSON")


def _args_serve(sub) -> None:
    """Arguments of `hwsim serve`."""
    p = sub.add_parser("serve", help="simulate serving a model under Poisson load (latency percentiles, SLO)")
    p.add_argument("model", help="zoo:NAME[?k=v] (re-counted at each batch size)")
    p.add_argument("--device", required=True, metavar="NAME")
    p.add_argument("--rate", type=float, required=True, help="arrival rate (requests/s)")
    p.add_argument("--slo-ms", type=float, default=None, help="latency SLO (ms): also search the highest rate meeting it at p99")
    p.add_argument("--devices", type=int, default=1, help="replicas serving the queue")
    p.add_argument("--max-batch", type=int, default=8)
    p.add_argument("--max-wait-ms", type=float, default=5.0)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=("table", "json"), default="table")


def _args_measure(sub) -> None:
    """Arguments of `hwsim measure`."""
    p = sub.add_parser("measure", help="measure a model with onnxruntime on this CPU (median, p10, p90)")
    p.add_argument("model", help="path to an .onnx file, or zoo:NAME (random weights are materialised)")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--per-op", action="store_true", help="per-op times from onnxruntime's profiler")
    p.add_argument("--format", choices=("table", "json"), default="table")


def _args_calibrate(sub) -> None:
    """Arguments of `hwsim calibrate`."""
    p = sub.add_parser("calibrate", help="fit this machine's CPU model (microbenchmarks) or any device from a CSV")
    p.add_argument("--quick", action="store_true", help="small grid (< 3 min on 2 cores)")
    p.add_argument("--threads", type=int, action="append", default=None, help="thread counts to measure (default 1 and 2)")
    p.add_argument("--out", default=None, help="YAML to write (default ~/.config/hwsim/devices/cpu/cpu-local.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing calibration")
    p.add_argument("--from", dest="from_csv", default=None, metavar="FILE.csv", help="fit from measured runs in a CSV")
    p.add_argument("--device", default=None, help="base device for --from (library name or YAML)")
    p.add_argument("--report", default=None, metavar="DIR",
                   help="then measure the held-out models and write validation.png/.html into DIR (adds 2-6 min)")


def _args_run(sub) -> None:
    """Arguments of `hwsim run`."""
    p = sub.add_parser("run", help="run a scenario study (YAML) and write results + report")
    p.add_argument("scenario", help="path to a scenario YAML (see scenarios/)")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default results/<scenario name>)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--resume", action="store_true", help="reuse points finished by an interrupted run")
    p.add_argument("--yes", action="store_true", help="run even when the sweep exceeds the scenario's max_points")
    p.add_argument("--ci", action="store_true", help="apply the scenario's smaller `ci:` settings (same code path)")


def _args_devices(sub) -> None:
    """Arguments of `hwsim devices`."""
    p = sub.add_parser("devices", help="list the device library with headline figures")
    p.add_argument("--format", choices=("table", "json"), default="table")


def _args_zoo(sub) -> None:
    """Arguments of `hwsim zoo`."""
    sub.add_parser("zoo", help="list the built-in models").add_argument("--format", choices=("table", "json"), default="table")


def _args_ops(sub) -> None:
    """Arguments of `hwsim ops`."""
    sub.add_parser("ops", help="list the op types hwsim can count").add_argument("--format", choices=("table", "json"), default="table")
