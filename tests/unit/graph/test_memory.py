"""Peak live activations by hand on small graphs."""

from __future__ import annotations

from onnx import TensorProto, helper

import hwsim
from hwsim.graph.memory import footprint_bytes, peak_activation_bytes

F = TensorProto.FLOAT


def test_chain_frees_inputs_after_last_use():
    """x -> a -> b -> c, each [256] fp32 = 1 KiB. Live: a; a+b; b+c (a freed after b) -> peak 2 KiB
    ... and c is a graph output, so it stays: peak is 2 KiB."""
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="a"),
             helper.make_node("Relu", ["a"], ["b"], name="b"),
             helper.make_node("Relu", ["b"], ["c"], name="c")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [256])],
                          [helper.make_tensor_value_info("c", F, [256])])
    table = hwsim.count_work(hwsim.load_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])))
    assert peak_activation_bytes(table) == 2 * 1024


def test_branch_keeps_shared_input_alive():
    """a feeds b and c; d = b + c. Live at d: a? no (freed after c), b, c, d -> 3 KiB."""
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="a"),
             helper.make_node("Relu", ["a"], ["b"], name="b"),
             helper.make_node("Relu", ["a"], ["c"], name="c"),
             helper.make_node("Add", ["b", "c"], ["d"], name="d")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [256])],
                          [helper.make_tensor_value_info("d", F, [256])])
    table = hwsim.count_work(hwsim.load_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])))
    # at c: a, b, c live = 3 KiB; at d: b, c, d = 3 KiB
    assert peak_activation_bytes(table) == 3 * 1024


def test_footprint_of_resnet50_weights():
    fp = footprint_bytes(hwsim.count_work(hwsim.load_model("zoo:resnet50")))
    # 25,557,032 fp32 params + BN running mean/var (2 × 26,560 channels) = weight bytes
    assert fp["weights"] == (25_557_032 + 2 * 26_560) * 4
    # the largest live set is at least the 112×112×64 fp32 stem output (3.2 MB)
    assert fp["activations"] >= 112 * 112 * 64 * 4
