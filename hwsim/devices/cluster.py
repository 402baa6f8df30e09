"""Inference on a cluster of identical devices: tensor, pipeline and data parallelism.

* **Tensor parallel** (Megatron-style, Shoeybi et al. 2019): weighted GEMMs alternate column-
  and row-parallel in graph order; each rank does 1/tp of their MACs, holds 1/tp of their
  weights, and every row-parallel GEMM ends with an all-reduce of its output. Other ops are
  replicated on every rank (a simplification: Megatron also shards the elementwise ops between
  a column- and a row-parallel GEMM).
* **Pipeline parallel**: ops are cut into ``pp`` contiguous stages of near-equal time; a batch
  split into m micro-batches takes (m + pp − 1) · (slowest stage / m) plus the stage-boundary
  sends (GPipe, Huang et al. 2019).
* **Data parallel**: ``dp`` replicas serve independent batches: throughput × dp, same latency.
Energy per batch = every rank's dynamic energy + link bytes × link energy + idle power of the
replica's tp·pp devices × latency.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hwsim.config.cluster import ClusterSpec
from hwsim.config.economics import Economics
from hwsim.devices.base import DeviceModel
from hwsim.devices.collectives import all_reduce_link_bytes, all_reduce_s, p2p_s
from hwsim.economics import run_cost
from hwsim.graph.memory import footprint_bytes
from hwsim.ops.work import WorkKind, WorkTable
from hwsim.rollup import DeviceResult

_GEMM = (int(WorkKind.MATMUL), int(WorkKind.CONV))


def tensor_parallel(table: WorkTable, tp: int) -> tuple[WorkTable, np.ndarray]:
    """(one rank's table, mask of row-parallel GEMMs whose outputs are all-reduced)."""
    weighted = np.isin(table.kind, _GEMM) & (table.columns["const_bytes"] > 0)
    order = np.cumsum(weighted)
    row_parallel = weighted & (order % 2 == 0)
    if tp == 1:
        return table, np.zeros(len(table), dtype=bool)
    c = dict(table.columns)
    share = np.where(weighted, 1.0 / tp, 1.0)
    acts_in = c["bytes_read"] - c["const_bytes"]
    for key in ("flops", "macs", "params", "weight_bytes", "const_bytes"):
        c[key] = c[key] * share
    c["bytes_read"] = acts_in + c["const_bytes"]
    c["bytes_written"] = np.where(weighted & ~row_parallel, c["bytes_written"] / tp, c["bytes_written"])
    c["gemm_n"] = np.where(weighted, np.ceil(c["gemm_n"] / tp), c["gemm_n"])
    return dataclasses.replace(table, columns=c), row_parallel


def pipeline_stages(latency_s: np.ndarray, pp: int) -> np.ndarray:
    """Stage index (0..pp−1) of each op: contiguous cuts at equal shares of total latency."""
    cum = np.cumsum(np.nan_to_num(latency_s))
    total = cum[-1] if len(cum) else 0.0
    if pp == 1 or total <= 0:
        return np.zeros(len(latency_s), dtype=np.int64)
    return np.minimum((cum - 1e-12 * total) * pp // total, pp - 1).astype(np.int64)


def price_cluster(table: WorkTable, cluster: ClusterSpec, econ: Economics | None = None, batch: int = 1,
                  device: DeviceModel | None = None) -> DeviceResult:
    """Price one batch on one replica of ``cluster``; throughput counts all dp replicas.
    ``device``: the member device's model when already built (e.g. with overrides)."""
    from hwsim.devices import get_device

    econ = econ or Economics()
    device = device or get_device(cluster.device)
    rank_table, row_par = tensor_parallel(table, cluster.tp)
    costs = device.price(rank_table)
    lat = np.nan_to_num(costs.latency_s)
    ar = np.where(row_par, all_reduce_s(table.columns["bytes_written"], cluster.tp, cluster.link_bw_bytes_per_s,
                                        cluster.link_latency_s, cluster.topology), 0.0)
    op_time = lat + ar
    stages = pipeline_stages(op_time, cluster.pp)
    stage_s = np.bincount(stages, weights=op_time, minlength=cluster.pp)
    m = cluster.microbatches
    boundary = _boundary_bytes(table, stages)
    sends = float(p2p_s(boundary / m, cluster.link_bw_bytes_per_s, cluster.link_latency_s).sum()) if cluster.pp > 1 else 0.0
    latency = (m + cluster.pp - 1) * stage_s.max() / m + sends
    link_bytes = sum(all_reduce_link_bytes(float(b), cluster.tp) for b in table.columns["bytes_written"][row_par])
    link_bytes = link_bytes * cluster.tp + float(boundary.sum())
    replica = cluster.tp * cluster.pp
    energy = float(np.nansum(costs.energy_j)) * cluster.tp + link_bytes * cluster.link_energy_j_per_byte
    energy += device.spec.power_idle_w * replica * latency
    cost = run_cost(device.spec, econ, latency, energy, devices=replica)
    return _result(table, cluster, device, costs, latency, energy, cost, batch, float(ar.sum()))


def _boundary_bytes(table: WorkTable, stages: np.ndarray) -> np.ndarray:
    """Bytes crossing each pipeline cut: tensors on DAG edges whose ends are in different stages."""
    index = {n: i for i, n in enumerate(table.name)}
    out = []
    for u, v, data in table.graph.edges(data=True):
        if stages[index[u]] != stages[index[v]]:
            out.append(data["bytes"])
    return np.asarray(out, dtype=float)


def _result(table, cluster, device, costs, latency, energy, cost, batch, comm_s) -> DeviceResult:
    mem = footprint_bytes(table)
    per_device = mem["weights"] / (cluster.tp * cluster.pp) + mem["activations"] / cluster.pp
    needed_per_replica = max(1, math.ceil(per_device / device.spec.mem_bytes))
    peak = costs.peak_flops_per_s
    flops = table.columns["flops"]
    util = float(flops.sum() / latency / (cluster.tp * cluster.pp) / (np.sum(flops * peak) / flops.sum())) if latency > 0 and flops.sum() > 0 else 0.0
    return DeviceResult(
        device=f"{cluster.name}({cluster.count}× {device.spec.name}, dp{cluster.dp} tp{cluster.tp} pp{cluster.pp})",
        kind="cluster", latency_s=latency, throughput_per_s=cluster.dp * batch / latency if latency > 0 else math.inf,
        energy_j=energy, avg_power_w=energy / latency / (cluster.tp * cluster.pp) if latency > 0 else 0.0,
        usd=cost.usd, co2_g=cost.co2_g, utilization=util, bound_share=costs.bound_share(),
        fits_in_memory=needed_per_replica <= 1, devices_needed=needed_per_replica * cluster.tp * cluster.pp,
        memory_bytes={**mem, "per_device": per_device}, unsupported_ops=[], cost_basis=cost.basis,
        notes=(f"tensor-parallel all-reduce time {comm_s:.3g} s included",), costs=costs,
    )
