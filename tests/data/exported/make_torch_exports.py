#!/usr/bin/env python3
"""Real PyTorch ONNX exports with dynamic axes (test data for hwsim's loader).

NOT part of hwsim. Run in a throw-away venv (Python 3.11.7):

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /tmp/torchvenv/bin/pip install onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2
    # resolved: torch 2.13.0+cpu, onnx 1.23.2, onnxruntime 1.32.0, onnxscript 0.7.2, onnx-ir 1.1.0, numpy 2.4.6
    cd tests/data/exported && /tmp/torchvenv/bin/python make_torch_exports.py

Writes torch_*.onnx next to this script, and torch_params.json (parameter counts from PyTorch and
layer sizes used for the hand MAC counts).  Weights are seeded (torch.manual_seed(0)).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))


class SmallCNN(nn.Module):
    """conv-bn-relu-maxpool, one residual block, adaptive avg pool, flatten, linear."""

    def __init__(self, c=8, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(c)
        self.pool = nn.MaxPool2d(2)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.down = nn.Conv2d(c, 2 * c, 1, stride=2)  # with bias
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * c, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn0(self.stem(x))))
        r = x
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        x = F.relu(x + r)
        x = F.relu(self.down(x))
        x = torch.flatten(self.gap(x), 1)
        return self.fc(x)


class Block(nn.Module):
    """Hand-written post-LN transformer encoder layer; head split by computed sizes (view/reshape)."""

    def __init__(self, d=64, h=4, ff=128):
        super().__init__()
        self.h = h
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        b, s, d = x.size(0), x.size(1), x.size(2)
        dh = d // self.h
        q = self.q(x).view(b, s, self.h, dh).transpose(1, 2)
        k = self.k(x).view(b, s, self.h, dh).transpose(1, 2)
        v = self.v(x).view(b, s, self.h, dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(dh)
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, s, d)
        x = self.ln1(x + self.o(y))
        x = self.ln2(x + self.ff2(F.gelu(self.ff1(x))))
        return x


class TinyEncoder(nn.Module):
    def __init__(self, d=64, h=4, ff=128, layers=2):
        super().__init__()
        self.layers = nn.ModuleList([Block(d, h, ff) for _ in range(layers)])

    def forward(self, x):
        for l in self.layers:
            x = l(x)
        return x


class LSTMLM(nn.Module):
    def __init__(self, vocab=50, emb=32, hidden=64, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        y, _ = self.lstm(self.emb(tokens))
        return self.head(y)


class DynamicOps(nn.Module):
    """arange(seq) position ids + expand, where, Linear, Resize by scale factor, Pad, Conv."""

    def __init__(self, d=8, max_pos=64):
        super().__init__()
        self.pos = nn.Embedding(max_pos, d)
        self.lin = nn.Linear(d, d)
        self.conv = nn.Conv2d(d, 4, 3)

    def forward(self, x):  # x: [batch, seq, d]
        b, s = x.size(0), x.size(1)
        ids = torch.arange(s, device=x.device).unsqueeze(0).expand(b, s)
        h = x + self.pos(ids)
        h = torch.where(h > 0, h, 0.1 * h)
        h = self.lin(h)                                   # [b, s, d]
        img = h.transpose(1, 2).unsqueeze(-1)             # [b, d, s, 1]
        img = F.interpolate(img, scale_factor=2.0, mode="bilinear", align_corners=False)  # [b, d, 2s, 2]
        img = F.pad(img, (1, 1, 1, 1), mode="constant", value=0.0)                         # [b, d, 2s+2, 4]
        y = self.conv(img)                                # [b, 4, 2s, 2]
        # Resize whose `sizes` input is computed from Shape(x) at run time: [b, 4, 3s, 3]
        return F.interpolate(y, size=(s * 3, 3), mode="nearest")


def nparams(m):
    return sum(p.numel() for p in m.parameters())


def export(model, args, name, input_names, output_names, dynamic_axes, dynamo=False, training=None):
    model.eval()
    path = os.path.join(HERE, name)
    if dynamo:
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=18, dynamo=True, external_data=False)
    else:
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True,
                          training=training if training is not None else torch.onnx.TrainingMode.EVAL)
    return path


def main():
    torch.manual_seed(0)
    info = {}
    cnn = SmallCNN().eval()
    export(cnn, (torch.randn(2, 3, 32, 32),), "torch_cnn_dynbatch.onnx", ["image"], ["logits"],
           {"image": {0: "batch"}, "logits": {0: "batch"}})
    info["torch_cnn_dynbatch.onnx"] = {"params": nparams(cnn), "module": "SmallCNN(c=8, classes=10)"}
    # Same module, TrainingMode.PRESERVE (module still in eval mode): the exporter skips its eval
    # peephole, so Conv+BatchNormalization are NOT fused -> BatchNormalization nodes (training_mode=0).
    export(cnn, (torch.randn(2, 3, 32, 32),), "torch_cnn_bn_dynbatch.onnx", ["image"], ["logits"],
           {"image": {0: "batch"}, "logits": {0: "batch"}}, training=torch.onnx.TrainingMode.PRESERVE)
    info["torch_cnn_bn_dynbatch.onnx"] = {"params": nparams(cnn), "module": "SmallCNN(c=8, classes=10), BN unfused",
                                          "buffers_not_in_params": "BN running_mean/var: 2*(8+8+8) = 48"}

    enc = TinyEncoder().eval()
    export(enc, (torch.randn(2, 16, 64),), "torch_transformer_dynbs.onnx", ["x"], ["y"],
           {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}})
    info["torch_transformer_dynbs.onnx"] = {"params": nparams(enc), "module": "TinyEncoder(d=64, h=4, ff=128, layers=2)"}
    try:
        export(enc, (torch.randn(2, 16, 64),), "torch_transformer_dynamo.onnx", ["x"], ["y"],
               {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}}, dynamo=True)
        info["torch_transformer_dynamo.onnx"] = {"params": nparams(enc),
                                                 "module": "TinyEncoder(d=64, h=4, ff=128, layers=2), dynamo exporter, opset 18"}
    except Exception as e:  # recorded, not fatal
        info["dynamo_error"] = repr(e)[:2000]

    lm = LSTMLM().eval()
    export(lm, (torch.randint(0, 50, (2, 16)),), "torch_lstm_lm_dynbs.onnx", ["tokens"], ["logits"],
           {"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
    info["torch_lstm_lm_dynbs.onnx"] = {"params": nparams(lm), "module": "LSTMLM(vocab=50, emb=32, hidden=64, layers=2)"}

    dyn = DynamicOps().eval()
    export(dyn, (torch.randn(2, 16, 8),), "torch_dynamic_ops.onnx", ["x"], ["y"],
           {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 2: "seq3"}})
    info["torch_dynamic_ops.onnx"] = {"params": nparams(dyn), "module": "DynamicOps(d=8, max_pos=64)"}

    # numerical sanity check vs onnxruntime at a binding different from the export example
    import numpy as np
    import onnxruntime as ort
    checks = {
        "torch_cnn_dynbatch.onnx": (cnn, torch.randn(3, 3, 32, 32)),
        "torch_cnn_bn_dynbatch.onnx": (cnn, torch.randn(3, 3, 32, 32)),
        "torch_transformer_dynbs.onnx": (enc, torch.randn(3, 7, 64)),
        "torch_transformer_dynamo.onnx": (enc, torch.randn(3, 7, 64)),
        "torch_lstm_lm_dynbs.onnx": (lm, torch.randint(0, 50, (3, 7))),
        "torch_dynamic_ops.onnx": (dyn, torch.randn(3, 7, 8)),
    }
    for f, (m, x) in checks.items():
        p = os.path.join(HERE, f)
        if not os.path.exists(p):
            continue
        sess = ort.InferenceSession(p, providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
        with torch.no_grad():
            ref = m(x).numpy()
        err = float(np.max(np.abs(got - ref)))
        info[f]["ort_vs_torch_max_abs_err"] = err
        assert err < 1e-3, (f, err)
    info["torch_version"] = torch.__version__
    with open(os.path.join(HERE, "torch_params.json"), "w") as fh:
        json.dump(info, fh, indent=1)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
