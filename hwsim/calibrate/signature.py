"""Op signatures (``MatMul:m=128,n=768,k=768:fp32``) and the single-op ONNX graphs they name.

A signature is ``<OpType>:<key=int,...>:<dtype>``. It is the unit of a microbenchmark and of
a row in a calibration CSV. :func:`signature_graph` builds the opset-17 graph with the op's
weights as random initializers (so ORT may prepack them, as in a real model) and its
activations as graph inputs. Keys per op (all integers):

* MatMul/Gemm ``m,n,k`` (``b`` batch, default 1); MatMulInteger ``m,n,k`` (uint8 activations ×
  int8 weights → int32, the pattern ORT's dynamic quantisation emits)
* Conv ``n,c,h,w,k`` (out channels), ``r`` kernel, ``s`` stride, ``g`` groups; pads r//2
* unary Relu/Sigmoid/Tanh/Exp/Erf/Clip and binary Add/Mul: ``e`` elements; unary ops take an
  optional ``n``: a chain of n such ops (separates per-op dispatch from per-run overhead);
  binary ops an optional ``c``: the second operand is a constant row of c elements broadcast
  over e / c rows (a bias add or a scale), else a second e-element input (a residual add)
* ReduceMean/Softmax/LayerNormalization ``r,c`` (over the last axis, rows r)

**Chains** (``l``, default 1, on MatMul, Gemm, Conv and MaxPool/AveragePool with ``s=1``, Add,
Mul, Softmax and LayerNormalization): l ops in sequence, each with its own weights, alternating ``k→n`` and
``n→k`` (MatMul/Gemm) or ``c→k`` and ``k→c`` channels (Conv), so that every op of the chain
does the same arithmetic and moves the same bytes. A chain times an op the way it runs inside
a model: the thread pool is already awake and the layout conversions ORT inserts around
NCHWc convolutions (ReorderInput/ReorderOutput) are paid once per chain, not once per op.
Measured on this 2-core VM (ORT 1.23, p10 per op): a 1×1 64-channel 28×28 Conv takes 73 µs
alone and 58 µs inside an 8-chain at 1 thread; at 2 threads the chain speeds up 1.35× while
the lone op ran slower than at 1 thread.
* MaxPool/AveragePool ``n,c,h,w,r,s``; GlobalAveragePool ``n,c,h,w``
* Reshape/Unsqueeze ``e,n``: a chain of n zero-work ops on an e-element input (Reshape between
  ``[e]`` and ``[1, e]``, which ORT merges into one; Unsqueeze/Squeeze pairs on axis 0, which
  it runs): the per-node cost of executed ops without work (``CpuSpec.zero_work_dispatch_s``)
* Transpose ``a,b,c`` (perm 0,2,1) or ``a,b,c,d`` (perm 0,2,1,3: an attention head split, copied in
  runs of d elements, :mod:`hwsim.ops.strided`); Concat ``r,c`` (two r×c → 2r×c); Gather ``v,d,i``
  (i indices into a v×d table); LSTM ``t,b,i,h`` (seq, batch, input, hidden);
  LRN ``n,c,h,w`` (size 5)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from hwsim.errors import ConfigError

_DT = {"fp32": (TensorProto.FLOAT, np.float32), "int8": (TensorProto.INT8, np.int8), "uint8": (TensorProto.UINT8, np.uint8)}
UNARY = ("Relu", "Sigmoid", "Tanh", "Exp", "Erf", "Clip")
BINARY = ("Add", "Mul")
Spec = tuple[list, list, list]  # (nodes, input value infos, initializers)


def parse_signature(sig: str) -> tuple[str, dict[str, int], str]:
    """``"MatMul:m=1,n=2,k=3:fp32"`` → ``("MatMul", {"m": 1, "n": 2, "k": 3}, "fp32")``."""
    parts = sig.strip().split(":")
    if len(parts) != 3 or not parts[0]:
        raise ConfigError(f"op signature {sig!r}: expected OpType:key=value,...:dtype")
    op, body, dtype = parts
    params: dict[str, int] = {}
    for item in filter(None, body.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not value.strip().isdigit():
            raise ConfigError(f"op signature {sig!r}: {item!r} is not key=<positive integer>")
        params[key.strip()] = int(value)
    if op not in BUILDERS:
        raise ConfigError(f"op signature {sig!r}: unknown op {op!r} (known: {', '.join(sorted(BUILDERS))})")
    if dtype not in ("fp32", "int8"):
        raise ConfigError(f"op signature {sig!r}: dtype {dtype!r} not one of fp32, int8")
    return op, params, dtype


def make_signature(op: str, params: dict[str, int], dtype: str = "fp32") -> str:
    """The canonical signature string of ``op`` with ``params``."""
    return f"{op}:{','.join(f'{k}={v}' for k, v in params.items())}:{dtype}"


def signature_graph(sig: str, seed: int = 0) -> onnx.ModelProto:
    """The single-op opset-17 ONNX model a signature names (ConfigError on missing keys)."""
    op, p, dtype = parse_signature(sig)
    rng = np.random.default_rng(seed)
    try:
        nodes, inputs, inits = BUILDERS[op](op, p, dtype, rng)
    except KeyError as exc:
        raise ConfigError(f"op signature {sig!r}: missing key {exc.args[0]!r}") from None
    out_type = TensorProto.INT32 if op == "MatMulInteger" else TensorProto.FLOAT
    outs = [helper.make_tensor_value_info(nodes[-1].output[0], out_type, None)]
    graph = helper.make_graph(nodes, op, inputs, outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _inp(name: str, shape: list[int], dtype: str = "fp32") -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, _DT[dtype][0], shape)


def _w(name: str, shape: list[int], rng: np.random.Generator, dtype: str = "fp32") -> TensorProto:
    if dtype == "int8":
        return numpy_helper.from_array(rng.integers(-8, 8, shape).astype(np.int8), name)
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.05).astype(np.float32), name)


def _matmul(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    a = [p.get("b", 1), p["m"], p["k"]] if p.get("b", 1) > 1 else [p["m"], p["k"]]
    if op == "MatMulInteger":
        return ([helper.make_node("MatMulInteger", ["A", "B"], ["Y"], name="op")],
                [_inp("A", a, "uint8")], [_w("B", [p["k"], p["n"]], rng, "int8")])
    nodes, inits = [], []
    for i, (x, y) in enumerate(_links(p.get("l", 1), "A")):
        dims = [p["k"], p["n"]] if i % 2 == 0 else [p["n"], p["k"]]
        inits.append(_w(f"B{i}", dims, rng))
        if op == "Gemm":
            inits.append(_w(f"C{i}", dims[1:], rng))
        nodes.append(helper.make_node(op, [x, *(w.name for w in inits[-1 - (op == "Gemm"):])], [y], name=f"op{i}"))
    return nodes, [_inp("A", a)], inits


def _links(length: int, first: str) -> list[tuple[str, str]]:
    """(input, output) tensor names of a chain of ``length`` ops from ``first`` to ``Y``."""
    outs = [f"t{i}" for i in range(length - 1)] + ["Y"]
    return list(zip([first, *outs], outs))


def _conv(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    r, s, g, length = p.get("r", 1), p.get("s", 1), p.get("g", 1), p.get("l", 1)
    if length > 1 and s != 1:
        raise ConfigError(f"Conv chain l={length} needs stride s=1 (a strided chain changes the work per op)")
    nodes, inits = [], []
    for i, (x, y) in enumerate(_links(length, "X")):
        cin, cout = (p["c"], p["k"]) if i % 2 == 0 else (p["k"], p["c"])
        inits += [_w(f"W{i}", [cout, cin // g, r, r], rng), _w(f"B{i}", [cout], rng)]
        nodes.append(helper.make_node("Conv", [x, f"W{i}", f"B{i}"], [y], name=f"op{i}", kernel_shape=[r, r],
                                      strides=[s, s], pads=[r // 2] * 4, group=g))
    return nodes, [_inp("X", [p["n"], p["c"], p["h"], p["w"]])], inits


def _eltwise(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    if op in BINARY:
        nodes = [helper.make_node(op, [x, "Z"], [y], name=f"op{i}") for i, (x, y) in enumerate(_links(p.get("l", 1), "X"))]
        if "c" in p:  # broadcast a constant row (a bias or scale) over e / c rows
            return nodes, [_inp("X", [p["e"] // p["c"], p["c"]])], [_w("Z", [p["c"]], rng)]
        return nodes, [_inp("X", [p["e"]]), _inp("Z", [p["e"]])], []
    extra, inits = [], []
    if op == "Clip":
        extra, inits = ["lo", "hi"], [numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi")]
    nodes = [helper.make_node(op, [x, *extra], [y], name=f"op{i}") for i, (x, y) in enumerate(_links(p.get("n", 1), "X"))]
    return nodes, [_inp("X", [p["e"]])], inits


def _rows(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    x = [_inp("X", [p["r"], p["c"]])]
    if op == "ReduceMean":
        return [helper.make_node(op, ["X"], ["Y"], name="op", axes=[-1])], x, []
    links = _links(p.get("l", 1), "X")
    if op == "Softmax":
        return [helper.make_node(op, [a], [y], name=f"op{i}", axis=-1) for i, (a, y) in enumerate(links)], x, []
    nodes = [helper.make_node(op, [a, "S", "B"], [y], name=f"op{i}", axis=-1) for i, (a, y) in enumerate(links)]
    return nodes, x, [_w("S", [p["c"]], rng), _w("B", [p["c"]], rng)]


def _pool(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    x = [_inp("X", [p["n"], p["c"], p["h"], p["w"]])]
    if op == "LRN":
        return [helper.make_node(op, ["X"], ["Y"], name="op", size=5)], x, []
    if op == "GlobalAveragePool":
        return [helper.make_node(op, ["X"], ["Y"], name="op")], x, []
    r, s, length = p.get("r", 3), p.get("s", 2), p.get("l", 1)
    if length > 1 and s != 1:
        raise ConfigError(f"{op} chain l={length} needs stride s=1 (a strided chain changes the work per op)")
    return [helper.make_node(op, [a], [y], name=f"op{i}", kernel_shape=[r, r], strides=[s, s], pads=[r // 2] * 4)
            for i, (a, y) in enumerate(_links(length, "X"))], x, []


def _movement(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    if op == "Transpose" and "d" in p:  # keeps the last axis: copies runs of d elements
        return ([helper.make_node(op, ["X"], ["Y"], name="op", perm=[0, 2, 1, 3])],
                [_inp("X", [p["a"], p["b"], p["c"], p["d"]])], [])
    if op == "Transpose":
        return [helper.make_node(op, ["X"], ["Y"], name="op", perm=[0, 2, 1])], [_inp("X", [p["a"], p["b"], p["c"]])], []
    if op == "Concat":
        return ([helper.make_node(op, ["X", "Z"], ["Y"], name="op", axis=0)],
                [_inp("X", [p["r"], p["c"]]), _inp("Z", [p["r"], p["c"]])], [])
    idx = helper.make_tensor_value_info("I", TensorProto.INT64, [p["i"]])
    return [helper.make_node("Gather", ["T", "I"], ["Y"], name="op", axis=0)], [idx], [_w("T", [p["v"], p["d"]], rng)]


def _shape_chain(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    """n alternating zero-work ops: Reshape [e] <-> [1, e], or Unsqueeze / Squeeze on axis 0."""
    e = p["e"]
    inits = [numpy_helper.from_array(np.array(v, dtype=np.int64), k) for k, v in (("s0", [e]), ("s1", [1, e]), ("ax", [0]))]
    nodes = []
    for i, (x, y) in enumerate(_links(p.get("n", 1), "X")):
        if op == "Reshape":
            nodes.append(helper.make_node("Reshape", [x, "s1" if i % 2 == 0 else "s0"], [y], name=f"op{i}"))
        else:
            nodes.append(helper.make_node("Unsqueeze" if i % 2 == 0 else "Squeeze", [x, "ax"], [y], name=f"op{i}"))
    return nodes, [_inp("X", [e])], inits


def _lstm(op: str, p: dict, dtype: str, rng: np.random.Generator) -> Spec:
    t, b, i, h = p["t"], p["b"], p["i"], p["h"]
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y"], name="op", hidden_size=h)
    return ([node], [_inp("X", [t, b, i])],
            [_w("W", [1, 4 * h, i], rng), _w("R", [1, 4 * h, h], rng), _w("B", [1, 8 * h], rng)])


BUILDERS: dict[str, Callable[..., Spec]] = {
    "MatMul": _matmul, "Gemm": _matmul, "MatMulInteger": _matmul, "Conv": _conv,
    **dict.fromkeys(UNARY + BINARY, _eltwise), **dict.fromkeys(("ReduceMean", "Softmax", "LayerNormalization"), _rows),
    **dict.fromkeys(("MaxPool", "AveragePool", "GlobalAveragePool", "LRN"), _pool),
    **dict.fromkeys(("Transpose", "Concat", "Gather"), _movement), "LSTM": _lstm,
    **dict.fromkeys(("Reshape", "Unsqueeze"), _shape_chain),
}
