"""LSTM / GRU / RNN / DynamicQuantizeLSTM: hand-computed counts on single-node graphs."""

import numpy as np
import pytest

from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

X = ((5, 2, 3), "fp32")  # seq 5, batch 2, input 3; hidden 4 below


@pytest.mark.parametrize("case, inputs, attrs, macs, flops, params, gemm", [
    # LSTM: MACs = 5·1·2·(4·4)·(3+4) = 1120; per unit/step 22 + bias 4 = 26 → 5·2·4·26 = 1040
    ("lstm_bias", [X, f32(1, 16, 3), f32(1, 16, 4), f32(1, 32)], {}, 1120, 2 * 1120 + 1040, 48 + 64 + 32, (5, 2, 16, 7)),
    # bidirectional, no bias: MACs = 5·2·2·16·7 = 2240; elementwise 5·2·2·4·22 = 1760
    ("lstm_bidir", [X, f32(2, 16, 3), f32(2, 16, 4)], {"direction": "bidirectional"}, 2240, 4480 + 1760, 96 + 128, (10, 2, 16, 7)),
    # peepholes P [1, 12]: per unit 22 + 4 + 6 = 32 → 5·2·4·32 = 1280
    ("lstm_peep", [X, f32(1, 16, 3), f32(1, 16, 4), f32(1, 32), None, None, None, f32(1, 12)], {}, 1120, 2240 + 1280, 144 + 12, (5, 2, 16, 7)),
])
def test_lstm(case, inputs, attrs, macs, flops, params, gemm):
    node, w = count_single("LSTM", inputs, {"hidden_size": 4, **attrs}, n_outputs=3)
    assert (w.macs, w.flops, w.params, w.gemm, w.kind) == (macs, flops, params, gemm, WorkKind.MATMUL)


def test_lstm_layout_batch_first():
    # X [batch 2, seq 5, input 3], layout = 1: same MACs as seq-first, 1120; no bias: 5·2·4·22 = 880
    node, w = count_single("LSTM", [((2, 5, 3), "fp32"), f32(1, 16, 3), f32(1, 16, 4)], {"hidden_size": 4, "layout": 1}, n_outputs=3)
    assert (w.macs, w.flops, w.gemm) == (1120, 2240 + 880, (5, 2, 16, 7))
    assert node.outputs[0].shape == (2, 5, 1, 4)


def test_gru():
    # MACs = 5·2·(3·4)·7 = 840; per unit 17 + bias 3 = 20 → 5·2·4·20 = 800
    node, w = count_single("GRU", [X, f32(1, 12, 3), f32(1, 12, 4), f32(1, 24)], {"hidden_size": 4}, n_outputs=2)
    assert (w.macs, w.flops, w.params, w.gemm) == (840, 1680 + 800, 36 + 48 + 24, (5, 2, 12, 7))


def test_rnn():
    # MACs = 5·2·4·7 = 280; per unit: add 1 + tanh 1 = 2 → 5·2·4·2 = 80
    node, w = count_single("RNN", [X, f32(1, 4, 3), f32(1, 4, 4)], {"hidden_size": 4}, n_outputs=2)
    assert (w.macs, w.flops, w.params) == (280, 560 + 80, 12 + 16)


def test_dynamic_quantize_lstm():
    # W int8 [1, 3, 16], R int8 [1, 4, 16]: MACs 1120; per (step, row): 4·26 (cell + bias)
    # + quantise x,h 4·(3+4) = 28 + dequantise 8·4 = 32 → 164; ×5·2 = 1640
    i8 = lambda *s: np.ones(s, dtype=np.int8)  # noqa: E731
    scale = np.array([0.1], dtype=np.float32)
    zp = np.array([0], dtype=np.int8)
    node, w = count_single("DynamicQuantizeLSTM", [X, i8(1, 3, 16), i8(1, 4, 16), f32(1, 32), None, None, None, None,
                                                   scale, zp, scale, zp],
                           {"hidden_size": 4}, domain="com.microsoft", n_outputs=3)
    assert [o.shape for o in node.outputs] == [(5, 1, 2, 4), (1, 2, 4), (1, 2, 4)]
    assert (w.macs, w.flops, w.params) == (1120, 2240 + 1640, 48 + 64 + 32)
