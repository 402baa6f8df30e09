"""The `hwsim` verbs: parse-free command functions that call the library and print."""

from __future__ import annotations

import argparse
import json
import sys

from hwsim.errors import BindError, ConfigError


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


def _load(args: argparse.Namespace):
    from hwsim.graph.load import load_model

    dims = dict(_parse_dim(d) for d in args.dim)
    shapes = dict(_parse_input(s) for s in args.input)
    batch = getattr(args, "batch", None)
    if batch is not None and batch < 1:
        raise BindError(f"--batch {batch}: must be a positive integer")
    return load_model(args.model, dims, shapes, args.on_unsupported, batch=batch)


def _console():
    """A stdout console: the terminal's width, or 160 columns when writing to a pipe or file."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


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
        render_tables(doc, _console(), args.top or 15)
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
    from rich.table import Table

    tab = Table(title="hwsim model zoo (use as zoo:NAME?batch=N&seq=N)")
    for col in ("name", "family", "parameters", "description"):
        tab.add_column(col)
    for e in entries:
        tab.add_row(e.name, e.family, ", ".join(f"{k}={v}" for k, v in e.defaults.items()), e.description)
    _console().print(tab)
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


def _parse_set(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise ConfigError(f"--set {text!r}: expected FIELD=VALUE, e.g. --set mem_bw_bytes_per_s=4e12")
    return key, value


def cmd_price(args: argparse.Namespace) -> int:
    """`hwsim price`: latency, energy, dollars and CO2 of a model on each device."""
    from rich.console import Console

    from hwsim.pricing import price_model
    from hwsim.report.price import price_document, render_explain, render_price

    if args.explain < 0:
        raise ConfigError(f"--explain {args.explain}: must be ≥ 0")
    overrides = dict(_parse_set(s) for s in args.overrides)
    if args.workload != "inference" or args.cluster:
        return _price_via_scenario(args, overrides)
    with Console(stderr=True).status(f"pricing {args.model} ...", spinner="dots"):
        model = _load(args)
        table, results, assumptions = price_model(model, args.device, overrides, args.dtype,
                                                  args.economics, args.batch or 1, prune=args.prune)
    if args.trace:
        _write_trace(table, results[0], args.trace)
    if args.format == "json":
        doc = price_document(model.name, results, table, args.per_op, assumptions)
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False, default=_json_default) + "\n")
        return 0
    console = _console()
    render_price(results, console, f"{model.name} (batch {args.batch or 1}{', ' + args.dtype if args.dtype else ''})")
    for r in results:
        if args.explain:
            render_explain(r, table, args.explain, console)
    return 0


def _write_trace(table, result, path: str) -> None:
    from hwsim.schedule import schedule_analytic

    timeline = schedule_analytic(table, result.costs, device=result.device)
    timeline.write_chrome_trace(path)


def _price_via_scenario(args: argparse.Namespace, overrides: dict) -> int:
    """Training, local training and clusters: one-model scenario through the study machinery."""
    from hwsim.pricing import price_workload

    doc = price_workload(args, overrides, dict(_parse_dim(d) for d in args.dim))
    if args.format == "json":
        sys.stdout.write(json.dumps(doc, indent=1, default=_json_default) + "\n")
        return 0
    from rich.table import Table

    keys = [k for k in ("latency_s", "wall_time_s", "throughput_per_s", "energy_kwh", "energy_per_sample_j", "usd",
                        "co2_kg", "mfu", "hfu", "utilization", "fits_in_memory", "devices_needed", "steps", "note")
            if any(r.get(k) is not None for r in doc["results"])]
    tab = Table(title=f"{doc['model']} — {args.workload}")
    for col in ("device", *keys):
        tab.add_column(col)
    for r in doc["results"]:
        tab.add_row(r["device"], *[("" if r.get(k) is None else f"{r[k]:.4g}" if isinstance(r[k], float) else str(r[k]))
                                   for k in keys])
    _console().print(tab)
    return 0


def _json_default(obj):
    import math

    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    raise TypeError(type(obj).__name__)


def cmd_devices(args: argparse.Namespace) -> int:
    """`hwsim devices`: the library with headline figures."""
    from hwsim.devices.catalog import device_rows

    rows = device_rows()
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return 0
    from rich.table import Table

    tab = Table(title="hwsim device library (--device NAME)")
    for col in ("name", "kind", "peak", "memory", "bandwidth", "TDP", "price", "description"):
        tab.add_column(col)
    for r in rows:
        tab.add_row(r["name"], r["kind"], r["peak"], r["memory"], r["bandwidth"], r["tdp"], r["price"], r["description"])
    _console().print(tab)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`hwsim run`: a scenario study; prints the answer and where the files are."""
    from hwsim.scenario import run_scenario

    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be a positive integer")
    result = run_scenario(args.scenario, out=args.out, executor=args.executor, scheduler=args.scheduler,
                          workers=args.workers, resume=args.resume, yes=args.yes, ci=args.ci,
                          progress=sys.stderr.isatty())
    for line in _answer_lines(result):
        sys.stdout.write(line + "\n")
    for kind, path in result.paths.items():
        sys.stdout.write(f"{kind}: {path}\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`hwsim serve`: dynamic batching on N replicas under Poisson arrivals (simpy)."""
    from hwsim.schedule.serving import latency_table_from, max_rate_meeting_slo, simulate_serving

    if args.rate <= 0:
        raise ConfigError(f"--rate {args.rate}: must be a positive number of requests per second")
    for flag, value in (("--max-batch", args.max_batch), ("--devices", args.devices), ("--requests", args.requests)):
        if value < 1:
            raise ConfigError(f"{flag} {value}: must be a positive integer")
    sizes = sorted({1, args.max_batch, *[2 ** i for i in range(1, 12) if 2 ** i < args.max_batch]})
    table = latency_table_from(args.model, args.device, sizes)
    kw = dict(devices=args.devices, max_batch=args.max_batch, max_wait_s=args.max_wait_ms / 1e3, seed=args.seed)
    sim = simulate_serving(table, rate_per_s=args.rate, n_requests=args.requests, **kw)
    slo = max_rate_meeting_slo(table, args.slo_ms / 1e3, n_requests=args.requests, **kw) if args.slo_ms else None
    doc = {"model": args.model, "device": args.device, "rate_per_s": args.rate, "throughput_per_s": sim.throughput_per_s,
           "p50_s": sim.latency_p50_s, "p95_s": sim.latency_p95_s, "p99_s": sim.latency_p99_s,
           "utilization": sim.utilisation, "mean_batch": sim.mean_batch, "energy_j": sim.energy_j,
           "usd_per_1m": sim.usd_per_million, "co2_g_per_1m": sim.co2_g_per_million,
           "max_rate_meeting_slo": slo}
    if args.format == "json":
        sys.stdout.write(json.dumps(doc, indent=1, default=_json_default) + "\n")
    else:
        for k, v in doc.items():
            sys.stdout.write(f"{k:>22s}: {v:.6g}\n" if isinstance(v, float) else f"{k:>22s}: {v}\n")
    return 0


def cmd_measure(args: argparse.Namespace) -> int:
    """`hwsim measure`: onnxruntime latency on this machine; never invents energy."""
    import hwsim.calibrate as cal

    for flag, value in (("--threads", args.threads), ("--runs", args.runs)):
        if value < 1:
            raise ConfigError(f"{flag} {value}: must be a positive integer")
    dims = dict(_parse_dim(d) for d in args.dim)
    doc = cal.measure_model(args.model, dims or None, args.threads, args.runs, args.warmup, args.per_op)
    if args.format == "json":
        sys.stdout.write(json.dumps(doc, indent=1, default=_json_default) + "\n")
    else:
        sys.stdout.write(f"{doc['model']}: median {doc['median_s'] * 1e3:.3f} ms "
                         f"(p10 {doc['p10_s'] * 1e3:.3f}, p90 {doc['p90_s'] * 1e3:.3f}) over {doc['runs']} runs, "
                         f"{doc['threads']} thread(s)\n")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """`hwsim calibrate`: fit, cross-validate, write the device YAML atomically."""
    import hwsim.calibrate as cal

    out = args.out or cal.DEFAULT_OUT
    if args.from_csv:
        if not args.device:
            raise ConfigError("--from needs --device BASE (the spec to calibrate, e.g. a100-sxm-80gb)")
        path = cal.calibrate_from_csv(args.from_csv, args.device, out, force=args.force)
    else:
        path = cal.run_calibration(quick=args.quick, threads=tuple(args.threads or (1, 2)), out=out,
                                   force=args.force, progress=_calibration_progress())
    sys.stdout.write(f"calibrated device written to {path}\n")
    if args.report:
        from hwsim.calibrate.report import validation_report
        from hwsim.calibrate.validate import summary

        rows, (png, page) = validation_report(path, args.report, quick=args.quick, threads=tuple(args.threads or (1, 2)))
        for t in sorted({r["threads"] for r in rows}):
            s = summary([r for r in rows if r["threads"] == t])
            sys.stdout.write(f"held-out models, {t} thread(s): {s['within_15pct']:.0%} within ±15 %, "
                             f"median |error| {s['median_abs_error']:.1%} (n={s['n']})\n")
        sys.stdout.write(f"validation report: {page} ({png.name})\n")
    return 0


def _calibration_progress():
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    console = Console(stderr=True)
    return lambda done, total, what: console.print(f"[{done}/{total}] {what}", end="\r")


def _answer_lines(result) -> list[str]:
    from hwsim.report.answer import answer
    from hwsim.scenario.breakeven import summary

    lines = [*answer(result.rows, result.meta), *summary(result.breakeven)]
    return [f"{result.meta['question']}", *(f"  {line}" for line in lines)]
