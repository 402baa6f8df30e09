#!/usr/bin/env python3
"""Build expected.json for the exported test graphs (independent reference numbers).

NOT part of hwsim. Runs in the onnx-tool throw-away venv, with onnxruntime added:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install onnx==1.23.2 onnx-tool==1.0.1 onnxruntime==1.32.0
    cd tests/data/exported && /tmp/refvenv/bin/python make_expected.py

For every *.onnx here, at the binding in BINDINGS:
  * graph inputs/outputs with their symbolic dim names, opsets, op-type counts;
  * per-node MACs of Conv/ConvTranspose/Gemm/MatMul and their quantized forms (QLinearConv,
    ConvInteger, MatMulInteger, QLinearMatMul, com.microsoft QGemm) and LSTM/GRU/DynamicQuantizeLSTM, in
    hwsim's convention ("pure" multiply-accumulates, no bias):
      Conv N*Cout*prod(out_sp)*(Cin/g)*prod(k); ConvTranspose N*Cin*prod(in_sp)*(Cout/g)*prod(k);
      Gemm M*N*K; MatMul batch*M*N*K; LSTM dirs*seq*batch*4H*(I+H) (gate matmuls only);
      GRU dirs*seq*batch*3H*(I+H).
    `macs_pure` is computed from the ACTUAL tensor shapes observed by running the model in
    onnxruntime at the binding (every intermediate tensor exposed as a graph output);
  * `onnx_tool_raw`: onnx-tool 1.0.1's node.macs[0] after graph.shape_infer(<zero inputs at the
    binding>) + graph.profile(), and `onnx_tool_pure` = raw converted as in ../onnx_tool_macs.json
    (Conv/Gemm: minus outvol if bias input; ConvTranspose rescaled; MatMul as is), asserted equal to
    macs_pure.  When onnx-tool cannot process a file (unsupported contrib ops), the reason is stored in
    `onnx_tool_error` and only the ORT-shape numbers are given;
  * `hand_total`: the total computed by hand from the framework module's layer sizes (formula kept
    as a string), asserted equal to the sum of macs_pure;
  * parameter counts from the framework (torch_params.json / tf2onnx_info.json / paddle2onnx_info.json).
"""
import collections
import glob
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))

BINDINGS = {
    "torch_cnn_dynbatch.onnx": {"batch": 2},
    "torch_cnn_bn_dynbatch.onnx": {"batch": 2},
    "torch_transformer_dynbs.onnx": {"batch": 2, "seq": 16},
    "torch_transformer_dynamo.onnx": {"batch": 2, "seq": 16},
    "torch_lstm_lm_dynbs.onnx": {"batch": 2, "seq": 16},
    "torch_dynamic_ops.onnx": {"batch": 2, "seq": 16},
    "ort_dynq_transformer.onnx": {"batch": 2, "seq": 16},
    "ort_dynq_lstm_lm.onnx": {"batch": 2, "seq": 16},
    "ort_static_qop_cnn.onnx": {"batch": 2},
    "ort_static_qdq_cnn.onnx": {"batch": 2},
    # tf2onnx names the batch dim "unk__<n>" with n varying between runs: bound to 2 via its actual name
    "tf2onnx_keras_cnn_dynbatch.onnx": "batch-dim->2",
    "tf2onnx_keras_flatten_dynbatch.onnx": "batch-dim->2",
    "paddle2onnx_cnn_dynbatch.onnx": {"DynamicDimension.0": 2},
}

# Hand totals from the modules' layer sizes (B = batch, S = seq).
B, S = 2, 16
CNN = ("stem 3->8 k3 @32x32: B*8*32*32*3*9 + conv1,conv2 8->8 k3 @16x16: 2*B*8*16*16*8*9 + "
       "down 8->16 k1 s2 @8x8: B*16*8*8*8 + fc 16->10: B*16*10",
       B * 8 * 1024 * 27 + 2 * B * 8 * 256 * 72 + B * 16 * 64 * 8 + B * 160)
TRF = ("2 layers x [q,k,v,o: 4*B*S*64*64 + QK^T: B*4*S*S*16 + AV: B*4*S*S*16 + ff: B*S*64*128*2]",
       2 * (4 * B * S * 64 * 64 + 2 * B * 4 * S * S * 16 + 2 * B * S * 64 * 128))
LSTM = ("LSTM1: S*B*4*64*(32+64) + LSTM2: S*B*4*64*(64+64) + head: B*S*64*50",
        S * B * 256 * 96 + S * B * 256 * 128 + B * S * 64 * 50)
DYN = ("lin 8->8: B*S*8*8 + conv 8->4 k3 on padded [B,8,2S+2,4] -> [B,4,2S,2]: B*4*(2S*2)*8*9",
       B * S * 64 + B * 4 * (2 * S * 2) * 72)
HAND = {
    "torch_cnn_dynbatch.onnx": CNN, "torch_cnn_bn_dynbatch.onnx": CNN,
    "ort_static_qop_cnn.onnx": CNN, "ort_static_qdq_cnn.onnx": CNN,
    "torch_transformer_dynbs.onnx": TRF, "torch_transformer_dynamo.onnx": TRF, "ort_dynq_transformer.onnx": TRF,
    "torch_lstm_lm_dynbs.onnx": LSTM, "ort_dynq_lstm_lm.onnx": LSTM,
    "torch_dynamic_ops.onnx": DYN,
    "tf2onnx_keras_cnn_dynbatch.onnx": (
        "conv0 3->8 k3 s2 same @16x16 out: B*8*256*27 + depthwise 8 k3 @16x16: B*8*256*1*9 + "
        "pw 8->16 k1: B*16*256*8 + fc 16->10: B*16*10",
        B * 8 * 256 * 27 + B * 8 * 256 * 9 + B * 16 * 256 * 8 + B * 160),
    "tf2onnx_keras_flatten_dynbatch.onnx": (
        "conv 3->4 k3 valid @14x14 out: B*4*196*27 + fc1 196->12: B*196*12 + fc2 3->2: B*3*2",
        B * 4 * 196 * 27 + B * 196 * 12 + B * 3 * 2),
    "paddle2onnx_cnn_dynbatch.onnx": (
        "conv 3->8 k3 p1 @16x16: B*8*256*27 + depthwise 8 k3 p1 @8x8: B*8*64*9 + fc 8->10: B*8*10",
        B * 8 * 256 * 27 + B * 8 * 64 * 9 + B * 80),
}

# op_type -> (index of activation input, index of weight input)
COUNTED = {"Conv": (0, 1), "ConvTranspose": (0, 1), "Gemm": (0, 1), "MatMul": (0, 1),
           "QLinearConv": (0, 3), "ConvInteger": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3),
           "QGemm": (0, 3), "LSTM": (0, 1), "DynamicQuantizeLSTM": (0, 1), "GRU": (0, 1)}
BIAS_INPUT = {"Conv": 2, "ConvTranspose": 2, "Gemm": 2}


def prod(xs):
    return int(np.prod([int(v) for v in xs], dtype=np.int64)) if len(xs) else 1


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def dims(vi):
    return [d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else None)
            for d in vi.type.tensor_type.shape.dim]


def feeds_for(model, binding):
    inits = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        shape = [binding[d] if isinstance(d, str) else d for d in dims(vi)]
        et = vi.type.tensor_type.elem_type
        if et == onnx.TensorProto.INT64:
            feeds[vi.name] = rng.integers(0, 50, shape).astype(np.int64)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def ort_shapes(model, feeds):
    """Run with every node output exposed; return name -> actual shape."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    vals = sess.run(names, feeds)
    shapes = {k: list(v.shape) for k, v in zip(names, vals)}
    for k, v in feeds.items():
        shapes[k] = list(v.shape)
    for i in model.graph.initializer:
        shapes[i.name] = list(i.dims)
    return shapes


def pure_macs(n, shp):
    op = n.op_type
    xi, wi = COUNTED[op]
    x, w = shp[n.input[xi]], shp[n.input[wi]]
    y = shp[n.output[0]] if n.output[0] in shp else None
    if op in ("Conv", "QLinearConv", "ConvInteger"):
        return y[0] * y[1] * prod(y[2:]) * w[1] * prod(w[2:])
    if op == "ConvTranspose":
        return x[0] * x[1] * prod(x[2:]) * w[1] * prod(w[2:])
    if op in ("Gemm", "QGemm"):
        m, k = (x[1], x[0]) if attr(n, "transA", 0) else (x[0], x[1])
        k2, nn = (w[1], w[0]) if attr(n, "transB", 0) else (w[0], w[1])
        assert k == k2
        return m * nn * k
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul"):
        return prod(y) * x[-1]
    if op in ("LSTM", "DynamicQuantizeLSTM", "GRU"):
        layout = attr(n, "layout", 0)
        seq, batch = (x[0], x[1]) if layout == 0 else (x[1], x[0])
        gates = 4 if op != "GRU" else 3
        # W: [dirs, gates*H, I] for LSTM/GRU; DynamicQuantizeLSTM stores W as [dirs, I, 4H]
        dirs = w[0]
        hid = attr(n, "hidden_size", None)
        inp = x[2]
        return dirs * seq * batch * gates * hid * (inp + hid)
    raise ValueError(op)


def onnx_tool_macs(model, feeds):
    import onnx_tool
    m2 = onnx.ModelProto()
    m2.CopyFrom(model)
    for i, n in enumerate(m2.graph.node):
        n.name = f"__idx_{i}"
    otm = onnx_tool.Model(m2, {"verbose": False})
    g = otm.graph
    g.graph_reorder_nodes()
    g.shape_infer({k: v for k, v in feeds.items()})
    g.profile()
    out = {}
    for i, n in enumerate(model.graph.node):
        if n.op_type not in COUNTED:
            continue
        tn = g.nodemap[f"__idx_{i}"]
        out[i] = (int(tn.macs[0]), [int(v) for v in g.tensormap[n.output[0]].get_shape()],
                  [int(v) for v in g.tensormap[n.input[0]].get_shape()])
    return out, int(g.macs[0])


def convert_raw(n, raw, outshape, inshape):
    op = n.op_type
    outvol = prod(outshape)
    bias = outvol if (op in BIAS_INPUT and len(n.input) > BIAS_INPUT[op] and n.input[BIAS_INPUT[op]]) else 0
    nb = raw - bias
    if op == "ConvTranspose":
        return nb * prod(inshape) // (outshape[0] * outshape[1] * prod(outshape[2:]))
    if op in ("Conv", "Gemm", "MatMul", "MatMulInteger"):
        return nb
    return None  # no documented conversion (LSTM etc.: onnx-tool adds bias/elementwise/activation MACs)


def main():
    params = {}
    tp = json.load(open(os.path.join(HERE, "torch_params.json")))
    ti = json.load(open(os.path.join(HERE, "tf2onnx_info.json")))
    src = {
        "torch_cnn_dynbatch.onnx": ("torch", "torch_cnn_dynbatch.onnx"),
        "torch_cnn_bn_dynbatch.onnx": ("torch", "torch_cnn_bn_dynbatch.onnx"),
        "torch_transformer_dynbs.onnx": ("torch", "torch_transformer_dynbs.onnx"),
        "torch_transformer_dynamo.onnx": ("torch", "torch_transformer_dynamo.onnx"),
        "torch_lstm_lm_dynbs.onnx": ("torch", "torch_lstm_lm_dynbs.onnx"),
        "torch_dynamic_ops.onnx": ("torch", "torch_dynamic_ops.onnx"),
        "ort_dynq_transformer.onnx": ("torch", "torch_transformer_dynbs.onnx"),
        "ort_dynq_lstm_lm.onnx": ("torch", "torch_lstm_lm_dynbs.onnx"),
        "ort_static_qop_cnn.onnx": ("torch", "torch_cnn_dynbatch.onnx"),
        "ort_static_qdq_cnn.onnx": ("torch", "torch_cnn_dynbatch.onnx"),
    }
    for f, (_, s) in src.items():
        params[f] = {"framework_params": tp[s]["params"],
                     "source": "PyTorch sum(p.numel() for p in model.parameters()) of the float module"
                               + ("" if f == s else f" ({s}, before quantization)")}
    params["tf2onnx_keras_cnn_dynbatch.onnx"] = {
        "framework_params": ti["params_keras_count_params"],
        "source": "Keras model.count_params() (incl. 32 BN moving mean/var; trainable = %d)" % ti["params_trainable"]}
    params["tf2onnx_keras_flatten_dynbatch.onnx"] = {
        "framework_params": ti["flatten_params"],
        "source": "Keras model.count_params() (Dense biases are zero-initialised; tf2onnx drops the zero Adds)"}

    pi = json.load(open(os.path.join(HERE, "paddle2onnx_info.json")))
    params["paddle2onnx_cnn_dynbatch.onnx"] = {
        "framework_params": pi["params"],
        "source": "Paddle sum(prod(p.shape) for p in net.parameters()) (includes BN mean/variance: 16; trainable 410)"}
    files = {}
    for f in sorted(glob.glob(os.path.join(HERE, "*.onnx"))):
        base = os.path.basename(f)
        model = onnx.load(f)
        binding = BINDINGS[base]
        if binding == "batch-dim->2":
            binding = {model.graph.input[0].type.tensor_type.shape.dim[0].dim_param: 2}
        inits = {i.name for i in model.graph.initializer}
        feeds = feeds_for(model, binding)
        shp = ort_shapes(model, feeds)
        names = [n.name for n in model.graph.node]
        cnt = collections.Counter(names)
        keys = [nm if nm and cnt[nm] == 1 else f"#{i}" for i, nm in enumerate(names)]
        entry = {
            "size_bytes": os.path.getsize(f),
            "producer": f"{model.producer_name} {model.producer_version}".strip(),
            "opset_import": {o.domain or "ai.onnx": o.version for o in model.opset_import},
            "inputs": [{"name": vi.name, "dims": dims(vi),
                        "elem_type": onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type)}
                       for vi in model.graph.input if vi.name not in inits],
            "outputs": [{"name": vi.name, "dims": dims(vi),
                         "shape_at_binding": shp[vi.name]} for vi in model.graph.output],
            "binding": binding,
            "op_types": dict(sorted(collections.Counter(
                (n.domain + "::" if n.domain and n.domain != "ai.onnx" else "") + n.op_type
                for n in model.graph.node).items())),
            "num_nodes": len(model.graph.node),
        }
        entry.update(params[base])
        try:
            ot, ot_total = onnx_tool_macs(model, feeds)
            entry["onnx_tool_graph_total_macs_all_ops"] = ot_total
        except Exception as e:
            ot = None
            entry["onnx_tool_error"] = f"{type(e).__name__}: {e}"[:500]
        nodes = {}
        total = 0
        for i, n in enumerate(model.graph.node):
            if n.op_type not in COUNTED:
                continue
            p = pure_macs(n, shp)
            rec = {"op_type": (n.domain + "::" if n.domain else "") + n.op_type, "macs_pure": p,
                   "input_shape": shp[n.input[COUNTED[n.op_type][0]]],
                   "weight_shape": shp[n.input[COUNTED[n.op_type][1]]],
                   "output_shape": shp[n.output[0]]}
            if ot is not None and i in ot:
                raw, oshape, ishape = ot[i]
                rec["onnx_tool_raw"] = raw
                conv = convert_raw(n, raw, oshape, ishape)
                if conv is not None:
                    rec["onnx_tool_pure"] = conv
                    if conv != p:
                        rec["onnx_tool_mismatch"] = True
                        print("MISMATCH", base, keys[i], n.op_type, raw, conv, p, oshape, shp[n.output[0]])
            nodes[keys[i]] = rec
            total += p
        entry["macs_nodes"] = nodes
        entry["total_macs_pure"] = total
        formula, hand = HAND[base]
        entry["hand_total"] = {"formula": formula, "value": hand}
        assert hand == total, (base, hand, total)
        files[base] = entry
        print(base, total, entry.get("onnx_tool_error", "onnx-tool ok"))
    doc = {
        "generated_by": "tests/data/exported/make_expected.py",
        "command": "/tmp/refvenv/bin/python make_expected.py  (venv: onnx==1.23.2 onnx-tool==1.0.1 onnxruntime==1.32.0)",
        "note": "graph.node indices count Constant nodes too (paddle2onnx stores weights as Constant nodes)",
        "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__,
                     "onnx_tool": __import__("importlib.metadata").metadata.version("onnx-tool"),
                     "numpy": np.__version__},
        "macs_convention": "hwsim pure MACs (no bias): Conv N*Cout*prod(out_sp)*(Cin/g)*prod(k); ConvTranspose "
                           "N*Cin*prod(in_sp)*(Cout/g)*prod(k); Gemm/QGemm M*N*K; MatMul/MatMulInteger/QLinearMatMul "
                           "batch*M*N*K; LSTM/DynamicQuantizeLSTM dirs*seq*batch*4H*(I+H); GRU ...*3H*(I+H). "
                           "macs_pure uses actual shapes from onnxruntime at the binding; onnx_tool_raw/onnx_tool_pure as "
                           "in ../onnx_tool_macs.json (LSTM raw also includes bias, elementwise and activation MACs, no "
                           "conversion given). hand_total is from the framework layer sizes.",
        "node_keys": "node name if non-empty and unique in graph.node, else '#<index in graph.node>'",
        "files": files,
    }
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
