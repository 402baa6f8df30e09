"""Sequence ops (stacked-tensor representation) and string ops."""

import onnx
import pytest
from onnx import TensorProto, helper

import hwsim
from hwsim.errors import ShapeError
from hwsim.ops import count_node
from tests.helpers import count_single


def _model(nodes, inputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_value_info("out", onnx.TypeProto())], list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def _counted(model):
    loaded = hwsim.load_model(model)
    return {n.op_type: (n, count_node(n)) for n in loaded.nodes}


def test_construct_at_bytes():
    # two fp32 [2, 3] tensors (24 bytes each): construct reads 48 writes 48; SequenceAt moves one element
    m = _model([helper.make_node("SequenceConstruct", ["a", "b"], ["s"]),
                helper.make_node("SequenceLength", ["s"], ["n"]),
                helper.make_node("SequenceAt", ["s", "n0"], ["out"])],
               [("a", [2, 3]), ("b", [2, 3])], [helper.make_tensor("n0", TensorProto.INT64, [], [1])])
    c = _counted(m)
    node, w = c["SequenceConstruct"]
    assert node.outputs[0].shape == (2, 2, 3)
    assert (w.flops, w.bytes_read, w.bytes_written) == (0, 48, 48)
    node, w = c["SequenceAt"]
    assert node.outputs[0].shape == (2, 3) and (w.bytes_read, w.bytes_written) == (24, 24)
    assert c["SequenceLength"][1].bytes_written == 0


def test_empty_insert_erase_ragged_bound():
    # insert [2,3] then [1,3]: ragged → element bound [2, 3] with a note; erase leaves 1 element (24 bytes moved)
    m = _model([helper.make_node("SequenceEmpty", [], ["e"]),
                helper.make_node("SequenceInsert", ["e", "a"], ["s1"]),
                helper.make_node("SequenceInsert", ["s1", "b"], ["s2"]),
                helper.make_node("SequenceErase", ["s2"], ["out"])],
               [("a", [2, 3]), ("b", [1, 3])])
    loaded = hwsim.load_model(m)
    shapes = [n.outputs[0].shape for n in loaded.nodes]
    assert shapes == [(0,), (1, 2, 3), (2, 2, 3), (1, 2, 3)]
    assert any("upper bound" in note for note in loaded.notes)
    erase = count_node(loaded.nodes[-1])
    assert (erase.bytes_read, erase.bytes_written) == (24, 24)


def test_different_ranks_fail_clearly():
    m = _model([helper.make_node("SequenceConstruct", ["a", "b"], ["out"])], [("a", [2, 3]), ("b", [6])])
    with pytest.raises(ShapeError, match="different ranks"):
        hwsim.load_model(m)


def test_split_to_sequence_and_concat():
    # X [6, 4] split in chunks of 2 along axis 0 → 3 × [2, 4]; concat back → [6, 4]; 96 bytes each way
    m = _model([helper.make_node("SplitToSequence", ["x", "two"], ["s"]),
                helper.make_node("ConcatFromSequence", ["s"], ["out"], axis=0)],
               [("x", [6, 4])], [helper.make_tensor("two", TensorProto.INT64, [], [2])])
    c = _counted(m)
    assert c["SplitToSequence"][0].outputs[0].shape == (3, 2, 4)
    node, w = c["ConcatFromSequence"]
    assert node.outputs[0].shape == (6, 4) and (w.bytes_read, w.bytes_written) == (96, 96)


@pytest.mark.parametrize("op, inputs, attrs, opset, n_out, flops", [
    ("StringNormalizer", [((4,), "string")], {"stopwords": ["a", "b"]}, 17, 1, 4 * 3),  # case + 2 compares
    ("RegexFullMatch", [((4,), "string")], {"pattern": "a.*"}, 20, 1, 4),
    ("StringConcat", [((4,), "string"), ((4,), "string")], {}, 20, 1, 4),
    ("StringSplit", [((4,), "string")], {"maxsplit": 2}, 20, 2, 4),
    # TfIdf: 12 tokens × (unigram 1 + bigram 2) + 2·4 outputs = 44
    ("TfIdfVectorizer", [((2, 6), "int64")], {"min_gram_length": 1, "max_gram_length": 2, "max_skip_count": 0,
                                              "mode": "TF", "ngram_counts": [0, 3], "ngram_indexes": [0, 1, 2, 3],
                                              "pool_int64s": [1, 2, 3, 1, 2]}, 17, 1, 44),
])
def test_string_ops(op, inputs, attrs, opset, n_out, flops):
    node, w = count_single(op, inputs, attrs, opset=opset, n_outputs=n_out)
    assert w.flops == flops
    if op == "StringSplit":
        assert [o.shape for o in node.outputs] == [(4, 3), (4,)]
