"""Activation sparsity: declared per op kind, or measured by running the model.

A ReLU-like op (:data:`RELU_LIKE`) zeroes part of its output; the matmul/conv ops that read that
output (directly or through pass-through ops such as Reshape/Flatten, :data:`PASS_THROUGH`)
can skip the zero activations on hardware that supports it (EIE, Han et al. ISCA 2016; SCNN,
Parashar et al. ISCA 2017). Their ``act_density`` is the non-zero fraction of that input.

* :func:`declare` sets ``act_density`` from numbers: ``{"relu_outputs": 0.5}`` on the GEMMs that
  read ReLU-like outputs, ``{"matmul": 0.5, "conv": 0.3}`` on every row of a kind.
* :func:`measure` runs the model with onnxruntime on random inputs (float inputs ~ N(0, 1);
  integer inputs uniform in [0, size) where size is the smallest table a ``Gather`` indexes
  with them, else {0, 1}) and returns each ReLU-like op's non-zero fraction of outputs, pooled
  over ``n_samples`` runs. :func:`apply_measured` puts them on the consuming GEMMs (a GEMM
  reading several measured tensors gets their mean). A MaxPool fed by a measured op is measured
  too (ResNet's stem ReLU → MaxPool → conv).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import onnx

from hwsim.errors import ConfigError
from hwsim.ops.work import WorkKind, WorkTable
from hwsim.workload.sparsity import gemm_rows

RELU_LIKE = frozenset({"Relu", "Clip", "ThresholdedRelu", "Shrink"})
PASS_THROUGH = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Transpose", "Dropout"})
_KIND_KEYS = {k.label: k for k in WorkKind}
#: Smallest act_density :func:`apply_measured` sets (densities must stay in (0, 1]).
MIN_DENSITY = 1e-6


def gemm_consumers(table: WorkTable, producers: list[str]) -> dict[int, list[str]]:
    """Row index of each matmul/conv row → the ``producers`` (op names) whose output it reads,
    looking through :data:`PASS_THROUGH` ops."""
    index = {name: i for i, name in enumerate(table.name)}
    gemm = gemm_rows(table)
    out: dict[int, list[str]] = {}
    for p in producers:
        stack, seen = list(table.graph.successors(p)) if p in table.graph else [], set()
        while stack:
            node = stack.pop()
            if node in seen or node not in index:
                continue
            seen.add(node)
            i = index[node]
            if gemm[i]:
                out.setdefault(i, []).append(p)
            elif table.op_type[i] in PASS_THROUGH:
                stack.extend(table.graph.successors(node))
    return out


def _check_density(key: str, value: float) -> float:
    if not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise ConfigError(f"activation density {key}={value!r} must be in (0, 1]")
    return float(value)


def declare(table: WorkTable, densities: Mapping[str, float]) -> WorkTable:
    """A copy of ``table`` with declared activation densities: ``relu_outputs`` on the GEMMs
    reading a ReLU-like output, a work-kind label (``matmul``, ``conv``...) on every row of
    that kind (kinds first, then ``relu_outputs``, so the more specific key wins)."""
    act = table.columns["act_density"].copy()
    for key, value in densities.items():
        if key != "relu_outputs" and key not in _KIND_KEYS:
            raise ConfigError(f"activation density key {key!r}: use relu_outputs or one of {', '.join(_KIND_KEYS)}")
        d = _check_density(key, value)
        if key in _KIND_KEYS:
            act[table.kind == int(_KIND_KEYS[key])] = d
    if "relu_outputs" in densities:
        relus = [n for n, t in zip(table.name, table.op_type) if t in RELU_LIKE]
        rows = list(gemm_consumers(table, relus))
        act[rows] = float(densities["relu_outputs"])
    return dataclasses.replace(table, columns=dict(table.columns, act_density=act))


def apply_measured(table: WorkTable, densities: Mapping[str, float]) -> WorkTable:
    """A copy of ``table`` whose GEMMs reading a measured op's output get its density as
    ``act_density`` (mean when several; floored at :data:`MIN_DENSITY` so an all-zero output
    stays a valid density); op names must be rows of ``table``."""
    missing = sorted(set(densities) - set(table.name))
    if missing:
        raise ConfigError(f"measured ops not in the WorkTable: {', '.join(missing[:5])}; measure the same model")
    for k, v in densities.items():
        if not 0.0 <= v <= 1.0:
            raise ConfigError(f"measured density {k}={v!r} must be in [0, 1]")
    act = table.columns["act_density"].copy()
    for row, producers in gemm_consumers(table, list(densities)).items():
        act[row] = max(float(np.mean([densities[p] for p in producers])), MIN_DENSITY)
    return dataclasses.replace(table, columns=dict(table.columns, act_density=act))


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError("measuring activation sparsity needs onnxruntime: pip install onnxruntime "
                          "(or declare densities with hwsim.workload.activations.declare)") from None
    return onnxruntime


def _random_inputs(loaded, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One random feed: N(0, 1) floats, ints below the smallest Gather table they index (else 2)."""
    from hwsim.graph.dtypes import DTYPE_BYTES

    limits: dict[str, int] = {}
    for node in loaded.nodes:
        if node.op_type == "Gather" and node.inputs[1] is not None and node.inputs[0] is not None:
            axis = int(node.attrs.get("axis", 0))
            size = node.inputs[0].shape[axis]
            limits[node.inputs[1].name] = min(limits.get(node.inputs[1].name, size), size)
    feed = {}
    for t in loaded.inputs:
        np_dtype = onnx.helper.tensor_dtype_to_np_dtype(_onnx_type(t.dtype))
        if t.dtype in ("fp32", "fp16", "fp64", "bf16"):
            feed[t.name] = rng.standard_normal(t.shape).astype(np_dtype)
        elif t.dtype == "bool":
            feed[t.name] = rng.integers(0, 2, size=t.shape).astype(bool)
        elif t.dtype in DTYPE_BYTES:
            feed[t.name] = rng.integers(0, limits.get(t.name, 2), size=t.shape).astype(np_dtype)
    return feed


def _onnx_type(dtype: str) -> int:
    from hwsim.graph.dtypes import DTYPE_NAMES

    return next(k for k, v in DTYPE_NAMES.items() if v == dtype)


def _measured_ops(loaded, top: set[str]) -> dict:
    """Op name → output TensorInfo of the ReLU-like ops, and of the MaxPools fed by a measured
    op (the max of non-negative values keeps zeros where a whole window is zero)."""
    out, produced = {}, set()
    for n in loaded.nodes:
        feeds = n.inputs and n.inputs[0] is not None and n.inputs[0].name in produced
        if n.outputs and n.outputs[0].name in top and (n.op_type in RELU_LIKE or (n.op_type == "MaxPool" and feeds)):
            out[n.name] = n.outputs[0]
            produced.add(n.outputs[0].name)
    return out


def _with_outputs(model: onnx.ModelProto, tensors: dict[str, str]) -> onnx.ModelProto:
    """Copy of ``model`` whose graph also outputs ``tensors`` (name → hwsim dtype)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    present = {o.name for o in out.graph.output}
    for name, dtype in tensors.items():
        if name not in present:
            out.graph.output.append(onnx.helper.make_tensor_value_info(name, _onnx_type(dtype), None))
    return out


def measure(model, dims: Mapping[str, int] | None = None, n_samples: int = 4, seed: int = 0) -> dict[str, float]:
    """Non-zero fraction of each ReLU-like op's output (op name → density in [0, 1]) over
    ``n_samples`` runs on random inputs (module docstring); deterministic for a given ``seed``.
    ``model``: ModelProto, .onnx path or ``zoo:NAME?weights=random`` (real weights needed)."""
    import hwsim
    from hwsim.graph.read import read_model

    ort = _onnxruntime()
    if n_samples < 1:
        raise ConfigError(f"n_samples {n_samples} must be at least 1")
    raw = read_model(model)
    if raw.missing_weights:
        raise ConfigError(f"{raw.name}: weights not present ({', '.join(raw.missing_weights[:3])}); running it needs "
                          "real weights, e.g. zoo:NAME?weights=random")
    loaded = hwsim.load_model(raw.model, dims=dims)
    top = {o for n in raw.model.graph.node for o in n.output}
    relus = _measured_ops(loaded, top)
    proto = _with_outputs(raw.model, {t.name: t.dtype for t in relus.values()})
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.graph_optimization_level = 1, ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime refuses the graph: say which model
        raise ConfigError(f"{raw.name}: onnxruntime cannot run this model ({exc})") from None
    rng = np.random.default_rng(seed)
    names = [t.name for t in relus.values()]
    nonzero, total = np.zeros(len(names)), np.zeros(len(names))
    for _ in range(n_samples):
        outs = sess.run(names, _random_inputs(loaded, rng))
        nonzero += [np.count_nonzero(o) for o in outs]
        total += [o.size for o in outs]
    return {op: float(nz / max(tot, 1)) for op, nz, tot in zip(relus, nonzero, total)}
