"""Epilogue fusion and blocked-layout conversions: which rows the counter marks, and what a CPU
that fuses / runs NCHWc charges for them. Expected values are hand-derived from the rules in
hwsim/ops/epilogue.py and hwsim/ops/layout.py (which follow ORT's optimised graphs)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import hwsim
from hwsim.devices.cpu import CpuModel, layout_s
from hwsim.devices.library import load_device_spec
from hwsim.ops.epilogue import FOLDED_INTO_WEIGHTS, IN_EPILOGUE


def _model(nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def _w(name, shape):
    return numpy_helper.from_array(np.full(shape, 0.01, dtype=np.float32), name)


def _table(nodes, inputs, outputs, inits):
    return hwsim.count_work(hwsim.load_model(_model(nodes, inputs, outputs, inits)))


def conv(x, y, cin, cout, name):
    return helper.make_node("Conv", [x, f"{name}_w"], [y], name=name, kernel_shape=[1, 1]), _w(f"{name}_w", [cout, cin, 1, 1])


def test_conv_bn_relu_and_residual():
    c1, w1 = conv("X", "a", 16, 16, "c1")
    bn = helper.make_node("BatchNormalization", ["a", "s", "b", "m", "v"], ["bn"], name="bn")
    relu = helper.make_node("Relu", ["bn"], ["r"], name="relu")
    add = helper.make_node("Add", ["r", "X"], ["Y"], name="res")  # two live inputs: a residual, not fused
    stats = [_w(n, [16]) for n in "sbmv"]
    t = _table([c1, bn, relu, add], [("X", [1, 16, 8, 8])], ["Y"], [w1, *stats])
    assert dict(zip(t.name, t.columns["epilogue"])) == {"c1": 0.0, "bn": FOLDED_INTO_WEIGHTS, "relu": IN_EPILOGUE, "res": 0.0}


def test_shared_output_and_matmul_bias():
    c1, w1 = conv("X", "a", 16, 16, "c1")
    r1 = helper.make_node("Relu", ["a"], ["y1"], name="r1")  # a has two readers: no fusion
    r2 = helper.make_node("Sigmoid", ["a"], ["y2"], name="r2")
    t = _table([c1, r1, r2], [("X", [1, 16, 4, 4])], ["y1", "y2"], [w1])
    assert t.columns["epilogue"].tolist() == [0.0, 0.0, 0.0]
    mm = helper.make_node("MatMul", ["A", "B"], ["m"], name="mm")
    bias = helper.make_node("Add", ["m", "C"], ["Y"], name="bias")
    t = _table([mm, bias], [("A", [4, 8])], ["Y"], [_w("B", [8, 8]), _w("C", [8])])
    assert t.columns["epilogue"].tolist() == [0.0, IN_EPILOGUE]  # Gemm applies the bias per output tile


def test_fused_rows_cost_on_a_fusing_cpu():
    c1, w1 = conv("X", "a", 16, 16, "c1")
    bn = helper.make_node("BatchNormalization", ["a", "s", "b", "m", "v"], ["bn"], name="bn")
    relu = helper.make_node("Relu", ["bn"], ["Y"], name="relu")
    t = _table([c1, bn, relu], [("X", [1, 16, 32, 32])], ["Y"], [w1, *[_w(n, [16]) for n in "sbmv"]])
    base = load_device_spec("xeon-8380")
    plain = CpuModel(base).price(t)
    fused = CpuModel(base.model_copy(update={"fuse_epilogues": True})).price(t)
    assert fused.latency_s[1] == 0.0 and plain.latency_s[1] > 0.0  # BN folded into the weights
    assert fused.overhead_s[2] == 0.0 and fused.memory_s[2] == pytest.approx(plain.memory_s[2])  # Relu: no launch, same pass
    assert fused.latency_s[0] == pytest.approx(plain.latency_s[0])


def test_channel_shuffle_needs_conversions():
    """Conv(16) -> Reshape -> Transpose -> Reshape -> Conv(16): the first Reshape reads a blocked tensor
    (ReorderOutput), the second Conv a plain one (ReorderInput), and the graph output is converted back."""
    c1, w1 = conv("X", "a", 16, 16, "c1")
    shape1 = numpy_helper.from_array(np.array([1, 4, 4, 8, 8], dtype=np.int64), "s1")
    shape2 = numpy_helper.from_array(np.array([1, 16, 8, 8], dtype=np.int64), "s2")
    nodes = [c1, helper.make_node("Reshape", ["a", "s1"], ["r"], name="r1"),
             helper.make_node("Transpose", ["r"], ["t"], name="tr", perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t", "s2"], ["u"], name="r2")]
    c2, w2 = conv("u", "Y", 16, 16, "c2")
    t = _table(nodes + [c2], [("X", [1, 16, 8, 8])], ["Y"], [w1, w2, shape1, shape2])
    tensor = 16 * 8 * 8 * 4.0  # bytes of each converted fp32 tensor
    ops = dict(zip(t.name, t.columns["layout_ops"]))
    assert ops == {"c1": 1.0, "r1": 1.0, "tr": 0.0, "r2": 0.0, "c2": 2.0}  # c1: X in; c2: u in + Y out
    assert t.columns["layout_bytes"].sum() == 4 * tensor
    spec = load_device_spec("xeon-8380").model_copy(update={"zero_work_dispatch_s": 1e-6})
    assert layout_s(spec, t).sum() == 0.0  # a CPU without blocked layouts pays nothing
    blocked = spec.model_copy(update={"blocked_layout": True})
    l1 = spec.caches[0]
    assert layout_s(blocked, t)[4] == pytest.approx(2e-6 + 2 * 2 * tensor / l1.bw_bytes_per_s)


def test_few_input_channels_read_plain_input():
    """A 3-channel stem conv reads NCHW directly (ORT's NCHW-input convolution): no ReorderInput."""
    c1, w1 = conv("X", "Y", 3, 16, "c1")
    t = _table([c1], [("X", [1, 3, 16, 16])], ["Y"], [w1])
    assert t.columns["layout_ops"].tolist() == [1.0]  # only the graph output converted back
    assert t.columns["layout_bytes"].tolist() == [16 * 16 * 16 * 4.0]


def test_nchw_input_marks_only_convs_reading_a_plain_few_channel_tensor():
    """3→16 on the graph input: NCHW-input kernel. 16→8 reads a blocked tensor: NCHWc kernel. A
    conv reading a 16-channel plain tensor gets a ReorderInput and the NCHWc kernel too."""
    c1, w1 = conv("X", "Y", 3, 16, "c1")
    c2, w2 = conv("Y", "Z", 16, 8, "c2")
    t = _table([c1, c2], [("X", [1, 3, 16, 16])], ["Z"], [w1, w2])
    assert t.columns["nchw_input"].tolist() == [1.0, 0.0]
    c3, w3 = conv("X", "Y", 16, 16, "c3")
    assert _table([c3], [("X", [1, 16, 16, 16])], ["Y"], [w3]).columns["nchw_input"].tolist() == [0.0]


def test_nchw_input_curve_follows_taps_and_pays_for_padded_output_channels():
    """Conv/nchw_input efficiency = pf · K / (K + K½) · k / ceil16(k), K = c·r·r taps: 3→8 (half a
    block of outputs) runs at half the efficiency of 3→16 for the same taps."""
    from hwsim.config.devices import Efficiency
    from hwsim.devices.cpu import curve_keys, op_efficiency

    c1, w1 = conv("X", "Y", 3, 16, "c1")
    c2, w2 = conv("X2", "Y2", 3, 8, "c2")
    t = _table([c1, c2], [("X", [1, 3, 16, 16]), ("X2", [1, 3, 32, 32])], ["Y", "Y2"], [w1, w2])
    assert curve_keys(t).tolist() == ["Conv/nchw_input"] * 2
    spec = load_device_spec("cpu-generic").model_copy(
        update={"op_efficiency": {"Conv/nchw_input": Efficiency(peak_fraction=0.8, half_work_flops=3.0)}})
    eff = op_efficiency(spec, t)
    assert eff.tolist() == pytest.approx([0.8 * 3 / (3 + 3), 0.8 * 3 / (3 + 3) * 8 / 16])  # 1×1, c=3: 3 taps
