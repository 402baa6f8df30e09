"""Node-weighted longest (critical) path through the operation DAG."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx


def critical_path(g: nx.DiGraph, weight: Mapping[str, float]) -> tuple[float, list[str]]:
    """(length, nodes) of the heaviest path, where a path weighs the sum of its nodes' weights.

    Dynamic programming over a topological order: O(V + E). Ties break toward the
    lexicographically smaller predecessor, so the result is deterministic.
    """
    best: dict[str, float] = {}
    prev: dict[str, str | None] = {}
    for n in nx.lexicographical_topological_sort(g):
        preds = sorted(g.predecessors(n))
        p = max(preds, key=lambda q: best[q], default=None)
        best[n] = weight.get(n, 0.0) + (best[p] if p is not None else 0.0)
        prev[n] = p
    if not best:
        return 0.0, []
    end = max(sorted(best), key=lambda n: best[n])
    path = [end]
    while prev[path[-1]] is not None:
        path.append(prev[path[-1]])
    return best[end], path[::-1]
