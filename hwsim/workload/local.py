"""Local-update training: learning rules whose weight updates need no global backward pass.

``local_training(table, rule)`` returns the forward rows (phase 0) plus per-layer update rows
(phase 3, :data:`hwsim.workload.training.LOCAL_UPDATE`) for the rules below. A *layer* is a
matmul-like op with constant weights (``const_bytes`` > 0) and GEMM view (b, m, n, k):
Y[m×n] = X[m×k]·W[k×n] for each of b groups; m rows are the batch × positions of one step.

* ``"hebbian"`` — Hebbian / pair-based STDP-style rule Δw_ij = η·post_j·pre_i summed over the
  step's m rows: ΔW = η·Xᵀ·Y, an outer-product accumulation = GEMM (b, k, n, m),
  **m·k·n MACs per group**, then w ← w + ΔW (2 FLOPs per weight). Row ``<name>/hebbian``:
  flops = 2·b·m·n·k + 2·b·k·n; reads X, Y and W, writes W; ``plasticity`` = b·k·n synaptic
  weight updates per step (each weight updated once per step; on a Loihi-style chip the
  pre/post traces accumulate with the spikes and the learning engine applies the rule once
  per learning epoch — Davies et al., IEEE Micro 2018, §"Learning"). No backward GEMMs; only
  one layer's input and output need to be held while it updates.
* ``"forward_forward"`` — Hinton 2022, "The Forward-Forward Algorithm": a positive and a
  negative forward pass (rows ``<name>`` and ``<name>/neg``), then per layer a local gradient
  of its goodness G = Σ y² (2 FLOPs per output: square, accumulate) through the logistic
  p = σ(G − θ): δ = (∂log p/∂G)·2y (2 FLOPs per output), for both passes, and one combined
  weight-gradient GEMM over the 2m rows, ΔW = X₊ᵀδ₊ − X₋ᵀδ₋ = GEMM (b, k, n, 2m), then the
  update (2 FLOPs per weight). Row ``<name>/ff_update``: flops = 2·b·2m·n·k + 4·2·b·m·n +
  2·b·k·n, ``plasticity`` = b·k·n. No data-gradient GEMM crosses layers.
* ``"feedback_alignment"`` — Lillicrap et al. 2016, "Random synaptic feedback weights support
  error backpropagation for deep learning": the backward pass sends errors through fixed
  random matrices B (shape of Wᵀ) instead of Wᵀ. The arithmetic is exactly backprop's
  (:func:`hwsim.workload.training.backprop`): **it saves no FLOPs, bytes or time on a GPU**;
  it removes weight transport (the backward pass needs no copy of W), which matters only to
  hardware that keeps weights local to the synapse. It is still a global, layer-sequential
  backward pass, so a neuromorphic chip refuses its rows as it refuses backprop's, and it
  stores every activation plus the B matrices (:func:`local_memory`).

On GPU/CPU/TPU the update rows price as ordinary GEMM rows: the accumulation over a step's m
rows is a GEMM with inner dimension m (for m = 1, a rank-1 update reading and writing all of W
for 2 FLOPs per weight: memory-bound, ≈ 0.25 FLOP/byte in fp32). On the neuromorphic chip
(:mod:`hwsim.devices.neuromorphic`) rows with ``plasticity`` > 0 run on chip and cost
``energy_per_plasticity_j`` per update.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hwsim.errors import ConfigError
from hwsim.ops.work import WorkKind, WorkTable
from hwsim.workload.training import FORWARD, LOCAL_UPDATE, backprop

RULES = ("hebbian", "forward_forward", "feedback_alignment")
_GEMM = (int(WorkKind.MATMUL), int(WorkKind.CONV))
DOMAIN = "hwsim.local"


def local_training(table: WorkTable, rule: str = "hebbian", optimizer: str = "sgd") -> WorkTable:
    """One training step of ``table`` under local learning ``rule`` (module docstring).

    ``optimizer`` applies to ``"feedback_alignment"`` only (its update is backprop's); the
    Hebbian and forward-forward rows include their own update w ← w + ΔW.
    """
    if rule not in RULES:
        raise ConfigError(f"unknown local learning rule {rule!r}; choose one of {', '.join(RULES)}")
    if rule == "feedback_alignment":
        out = backprop(table, optimizer=optimizer, mixed_precision=False)
        note = "feedback alignment (Lillicrap 2016): backprop's arithmetic through fixed random feedback matrices"
        return dataclasses.replace(out, notes=out.notes + (note,))
    fwd = _forward(table)
    layers = layer_rows(fwd)
    if rule == "hebbian":
        parts = [fwd, _update_rows(fwd, layers, "/hebbian", "HebbianUpdate", passes=1, local_flops_per_output=0.0)]
    else:
        neg = _copy(fwd, "/neg")
        parts = [fwd, neg, _update_rows(fwd, layers, "/ff_update", "ForwardForwardUpdate", passes=2,
                                        local_flops_per_output=4.0)]
    graph = _local_graph(fwd, layers, rule)
    return WorkTable.concat(parts, graph, notes=(f"local training: {rule}",))


def layer_rows(fwd: WorkTable) -> np.ndarray:
    """Indices of the weighted matmul-like rows (the layers a local rule updates)."""
    c = fwd.columns
    return np.flatnonzero(np.isin(fwd.kind, _GEMM) & (c["const_bytes"] > 0) & (c["gemm_m"] > 0) & (c["macs"] > 0))


def _forward(table: WorkTable) -> WorkTable:
    n = len(table)
    return table.with_columns(phase=float(FORWARD), recompute=0.0, fwd_row=np.arange(n, dtype=float), plasticity=0.0)


def _copy(fwd: WorkTable, suffix: str) -> WorkTable:
    names = np.array([f"{n}{suffix}" for n in fwd.name], dtype=object)
    return dataclasses.replace(fwd, name=names, columns=dict(fwd.columns))


def _update_rows(fwd: WorkTable, idx: np.ndarray, suffix: str, op_type: str, passes: int,
                 local_flops_per_output: float) -> WorkTable:
    """Update rows of layers ``idx``: GEMM (b, k, n, passes·m) + local elementwise + apply."""
    sub = fwd.select(idx)
    c = sub.columns
    b, m, n, k = (np.maximum(c[f"gemm_{x}"], 1.0) for x in ("batch", "m", "n", "k"))
    weights = b * k * n
    macs = passes * b * m * n * k
    acts_in = np.maximum(c["bytes_read"] - c["const_bytes"], 0.0)
    cols = dict(c)
    zeros = np.zeros(len(idx))
    cols.update(
        flops=2 * macs + local_flops_per_output * passes * b * m * n + 2 * weights, macs=macs,
        bytes_read=passes * (acts_in + c["bytes_written"]) + c["const_bytes"], bytes_written=c["const_bytes"],
        params=zeros, weight_bytes=zeros, gemm_batch=b, gemm_m=k, gemm_n=n, gemm_k=passes * m,
        weight_density=np.ones(len(idx)), phase=np.full(len(idx), float(LOCAL_UPDATE)), plasticity=weights,
        fwd_row=idx.astype(float))
    return dataclasses.replace(
        sub, name=np.array([f"{x}{suffix}" for x in sub.name], dtype=object),
        op_type=np.full(len(idx), op_type, dtype=object), domain=np.full(len(idx), DOMAIN, dtype=object),
        kind=np.full(len(idx), int(WorkKind.MATMUL), dtype=np.int8), columns=cols)


def _local_graph(fwd: WorkTable, layers: np.ndarray, rule: str):
    """Forward edges (mirrored for the negative pass); each update after its layer's outputs."""
    import networkx as nx

    g = nx.DiGraph(fwd.graph)
    suffix = "/hebbian" if rule == "hebbian" else "/ff_update"
    if rule == "forward_forward":
        for u, v, data in fwd.graph.edges(data=True):
            g.add_edge(f"{u}/neg", f"{v}/neg", **data)
        g.add_nodes_from(f"{x}/neg" for x in fwd.name)
    for i in layers:
        name = fwd.name[i]
        sources = [name] + ([f"{name}/neg"] if rule == "forward_forward" else [])
        for s in sources:
            g.add_edge(s, f"{name}{suffix}", tensors=(s,), bytes=float(fwd.columns["bytes_written"][i]))
    return g


def local_memory(table: WorkTable, rule: str = "hebbian") -> dict[str, float]:
    """Bytes held during one local-update step (no optimizer state: the rules update in place).

    weights = Σ weight_bytes. Hebbian: activations = the largest (input + output) bytes of one
    op — only the layer being updated holds its pre/post activity. Forward-forward: twice that
    (positive and negative activity of one layer). Feedback alignment: every forward output is
    kept, as in backprop, and ``feedback_matrices`` = the bytes of B, one per weighted layer (the
    same size as W) — unless regenerated from a seed each step.
    """
    if rule not in RULES:
        raise ConfigError(f"unknown local learning rule {rule!r}; choose one of {', '.join(RULES)}")
    c = table.columns
    weights = float(c["weight_bytes"].sum())
    if rule == "feedback_alignment":
        acts, feedback = float(c["bytes_written"].sum()), float(c["const_bytes"][layer_rows(table)].sum())
    else:
        per_op = np.maximum(c["bytes_read"] - c["const_bytes"], 0.0) + c["bytes_written"]
        acts, feedback = (2.0 if rule == "forward_forward" else 1.0) * float(per_op.max(initial=0.0)), 0.0
    return {"weights": weights, "feedback_matrices": feedback, "activations": acts,
            "total": weights + feedback + acts}
