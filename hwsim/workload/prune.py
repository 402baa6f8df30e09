"""Magnitude pruning: of real ONNX weights (:func:`prune_model`) or declared on a WorkTable
(:func:`prune_table`, for weights-free graphs).

Patterns (``pattern=``):

* ``"unstructured"`` — keep the k = round(d·numel) largest |w| of each weight (**per-layer**
  threshold, Han et al., "Learning both Weights and Connections", NeurIPS 2015), or with
  ``threshold="global"`` the largest |w| over all pruned weights together (one threshold for
  the model, as in Frankle & Carbin 2019; layers then end at different densities, the total at d).
* ``"N:M"`` (e.g. ``"2:4"``, ``"1:4"``) — in every aligned group of M consecutive weights along
  the **reduction (input) axis** keep the N largest |w| (NVIDIA's 2:4 recipe, Mishra et al.,
  "Accelerating Sparse Deep Neural Networks", arXiv 2104.08378, 2021). Reduction axis: MatMul
  B [K, N] → axis −2; Gemm B → axis 1 with transB = 1, else 0; Conv W [Cout, Cin/g, kh, kw] → the
  im2col axis Cin/g·kh·kw in ONNX (C, kh, kw) order (what the loader checks). The density is
  N/M exactly. Layers whose reduction length is not a multiple of M stay dense (as NVIDIA's ASP
  skips them) and are listed in the result's ``hwsim.prune`` metadata.
* ``"block"`` / ``"blockRxC"`` (default 4x4) — on the 2-D view [shape[0], rest] of the weight,
  keep the round(d·blocks) aligned R×C blocks of largest L1 norm and zero the others
  (Narang et al., "Block-Sparse Recurrent Neural Networks", 2017). Weights whose view is not a
  multiple of the block stay dense (listed in the metadata).

``scope`` names the ops whose weights are pruned: ``"matmul"`` (MatMul, Gemm), ``"conv"`` (Conv),
or ``"matmul+conv"``. Only float initializers read directly by those ops (top-level graph) are
pruned; biases are never pruned.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from hwsim.errors import ConfigError
from hwsim.graph.read import RawModel, read_model, tensor_array
from hwsim.ops.work import WorkTable
from hwsim.workload.sparsity import declare_density

log = logging.getLogger(__name__)

SCOPES = {"matmul": ("MatMul", "Gemm"), "conv": ("Conv",)}
_NM = re.compile(r"^(\d+):(\d+)$")
_BLOCK = re.compile(r"^block(?:(\d+)x(\d+))?$")


@dataclass(frozen=True)
class PruneSpec:
    """What to prune to: density in (0, 1], kind "unstructured" | "nm" | "block", N:M or block shape."""

    density: float
    kind: str = "unstructured"
    n: int = 0
    m: int = 0
    block: tuple[int, int] = (4, 4)

    @property
    def label(self) -> str:
        """The loader's name for the resulting zero pattern (``TensorInfo.pattern``)."""
        if self.density >= 1.0:
            return "dense"
        if self.kind == "nm":
            return "2:4" if _fits_two_four(self.n, self.m) else "unstructured"
        if self.kind == "block":
            return "block4x4" if self.block == (4, 4) else "unstructured"
        return "unstructured"


def _fits_two_four(n: int, m: int) -> bool:
    """True when N:M guarantees ≤ 2 non-zeros in every aligned group of 4 (what 2:4 hardware runs)."""
    if m % 4 == 0:
        return n <= 2
    return 4 % m == 0 and n * (4 // m) <= 2


def make_spec(density: float, pattern: str = "unstructured") -> PruneSpec:
    """Validate ``density`` and ``pattern`` into a :class:`PruneSpec` (ConfigError when bad)."""
    if not isinstance(density, (int, float)) or not 0.0 < float(density) <= 1.0:
        raise ConfigError(f"prune density {density!r} must be in (0, 1] (the fraction of weights kept)")
    density, text = float(density), pattern.strip().lower()
    if text == "unstructured":
        return PruneSpec(density)
    if (nm := _NM.match(text)) is not None:
        n, m = int(nm.group(1)), int(nm.group(2))
        if not 0 < n <= m:
            raise ConfigError(f"N:M pattern {pattern!r} needs 0 < N <= M")
        if abs(density - n / m) > 1e-9:
            raise ConfigError(f"N:M pattern {pattern!r} keeps {n}/{m} = {n / m:g} of the weights, "
                              f"not density {density:g}; use density {n / m:g}")
        return PruneSpec(density, "nm", n, m)
    if (bl := _BLOCK.match(text)) is not None:
        r, c = (int(bl.group(1)), int(bl.group(2))) if bl.group(1) else (4, 4)
        if r < 1 or c < 1:
            raise ConfigError(f"block pattern {pattern!r} needs positive block sides")
        return PruneSpec(density, "block", block=(r, c))
    raise ConfigError(f"unknown prune pattern {pattern!r}; use unstructured, N:M (e.g. 2:4) or block[RxC] (e.g. block4x4)")


def parse_prune_spec(text: str) -> PruneSpec:
    """Parse ``"DENSITY[:pattern]"``: ``"0.1"``, ``"0.5:2:4"``, ``"0.25:block4x4"``, or ``"2:4"``
    alone (density N/M). Errors (ConfigError) for a density outside (0, 1], an unknown pattern
    or an N:M pattern whose N/M differs from the density."""
    text = text.strip()
    if (nm := _NM.match(text)) is not None:
        n, m = int(nm.group(1)), int(nm.group(2))
        if not 0 < n <= m:
            raise ConfigError(f"prune spec {text!r}: an N:M pattern needs 0 < N <= M")
        return make_spec(n / m, text)
    head, _, pattern = text.partition(":")
    try:
        density = float(head)
    except ValueError:
        raise ConfigError(f"prune spec {text!r}: {head!r} is not a density; write DENSITY[:pattern], "
                          "e.g. 0.1, 0.5:2:4 or 0.25:block4x4") from None
    return make_spec(density, pattern or "unstructured")


def prune_table(table: WorkTable, density: float, pattern: str = "unstructured") -> WorkTable:
    """Declare pruning on a weights-free WorkTable: every weighted matmul/conv row gets
    ``weight_density`` = density and ``weight_pattern`` = the code of the pattern (2 for
    2:4-compatible N:M, 3 for block4x4, 1 for other sparse patterns), as :func:`prune_model`
    would make the loader measure."""
    spec = make_spec(density, pattern)
    return declare_density(table, weight=spec.density, pattern=spec.label)


def magnitude_mask(values: np.ndarray, density: float) -> np.ndarray:
    """Keep-mask of the k = round(density·size) largest |values| (ties broken by position)."""
    flat = np.abs(values).ravel()
    k = int(round(density * flat.size))
    keep = np.zeros(flat.size, dtype=bool)
    if k > 0:
        keep[np.argpartition(-flat, k - 1)[:k]] = True
    return keep.reshape(values.shape)


def nm_mask(rows: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep-mask of the N largest |w| in every aligned group of M along axis 1 of ``rows``
    (shape [r, K], K a multiple of M)."""
    groups = np.abs(rows).reshape(rows.shape[0], -1, m)
    order = np.argsort(-groups, axis=2, kind="stable")[..., :n]
    keep = np.zeros(groups.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=2)
    return keep.reshape(rows.shape)


def block_mask(mat: np.ndarray, block: tuple[int, int], density: float) -> np.ndarray:
    """Keep-mask of the round(density·blocks) aligned blocks of largest L1 norm in 2-D ``mat``."""
    (r, c), (br, bc) = mat.shape, block
    norms = np.abs(mat).reshape(r // br, br, c // bc, bc).sum(axis=(1, 3))
    keep = magnitude_mask(norms, density)
    return np.repeat(np.repeat(keep, br, axis=0), bc, axis=1)


def _reduction_rows(arr: np.ndarray, layout: str) -> np.ndarray:
    """View of a weight as [rows, K] with the reduction axis last ("kn": axis −2, "nk": trailing)."""
    if layout == "kn":
        return np.moveaxis(arr, -2, -1).reshape(-1, arr.shape[-2])
    return arr.reshape(arr.shape[0], -1)


def _from_reduction_rows(rows: np.ndarray, layout: str, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_reduction_rows`."""
    if layout == "kn":
        moved = (*shape[:-2], shape[-1], shape[-2])
        return np.moveaxis(rows.reshape(moved), -1, -2)
    return rows.reshape(shape)


def layer_mask(arr: np.ndarray, layout: str, spec: PruneSpec) -> np.ndarray | None:
    """Keep-mask of one weight under ``spec`` (per-layer), or None when its shape does not fit
    the pattern (N:M: K not a multiple of M; block: view not a multiple of the block)."""
    if spec.kind == "nm":
        rows = _reduction_rows(arr, layout)
        if arr.ndim < 2 or rows.shape[1] % spec.m:
            return None
        return _from_reduction_rows(nm_mask(rows, spec.n, spec.m), layout, arr.shape)
    if spec.kind == "block":
        mat = arr.reshape(arr.shape[0], -1) if arr.ndim >= 2 else arr.reshape(1, -1)
        if mat.shape[0] % spec.block[0] or mat.shape[1] % spec.block[1]:
            return None
        return block_mask(mat, spec.block, spec.density).reshape(arr.shape)
    return magnitude_mask(arr, spec.density)


def weight_targets(graph: onnx.GraphProto, scope: str) -> dict[str, str]:
    """Initializer name → layout ("kn" | "nk") of every weight the scoped ops read directly.
    ``scope``: "matmul", "conv" or "matmul+conv". A weight shared by several ops takes the
    layout of its first consumer."""
    parts = [p.strip() for p in scope.lower().split("+") if p.strip()]
    if not parts or any(p not in SCOPES for p in parts):
        raise ConfigError(f"prune scope {scope!r}: use matmul, conv or matmul+conv")
    op_types = {t for p in parts for t in SCOPES[p]}
    inits = {t.name for t in graph.initializer}
    out: dict[str, str] = {}
    for node in graph.node:
        if node.op_type not in op_types or len(node.input) < 2 or node.input[1] not in inits:
            continue
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        layout = "nk" if node.op_type == "Conv" or (node.op_type == "Gemm" and trans_b) else "kn"
        out.setdefault(node.input[1], layout)
    return out


def _weight_arrays(raw: RawModel, targets: dict[str, str]) -> dict[str, np.ndarray]:
    """Float values of the target weights; ConfigError when a weight's data is not present."""
    inits = {t.name: t for t in raw.model.graph.initializer}
    arrays: dict[str, np.ndarray] = {}
    for name in targets:
        arr = tensor_array(inits[name], raw)
        if arr is None:
            raise ConfigError(f"{raw.name}: weight {name!r} has no data (weights-free graph); prune it with "
                              "prune_table on its WorkTable, or build the zoo model with ?weights=random")
        if arr.dtype.kind == "f" and arr.size > 1:
            arrays[name] = arr
    return arrays


def _global_masks(arrays: dict[str, np.ndarray], density: float) -> dict[str, np.ndarray]:
    """One magnitude threshold over all weights: keep the round(d·total) largest |w| overall."""
    names = list(arrays)
    flat = np.concatenate([np.abs(arrays[n]).ravel().astype(np.float64) for n in names])
    keep = magnitude_mask(flat, density)
    bounds = np.cumsum([0] + [arrays[n].size for n in names])
    return {n: keep[bounds[i]:bounds[i + 1]].reshape(arrays[n].shape) for i, n in enumerate(names)}


def prune_model(model: onnx.ModelProto | str | os.PathLike, density: float, pattern: str = "unstructured",
                scope: str = "matmul+conv", threshold: str = "layer") -> onnx.ModelProto:
    """A pruned copy of ``model`` (ModelProto, .onnx path or ``zoo:NAME?weights=random``); the
    input is never mutated. Magnitude pruning per the module docstring; ``threshold`` "layer"
    (default) or "global" (unstructured only). Every external weight whose data is present is
    stored inline in the result; metadata ``hwsim.prune`` records the spec and skipped weights."""
    spec = make_spec(density, pattern)
    if threshold not in ("layer", "global"):
        raise ConfigError(f"prune threshold {threshold!r}: use layer or global")
    if threshold == "global" and spec.kind != "unstructured":
        raise ConfigError(f"a global threshold applies to unstructured pruning, not {pattern!r}")
    raw = read_model(model)
    targets = weight_targets(raw.model.graph, scope)
    arrays = _weight_arrays(raw, targets)
    if threshold == "global" and arrays:
        masks: dict[str, np.ndarray | None] = dict(_global_masks(arrays, spec.density))
    else:
        masks = {n: layer_mask(a, targets[n], spec) for n, a in arrays.items()}
    pruned = {n: np.where(masks[n], arrays[n], 0).astype(arrays[n].dtype) for n in arrays if masks[n] is not None}
    skipped = sorted(n for n in arrays if masks[n] is None)
    if skipped:
        log.info("prune %s: %d weight(s) left dense (shape does not fit): %s", pattern, len(skipped), ", ".join(skipped))
    return _rebuilt(raw, pruned, f"density={spec.density:g};pattern={spec.label};threshold={threshold};"
                                 f"pruned={len(pruned)};skipped={','.join(skipped)}")


def _rebuilt(raw: RawModel, pruned: dict[str, np.ndarray], summary: str) -> onnx.ModelProto:
    """Copy of ``raw.model`` with ``pruned`` initializers replaced and present external data inlined."""
    out = onnx.ModelProto()
    out.CopyFrom(raw.model)
    for t in out.graph.initializer:
        if t.name in pruned:
            t.CopyFrom(numpy_helper.from_array(pruned[t.name], t.name))
        elif t.data_location == TensorProto.EXTERNAL and (arr := tensor_array(t, raw)) is not None:
            t.CopyFrom(numpy_helper.from_array(arr, t.name))
    props = [p for p in out.metadata_props if p.key != "hwsim.prune"]
    del out.metadata_props[:]
    out.metadata_props.extend(props)
    out.metadata_props.add(key="hwsim.prune", value=summary)
    return out
