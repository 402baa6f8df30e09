"""Contiguous runs a transpose copies one at a time (hwsim/ops/strided.py), counted by hand."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

import hwsim


def _transpose(shape, perm):
    node = helper.make_node("Transpose", ["X"], ["Y"], name="t", **({"perm": perm} if perm is not None else {}))
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return hwsim.count_work(hwsim.load_model(m)).columns["copy_chunks"][0]


@pytest.mark.parametrize(("shape", "perm", "runs"), [
    ([2, 16, 4, 16], [0, 2, 1, 3], 2 * 16 * 4),  # attention head split: runs of 16 elements
    ([1, 3, 80, 28, 28], [0, 2, 1, 3, 4], 3 * 80),  # ShuffleNet channel shuffle: runs of 28·28
    ([2, 3, 4, 5], [1, 0, 2, 3], 2 * 3),  # two trailing axes kept: runs of 4·5
    ([2, 16, 4, 16], [0, 2, 3, 1], 0),  # the last axis moves: element-wise, no runs
    ([2, 16, 64], None, 0),  # default perm reverses the axes
    ([2, 16, 64], [0, 1, 2], 0),  # identity: one plain copy
])
def test_copy_chunks_by_hand(shape, perm, runs):
    assert _transpose(shape, perm) == runs
