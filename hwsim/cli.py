"""The `hwsim` command. Thin: parse arguments, call the library, print the result.

Every user error (an :class:`HwsimError`, a malformed argument) prints one line to stderr and
exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from hwsim.errors import BindError, HwsimError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit is 2 as well; keep one line
        self.exit(EXIT_USAGE, f"hwsim: error: {message}\n")


def _parse_dim(text: str) -> tuple[str, int]:
    name, eq, value = text.partition("=")
    if not eq or not name:
        raise BindError(f"--dim {text!r}: expected NAME=VALUE, e.g. --dim batch=8")
    try:
        return name, int(value)
    except ValueError:
        raise BindError(f"--dim {text!r}: {value!r} is not an integer") from None


def _parse_input(text: str) -> tuple[str | int, tuple[int, ...]]:
    name, eq, shape = text.partition("=")
    if not eq or not name or not shape:
        raise BindError(f"--input {text!r}: expected NAME=D0xD1x..., e.g. --input pixel_values=1x3x224x224")
    try:
        dims = tuple(int(d) for d in shape.lower().split("x"))
    except ValueError:
        raise BindError(f"--input {text!r}: {shape!r} is not a shape like 1x3x224x224") from None
    return (int(name) if name.isdigit() else name), dims


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
    p = sub.add_parser("inspect", help="count a model's work: params, MACs, FLOPs, bytes, per op")
    _model_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--top", type=int, default=None, metavar="K", help="show the K most expensive ops")
    sub.add_parser("zoo", help="list the built-in models").add_argument("--format", choices=("table", "json"), default="table")
    sub.add_parser("ops", help="list the op types hwsim can count").add_argument("--format", choices=("table", "json"), default="table")
    return parser


def _load(args: argparse.Namespace):
    from hwsim.graph.load import load_model

    dims = dict(_parse_dim(d) for d in args.dim)
    shapes = dict(_parse_input(s) for s in args.input)
    return load_model(args.model, dims, shapes, args.on_unsupported)


def cmd_inspect(args: argparse.Namespace) -> int:
    """`hwsim inspect`: the work report of one model."""
    from rich.console import Console

    from hwsim.ops import count_work
    from hwsim.report.inspect import inspect_document, render_tables

    if args.top is not None and args.top < 1:
        raise BindError(f"--top {args.top}: must be a positive integer")
    err = Console(stderr=True)
    with err.status(f"loading {args.model} ...", spinner="dots"):
        model = _load(args)
        table = count_work(model)
    if args.format == "json":
        doc = inspect_document(model, table, args.top)
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    else:
        doc = inspect_document(model, table, args.top or 15)
        render_tables(doc, Console(), args.top or 15)
    return 0


def cmd_zoo(args: argparse.Namespace) -> int:
    """`hwsim zoo`: the built-in models and their parameters."""
    from hwsim.zoo import list_models

    entries = list_models()
    if args.format == "json":
        rows = [{"name": e.name, "family": e.family, "defaults": dict(e.defaults),
                 "published": dict(e.published), "description": e.description} for e in entries]
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    tab = Table(title="hwsim model zoo (use as zoo:NAME?batch=N&seq=N)")
    for col in ("name", "family", "parameters", "description"):
        tab.add_column(col)
    for e in entries:
        tab.add_row(e.name, e.family, ", ".join(f"{k}={v}" for k, v in e.defaults.items()), e.description)
    Console().print(tab)
    return 0


def cmd_ops(args: argparse.Namespace) -> int:
    """`hwsim ops`: every op type hwsim counts."""
    from hwsim.ops import supported_ops

    ops = supported_ops()
    if args.format == "json":
        sys.stdout.write(json.dumps(ops, indent=1) + "\n")
    else:
        sys.stdout.write("\n".join(ops) + f"\n({len(ops)} op types)\n")
    return 0


COMMANDS = {"inspect": cmd_inspect, "zoo": cmd_zoo, "ops": cmd_ops}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hwsim` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.verb](args)
    except HwsimError as exc:
        sys.stderr.write(f"hwsim: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("hwsim: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
