"""Training on a cluster: data, tensor and pipeline parallelism, run time, energy, dollars, CO2.

``price_training(table_fwd, cluster, optimizer, run, economics)`` prices a whole training run.
``table_fwd`` is the forward pass of one micro-batch of ``table_samples`` samples; a step of
``run.batch`` samples gives each of the dp replicas m = batch / (dp · table_samples)
micro-batches (``cluster.microbatches`` is not used: training derives m from the run).

* **Tensor parallel** (Megatron-LM, Shoeybi et al. 2019): :func:`megatron_shard` reuses
  :func:`hwsim.devices.cluster.tensor_parallel` for the GEMM split (column-, then row-parallel
  weighted GEMMs, 1/tp of their MACs and weights per rank) and also shards the ops between a
  column-parallel GEMM and its row-parallel partner (attention heads, bias, GeLU) by 1/tp, as
  Megatron does. Communication per micro-batch: an all-reduce of each row-parallel GEMM's output
  in the forward (and in its recompute), and of each column-parallel GEMM's input gradient in
  the backward — 2 + 2 per transformer layer — over the cluster's links.
* **Pipeline parallel** (GPipe, Huang et al. 2019; 1F1B, Narayanan et al. 2021 §2.2): forward
  ops are cut into pp stages of equal forward+backward time; a step takes
  (m + pp − 1) · t_mb, with t_mb = the slowest stage's forward + backward + TP all-reduce time
  per micro-batch + the activation and gradient sends over the slowest cut. Bubble fraction
  (pp − 1)/(m + pp − 1).
* **Data parallel**: the gradients (2 bytes per parameter under mixed precision, else 4) are
  ring-all-reduced across dp replicas once per step. With ``overlap_dp`` the all-reduce runs
  during the last micro-batch's backward (bucketed all-reduce, Li et al. 2020, PyTorch DDP):
  exposed = max(0, all-reduce − backward time of one micro-batch on that stage); otherwise the
  whole all-reduce is exposed. ``zero_stage`` 1 shards master weights and optimizer state
  across dp (Rajbhandari et al. 2020, ZeRO P_os: same communication volume as all-reduce).
* **Optimizer** once per step after the pipeline flush, on each stage's own parameters.
* **Links**: TP all-reduces use the cluster's link; DP all-reduces and pipeline sends cross
  nodes and use ``inter_node`` (bandwidth, latency, J/byte) when given, else the cluster link.

**Energy** = Σ ranks' dynamic op energy + ``power_idle_w`` × devices × wall time + link bytes ×
J/byte; dollars and CO2 from :func:`hwsim.economics.run_cost` (× PUE there).
**MFU** = model FLOPs (forward + backward without recompute, ≈ 6·N·D) / (wall time × devices ×
peak); **HFU** = FLOPs every device executes (recompute, replicated ops, optimizer) / the same
(Chowdhery et al. 2022, PaLM, Appendix B). Peak = the device's dense peak for the GEMM dtype.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwsim.config.cluster import ClusterSpec
from hwsim.config.economics import J_PER_KWH, Economics
from hwsim.devices.cluster import tensor_parallel
from hwsim.devices.collectives import all_reduce_link_bytes, all_reduce_s, p2p_s
from hwsim.economics import run_cost
from hwsim.errors import ConfigError
from hwsim.ops.work import WorkKind, WorkTable
from hwsim.workload.steps import TrainingRun
from hwsim.workload.training import (
    BACKWARD,
    FORWARD,
    OPTIMIZER,
    backprop,
    model_flops,
    optimizer_spec,
    training_memory,
    training_precision,
)

_GEMM = (int(WorkKind.MATMUL), int(WorkKind.CONV))


@dataclass(frozen=True)
class Link:
    """A link class: per-device bandwidth one way (bytes/s), hop latency (s), energy (J/byte)."""

    bw_bytes_per_s: float
    latency_s: float
    energy_j_per_byte: float


@dataclass(frozen=True)
class StepBreakdown:
    """One optimizer step on the critical path (s): compute + tp_comm + pp_p2p + pp_bubble +
    dp_exposed + optimizer = total. ``dp_allreduce_s`` is the whole all-reduce (overlapped or not)."""

    compute_s: float
    tp_comm_s: float
    pp_p2p_s: float
    pp_bubble_s: float
    dp_allreduce_s: float
    dp_exposed_s: float
    optimizer_s: float
    total_s: float


@dataclass(frozen=True)
class TrainingResult:
    """Cost of a training run on a cluster (SI units; energy_kwh is IT energy, before PUE)."""

    wall_time_s: float
    energy_j: float
    energy_kwh: float
    facility_energy_kwh: float
    usd: float
    co2_kg: float
    mfu: float
    hfu: float
    flops_total: float
    model_flops_total: float
    steps: int
    per_step: StepBreakdown
    memory_per_device_bytes: dict[str, float]
    fits_in_memory: bool
    devices_needed: int
    avg_power_per_device_w: float
    cost_basis: str
    assumptions: dict[str, Any] = field(default_factory=dict)

    @property
    def days(self) -> float:
        """Wall time in days."""
        return self.wall_time_s / 86400.0


def megatron_shard(table: WorkTable, tp: int) -> tuple[WorkTable, np.ndarray, np.ndarray]:
    """(one rank's table, row-parallel mask, column-parallel mask) — module docstring."""
    rank, row_par = tensor_parallel(table, tp)
    weighted = np.isin(table.kind, _GEMM) & (table.columns["const_bytes"] > 0)
    col_par = weighted & ~row_par
    inside = ~weighted & (np.cumsum(weighted) % 2 == 1)
    if tp == 1 or not inside.any():
        return rank, row_par, col_par
    c = dict(rank.columns)
    share = np.where(inside, 1.0 / tp, 1.0)
    for key in ("flops", "macs", "bytes_read", "bytes_written", "params", "weight_bytes", "const_bytes"):
        c[key] = c[key] * share
    c["gemm_batch"] = np.where(inside & (c["gemm_batch"] >= tp), np.ceil(c["gemm_batch"] / tp), c["gemm_batch"])
    return dataclasses.replace(rank, columns=c), row_par, col_par


def heads_from_zoo(uri: str) -> int | None:
    """Attention heads of a zoo model (``zoo:gpt3-175b?...`` → 96), None if it has none."""
    from hwsim.zoo import parse_uri
    from hwsim.zoo.catalog import MODELS

    name, _ = parse_uri(uri)
    dims = getattr(MODELS[name].make, "keywords", {}).get("dims")
    return getattr(dims, "heads", None)


def compute_dtype_for(spec: Any) -> str:
    """bf16 where the device has bf16 matrix arithmetic, else fp16 (V100), else fp32."""
    for key in ("tensor_flops_per_s", "dtype_speedup"):
        peaks = getattr(spec, key, None)
        if isinstance(peaks, dict):
            for dtype in ("bf16", "fp16"):
                if dtype in peaks:
                    return dtype
    dtypes = getattr(spec, "dtypes", ())
    for dtype in ("bf16", "fp16"):
        if dtype in dtypes:
            return dtype
    return "fp32"  # no 16-bit float arithmetic (e.g. Ice Lake CPUs): mixed precision stays fp32


def _validate(cluster: ClusterSpec, run: TrainingRun, table_samples: int, heads: int | None, zero_stage: int) -> int:
    """Micro-batches per replica per step; ConfigError on impossible shapes."""
    if heads is not None and heads % cluster.tp:
        raise ConfigError(f"tensor-parallel degree tp={cluster.tp} must divide the {heads} attention heads")
    if zero_stage not in (0, 1):
        raise ConfigError(f"zero_stage must be 0 or 1, got {zero_stage!r}")
    if table_samples < 1:
        raise ConfigError(f"table_samples must be ≥ 1, got {table_samples}")
    per_step = cluster.dp * table_samples
    if run.batch % per_step:
        raise ConfigError(f"global batch {run.batch} is not a multiple of dp·micro-batch = {cluster.dp}·{table_samples}")
    return run.batch // per_step


@dataclass(frozen=True)
class _Plan:
    """Everything one priced step rests on (internal to this module)."""

    cluster: ClusterSpec
    run: TrainingRun
    econ: Economics
    device: Any
    optimizer: str
    mixed_precision: bool
    recompute: bool
    dtype: str
    table_samples: int
    zero_stage: int
    overlap_dp: bool
    host_power_per_device_w: float
    m: int
    full: WorkTable
    train: WorkTable
    costs: Any
    intra: Link
    inter: Link


def price_training(table_fwd: WorkTable, cluster: ClusterSpec, optimizer: str, run: TrainingRun,
                   economics: Economics | None = None, overlap_dp: bool = True, *, mixed_precision: bool = True,
                   recompute: bool = False, table_samples: int = 1, heads: int | None = None, zero_stage: int = 0,
                   inter_node: Link | None = None, host_power_per_device_w: float = 0.0,
                   device: Any = None) -> TrainingResult:
    """Price ``run`` of the model whose micro-batch forward is ``table_fwd`` on ``cluster``.

    ``device``: the member device's model when already built (e.g. with spec overrides);
    default: the library device ``cluster.device``.

    ``heads``: attention heads (tp must divide them; :func:`heads_from_zoo`). ``inter_node``:
    the link of DP all-reduces and pipeline sends (default: the cluster link).
    ``host_power_per_device_w``: server power beyond the accelerator (host CPUs, DRAM, NICs,
    fans) per device, added to every second of the run; 0 = accelerator-only energy.
    """
    from hwsim.devices import get_device

    optimizer_spec(optimizer)
    m = _validate(cluster, run, table_samples, heads, zero_stage)
    if host_power_per_device_w < 0:
        raise ConfigError(f"host_power_per_device_w must be ≥ 0, got {host_power_per_device_w}")
    device = device or get_device(cluster.device)
    dtype = compute_dtype_for(device.spec) if mixed_precision else "fp32"
    mixed_precision = mixed_precision and dtype != "fp32"  # no 16-bit float arithmetic: train in fp32
    cast_to = dtype if mixed_precision else "bf16"
    full = training_precision(table_fwd, mixed_precision, cast_to)
    rank_fwd, row_par, col_par = megatron_shard(full, cluster.tp)
    train = backprop(rank_fwd, optimizer, mixed_precision, recompute, cast_to)
    intra = Link(cluster.link_bw_bytes_per_s, cluster.link_latency_s, cluster.link_energy_j_per_byte)
    plan = _Plan(cluster, run, economics or Economics(), device, optimizer, mixed_precision, recompute, dtype,
                 table_samples, zero_stage, overlap_dp, host_power_per_device_w, m, full, train,
                 device.price(train), intra, inter_node or intra)
    rows = _row_times(plan, row_par, col_par)
    stage, cut = _stages(plan, rows)
    step, links = _step(plan, rows, stage, cut)
    return _result(plan, step, links, stage)


def _row_times(plan: _Plan, row_par: np.ndarray, col_par: np.ndarray) -> dict[str, np.ndarray]:
    """Per training row: latency, TP all-reduce time and the bytes each rank puts on links."""
    train, full, cluster, link = plan.train, plan.full, plan.cluster, plan.intra
    f = train.columns["fwd_row"].astype(np.int64)
    phase = train.columns["phase"]
    is_dgrad = np.array([n.endswith("/bwd") for n in train.name]) & (phase == BACKWARD)
    act_in = np.maximum(full.columns["bytes_read"] - full.columns["const_bytes"], 0.0)
    size = np.where((phase == FORWARD) & row_par[f], full.columns["bytes_written"][f],
                    np.where(is_dgrad & col_par[f], act_in[f], 0.0))
    comm = np.where(size > 0, all_reduce_s(size, cluster.tp, link.bw_bytes_per_s, link.latency_s, cluster.topology), 0.0)
    link_bytes = 2.0 * (cluster.tp - 1) / cluster.tp * size if cluster.tp > 1 else np.zeros(len(size))
    return {"lat": np.nan_to_num(plan.costs.latency_s), "comm": comm, "link_bytes": link_bytes,
            "fwd_row": f, "phase": phase}


def crossing_bytes(table: WorkTable) -> np.ndarray:
    """Bytes live across the cut after each op i: outputs of ops u ≤ i read by an op after i
    (each tensor once, however many consumers), in the table's row order."""
    index = {n: i for i, n in enumerate(table.name)}
    diff = np.zeros(len(table) + 1)
    written = table.columns["bytes_written"]
    for u in table.graph.nodes:
        succ = [index[v] for v in table.graph.successors(u)]
        if succ and max(succ) > index[u]:
            diff[index[u]] += written[index[u]]
            diff[max(succ)] -= written[index[u]]
    return np.cumsum(diff)[:-1]


def _stages(plan: _Plan, rows: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(stage of each training row, bytes crossing each of the pp − 1 cuts).

    Forward ops are cut at equal forward+backward(+comm) time, each cut moved within ± 1/(4·pp)
    of the total to the position with the fewest live bytes (a layer boundary, where only the
    residual stream crosses — Megatron cuts between transformer layers)."""
    pp, full = plan.cluster.pp, plan.full
    per_mb = rows["phase"] <= BACKWARD
    op_time = np.bincount(rows["fwd_row"], weights=np.where(per_mb, rows["lat"] + rows["comm"], 0.0), minlength=len(full))
    cum = np.cumsum(op_time)
    total = cum[-1] if len(cum) else 0.0
    if pp == 1 or total <= 0:
        return np.zeros(len(rows["fwd_row"]), dtype=np.int64), np.zeros(0)
    cross = crossing_bytes(full)
    cuts = []
    for j in range(1, pp):
        target = j * total / pp
        window = np.flatnonzero(np.abs(cum - target) <= total / (4 * pp))
        window = window[window > (cuts[-1] if cuts else -1)] if len(window) else window
        best = int(window[np.lexsort((np.abs(cum[window] - target), cross[window]))[0]]) if len(window) else int(np.searchsorted(cum, target))
        cuts.append(min(max(best, cuts[-1] + 1 if cuts else 0), len(full) - 1))
    fwd_stage = np.searchsorted(np.asarray(cuts), np.arange(len(full)), side="left")
    return fwd_stage[rows["fwd_row"]], cross[np.asarray(cuts)]


def _step(plan: _Plan, rows: dict[str, np.ndarray], stage: np.ndarray, cut: np.ndarray) -> tuple[StepBreakdown, dict[str, float]]:
    """(StepBreakdown, link bytes per step over all devices by link class)."""
    cluster, inter = plan.cluster, plan.inter
    pp, dp, tp, m = cluster.pp, cluster.dp, cluster.tp, plan.m
    phase, per_mb = rows["phase"], rows["phase"] <= BACKWARD

    def by_stage(w: np.ndarray) -> np.ndarray:
        return np.bincount(stage, weights=w, minlength=pp)

    comp, comm = by_stage(np.where(per_mb, rows["lat"], 0.0)), by_stage(np.where(per_mb, rows["comm"], 0.0))
    bwd = by_stage(np.where(phase == BACKWARD, rows["lat"], 0.0))
    opt = by_stage(np.where(phase == OPTIMIZER, rows["lat"], 0.0)) / (dp if plan.zero_stage else 1)
    crit = int(np.argmax(comp + comm))
    # Scatter-gather: each of the tp ranks sends 1/tp of a cut's activations (Narayanan 2021 §4.1).
    p2p = float(2 * p2p_s(cut.max() / tp, inter.bw_bytes_per_s, inter.latency_s)) if len(cut) else 0.0
    t_mb = float(comp[crit] + comm[crit]) + p2p
    grad_bytes = by_stage(np.where((phase == FORWARD) & (plan.train.columns["recompute"] == 0),
                                   plan.train.columns["params"], 0.0)) * (2.0 if plan.mixed_precision else 4.0)
    ar = all_reduce_s(grad_bytes, dp, inter.bw_bytes_per_s, inter.latency_s)
    exposed = np.maximum(ar - bwd / m, 0.0) if plan.overlap_dp else ar
    bubble = (pp - 1) * t_mb
    total = m * t_mb + bubble + float(exposed.max()) + float(opt.max())
    step = StepBreakdown(compute_s=m * float(comp[crit]), tp_comm_s=m * float(comm[crit]), pp_p2p_s=m * p2p,
                         pp_bubble_s=bubble, dp_allreduce_s=float(ar.max()), dp_exposed_s=float(exposed.max()),
                         optimizer_s=float(opt.max()), total_s=total)
    dp_bytes = sum(all_reduce_link_bytes(float(b), dp) for b in grad_bytes) * tp * dp
    links = {"intra": float(np.where(per_mb, rows["link_bytes"], 0.0).sum()) * tp * m * dp,
             "inter": 2.0 * float(cut.sum()) * m * dp + dp_bytes}
    return step, links


def _memory(plan: _Plan, stage: np.ndarray) -> dict[str, float]:
    """Per-device bytes on the fullest stage: weights, master, grads, optimizer state (÷dp with
    ZeRO-1) and activations of min(m, pp − s) micro-batches in flight on stage s (1F1B)."""
    cluster, c = plan.cluster, plan.train.columns
    fwd_rows = (c["phase"] == FORWARD) & (c["recompute"] == 0)
    fwd = plan.train.select(fwd_rows)
    cast_to = plan.dtype if plan.mixed_precision else "bf16"
    best: dict[str, float] = {"total": -1.0}
    for s in range(cluster.pp):
        mem = training_memory(fwd.select(stage[fwd_rows] == s), plan.optimizer, plan.mixed_precision, plan.recompute,
                              microbatch=min(plan.m, cluster.pp - s), compute_dtype=cast_to)
        if plan.zero_stage:
            mem["master_weights"] /= cluster.dp
            mem["optimizer_state"] /= cluster.dp
            mem["total"] = sum(v for k, v in mem.items() if k != "total")
        best = mem if mem["total"] > best["total"] else best
    return best


def _result(plan: _Plan, step: StepBreakdown, links: dict[str, float], stage: np.ndarray) -> TrainingResult:
    """Roll one step up to the run: time, energy, money, carbon, utilisation, memory."""
    cluster, run, costs, train = plan.cluster, plan.run, plan.costs, plan.train
    spec, steps, count = plan.device.spec, run.n_steps, cluster.count
    reps = np.where(train.columns["phase"] <= BACKWARD, plan.m, 1.0 / (cluster.dp if plan.zero_stage else 1))
    dyn = float((np.nan_to_num(costs.energy_j) * reps).sum()) * cluster.tp * cluster.dp
    link_j = links["intra"] * plan.intra.energy_j_per_byte + links["inter"] * plan.inter.energy_j_per_byte
    wall = step.total_s * steps
    energy = (dyn + link_j) * steps + (spec.power_idle_w + plan.host_power_per_device_w) * count * wall
    cost = run_cost(spec, plan.econ, wall, energy, devices=count)
    hw = float((train.columns["flops"] * reps).sum()) * cluster.tp * cluster.dp * steps
    cast_to = plan.dtype if plan.mixed_precision else "bf16"
    full_train = backprop(plan.full, plan.optimizer, plan.mixed_precision, False, cast_to)
    model = model_flops(full_train) * run.samples_total / plan.table_samples
    gemm = np.isin(train.kind, _GEMM) & (train.columns["macs"] > 0)
    peak = float(costs.peak_flops_per_s[gemm].max() if gemm.any() else costs.peak_flops_per_s.max())
    mem, denom = _memory(plan, stage), wall * count * peak
    return TrainingResult(
        wall_time_s=wall, energy_j=energy, energy_kwh=energy / J_PER_KWH,
        facility_energy_kwh=energy / J_PER_KWH * plan.econ.pue, usd=cost.usd, co2_kg=cost.co2_g / 1e3,
        mfu=model / denom if denom > 0 else 0.0, hfu=hw / denom if denom > 0 else 0.0, flops_total=hw,
        model_flops_total=model, steps=steps, per_step=step, memory_per_device_bytes=mem,
        fits_in_memory=mem["total"] <= spec.mem_bytes, devices_needed=count * max(1, math.ceil(mem["total"] / spec.mem_bytes)),
        avg_power_per_device_w=energy / wall / count if wall > 0 else 0.0, cost_basis=cost.basis,
        assumptions=_assumptions(plan, peak))


def _assumptions(plan: _Plan, peak: float) -> dict[str, Any]:
    """Everything the numbers rest on, for the report."""
    cluster, run = plan.cluster, plan.run
    return {
        "device": cluster.device, "devices": cluster.count, "dp": cluster.dp, "tp": cluster.tp, "pp": cluster.pp,
        "microbatches_per_step": plan.m, "samples_per_microbatch": plan.table_samples,
        "bubble_fraction": (cluster.pp - 1) / (plan.m + cluster.pp - 1), "global_batch": run.batch, "seq": run.seq,
        "steps": run.n_steps, "tokens_total": run.tokens_total, "optimizer": plan.optimizer,
        "mixed_precision": plan.mixed_precision, "compute_dtype": plan.dtype, "recompute": plan.recompute,
        "zero_stage": plan.zero_stage, "overlap_dp": plan.overlap_dp, "peak_flops_per_s": peak,
        "intra_node_link": dataclasses.asdict(plan.intra), "inter_node_link": dataclasses.asdict(plan.inter),
        "topology": cluster.topology, "power_idle_w": plan.device.spec.power_idle_w,
        "host_power_per_device_w": plan.host_power_per_device_w, "tdp_w": plan.device.spec.tdp_w,
        "economics": plan.econ.model_dump(), "link_sources": dict(cluster.sources),
    }
