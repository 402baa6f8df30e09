"""Classic ML ops of the ``ai.onnx.ml`` domain: linear models, SVMs, tree ensembles, encoders.

Their parameters live in **attributes** (coefficients, support vectors, tree nodes), not in
inputs; they are counted as parameters here (one per stored value, 4 bytes each: the float
and int32-sized ids the runtimes keep) and read once per inference.

Post-transforms per score: NONE 0, LOGISTIC 4, SOFTMAX / SOFTMAX_ZERO 5, PROBIT 2 (erfinv, mul).
Classifiers pick the label with an argmax: 1 compare per score.

Map- and sequence-of-map values (ZipMap output, DictVectorizer/CastMap input) are represented as
the stacked tensor of their values, ``(N, C)``; a model whose *graph input* is a map cannot be
bound by the loader (it only binds tensor inputs) and fails with a clear load error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
from onnx import TensorProto, numpy_helper

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_numel, prod
from hwsim.ops.registry import ML_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

POST_FLOPS = {"NONE": 0, "LOGISTIC": 4, "SOFTMAX": 5, "SOFTMAX_ZERO": 5, "PROBIT": 2}
ATTR_VALUE_BYTES = 4


def attr_array(node: OpNode, name: str) -> np.ndarray:
    """An attribute as a numpy array (lists, tuples and TensorProto attributes alike; empty if absent)."""
    v: Any = node.attrs.get(name)
    if v is None:
        return np.zeros(0)
    if isinstance(v, TensorProto):
        return numpy_helper.to_array(v)
    return np.asarray(v if isinstance(v, (list, tuple)) else [v])


def with_attr_params(work: OpWork, node: OpNode, names: Iterable[str]) -> OpWork:
    """``work`` plus the values stored in attributes ``names`` as parameters (read every run)."""
    n = sum(attr_array(node, a).size for a in names)
    nbytes = n * ATTR_VALUE_BYTES
    return dataclasses.replace(work, params=work.params + n, weight_bytes=work.weight_bytes + nbytes,
                               bytes_read=work.bytes_read + nbytes)


def _rows(node: OpNode) -> tuple[int, int]:
    """(N, features) of the 2-D (or 1-D: one row) input X."""
    x = in_shape(node, 0)
    return (1, x[0]) if len(x) == 1 else (x[0], prod(x[1:]))


def _post(node: OpNode, scores: int) -> int:
    return POST_FLOPS.get(str(node.attrs.get("post_transform", "NONE")), 0) * scores


@register("LinearClassifier", "LinearRegressor", domain=ML_DOMAIN)
def linear(node: OpNode) -> OpWork:
    """MACs = N·features·rows (rows = len(coefficients)/features: classes or targets); + intercept
    1 per score, post-transform, and argmax 1 per score (classifier)."""
    n, f = _rows(node)
    rows = attr_array(node, "coefficients").size // max(f, 1)
    macs = n * f * rows
    scores = n * rows
    flops = 2 * macs + scores + _post(node, scores) + (scores if node.op_type == "LinearClassifier" else 0)
    work = make_work(node, WorkKind.MATMUL, flops, macs, gemm=(1, n, rows, f))
    return with_attr_params(work, node, ("coefficients", "intercepts"))


#: Extra operations per kernel evaluation after the dot product / squared distance.
KERNEL_FLOPS = {"LINEAR": 0, "POLY": 3, "RBF": 2, "SIGMOID": 3}  # (γ·d + c0)^p; exp(−γ·d); tanh(γ·d + c0)


def _kernel(node: OpNode, n: int, f: int, n_sv: int) -> tuple[float, float]:
    """(MACs, other FLOPs) of N·n_sv kernel evaluations: f MACs each (RBF: + f subtractions)."""
    kt = str(node.attrs.get("kernel_type", "LINEAR"))
    evals = n * n_sv
    other = evals * KERNEL_FLOPS.get(kt, 3) + (evals * f if kt == "RBF" else 0)
    return evals * f, other


@register("SVMClassifier", domain=ML_DOMAIN)
def svm_classifier(node: OpNode) -> OpWork:
    """Kernel evaluations N·n_sv·features MACs (+ kernel cost); one-vs-one decisions: Σ_pairs (n_i + n_j)
    = (classes − 1)·n_sv MACs per row (n_sv for 2 classes), rho add and vote 2 per pair; argmax.
    Without support vectors it is linear: N·features·classes MACs."""
    n, f = _rows(node)
    n_sv = attr_array(node, "support_vectors").size // max(f, 1)
    classes = max(len(node.attrs.get("vectors_per_class") or ()), out_numel(node, 1) // max(n, 1), 2)
    if n_sv == 0:
        macs, other = n * f * classes, 0.0
        pairs = classes
    else:
        macs, other = _kernel(node, n, f, n_sv)
        pairs = classes * (classes - 1) // 2
        macs += n * n_sv * (classes - 1 if classes > 2 else 1)
    scores = n * classes
    flops = 2 * macs + other + n * pairs * 2 + _post(node, scores) + scores
    work = make_work(node, WorkKind.MATMUL, flops, macs)
    return with_attr_params(work, node, ("support_vectors", "coefficients", "rho", "prob_a", "prob_b"))


@register("SVMRegressor", domain=ML_DOMAIN)
def svm_regressor(node: OpNode) -> OpWork:
    """N·n_sv·features MACs for the kernels (+ kernel cost) and N·n_sv MACs for the weighted sum, + rho;
    linear (no support vectors): N·features MACs."""
    n, f = _rows(node)
    n_sv = int(node.attrs.get("n_supports", 0) or 0)
    if n_sv == 0:
        macs, other = n * f, 0.0
    else:
        macs, other = _kernel(node, n, f, n_sv)
        macs += n * n_sv
    flops = 2 * macs + other + n + _post(node, n)
    work = make_work(node, WorkKind.MATMUL, flops, macs)
    return with_attr_params(work, node, ("support_vectors", "coefficients", "rho"))


def tree_depths(roots: list[int], true_ids: np.ndarray, false_ids: np.ndarray, is_branch) -> list[int]:
    """Comparisons on the longest root-to-leaf path of each tree (``is_branch(i, child_slot)``)."""
    depths = []
    for root in roots:
        best, stack = 0, [(root, 1)]
        while stack:
            i, d = stack.pop()
            best = max(best, d)
            for nxt, side in ((true_ids[i], 0), (false_ids[i], 1)):
                if is_branch(i, side):
                    stack.append((int(nxt), d + 1))
        depths.append(best)
    return depths


def _legacy_depths(node: OpNode) -> list[int]:
    """Depths from TreeEnsembleClassifier/Regressor arrays (ids are per-tree node ids)."""
    trees, ids = attr_array(node, "nodes_treeids"), attr_array(node, "nodes_nodeids")
    modes = attr_array(node, "nodes_modes")
    index = {(int(t), int(i)): k for k, (t, i) in enumerate(zip(trees, ids, strict=False))}
    tr = np.array([index.get((int(t), int(c)), -1) for t, c in zip(trees, attr_array(node, "nodes_truenodeids"), strict=False)])
    fa = np.array([index.get((int(t), int(c)), -1) for t, c in zip(trees, attr_array(node, "nodes_falsenodeids"), strict=False)])
    branch_nodes = modes != "LEAF"
    children = set(tr[branch_nodes].tolist()) | set(fa[branch_nodes].tolist())
    roots = [k for k in range(len(ids)) if k not in children]

    def branch(i: int, side: int) -> bool:
        j = (tr if side == 0 else fa)[i]
        return modes[i] != "LEAF" and j >= 0 and modes[j] != "LEAF"

    return [d if modes[r] != "LEAF" else 0 for d, r in zip(tree_depths(roots, tr, fa, branch), roots, strict=False)]


def _tree_work(node: OpNode, depths: list[int], leaf_values: int, leaves: int, n_out: int) -> OpWork:
    n, _ = _rows(node)
    adds = n * len(depths) * leaf_values / max(leaves, 1)
    scores = n * n_out
    argmax = scores if node.op_type == "TreeEnsembleClassifier" else 0
    return make_work(node, WorkKind.ELEMENTWISE, n * sum(depths) + adds + scores + _post(node, scores) + argmax)


@register("TreeEnsembleClassifier", "TreeEnsembleRegressor", domain=ML_DOMAIN)
def tree_ensemble_legacy(node: OpNode) -> OpWork:
    """Worst-case traversal: N·Σ_trees depth comparisons, + N·trees·(leaf weights per leaf) adds,
    + base value 1 per score, post-transform, argmax (classifier)."""
    w = "class_weights" if node.op_type == "TreeEnsembleClassifier" else "target_weights"
    leaf_ids = {(int(t), int(i)) for t, i in zip(attr_array(node, w.split("_")[0] + "_treeids"),
                                                 attr_array(node, w.split("_")[0] + "_nodeids"), strict=False)}
    n_out = node.outputs[-1].shape[-1] if node.outputs[-1].shape else 1
    work = _tree_work(node, _legacy_depths(node), attr_array(node, w).size, len(leaf_ids), n_out)
    return with_attr_params(work, node, ("nodes_values", "nodes_values_as_tensor", "nodes_featureids", w,
                                         w + "_as_tensor", "base_values"))


@register("TreeEnsemble", domain=ML_DOMAIN)
def tree_ensemble(node: OpNode) -> OpWork:
    """ai.onnx.ml TreeEnsemble (opset 5): as above, with children flagged as leaves by nodes_trueleafs /
    nodes_falseleafs and trees starting at tree_roots."""
    tr, fa = attr_array(node, "nodes_truenodeids"), attr_array(node, "nodes_falsenodeids")
    tl, fl = attr_array(node, "nodes_trueleafs"), attr_array(node, "nodes_falseleafs")
    depths = tree_depths([int(r) for r in attr_array(node, "tree_roots")], tr, fa,
                         lambda i, side: not bool((tl if side == 0 else fl)[i]))
    leaves = attr_array(node, "leaf_weights").size
    work = _tree_work(node, depths, leaves, leaves, int(node.attrs.get("n_targets", 1)))
    return with_attr_params(work, node, ("nodes_splits", "nodes_featureids", "leaf_weights", "membership_values"))


#: Operations per element: Normalizer MAX (max, div) 2, L1 (abs, add, div) 3, L2 (mul, add, div) 3;
#: Scaler (x − offset)·scale 2; Binarizer compare 1; Imputer compare + select 2; encoders 1 lookup.
PER_ELEMENT = {"Scaler": 2, "Binarizer": 1, "Imputer": 2, "LabelEncoder": 1, "CategoryMapper": 1}


@register("Normalizer", domain=ML_DOMAIN)
def normalizer(node: OpNode) -> OpWork:
    """MAX 2, L1 3, L2 3 per element, + 1 per row for L2 (sqrt)."""
    norm = str(node.attrs.get("norm", "MAX"))
    n, _ = _rows(node)
    per = 2 if norm == "MAX" else 3
    return make_work(node, WorkKind.NORM, per * out_numel(node) + (n if norm == "L2" else 0))


@register(*PER_ELEMENT, domain=ML_DOMAIN)
def per_element(node: OpNode) -> OpWork:
    """Output elements × :data:`PER_ELEMENT`; lookup tables and scale/offset vectors are parameters."""
    work = make_work(node, WorkKind.ELEMENTWISE, PER_ELEMENT[node.op_type] * out_numel(node))
    return with_attr_params(work, node, ("offset", "scale", "imputed_value_floats", "imputed_value_int64s",
                                         "keys_floats", "keys_int64s", "keys_strings", "keys_tensor",
                                         "values_floats", "values_int64s", "values_strings", "values_tensor",
                                         "cats_int64s", "cats_strings"))


@register("OneHotEncoder", domain=ML_DOMAIN)
def one_hot_encoder(node: OpNode) -> OpWork:
    """One category lookup per input element; the one-hot rows are written in full."""
    work = make_work(node, WorkKind.ELEMENTWISE, node.inputs[0].numel)
    return with_attr_params(work, node, ("cats_int64s", "cats_strings"))


@register("ArrayFeatureExtractor", "FeatureVectorizer", "ZipMap", "DictVectorizer", "CastMap", domain=ML_DOMAIN)
def ml_data_movement(node: OpNode) -> OpWork:
    """Gathers, concatenations and map conversions: no arithmetic; reads what it writes (plus indices)."""
    idx = node.inputs[1].nbytes if node.op_type == "ArrayFeatureExtractor" else 0.0
    read = out_bytes_of(node) + idx
    return make_work(node, WorkKind.DATA_MOVEMENT, bytes_read=read)


def out_bytes_of(node: OpNode) -> float:
    """Bytes of output 0."""
    return float(node.outputs[0].nbytes)
