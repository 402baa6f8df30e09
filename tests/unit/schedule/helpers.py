"""Small hand-made DAGs with hand-set latencies for exact schedule tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx
import numpy as np

from hwsim.devices.base import Bound, CostTable
from hwsim.ops.work import OpWork, WorkKind, WorkTable


def make_problem(latency_s: Mapping[str, float], edges: Sequence[tuple[str, str, float]] = (),
                 op_types: Mapping[str, str] | None = None,
                 offload: Sequence[str] = ()) -> tuple[WorkTable, CostTable]:
    """(table, costs): ops in the given order with the given latencies; edges (u, v, bytes)."""
    g = nx.DiGraph()
    for i, name in enumerate(latency_s):
        g.add_node(name, index=i)
    for u, v, nbytes in edges:
        g.add_edge(u, v, bytes=float(nbytes))
    types = op_types or {}
    rows = [(n, types.get(n, "MatMul"), "", (), 1, OpWork(WorkKind.MATMUL, flops=1.0), 1) for n in latency_s]
    table = WorkTable.from_rows(rows, g)
    lat = np.array(list(latency_s.values()), dtype=float)
    bound = np.array([Bound.OFFLOAD if n in offload else Bound.COMPUTE for n in latency_s], dtype=np.int8)
    zeros = np.zeros(len(lat))
    costs = CostTable(latency_s=lat, compute_s=lat.copy(), memory_s=zeros, overhead_s=zeros.copy(),
                      energy_j=zeros.copy(), bound=bound, utilization=zeros.copy(), peak_flops_per_s=zeros.copy())
    return table, costs


def spans(timeline, kind: str = "compute") -> dict[str, tuple[float, float]]:
    """op -> (start_s, end_s) of the entries of ``kind`` (micro-batch 0)."""
    return {e.op: (e.start_s, e.end_s) for e in timeline.entries if e.kind == kind and e.microbatch == 0}


def diamond() -> tuple[WorkTable, CostTable]:
    """a(1) -> b(2), c(2) -> d(1)."""
    return make_problem({"a": 1.0, "b": 2.0, "c": 2.0, "d": 1.0},
                        [("a", "b", 8), ("a", "c", 8), ("b", "d", 8), ("c", "d", 8)])
