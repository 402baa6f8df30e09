"""Loader: binding, folding of shape sub-computations, control flow, weights, ownership."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import hwsim
from hwsim.errors import BindError, ShapeError
from hwsim.graph.fold import measure_density
from hwsim.graph.paths import critical_path
from hwsim.ops import count_node
from hwsim.report.inspect import inspect_document

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def _model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def _i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def _node(loaded, name):
    return next(n for n in loaded.nodes if n.name == name)


def _pytorch_style_reshape():
    """x[batch, seq, 8] -> Reshape to [batch*seq, 8] through Shape/Gather/Mul/Unsqueeze/Concat,
    then MatMul by W[8, 4]: the chain PyTorch's exporter emits for x.view(-1, 8) with dynamic axes."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "i0"], ["b"], name="g0", axis=0),
        helper.make_node("Gather", ["s", "i1"], ["t"], name="g1", axis=0),
        helper.make_node("Mul", ["b", "t"], ["bt"], name="mul"),
        helper.make_node("Unsqueeze", ["bt", "ax0"], ["bt1"], name="unsq"),
        helper.make_node("Concat", ["bt1", "eight"], ["newshape"], name="cat", axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["x2"], name="reshape"),
        helper.make_node("MatMul", ["x2", "W"], ["y"], name="mm"),
    ]
    inits = [_i64("i0", 0), _i64("i1", 1), _i64("ax0", [0]), _i64("eight", [8]),
             numpy_helper.from_array(np.ones((8, 4), np.float32), "W")]
    return _model(nodes, [helper.make_tensor_value_info("x", F, ["batch", "seq", 8])],
                  [helper.make_tensor_value_info("y", F, None)], inits)


def test_shape_chain_folds_to_static_after_binding():
    loaded = hwsim.load_model(_pytorch_style_reshape(), dims={"batch": 3, "seq": 5})
    mm = _node(loaded, "mm")
    assert mm.inputs[0].shape == (15, 8)
    assert mm.outputs[0].shape == (15, 4)
    # 15·4·8 MACs by hand
    assert count_node(mm).macs == 15 * 4 * 8
    assert _node(loaded, "shape").folded and _node(loaded, "cat").folded
    assert not _node(loaded, "mm").folded


def test_positional_input_shape_binding():
    loaded = hwsim.load_model(_pytorch_style_reshape(), input_shapes={0: (2, 7, 8)})
    assert _node(loaded, "mm").outputs[0].shape == (14, 4)


def test_input_shape_conflicting_with_fixed_dim():
    with pytest.raises(BindError, match="fixed at 8"):
        hwsim.load_model(_pytorch_style_reshape(), input_shapes={"x": (2, 7, 9)})


def test_shapes_onnx_inference_cannot_resolve():
    """Range up to a computed length and ConstantOfShape of a computed shape: onnx's own
    inference leaves these symbolic; hwsim folds them from the bound dims."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "i1"], ["n"], name="g"),
        helper.make_node("Cast", ["n"], ["nf"], name="castf", to=F),
        helper.make_node("Mul", ["nf", "two"], ["n2f"], name="dbl"),
        helper.make_node("Cast", ["n2f"], ["n2"], name="casti", to=I64),
        helper.make_node("Range", ["zero", "n2", "one"], ["pos"], name="range"),
        helper.make_node("Unsqueeze", ["n2", "ax0"], ["n2v"], name="unsq"),
        helper.make_node("ConstantOfShape", ["n2v"], ["zeros"], name="cos"),
        helper.make_node("Cast", ["pos"], ["posf"], name="castpos", to=F),
        helper.make_node("Add", ["posf", "zeros"], ["y"], name="add"),
    ]
    inits = [_i64("i1", 1), _i64("zero", 0), _i64("one", 1), _i64("ax0", [0]),
             numpy_helper.from_array(np.array(2.0, np.float32), "two")]
    m = _model(nodes, [helper.make_tensor_value_info("x", F, ["batch", "seq"])],
               [helper.make_tensor_value_info("y", F, None)], inits)
    loaded = hwsim.load_model(m, dims={"batch": 1, "seq": 6})
    assert _node(loaded, "add").outputs[0].shape == (12,)
    assert loaded.outputs[0].shape == (12,)


def test_unresolvable_shape_names_node():
    """A Reshape whose target comes from a graph input (data) cannot be made static."""
    node = helper.make_node("Reshape", ["x", "shape"], ["y"], name="dyn_reshape")
    m = _model([node], [helper.make_tensor_value_info("x", F, [4, 6]),
                        helper.make_tensor_value_info("shape", I64, [2])],
               [helper.make_tensor_value_info("y", F, None)])
    with pytest.raises(ShapeError, match="dyn_reshape"):
        hwsim.load_model(m)


def _if_model(cond_value=None):
    then_g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["t"], name="big")], "then", [],
                               [helper.make_tensor_value_info("t", F, [2, 16])])
    else_g = helper.make_graph([helper.make_node("Relu", ["x2"], ["e"], name="small")], "else", [],
                               [helper.make_tensor_value_info("e", F, [2, 16])])
    inits = [numpy_helper.from_array(np.ones((16, 16), np.float32), "W")]
    inputs = [helper.make_tensor_value_info("x", F, [2, 16]), helper.make_tensor_value_info("x2", F, [2, 16])]
    nodes = [helper.make_node("If", ["c"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)]
    if cond_value is None:
        inputs.append(helper.make_tensor_value_info("c", TensorProto.BOOL, []))
    else:
        inits.append(numpy_helper.from_array(np.array(cond_value), "c"))
    return _model(nodes, inputs, [helper.make_tensor_value_info("y", F, [2, 16])], inits)


@pytest.mark.parametrize("cond,expected", [(True, "branch/then/big"), (False, "branch/else/small")])
def test_if_with_constant_condition_takes_that_branch(cond, expected):
    loaded = hwsim.load_model(_if_model(cond))
    names = [n.name for n in loaded.nodes]
    assert expected in names
    assert len(names) == 2  # the branch op + the If shell
    assert any("condition folds" in n for n in loaded.notes)


def test_if_with_data_condition_counts_costlier_branch():
    loaded = hwsim.load_model(_if_model(None))
    names = [n.name for n in loaded.nodes]
    assert "branch/then/big" in names and "branch/else/small" not in names
    assert any("more expensive then branch" in n for n in loaded.notes)
    table = hwsim.count_work(loaded)
    assert table.totals()["macs"] == 2 * 16 * 16


def test_loop_multiplies_body_by_trip_count():
    body = helper.make_graph(
        [helper.make_node("MatMul", ["h", "W"], ["h2"], name="step"),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep")],
        "body",
        [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h", F, [1, 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), helper.make_tensor_value_info("h2", F, [1, 8])])
    inits = [_i64("M", 5), numpy_helper.from_array(np.array(True), "c0"),
             numpy_helper.from_array(np.ones((8, 8), np.float32), "W")]
    m = _model([helper.make_node("Loop", ["M", "c0", "h0"], ["hT"], name="rnn", body=body)],
               [helper.make_tensor_value_info("h0", F, [1, 8])], [helper.make_tensor_value_info("hT", F, [1, 8])], inits)
    loaded = hwsim.load_model(m)
    step = _node(loaded, "rnn/body/step")
    assert step.repeat == 5
    work = count_node(step)
    assert work.macs == 5 * 8 * 8  # 5 trips × (1·8·8)
    assert work.params == 64  # parameters are not repeated


def test_loop_without_constant_trip_count_fails_clearly():
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep")], "body",
                             [helper.make_tensor_value_info("i", I64, []),
                              helper.make_tensor_value_info("cond_in", TensorProto.BOOL, [])],
                             [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])])
    m = _model([helper.make_node("Loop", ["M", "c0"], [], name="while", body=body)],
               [helper.make_tensor_value_info("M", I64, []), helper.make_tensor_value_info("c0", TensorProto.BOOL, [])],
               [helper.make_tensor_value_info("M", I64, [])])
    with pytest.raises(ShapeError, match="'while'.*trip count"):
        hwsim.load_model(m)


def test_scan_repeats_body_per_slice():
    body = helper.make_graph(
        [helper.make_node("Add", ["acc", "xt"], ["acc2"], name="accumulate"),
         helper.make_node("Identity", ["acc2"], ["out_t"], name="emit")],
        "body", [helper.make_tensor_value_info("acc", F, [4]), helper.make_tensor_value_info("xt", F, [4])],
        [helper.make_tensor_value_info("acc2", F, [4]), helper.make_tensor_value_info("out_t", F, [4])])
    m = _model([helper.make_node("Scan", ["a0", "xs"], ["aT", "ys"], name="scan", body=body, num_scan_inputs=1)],
               [helper.make_tensor_value_info("a0", F, [4]), helper.make_tensor_value_info("xs", F, [7, 4])],
               [helper.make_tensor_value_info("aT", F, [4]), helper.make_tensor_value_info("ys", F, [7, 4])])
    loaded = hwsim.load_model(m)
    add = _node(loaded, "scan/body/accumulate")
    assert add.repeat == 7 and count_node(add).flops == 7 * 4
    assert loaded.outputs[1].shape == (7, 4)


def _tied_embedding_model():
    """GPT-2-style tied weights: the table feeds a Gather and, transposed, the LM-head MatMul."""
    nodes = [helper.make_node("Gather", ["wte", "ids"], ["h"], name="embed"),
             helper.make_node("Transpose", ["wte"], ["wteT"], name="tr", perm=[1, 0]),
             helper.make_node("MatMul", ["h", "wteT"], ["logits"], name="lm_head")]
    inits = [numpy_helper.from_array(np.ones((50, 8), np.float32), "wte")]
    return _model(nodes, [helper.make_tensor_value_info("ids", I64, [1, 3])],
                  [helper.make_tensor_value_info("logits", F, None)], inits)


def test_shared_weight_counted_once():
    loaded = hwsim.load_model(_tied_embedding_model())
    table = hwsim.count_work(loaded)
    assert table.totals()["params"] == 50 * 8
    assert _node(loaded, "tr").folded  # transpose of a constant runs once, at load
    assert count_node(_node(loaded, "lm_head")).params == 0
    assert count_node(_node(loaded, "lm_head")).macs == 3 * 50 * 8


def test_constant_of_shape_and_constant_weights_are_parameters():
    """Caffe2-era exports create weights with ConstantOfShape; others inline Constant nodes."""
    nodes = [helper.make_node("ConstantOfShape", ["wshape"], ["W"], name="mkw",
                              value=helper.make_tensor("v", F, [1], [0.1])),
             helper.make_node("Constant", [], ["b"], name="mkb",
                              value=numpy_helper.from_array(np.full(4, 0.2, np.float32))),
             helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc")]
    m = _model(nodes, [helper.make_tensor_value_info("x", F, [2, 6])], [helper.make_tensor_value_info("y", F, None)],
               [_i64("wshape", [6, 4])])
    loaded = hwsim.load_model(m)
    assert count_node(_node(loaded, "fc")).params == 6 * 4 + 4
    assert _node(loaded, "mkw").folded and count_node(_node(loaded, "mkw")).bytes_written == 0


def test_external_weights_present_and_missing(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((16, 8)).astype(np.float32)
    w[:, ::2] = 0.0  # half the entries zero, in a 2:4-compatible layout along the reduction axis
    m = _model([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
               [helper.make_tensor_value_info("x", F, [1, 16])], [helper.make_tensor_value_info("y", F, [1, 8])],
               [numpy_helper.from_array(w.T.copy().T, "W")])
    path = tmp_path / "m.onnx"
    onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="m.weights", size_threshold=0)
    node = _node(hwsim.load_model(path), "mm")
    assert node.inputs[1].density == pytest.approx(0.5)
    (tmp_path / "m.weights").unlink()
    missing = hwsim.load_model(path)
    assert _node(missing, "mm").inputs[1].density == 1.0
    assert any("weights not present" in n for n in missing.notes)
    assert count_node(_node(missing, "mm")).params == 128


@pytest.mark.parametrize("make,pattern,density", [
    (lambda: np.ones((8, 8)), "dense", 1.0),
    (lambda: np.tile([1.0, 0.0, 2.0, 0.0], (8, 2)), "2:4", 0.5),
    (lambda: np.kron(np.eye(2), np.ones((4, 4))), "block4x4", 0.5),
    (lambda: np.where(np.arange(64).reshape(8, 8) % 7 == 0, 0.0, 1.0), "unstructured", 54 / 64),
])
def test_density_patterns(make, pattern, density):
    d, p = measure_density(np.asarray(make(), dtype=np.float32))
    assert p == pattern and d == pytest.approx(density)


def test_callers_model_is_not_mutated():
    m = _pytorch_style_reshape()
    before = m.SerializeToString()
    hwsim.load_model(m, dims={"batch": 2, "seq": 3})
    assert m.SerializeToString() == before


def test_same_input_same_json():
    docs = []
    for _ in range(2):
        loaded = hwsim.load_model(_pytorch_style_reshape(), dims={"batch": 2, "seq": 3})
        docs.append(json.dumps(inspect_document(loaded, hwsim.count_work(loaded))))
    assert docs[0] == docs[1]


def test_dag_edges_and_critical_path():
    """Diamond a -> (b, c) -> d; node weights 1, 5, 2, 1: critical path a-b-d of weight 7."""
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="a"),
             helper.make_node("Relu", ["a"], ["b"], name="b"),
             helper.make_node("Relu", ["a"], ["c"], name="c"),
             helper.make_node("Add", ["b", "c"], ["d"], name="d")]
    m = _model(nodes, [helper.make_tensor_value_info("x", F, [2, 3])], [helper.make_tensor_value_info("d", F, None)])
    table = hwsim.count_work(hwsim.load_model(m))
    g = table.graph
    assert sorted(g.edges) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    assert g.edges["a", "b"]["bytes"] == 2 * 3 * 4
    length, path = critical_path(g, {"a": 1, "b": 5, "c": 2, "d": 1})
    assert length == 7 and path == ["a", "b", "d"]
