"""Shape computations of graphs with symbolic dims: folded by hwsim, run by dynamic runtimes."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import hwsim
from hwsim.devices.cpu import CpuModel
from hwsim.devices.library import load_device_spec


def _reshape_by_shape(batch_dim):
    """X[b,16] -> Shape -> Gather(0) -> Unsqueeze -> Concat(.., [16]) -> Reshape(X); a second
    Shape(X) -> Gather(0) repeats the first computation (merged, as by CSE)."""
    c = {n: numpy_helper.from_array(np.array(v, dtype=np.int64), n) for n, v in (("zero", 0), ("ax", [0]), ("tail", [16]))}
    nodes = [helper.make_node("Shape", ["X"], ["s"], name="shape"),
             helper.make_node("Gather", ["s", "zero"], ["g"], name="gather", axis=0),
             helper.make_node("Unsqueeze", ["g", "ax"], ["u"], name="unsq"),
             helper.make_node("Concat", ["u", "tail"], ["target"], name="concat", axis=0),
             helper.make_node("Reshape", ["X", "target"], ["Y"], name="reshape"),
             helper.make_node("Shape", ["X"], ["s2"], name="shape_again"),
             helper.make_node("Gather", ["s2", "zero"], ["Z"], name="gather_again", axis=0)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [batch_dim, 16])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("Z", TensorProto.INT64, None)], list(c.values()))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_shape_ops_run_only_when_dims_were_symbolic():
    dyn = hwsim.count_work(hwsim.load_model(_reshape_by_shape("b"), {"b": 2}))
    flags = dict(zip(dyn.name, dyn.columns["runtime_shape"]))
    assert flags == {"shape": 1.0, "gather": 1.0, "unsq": 1.0, "concat": 1.0, "reshape": 0.0,
                     "shape_again": 0.0, "gather_again": 0.0}
    static = hwsim.count_work(hwsim.load_model(_reshape_by_shape(2)))
    assert static.columns["runtime_shape"].sum() == 0.0


def test_dynamic_runtime_charges_each_shape_op_one_zero_work_dispatch():
    table = hwsim.count_work(hwsim.load_model(_reshape_by_shape("b"), {"b": 2}))
    spec = load_device_spec("xeon-8380").model_copy(update={"zero_work_dispatch_s": 1e-6})
    static_cost = CpuModel(spec).price(table).overhead_s.sum()
    dynamic_cost = CpuModel(spec.model_copy(update={"dynamic_shapes": True})).price(table).overhead_s.sum()
    assert dynamic_cost - static_cost == pytest.approx(4 * 1e-6)


def _two_layers():
    """Two layers each reshaping by Shape(own input)[0] (equal values, different tensors), the
    first through a Cast to int64 of an int64 dim (a no-op ORT removes)."""
    c = {n: numpy_helper.from_array(np.array(v, dtype=np.int64), n) for n, v in (("zero", 0), ("ax", [0]), ("tail", [16]))}
    nodes = []
    for i, x in enumerate(("X", "Y0")):
        dim = f"g{i}"
        nodes += [helper.make_node("Shape", [x], [f"s{i}"], name=f"shape{i}"),
                  helper.make_node("Gather", [f"s{i}", "zero"], [dim], name=f"gather{i}", axis=0)]
        if i == 0:
            nodes.append(helper.make_node("Cast", [dim], ["g0c"], name="cast", to=TensorProto.INT64))
            dim = "g0c"
        nodes += [helper.make_node("Unsqueeze", [dim, "ax"], [f"u{i}"], name=f"unsq{i}"),
                  helper.make_node("Concat", [f"u{i}", "tail"], [f"t{i}"], name=f"concat{i}", axis=0),
                  helper.make_node("Reshape", [x, f"t{i}"], [f"Y{i}"], name=f"reshape{i}")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["b", 16])],
                          [helper.make_tensor_value_info("Y1", TensorProto.FLOAT, None)], list(c.values()))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_each_layer_keeps_its_shape_ops_and_a_same_type_cast_runs_nothing():
    """ORT's CSE compares tensors, not values: layer 1 re-runs Shape/Gather/Unsqueeze/Concat on its
    own input although the dims agree (its optimised transformer graph runs 22 such ops, not 12)."""
    table = hwsim.count_work(hwsim.load_model(_two_layers(), {"b": 2}))
    flags = dict(zip(table.name, table.columns["runtime_shape"]))
    for i in (0, 1):
        assert [flags[f"{op}{i}"] for op in ("shape", "gather", "unsq", "concat")] == [1.0] * 4
    assert flags["cast"] == 0.0
