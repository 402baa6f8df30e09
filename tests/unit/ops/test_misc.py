"""Random, NMS, signal, Det, AffineGrid, training and remaining default-domain ops."""

import os

import numpy as np
import onnx
import pytest

import hwsim
from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.ops import count_node
from hwsim.ops.registry import lookup
from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

TRAIN = "ai.onnx.preview.training"


@pytest.mark.parametrize("op, inputs, attrs, flops, read", [
    ("RandomNormal", [], {"shape": [2, 3]}, 36, 0),            # 6 per element
    ("RandomUniformLike", [((2, 3), "fp32")], {}, 18, 0),      # 3 per element, input read for shape only
    ("Bernoulli", [((2, 3), "fp32")], {}, 12, 24),             # draw + compare; probabilities read
    ("Multinomial", [((2, 5), "fp32")], {"sample_size": 3}, 6 * 10 + 6 * (1 + 3), 40),  # softmax+cumsum, draw + search
])
def test_random(op, inputs, attrs, flops, read):
    _, w = count_single(op, inputs, attrs)
    assert (w.flops, w.bytes_read) == (flops, read)


def test_nms_worst_case():
    # n = 4 boxes, 2 classes: 4 threshold + 4·2 sort + 12 areas + 13·6 IoUs = 102 per class → 204
    node, w = count_single("NonMaxSuppression", [((1, 4, 4), "fp32"), ((1, 2, 4), "fp32")])
    assert w.flops == 204 and node.outputs[0].shape == (8, 3)


def test_dft_stft():
    # DFT: 2 real transforms of length 8: 2 · 2.5·8·3 = 120
    _, w = count_single("DFT", [((2, 8, 1), "fp32")], opset=17)
    assert w.flops == 120
    # STFT: 16 samples, frames of 8 every 4 → 3 frames × (window 8 + 2.5·8·3) = 204
    _, w = count_single("STFT", [((1, 16, 1), "fp32"), np.array(4, np.int64), f32(8)], opset=17)
    assert w.flops == 204


def test_window_ops_counted_and_folded():
    node = OpNode("w", "HannWindow", "", 17, (TensorInfo("n", (), "int64"),), (TensorInfo("y", (8,), "fp32"),), {})
    assert lookup("HannWindow")(node).flops == 40  # 5 per element
    node = OpNode("w", "BlackmanWindow", "", 17, (TensorInfo("n", (), "int64"),), (TensorInfo("y", (8,), "fp32"),), {})
    assert lookup("BlackmanWindow")(node).flops == 72
    # with a constant size the window is computed at load time: zero work per inference
    _, w = count_single("HannWindow", [np.array(8, np.int64)])
    assert (w.flops, w.kind) == (0, WorkKind.NONE)


def test_det_affine_grid():
    # 3 matrices 4×4: 3·(2·64/3 + 4) = 140
    _, w = count_single("Det", [((3, 4, 4), "fp32")])
    assert w.flops == pytest.approx(140)
    # 2D grid: 2·4·5 = 40 points, k = 2: FLOPs 40·(6 + 8) = 560, MACs 40·4 = 160
    node, w = count_single("AffineGrid", [((2, 2, 3), "fp32"), np.array([2, 1, 4, 5], np.int64)], opset=20)
    assert node.outputs[0].shape == (2, 4, 5, 2) and (w.flops, w.macs) == (560, 160)


def test_optimizers():
    r, t = np.array(0.1, np.float32), np.array(1, np.int64)
    # Adam on 3 elements: 14 each = 42
    _, w = count_single("Adam", [r, t, ((3,), "fp32"), ((3,), "fp32"), ((3,), "fp32"), ((3,), "fp32")], {},
                        domain=TRAIN, n_outputs=3)
    assert w.flops == 42
    # Momentum on 4 elements: 7 each = 28
    _, w = count_single("Momentum", [r, t, ((4,), "fp32"), ((4,), "fp32"), ((4,), "fp32")],
                        {"alpha": 0.9, "beta": 0.1, "mode": "standard", "norm_coefficient": 0.0}, domain=TRAIN, n_outputs=2)
    assert w.flops == 28


def test_gradient_wheel_model():
    path = os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/simple/test_gradient_of_add/model.onnx")
    loaded = hwsim.load_model(path)
    node = next(n for n in loaded.nodes if n.op_type == "Gradient")
    w = count_node(node)
    assert [o.shape for o in node.outputs] == [(), ()]
    assert w.flops == 4 and w.notes  # 2 per gradient element, flagged as a lower bound


@pytest.mark.parametrize("op, inputs, attrs, opset, n_out, flops, macs, rw", [
    ("SwiGLU", [((2, 3), "fp32"), ((2, 3), "fp32")], {}, 28, 1, 42, 0, (48, 24)),      # 7 per element
    ("BitCast", [((2, 3), "fp32")], {"to": 6}, 26, 1, 0, 0, (0, 0)),
    ("TensorScatter", [((1, 2, 8, 4), "fp32"), ((1, 2, 3, 4), "fp32")], {}, 24, 1, 0, 0, (96, 96)),  # update in place
    # depthwise causal conv: 4 channels × 10 positions × k 3 = 120 MACs; + bias 40
    ("CausalConvWithState", [((1, 4, 10), "fp32"), f32(4, 1, 3), f32(4)], {}, 27, 2, 280, 120, None),
])
def test_new_default_ops(op, inputs, attrs, opset, n_out, flops, macs, rw):
    _, w = count_single(op, inputs, attrs, opset=opset, n_outputs=n_out)
    assert (w.flops, w.macs) == (flops, macs)
    if rw is not None:
        assert (w.bytes_read, w.bytes_written) == rw
