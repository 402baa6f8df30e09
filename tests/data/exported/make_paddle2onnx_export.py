#!/usr/bin/env python3
"""Small Paddle CNN exported with paddle.onnx.export (paddle2onnx), dynamic batch.

NOT part of hwsim. Run in its own throw-away venv (Python 3.11.7):

    python3 -m venv /tmp/paddlevenv
    /tmp/paddlevenv/bin/pip install paddlepaddle paddle2onnx onnx==1.23.2
    # resolved: paddlepaddle 3.3.1, paddle2onnx 2.0.1, onnx 1.23.2, onnxoptimizer 0.3.13, numpy 2.4.6
    cd tests/data/exported && /tmp/paddlevenv/bin/python make_paddle2onnx_export.py

Model: Conv2D(3,8,3,padding=1) -> BatchNorm2D -> ReLU -> MaxPool2D(2) -> Conv2D(8,8,3,groups=8,padding=1)
-> Hardswish -> AdaptiveAvgPool2D(1) -> Flatten -> Linear(8,10); input InputSpec([None,3,16,16]).
"""
import json
import os

import numpy as np
import paddle
import paddle.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2D(8)
        self.pool = nn.MaxPool2D(2)
        self.dw = nn.Conv2D(8, 8, 3, padding=1, groups=8)
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool(nn.functional.relu(self.bn(self.conv(x))))
        x = nn.functional.hardswish(self.dw(x))
        return self.fc(paddle.flatten(self.gap(x), 1))


def main():
    paddle.seed(0)
    net = Net()
    net.eval()
    spec = [paddle.static.InputSpec(shape=[None, 3, 16, 16], dtype="float32", name="image")]
    prefix = os.path.join(HERE, "paddle2onnx_cnn_dynbatch")
    paddle.onnx.export(net, prefix, input_spec=spec, opset_version=17)
    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16)).astype(np.float32)
    np.save("/tmp/pd_ref_in.npy", x)
    np.save("/tmp/pd_ref_out.npy", net(paddle.to_tensor(x)).numpy())
    info = {"paddlepaddle": paddle.__version__,
            "paddle2onnx": __import__("paddle2onnx").__version__,
            "params": int(sum(int(np.prod(p.shape)) for p in net.parameters())),
            "params_note": "sum over net.parameters() (incl. BN mean/variance, which Paddle lists as parameters)"}
    with open(os.path.join(HERE, "paddle2onnx_info.json"), "w") as fh:
        json.dump(info, fh, indent=1)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
