"""Memory footprint of one inference: weights plus the peak of live activations.

Liveness over the WorkTable's topological order: an op's outputs are allocated when it runs
and freed after their last consumer runs; outputs nobody consumes (graph outputs) stay live
to the end. Folded constants are weights, not activations. A runtime that reuses buffers in
place can do a little better; one that keeps everything (training) much worse.
"""

from __future__ import annotations

import numpy as np

from hwsim.ops.work import WorkTable


def peak_activation_bytes(table: WorkTable) -> float:
    """Largest total of simultaneously live op outputs (bytes) over the op order."""
    n = len(table)
    if n == 0:
        return 0.0
    index = {name: i for i, name in enumerate(table.name)}
    alloc = table.columns["bytes_written"] / np.maximum(table.columns["repeat"], 1.0)
    last_use = np.full(n, n, dtype=np.int64)  # default: live to the end
    g = table.graph
    for name in g.nodes:
        succ = [index[s] for s in g.successors(name)]
        if succ:
            last_use[index[name]] = max(succ)
    delta = np.zeros(n + 1)
    np.add.at(delta, np.arange(n), alloc)
    np.add.at(delta, np.minimum(last_use + 1, n), -alloc)
    return float(np.cumsum(delta)[:n].max())


def footprint_bytes(table: WorkTable) -> dict[str, float]:
    """{"weights", "activations", "total"} in bytes for one inference (computed once per table:
    sweeps re-price the same table many times)."""
    cached = table.__dict__.get("_footprint")
    if cached is None:
        weights = float(table.columns["weight_bytes"].sum())
        acts = peak_activation_bytes(table)
        cached = {"weights": weights, "activations": acts, "total": weights + acts}
        object.__setattr__(table, "_footprint", cached)
    return dict(cached)
