"""Convolutional networks and the MNIST MLP, with the published dimensions.

Layouts and parameter names follow torchvision (``layer3.1.conv2``, ``features.4.conv.1``) so
per-op tables line up with the models people actually export.
"""

from __future__ import annotations

from onnx import ModelProto

from hwsim.zoo.builder import GraphBuilder
from hwsim.zoo.layers import batch_norm, conv, gemm


def build_mlp(b: GraphBuilder, batch: int) -> ModelProto:
    """784-256-256-10 ReLU MLP on flattened 28x28 MNIST digits (a classic MNIST baseline)."""
    x = b.input("input", [batch, 784])
    dims = [784, 256, 256, 10]
    for i, (fin, fout) in enumerate(zip(dims, dims[1:], strict=False)):
        last = i == len(dims) - 2
        x = gemm(b, x, f"fc{i + 1}", fin, fout, out="logits" if last else None)
        if not last:
            x = b.node("Relu", [x], f"relu{i + 1}")
    b.output(x, [batch, 10])
    return b.model()


def build_lenet5(b: GraphBuilder, batch: int) -> ModelProto:
    """LeNet-5 (LeCun et al. 1998, Proc. IEEE, Fig. 2) on a 32x32x1 input.

    C1 conv5x5 6 -> S2 2x2 average pool -> C3 conv5x5 16 -> S4 pool -> C5 conv5x5 120
    (a 1x1 map, i.e. fully connected) -> F6 84 -> 10 outputs, tanh squashing. C3 is fully
    connected (modern practice) rather than the paper's sparse table, and the RBF output layer
    is a linear layer, so the count is 61,706 parameters (the paper's sparse C3 gives ~60k).
    """
    x = b.input("input", [batch, 1, 32, 32])
    for i, (cin, cout) in enumerate([(1, 6), (6, 16)]):
        x = b.node("Tanh", [conv(b, x, f"c{2 * i + 1}", cin, cout, 5, bias=True)],
                   f"c{2 * i + 1}.tanh")
        x = b.node("AveragePool", [x], f"s{2 * i + 2}", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Tanh", [conv(b, x, "c5", 16, 120, 5, bias=True)], "c5.tanh")
    x = b.node("Flatten", [x], "flatten", axis=1)
    x = b.node("Tanh", [gemm(b, x, "f6", 120, 84)], "f6.tanh")
    b.output(gemm(b, x, "output", 84, 10, out="logits"), [batch, 10])
    return b.model()


def _conv_bn(b: GraphBuilder, x: str, p: str, bn: str, cin: int, cout: int, k: int,
             stride: int = 1, group: int = 1, act: str | None = "Relu") -> str:
    """Conv (no bias) + BatchNormalization (+ Relu, or ReLU6 as Clip(0, 6))."""
    y = batch_norm(b, conv(b, x, p, cin, cout, k, stride, k // 2, group), bn, cout)
    if act == "Relu":
        return b.node("Relu", [y], f"{p}.relu")
    if act == "Relu6":
        return b.node("Clip", [y, b.const(0.0), b.const(6.0)], f"{p}.relu6")
    return y


def _stem(b: GraphBuilder, batch: int) -> str:
    x = b.input("input", [batch, 3, 224, 224])
    x = _conv_bn(b, x, "conv1", "bn1", 3, 64, 7, stride=2)
    return b.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)


def _residual(b: GraphBuilder, x: str, y: str, p: str, cin: int, cout: int, stride: int) -> str:
    """Add the (projected, when shapes change) shortcut, then ReLU."""
    if stride != 1 or cin != cout:
        x = _conv_bn(b, x, f"{p}.downsample.0", f"{p}.downsample.1", cin, cout, 1, stride,
                     act=None)
    return b.node("Relu", [b.node("Add", [y, x], f"{p}.add")], f"{p}.relu_out")


def _basic(b: GraphBuilder, x: str, p: str, cin: int, width: int, stride: int) -> str:
    """ResNet basic block: 3x3 conv, 3x3 conv (He et al. 2016, Table 1)."""
    y = _conv_bn(b, x, f"{p}.conv1", f"{p}.bn1", cin, width, 3, stride)
    y = _conv_bn(b, y, f"{p}.conv2", f"{p}.bn2", width, width, 3, act=None)
    return _residual(b, x, y, p, cin, width, stride)


def _bottleneck(b: GraphBuilder, x: str, p: str, cin: int, width: int, stride: int) -> str:
    """ResNet bottleneck 1x1-3x3-1x1 x4 expansion, stride on the 3x3 (torchvision v1.5)."""
    y = _conv_bn(b, x, f"{p}.conv1", f"{p}.bn1", cin, width, 1)
    y = _conv_bn(b, y, f"{p}.conv2", f"{p}.bn2", width, width, 3, stride)
    y = _conv_bn(b, y, f"{p}.conv3", f"{p}.bn3", width, 4 * width, 1, act=None)
    return _residual(b, x, y, p, cin, 4 * width, stride)


def build_resnet(b: GraphBuilder, batch: int, depth: int) -> ModelProto:
    """ResNet-18 / ResNet-50 (He et al. 2016, CVPR, Table 1), torchvision layout, 224x224."""
    block, blocks, expansion = {18: (_basic, [2, 2, 2, 2], 1),
                                50: (_bottleneck, [3, 4, 6, 3], 4)}[depth]
    x, cin = _stem(b, batch), 64
    for stage, n in enumerate(blocks):
        width = 64 * 2**stage
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            x = block(b, x, f"layer{stage + 1}.{i}", cin, width, stride)
            cin = width * expansion
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x], "avgpool")], "flatten", axis=1)
    b.output(gemm(b, x, "fc", cin, 1000, out="logits"), [batch, 1000])
    return b.model()


#: MobileNetV2 inverted-residual settings (t, c, n, s), Sandler et al. 2018, Table 2.
_MBV2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
         (6, 160, 3, 2), (6, 320, 1, 1)]


def _inverted_residual(b: GraphBuilder, x: str, p: str, cin: int, cout: int, t: int,
                       stride: int) -> str:
    """Expand 1x1 (ReLU6) -> depthwise 3x3 (ReLU6) -> linear 1x1 projection (+ residual)."""
    hidden, y, i = cin * t, x, 0
    if t != 1:
        y = _conv_bn(b, y, f"{p}.conv.0.0", f"{p}.conv.0.1", cin, hidden, 1, act="Relu6")
        i = 1
    y = _conv_bn(b, y, f"{p}.conv.{i}.0", f"{p}.conv.{i}.1", hidden, hidden, 3, stride,
                 group=hidden, act="Relu6")
    y = _conv_bn(b, y, f"{p}.conv.{i + 1}", f"{p}.conv.{i + 2}", hidden, cout, 1, act=None)
    if stride == 1 and cin == cout:
        y = b.node("Add", [x, y], f"{p}.add")
    return y


def build_mobilenetv2(b: GraphBuilder, batch: int) -> ModelProto:
    """MobileNetV2 width 1.0 at 224x224 (Sandler et al. 2018, CVPR, Table 2), torchvision."""
    x = b.input("input", [batch, 3, 224, 224])
    x = _conv_bn(b, x, "features.0.0", "features.0.1", 3, 32, 3, 2, act="Relu6")
    cin, idx = 32, 1
    for t, c, n, s in _MBV2:
        for i in range(n):
            x = _inverted_residual(b, x, f"features.{idx}", cin, c, t, s if i == 0 else 1)
            cin, idx = c, idx + 1
    x = _conv_bn(b, x, f"features.{idx}.0", f"features.{idx}.1", cin, 1280, 1, act="Relu6")
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x], "avgpool")], "flatten", axis=1)
    b.output(gemm(b, x, "classifier.1", 1280, 1000, out="logits"), [batch, 1000])
    return b.model()


#: VGG configuration D (Simonyan & Zisserman 2015, ICLR, Table 1); "M" is a 2x2 max pool.
_VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"]


def build_vgg16(b: GraphBuilder, batch: int) -> ModelProto:
    """VGG-16 (config D) with fc 4096-4096-1000, 224x224, torchvision names."""
    x, cin = b.input("input", [batch, 3, 224, 224]), 3
    for i, v in enumerate(_VGG16):
        if v == "M":
            x = b.node("MaxPool", [x], f"features.{i}", kernel_shape=[2, 2], strides=[2, 2])
        else:
            x = b.node("Relu", [conv(b, x, f"features.{i}", cin, v, 3, pad=1, bias=True)],
                       f"features.{i}.relu")
            cin = v
    x = b.node("Flatten", [x], "flatten", axis=1)
    for i, (fin, fout) in enumerate([(512 * 7 * 7, 4096), (4096, 4096)]):
        x = b.node("Relu", [gemm(b, x, f"classifier.{3 * i}", fin, fout)],
                   f"classifier.{3 * i + 1}")
    b.output(gemm(b, x, "classifier.6", 4096, 1000, out="logits"), [batch, 1000])
    return b.model()
