"""quantize: format per work kind; bytes, dtype and requantise/convert epilogues by hand."""

from __future__ import annotations

import numpy as np
import pytest

import hwsim
from hwsim.errors import ConfigError
from hwsim.workload.quantize import cast_dtype, parse_format, quantize


@pytest.fixture(scope="module")
def mlp():
    """784-256-256-10 MLP, batch 1, fp32: fc1 → relu1 → fc2 → relu2 → fc3 (Gemm, transB=1)."""
    return hwsim.count_work(hwsim.load_model("zoo:mlp?batch=1"))


def row(table, name):
    i = list(table.name).index(name)
    return {k: v[i] for k, v in table.columns.items()} | {"dtype": table.dtype[i]}


def test_int8_gemms_fp16_rest_by_hand(mlp):
    q = quantize(mlp, {"matmul": "int8", "default": "fp16"})
    assert list(q.dtype) == ["int8", "fp16", "int8", "fp16", "int8"]
    fc1, relu1 = row(q, "fc1"), row(q, "relu1")
    # fc1: x[1,784] + W[256,784] + b[256] read; y[1,256] written; fp32 -> int8 = 1/4
    assert fc1["const_bytes"] == (256 * 784 + 256) * 1
    assert fc1["bytes_read"] == 784 + 256 * 784 + 256
    assert fc1["bytes_written"] == 256
    assert fc1["weight_bytes"] == (256 * 784 + 256) * 1
    # flops: 2·MACs + bias, + requantise 2/output, + dequantise to the fp16 Relu 2/output
    assert fc1["flops"] == 2 * 784 * 256 + 256 + 2 * 256 + 2 * 256
    # relu1: fp16 (2 bytes), 1 flop/elem + quantise its output for the int8 fc2: 4/elem
    assert relu1["bytes_read"] == relu1["bytes_written"] == 256 * 2
    assert relu1["flops"] == 256 + 4 * 256
    fc3 = row(q, "fc3")  # the graph output: no consumer, requantise only
    assert fc3["flops"] == 2 * 256 * 10 + 10 + 2 * 10
    assert np.array_equal(q.columns["macs"], mlp.columns["macs"])


def test_single_format_everywhere_has_no_conversions(mlp):
    q = quantize(mlp, {"default": "fp16"})
    assert np.array_equal(q.columns["flops"], mlp.columns["flops"])
    half = cast_dtype(mlp, "fp16")
    for key in ("bytes_read", "bytes_written", "weight_bytes"):
        assert np.allclose(q.columns[key], half.columns[key])


def test_float_to_float_change_costs_one_per_element(mlp):
    q = quantize(mlp, {"matmul": "bf16"})  # relus stay fp32
    assert row(q, "fc1")["flops"] == mlp.columns["flops"][0] + 256 * 1  # bf16 -> fp32 Cast
    assert row(q, "relu1")["flops"] == 256 + 256  # fp32 -> bf16 for fc2


def test_weight_only_int4_with_fp16_activations(mlp):
    q = quantize(mlp, {"matmul": "int4:fp16", "default": "fp16"})
    fc1 = row(q, "fc1")
    assert fc1["dtype"] == "fp16"  # arithmetic in fp16 on dequantised weights
    weights = 256 * 784 + 256
    assert fc1["const_bytes"] == weights * 0.5
    assert fc1["bytes_read"] == weights * 0.5 + 784 * 2
    assert fc1["bytes_written"] == 256 * 2
    assert fc1["flops"] == 2 * 784 * 256 + 256 + 2 * weights  # dequantise every weight once
    assert row(q, "relu1")["flops"] == 256  # fp16 on both sides: no conversion
    assert np.array_equal(quantize(mlp, {"matmul": "w4a16", "default": "fp16"}).columns["flops"], q.columns["flops"])


def test_pass_through_rows_follow_their_producer():
    table = hwsim.count_work(hwsim.load_model("zoo:lenet5?batch=1"))
    q = quantize(table, {"conv": "int8", "matmul": "int8"})
    flat = list(table.name).index("flatten")
    assert q.dtype[flat] == q.dtype[flat - 1] == "fp32"  # c5.tanh (elementwise, no format) feeds it
    qq = quantize(table, {"default": "int8"})
    assert qq.dtype[flat] == "int8"


def test_integer_rows_untouched():
    from tests.helpers import single_node_model

    table = hwsim.count_work(hwsim.load_model(single_node_model("Add", [((4,), "int64"), ((4,), "int64")])))
    q = quantize(table, {"default": "int8"})
    assert list(q.dtype) == ["int64"] and q.columns["bytes_read"][0] == 64


@pytest.mark.parametrize(("formats", "match"), [
    ({"matmul": "int3"}, "int3"), ({"attention": "int8"}, "unknown work kind"),
    ({"matmul": "fp16:int8"}, "integer activations need integer weights"), ({"conv": "int4:fp7"}, "fp7"),
])
def test_bad_formats(mlp, formats, match):
    with pytest.raises(ConfigError, match=match):
        quantize(mlp, formats)


def test_parse_format():
    assert parse_format("int8") == ("int8", "int8")
    assert parse_format("w4a16") == ("int4", "fp16")
    assert parse_format("int4:bf16") == ("int4", "bf16")
