#!/usr/bin/env python3
"""Independent reference MAC counts from onnx-tool for the ONNX models bundled in the onnx wheel.

NOT part of hwsim and NOT an hwsim dependency. Run in a throw-away venv:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install onnx==1.23.2 onnx-tool==1.0.1
    # resolved: onnx 1.23.2, onnx-tool 1.0.1, numpy 2.4.6, protobuf 7.36.2 (Python 3.11.7)
    /tmp/refvenv/bin/python tests/data/make_onnx_tool_macs.py tests/data/onnx_tool_macs.json

Models: every model in onnx/backend/test/data/light/, and every model in
pytorch-converted/ and pytorch-operator/ that contains a Conv, ConvTranspose, Gemm or MatMul node.

For every Conv/ConvTranspose/Gemm/MatMul node we record
  raw  = node.macs[0] as computed by onnx_tool after Graph.shape_infer() + Graph.profile()
  pure = raw converted to hwsim's convention (see CONVENTION below), and we assert that `pure`
         equals an independent formula evaluated on the shapes from onnx.shape_inference
         (with data propagation), so a shape bug in either tool would stop the script.
"""
import collections
import glob
import json
import os
import sys
from importlib.metadata import version as pkg_version

import numpy as np
import onnx
import onnx_tool
from onnx import shape_inference

OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")

CONVENTION = (
    "onnx-tool 1.0.1 (onnx_tool/node.py, MUL_MACS = ADD_MACS = 1) counts, per node, with outvol = "
    "number of elements of output 0: "
    "Conv: raw = outvol * prod(W.shape[1:]) [= N*Cout*prod(out_spatial)*(Cin/group)*prod(kernel)] "
    "+ outvol if the node has a 3rd (bias) input. "
    "ConvTranspose: raw = outvol * prod(W.shape[1:]) + outvol if bias; W is (Cin, Cout/group, k...), so "
    "raw_nobias = N*Cout*prod(out_spatial)*(Cout/group)*prod(kernel), i.e. onnx-tool scales by OUTPUT "
    "positions and output-channels-per-group, which is NOT the true multiply count N*Cin*prod(in_spatial)*"
    "(Cout/group)*prod(kernel) (they coincide only when Cin*prod(in_spatial) == Cout*prod(out_spatial)). "
    "Gemm: raw = outvol * K (K = B.shape[-1] if transB else B.shape[-2]) + outvol if a C input is present "
    "(counted regardless of beta, even beta=0). "
    "MatMul (GemmNode.profile): raw = outvol * B.shape[-2] (= batch*M*N*K) if B has rank >= 2, no bias term. "
    "Conversion to hwsim 'pure multiply-accumulates excluding bias': "
    "Conv: pure = raw - outvol*[has bias]. "
    "Gemm: pure = raw - outvol*[has C] = M*N*K. "
    "MatMul: pure = raw. "
    "ConvTranspose: pure = (raw - outvol*[has bias]) * (N*Cin*prod(in_spatial)) / (N*Cout*prod(out_spatial)) "
    "= N*Cin*prod(in_spatial)*(Cout/group)*prod(kernel). "
    "Every pure value was checked to equal hwsim's formula evaluated on ONNX shape-inference shapes "
    "(Conv N*Cout*prod(out)*(Cin/g)*prod(k); ConvTranspose N*Cin*prod(in)*(Cout/g)*prod(k); Gemm M*N*K; "
    "MatMul batch*M*N*K). 'raw' is onnx-tool's number, 'bias_term' is the outvol it added for bias/C."
)

HAND_CHECKS = [
    "pytorch-converted/test_ConvTranspose2d #0: x[1,3,7,6], W[3,4,3,3], strides [3,2], pads 1, output_padding 1 -> "
    "y[1,4,20,12]; pure = 1*3*(7*6)*4*(3*3) = 4536; onnx-tool raw = 960*4*9 + 960 = 35520 (outvol 960).",
    "pytorch-converted/test_Conv2d_groups #0: x[2,4,6,5], W[6,2,3,2], group 2 -> y[2,6,4,4]; "
    "pure = 2*6*16*2*(3*2) = 2304; raw = 2304 + 192 (bias, outvol 192) = 2496.",
    "light/light_resnet50 n0: x[1,3,224,224], W[64,3,7,7] -> y[1,64,112,112]; pure = raw = 64*112*112*3*49 = 118013952 "
    "(no bias input). n174 Gemm: [1,2048]x[1000,2048]^T -> pure 2048000, raw 2049000 (+1000 for C).",
    "pytorch-operator/test_operator_mm #1: Gemm beta=0 with a Constant C: pure 2*4*3 = 24; onnx-tool still adds 8 -> raw 32.",
]


def prod(xs):
    return int(np.prod([int(x) for x in xs], dtype=np.int64)) if len(xs) else 1


def onnx_shapes(model):
    """name -> static shape (list of int) from ONNX shape inference with data propagation."""
    inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    g = inferred.graph
    out = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            if all(d is not None for d in dims):
                out[vi.name] = dims
    for init in g.initializer:
        out[init.name] = list(init.dims)
    for n in g.node:  # Constant nodes (e.g. weights in old exports)
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    out[n.output[0]] = list(a.t.dims)
    return out


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def hwsim_pure(node, shp):
    """hwsim convention evaluated on ONNX-inferred shapes (independent of onnx-tool)."""
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
        x, w, y = shp[node.input[0]], shp[node.input[1]], shp[node.output[0]]
        if op == "Conv":
            return y[0] * y[1] * prod(y[2:]) * w[1] * prod(w[2:])
        return x[0] * x[1] * prod(x[2:]) * w[1] * prod(w[2:])
    if op == "Gemm":
        a, b = shp[node.input[0]], shp[node.input[1]]
        m, k = (a[1], a[0]) if attr(node, "transA", 0) else (a[0], a[1])
        k2, n = (b[1], b[0]) if attr(node, "transB", 0) else (b[0], b[1])
        assert k == k2
        return m * n * k
    if op == "MatMul":
        a, b, y = shp[node.input[0]], shp[node.input[1]], shp[node.output[0]]
        return prod(y) * a[-1]
    raise ValueError(op)


def run_model(path, rel):
    model = onnx.load(path)
    names = [n.name for n in model.graph.node]
    cnt = collections.Counter(names)
    keys = [nm if nm and cnt[nm] == 1 else f"#{i}" for i, nm in enumerate(names)]
    shp = onnx_shapes(model)
    # Give every node a unique, index-derived name so onnx-tool's nodemap can be mapped back to
    # graph.node indices (names only; the computation is unchanged).
    m2 = onnx.ModelProto()
    m2.CopyFrom(model)
    for i, n in enumerate(m2.graph.node):
        n.name = f"__idx_{i}"
    otm = onnx_tool.Model(m2, {"verbose": False})
    g = otm.graph
    g.graph_reorder_nodes()
    g.shape_infer(None)
    g.profile()
    res = {}
    total = 0
    total_raw = 0
    for i, n in enumerate(model.graph.node):
        if n.op_type not in OPS:
            continue
        tn = g.nodemap[f"__idx_{i}"]
        raw = int(tn.macs[0])
        outshape = [int(v) for v in g.tensormap[n.output[0]].get_shape()]
        inshape = [int(v) for v in g.tensormap[n.input[0]].get_shape()]
        wshape = [int(v) for v in g.tensormap[n.input[1]].get_shape()]
        outvol = prod(outshape)
        has_bias = len(n.input) > 2 and n.op_type in ("Conv", "ConvTranspose", "Gemm")
        bias_term = outvol if has_bias else 0
        nobias = raw - bias_term
        if n.op_type == "ConvTranspose":
            num = inshape[0] * inshape[1] * prod(inshape[2:])
            den = outshape[0] * outshape[1] * prod(outshape[2:])
            assert (nobias * num) % den == 0
            pure = nobias * num // den
        else:
            pure = nobias
        indep = hwsim_pure(n, shp)
        # shapes agree between the two tools
        assert outshape == shp[n.output[0]], (rel, i, outshape, shp[n.output[0]])
        assert pure == indep, (rel, i, n.op_type, raw, pure, indep)
        res.setdefault(n.op_type, {})[keys[i]] = {
            "macs_pure": pure,
            "onnx_tool_raw": raw,
            "bias_term": bias_term,
            "input_shape": inshape,
            "weight_shape": wshape,
            "output_shape": outshape,
        }
        total += pure
        total_raw += raw
    res["total_conv_matmul_macs"] = total
    res["total_onnx_tool_raw"] = total_raw
    res["onnx_tool_graph_total_macs_all_ops"] = int(g.macs[0])
    return res


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "onnx_tool_macs.json"
    base = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    files = sorted(glob.glob(os.path.join(base, "light", "*.onnx")))
    for d in ("pytorch-converted", "pytorch-operator"):
        for f in sorted(glob.glob(os.path.join(base, d, "*", "model.onnx"))):
            if any(n.op_type in OPS for n in onnx.load(f).graph.node):
                files.append(f)
    models = {}
    for f in files:
        rel = os.path.relpath(f, base)
        models[rel] = run_model(f, rel)
        print(rel, models[rel]["total_conv_matmul_macs"], file=sys.stderr)
    doc = {
        "tool": "onnx-tool",
        "version": pkg_version("onnx-tool"),
        "onnx_version": onnx.__version__,
        "numpy_version": np.__version__,
        "models_root": "onnx/backend/test/data/ (inside the onnx %s wheel)" % onnx.__version__,
        "command": "python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install onnx==1.23.2 onnx-tool==1.0.1 && "
                   "/tmp/refvenv/bin/python tests/data/make_onnx_tool_macs.py tests/data/onnx_tool_macs.json",
        "script": "tests/data/make_onnx_tool_macs.py (onnx_tool.Model(model) -> graph.graph_reorder_nodes(); "
                  "graph.shape_infer(None); graph.profile(); node.macs[0] per node)",
        "node_keys": "node name if non-empty and unique in graph.node, else '#<index in graph.node>'",
        "convention": CONVENTION,
        "hand_checks": HAND_CHECKS,
        "models": models,
    }
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
