"""The scheduling problem both schedulers solve, built once from a WorkTable and its CostTable.

* **Tasks**: one per WorkTable row, in topological order of ``table.graph`` (ties broken by row
  index, so the order is deterministic). Duration = the row's ``latency_s``; unpriced rows
  (NaN) take 0 s and are listed in the notes, as the roll-up excludes them. Graph nodes that are
  not rows (a table filtered with ``select``) are contracted: their predecessors feed their
  successors directly, with the bytes of the outgoing edge.
* **Placement**: op name → device name. Default: every op on ``device``, except rows priced
  ``Bound.OFFLOAD`` (refused by a neuromorphic chip, run by its host CPU), which go to
  ``"host"``.
* **Kind**: rows whose op_type is in :data:`COLLECTIVE_OP_TYPES` (or whose name is in
  ``collectives``) are collectives and run on their device's own communication stream (index
  = number of compute streams), so they overlap with compute.
* **Transfers**: a DAG edge u → v whose ends sit on different devices moves the edge's
  ``bytes`` over the link device(u) → device(v): latency_s + bytes / bw_bytes_per_s. ``link``
  is one :class:`Link` for every ordered pair, a mapping ``(src, dst) → Link`` (the reverse
  pair's spec is used when only one direction is given), or None: transfers are then not
  modelled (0 s), which is right when the costs already include them (neuromorphic OFFLOAD rows
  price their host round trip inside the row's latency; :func:`split_host_offload` moves it
  onto the host link instead). Each direction of each pair is one link resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np

from hwsim.devices.base import Bound, CostTable, DeviceModel
from hwsim.errors import ConfigError
from hwsim.ops.work import WorkTable
from hwsim.schedule.timeline import Link

#: Op types that are collective communication (added by parallel-training transforms).
COLLECTIVE_OP_TYPES = frozenset({"AllReduce", "AllGather", "ReduceScatter", "AllToAll", "Broadcast",
                                 "Send", "Recv", "SendRecv"})
HOST = "host"

LinkArg = Link | Mapping[tuple[str, str], Link] | None
StreamsArg = int | Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Task:
    """One op to schedule: ``preds`` are (predecessor name, edge bytes)."""

    name: str
    device: str
    duration_s: float
    kind: str
    preds: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Problem:
    """Tasks in topological order, streams per device, the link map and notes."""

    tasks: tuple[Task, ...]
    streams: Mapping[str, int]
    links: LinkArg
    notes: tuple[str, ...]

    def link(self, src: str, dst: str) -> Link | None:
        """The link src → dst, None when transfers are not modelled; ConfigError if missing."""
        if src == dst or self.links is None:
            return None
        if isinstance(self.links, Link):
            return self.links
        found = self.links.get((src, dst)) or self.links.get((dst, src))
        if found is None:
            raise ConfigError(f"no link between devices {src!r} and {dst!r}: add ({src!r}, {dst!r}) to the link map")
        return found

    def n_streams(self, device: str) -> int:
        """Compute streams of ``device`` (the collective stream has this index)."""
        return self.streams[device]


def build_problem(table: WorkTable, costs: CostTable, streams: StreamsArg = 1,
                  placement: Mapping[str, str] | None = None, link: LinkArg = None,
                  device: str = "device", collectives: frozenset[str] | set[str] | None = None) -> Problem:
    """Validate the inputs and build the :class:`Problem` (see the module docstring)."""
    if len(costs) != len(table):
        raise ConfigError(f"cost table has {len(costs)} rows but the work table has {len(table)}: price this table")
    names = [str(n) for n in table.name]
    durations, notes = _durations(names, costs)
    where = _placement(names, costs, placement, device)
    kinds = _kinds(table, collectives)
    graph, order = _dag(table, names)
    tasks = tuple(Task(n, where[n], durations[i], kinds[i],
                       tuple((p, float(graph.edges[p, n].get("bytes", 0.0))) for p in sorted(graph.predecessors(n))))
                  for i, n in order)
    per_device = _streams(streams, sorted(set(where.values())))
    crossing = any(where[p] != t.device for t in tasks for p, _ in t.preds)
    if crossing and link is None:
        notes.append("transfers between devices not modelled (no link given): 0 s each")
    return Problem(tasks, per_device, link, tuple(notes))


def _durations(names: list[str], costs: CostTable) -> tuple[list[float], list[str]]:
    lat = np.asarray(costs.latency_s, dtype=float)
    if np.isinf(lat).any() or (lat < 0).any():
        bad = names[int(np.flatnonzero(np.isinf(lat) | (lat < 0))[0])]
        raise ConfigError(f"op {bad!r} has an infinite or negative latency; it cannot be scheduled")
    unpriced = np.isnan(lat)
    notes = [f"{int(unpriced.sum())} unpriced op(s) scheduled as 0 s (excluded, as in the roll-up)"] if unpriced.any() else []
    return np.where(unpriced, 0.0, lat).tolist(), notes


def _placement(names: list[str], costs: CostTable, placement: Mapping[str, str] | None, device: str) -> dict[str, str]:
    offload = np.asarray(costs.bound) == Bound.OFFLOAD
    where = {n: (HOST if offload[i] else device) for i, n in enumerate(names)}
    if placement is not None:
        unknown = sorted(set(placement) - set(names))
        if unknown:
            raise ConfigError(f"placement names op(s) not in the table: {', '.join(unknown[:5])}")
        where.update({k: str(v) for k, v in placement.items()})
    return where


def _kinds(table: WorkTable, collectives: frozenset[str] | set[str] | None) -> list[str]:
    named = collectives or frozenset()
    return ["collective" if (str(t) in COLLECTIVE_OP_TYPES or str(n) in named) else "compute"
            for n, t in zip(table.name, table.op_type)]


def _dag(table: WorkTable, names: list[str]) -> tuple[nx.DiGraph, list[tuple[int, str]]]:
    """(DAG over exactly the table's rows, [(row index, name)] in topological order)."""
    if len(set(names)) != len(names):
        raise ConfigError("work table has duplicate op names; the schedule needs one row per DAG node")
    index = {n: i for i, n in enumerate(names)}
    g = table.graph
    if any(n not in index for n in g.nodes):
        g = _contract(g, index)
    else:
        g = g.copy()
    g.add_nodes_from(names)
    if not nx.is_directed_acyclic_graph(g):
        raise ConfigError("the op graph has a cycle; scheduling needs a DAG")
    order = nx.lexicographical_topological_sort(g, key=lambda n: index[n])
    return g, [(index[n], n) for n in order]


def _contract(g: nx.DiGraph, keep: Mapping[str, int]) -> nx.DiGraph:
    """``g`` with nodes outside ``keep`` removed, each predecessor wired to each successor."""
    h = g.copy()
    for n in list(nx.topological_sort(g)):
        if n in keep:
            continue
        for p in list(h.predecessors(n)):
            for s, data in h.succ[n].items():
                if not h.has_edge(p, s):
                    h.add_edge(p, s, bytes=data.get("bytes", 0.0))
        h.remove_node(n)
    return h


def _streams(streams: StreamsArg, devices: list[str]) -> dict[str, int]:
    if isinstance(streams, Mapping):
        out = {d: int(streams.get(d, 1)) for d in devices}
    else:
        out = {d: streams for d in devices}
    for d, k in out.items():
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"streams for device {d!r} must be an integer ≥ 1, got {k!r}")
    return {d: int(k) for d, k in out.items()}


def split_host_offload(table: WorkTable, costs: CostTable, model: DeviceModel, device: str = "device"
                       ) -> tuple[CostTable, dict[str, str], dict[tuple[str, str], Link]]:
    """(costs without the host round trip, placement, host links) for a device with a host.

    OFFLOAD rows keep their host compute time only (latency − ``model.transfer_s``); they are
    placed on ``"host"`` and the activations crossing chip ↔ host become transfers over
    Link(spec.host_link_bw_bytes_per_s, spec.host_link_latency_s) in each direction, where
    they contend with each other (a queued schedule serialises them).
    """
    transfer = getattr(model, "transfer_s", None)
    spec = model.spec
    if transfer is None or not hasattr(spec, "host_link_bw_bytes_per_s"):
        raise ConfigError(f"device {spec.name!r} has no host link to offload over")
    off = np.asarray(costs.bound) == Bound.OFFLOAD
    lat = np.where(off, np.maximum(costs.latency_s - transfer(table), 0.0), costs.latency_s)
    over = np.where(off, np.maximum(costs.overhead_s - transfer(table), 0.0), costs.overhead_s)
    new = CostTable(latency_s=lat, compute_s=costs.compute_s, memory_s=costs.memory_s, overhead_s=over,
                    energy_j=costs.energy_j, bound=costs.bound, utilization=costs.utilization,
                    peak_flops_per_s=costs.peak_flops_per_s, notes=costs.notes)
    host_link = Link(spec.host_link_bw_bytes_per_s, spec.host_link_latency_s)
    placement = {str(n): (HOST if off[i] else device) for i, n in enumerate(table.name)}
    return new, placement, {(device, HOST): host_link, (HOST, device): host_link}

