"""CapsNet (Sabour, Frosst & Hinton 2017, "Dynamic Routing Between Capsules", NeurIPS).

MNIST 28x28: Conv1 9x9 256 ReLU -> PrimaryCaps (conv 9x9 stride 2, 32 maps of 8-D capsules on
6x6 = 1152 capsules) -> squash -> DigitCaps (10 capsules of 16-D; u_hat = W_ij u_i with W
[1152, 10, 16, 8]) with 3 routing iterations unrolled -> optional reconstruction decoder
(fc 512, 1024, 784). Parameters: 8,215,568 with the decoder, 6,804,224 without (the paper's
8.2M and 6.8M, Sec. 5 / Table 1).
"""

from __future__ import annotations

import numpy as np
from onnx import ModelProto, TensorProto

from hwsim.zoo.builder import GraphBuilder, Init
from hwsim.zoo.layers import conv, gemm

CAPS, PRIMARY_DIM, DIGITS, DIGIT_DIM, ROUTING_ITERS = 32 * 6 * 6, 8, 10, 16, 3


def _squash(b: GraphBuilder, s: str, p: str) -> str:
    """v = |s|^2 / (1 + |s|^2) * s / |s| over the last axis (Sabour 2017, Eq. 1)."""
    n2 = b.node("ReduceSum", [b.node("Mul", [s, s], f"{p}.sq"), b.const([-1])], f"{p}.norm2",
                keepdims=1)
    ratio = b.node("Div", [n2, b.node("Add", [n2, b.const(1.0)], f"{p}.one_plus")], f"{p}.ratio")
    norm = b.node("Sqrt", [b.node("Add", [n2, b.const(1e-8)], f"{p}.add_eps")], f"{p}.norm")
    return b.node("Mul", [s, b.node("Div", [ratio, norm], f"{p}.scale")], p)


def _primary_caps(b: GraphBuilder, batch: int) -> str:
    """Conv1 + PrimaryCaps -> squashed u [B, 1152, 8] (capsule = 8 consecutive channels)."""
    x = b.input("input", [batch, 1, 28, 28])
    x = b.node("Relu", [conv(b, x, "conv1", 1, 256, 9, bias=True)], "conv1.relu")
    x = conv(b, x, "primary_caps.conv", 256, 32 * PRIMARY_DIM, 9, stride=2, bias=True)
    x = b.node("Reshape", [x, b.const([batch, 32, PRIMARY_DIM, 6, 6])], "primary_caps.split")
    x = b.node("Transpose", [x], "primary_caps.transpose", perm=[0, 1, 3, 4, 2])
    x = b.node("Reshape", [x, b.const([batch, CAPS, PRIMARY_DIM])], "primary_caps.flatten")
    return _squash(b, x, "primary_caps.squash")


def _predictions(b: GraphBuilder, u: str, batch: int) -> str:
    """u_hat[j|i] = W_ij u_i: broadcast MatMul of W [1152,10,16,8] with u [B,1152,1,8,1]."""
    u = b.node("Reshape", [u, b.const([batch, CAPS, 1, PRIMARY_DIM, 1])], "digit_caps.u")
    w = b.weight("digit_caps.W", [CAPS, DIGITS, DIGIT_DIM, PRIMARY_DIM], Init("normal", 0.01))
    u_hat = b.node("MatMul", [w, u], "digit_caps.u_hat")
    return b.node("Reshape", [u_hat, b.const([batch, CAPS, DIGITS, DIGIT_DIM])],
                  "digit_caps.u_hat.reshape")


def _routing(b: GraphBuilder, u_hat: str) -> str:
    """Routing by agreement (Sabour 2017, Procedure 1), ROUTING_ITERS iterations unrolled."""
    logits = b.const(np.zeros((1, CAPS, DIGITS), np.float32))
    v = ""
    for r in range(ROUTING_ITERS):
        p = f"routing.{r}"
        c = b.node("Softmax", [logits], f"{p}.softmax", axis=2)
        c = b.node("Unsqueeze", [c, b.const([-1])], f"{p}.c")
        s = b.node("ReduceSum", [b.node("Mul", [c, u_hat], f"{p}.weighted"), b.const([1])],
                   f"{p}.s", keepdims=0)
        v = _squash(b, s, f"{p}.squash")
        if r < ROUTING_ITERS - 1:
            vu = b.node("Unsqueeze", [v, b.const([1])], f"{p}.v")
            agree = b.node("ReduceSum", [b.node("Mul", [u_hat, vu], f"{p}.agree_mul"),
                                         b.const([-1])], f"{p}.agreement", keepdims=0)
            logits = b.node("Add", [logits, agree], f"{p}.update")
    return v


def _decoder(b: GraphBuilder, v: str, lengths: str, batch: int) -> str:
    """Mask all but the longest digit capsule, then fc 512 ReLU, 1024 ReLU, 784 Sigmoid."""
    top = b.node("ReduceMax", [lengths], "decoder.max", axes=[1], keepdims=1)
    mask = b.node("Cast", [b.node("Equal", [lengths, top], "decoder.is_max")], "decoder.mask",
                  to=TensorProto.FLOAT)
    mask = b.node("Unsqueeze", [mask, b.const([-1])], "decoder.mask.unsqueeze")
    x = b.node("Mul", [v, mask], "decoder.masked")
    x = b.node("Reshape", [x, b.const([batch, DIGITS * DIGIT_DIM])], "decoder.flatten")
    x = b.node("Relu", [gemm(b, x, "decoder.fc1", DIGITS * DIGIT_DIM, 512)], "decoder.relu1")
    x = b.node("Relu", [gemm(b, x, "decoder.fc2", 512, 1024)], "decoder.relu2")
    return b.node("Sigmoid", [gemm(b, x, "decoder.fc3", 1024, 784)], "decoder.sigmoid",
                  out="reconstruction")


def build_capsnet(b: GraphBuilder, batch: int, decoder: int = 1) -> ModelProto:
    """CapsNet; outputs ``digit_lengths`` [B, 10] (class scores) and, with decoder=1,
    ``reconstruction`` [B, 784]."""
    u = _primary_caps(b, batch)
    v = _routing(b, _predictions(b, u, batch))
    n2 = b.node("ReduceSum", [b.node("Mul", [v, v], "digit_caps.sq"), b.const([-1])],
                "digit_caps.norm2", keepdims=0)
    lengths = b.node("Sqrt", [n2], "digit_caps.length", out="digit_lengths")
    b.output(lengths, [batch, DIGITS])
    if decoder:
        b.output(_decoder(b, v, lengths, batch), [batch, 784])
    return b.model()
