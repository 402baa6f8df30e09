"""Data-movement ops, hand-counted: bytes moved, FLOPs only where there is arithmetic.

fp32 = 4 bytes, int64 = 8, bool = 1. Index/shape vectors are read but never parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.ops import count_node
from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

FIELDS = ("kind", "flops", "macs", "bytes_read", "bytes_written", "params", "gemm")


def observed(work):
    return {k: getattr(work, k) for k in FIELDS}


def mv(br, bw, flops=0, params=0):
    return dict(kind=WorkKind.DATA_MOVEMENT, flops=flops, macs=0, bytes_read=br, bytes_written=bw,
                params=params, gemm=None)


def i64(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


CASES = {
    # Transpose (2,3,4): reads and writes 96 bytes.
    "transpose": ("Transpose", [((2, 3, 4), "fp32")], {"perm": [2, 0, 1]}, {}, mv(96, 96)),
    # Concat x(2,3) with a learned constant row (1,3) -> (3,3): the row is 3 params; reads 24 + 12.
    "concat_param": ("Concat", [((2, 3), "fp32"), f32(1, 3)], {"axis": 0}, {}, mv(36, 36, params=3)),
    # Split (4,6) into (4,2), (4,4) with split = [2,4]: reads 96 + 16, writes 32 + 64.
    "split": ("Split", [((4, 6), "fp32"), i64(2, 4)], {"axis": 1}, {"n_outputs": 2}, mv(112, 96)),
    # Slice rows 1:3 of (4,6) -> (2,6): reads only the 12 selected elements (48) + starts, ends,
    # axes (3·8); writes 48.
    "slice": ("Slice", [((4, 6), "fp32"), i64(1), i64(3), i64(0)], {}, {}, mv(72, 48)),
    # Embedding Gather: table (100,8) constant, ids int64 (2,5) -> (2,5,8): reads ids 80 + the
    # 10 gathered rows 320 (not the 3200-byte table); the whole table is 800 params.
    "gather_embedding": ("Gather", [f32(100, 8), ((2, 5), "int64")], {}, {}, mv(400, 320, params=800)),
    # Gather rows [0, 2] of an activation (4,6) -> (2,6): reads 16 + 48; no params.
    "gather_activation": ("Gather", [((4, 6), "fp32"), i64(0, 2)], {}, {}, mv(64, 48)),
    # GatherElements (3,4), indices (3,2) int64, axis 1 -> (3,2): reads 48 + 24; writes 24.
    "gather_elements": ("GatherElements", [((3, 4), "fp32"), ((3, 2), "int64")], {"axis": 1}, {}, mv(72, 24)),
    # GatherND (2,3,4), indices (2,2) -> (2,4): reads 32 + 32; writes 32.
    "gather_nd": ("GatherND", [((2, 3, 4), "fp32"), ((2, 2), "int64")], {}, {}, mv(64, 32)),
    # ScatterElements add (opset 16): data (3,4), indices (2,4), updates (2,4): 8 adds;
    # reads 48 + 64 + 32 = 144; writes 48.
    "scatter_elements_add": ("ScatterElements", [((3, 4), "fp32"), ((2, 4), "int64"), ((2, 4), "fp32")],
                             {"reduction": "add"}, {"opset": 16}, mv(144, 48, flops=8)),
    "scatter_elements": ("ScatterElements", [((3, 4), "fp32"), ((2, 4), "int64"), ((2, 4), "fp32")],
                         {}, {}, mv(144, 48)),
    # ScatterND data (4,4), indices (2,1), updates (2,4): reads 64 + 16 + 32; writes 64.
    "scatter_nd": ("ScatterND", [((4, 4), "fp32"), ((2, 1), "int64"), ((2, 4), "fp32")], {}, {}, mv(112, 64)),
    # ScatterND mul (opset 16): 8 multiplies.
    "scatter_nd_mul": ("ScatterND", [((4, 4), "fp32"), ((2, 1), "int64"), ((2, 4), "fp32")],
                       {"reduction": "mul"}, {"opset": 16}, mv(112, 64, flops=8)),
    # Pad (1,2,3,3) by 1 on H and W -> (1,2,5,5): reads 72 + 8 pads·8 = 136; writes 200.
    "pad": ("Pad", [((1, 2, 3, 3), "fp32"), i64(0, 0, 1, 1, 0, 0, 1, 1)], {}, {}, mv(136, 200)),
    # Tile (2,3) × [2,2] -> (4,6): reads 24 + 16; writes 96.
    "tile": ("Tile", [((2, 3), "fp32"), i64(2, 2)], {}, {}, mv(40, 96)),
    # Expand (1,3) to [2,3]: reads 12 + 16; writes 24.
    "expand": ("Expand", [((1, 3), "fp32"), i64(2, 3)], {}, {}, mv(28, 24)),
    # DepthToSpace (1,8,2,2) blocksize 2 -> (1,2,4,4): 128 bytes each way.
    "depth_to_space": ("DepthToSpace", [((1, 8, 2, 2), "fp32")], {"blocksize": 2}, {}, mv(128, 128)),
    "space_to_depth": ("SpaceToDepth", [((1, 2, 4, 4), "fp32")], {"blocksize": 2}, {}, mv(128, 128)),
    # Compress (3,4) by a runtime bool condition (3,) on axis 0: upper bound keeps all -> (3,4);
    # reads 48 + 3; writes 48.
    "compress": ("Compress", [((3, 4), "fp32"), ((3,), "bool")], {"axis": 0}, {}, mv(51, 48)),
    # Trilu (3,3): a masked copy, 36 bytes each way.
    "trilu": ("Trilu", [((3, 3), "fp32")], {}, {}, mv(36, 36)),
    # ReverseSequence (4,2,3), seq_lens int64 (2,): reads 96 + 16; writes 96.
    "reverse_sequence": ("ReverseSequence", [((4, 2, 3), "fp32"), ((2,), "int64")],
                         {"batch_axis": 1, "time_axis": 0}, {}, mv(112, 96)),
    # OneHot indices int64 (3,), depth 5, values [0,1] fp32 -> (3,5) fp32: reads 24 + 8 + 8;
    # writes 60; the 2-element values vector is not a parameter.
    "one_hot": ("OneHot", [((3,), "int64"), np.array(5, np.int64), np.array([0, 1], np.float32)], {}, {},
                mv(40, 60)),
    # NonZero (2,3): 6 compares; output upper bound (2, 6) int64 = 96 bytes.
    "nonzero": ("NonZero", [((2, 3), "fp32")], {}, {}, mv(24, 96, flops=6)),
    # Unique (8,): sort 8·⌈log2 8⌉ = 24 compares; outputs (upper bound, all unique):
    # Y 8·4 + indices, inverse, counts 3·8·8 = 224.
    "unique": ("Unique", [((8,), "fp32")], {}, {"n_outputs": 4}, mv(32, 224, flops=24)),
    # Col2Im (1, 1·2·2, 3·3) into a 4×4 image with 2×2 blocks: 36 adds; reads 144 + 16 + 16;
    # writes 16·4.
    "col2im": ("Col2Im", [((1, 4, 9), "fp32"), i64(4, 4), i64(2, 2)], {}, {"opset": 18}, mv(176, 64, flops=36)),
    # CenterCropPad (4,6) to [2,8]: reads 96 + 16; writes 64.
    "center_crop_pad": ("CenterCropPad", [((4, 6), "fp32"), i64(2, 8)], {}, {"opset": 18}, mv(112, 64)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_data_movement_counts(case):
    op, inputs, attrs, kw, expected = CASES[case]
    _, work = count_single(op, inputs, attrs, **kw)
    assert observed(work) == expected


SCALES_2X = np.array([1, 1, 2, 2], dtype=np.float32)

RESIZE = {
    # X(1,3,4,4) ×2 on H, W -> (1,3,8,8) = 192 outputs; reads 192 + scales 16 = 208; writes 768.
    # nearest: no arithmetic.
    "nearest": ({"mode": "nearest"}, SCALES_2X, 0, 768),
    # linear on 2 axes: 2² = 4 taps × 2 FLOPs × 192 = 1536.
    "linear": ({"mode": "linear"}, SCALES_2X, 1536, 768),
    # cubic on 2 axes: 4² = 16 taps × 2 × 192 = 6144.
    "cubic": ({"mode": "cubic"}, SCALES_2X, 6144, 768),
    # linear on W only -> (1,3,4,8) = 96 outputs × 2 taps × 2 = 384; writes 384.
    "linear_one_axis": ({"mode": "linear"}, np.array([1, 1, 1, 2], np.float32), 384, 384),
}


@pytest.mark.parametrize("case", list(RESIZE))
def test_resize(case):
    attrs, scales, flops, bw = RESIZE[case]
    _, work = count_single("Resize", [((1, 3, 4, 4), "fp32"), None, scales], attrs)
    assert observed(work) == mv(208, bw, flops=flops)


def test_resize_sizes_input():
    # sizes [1,3,8,8] (4 int64 = 32 bytes): linear, 1536 FLOPs as above; reads 192 + 32.
    _, work = count_single("Resize", [((1, 3, 4, 4), "fp32"), None, None, i64(1, 3, 8, 8)], {"mode": "linear"})
    assert observed(work) == mv(224, 768, flops=1536)


def test_upsample_opset9():
    # Upsample X(1,1,2,2) scales [1,1,2,2] linear -> 16 outputs × 4 taps × 2 = 128;
    # reads 16 + 16; writes 64.
    _, work = count_single("Upsample", [((1, 1, 2, 2), "fp32"), SCALES_2X], {"mode": "linear"}, opset=9)
    assert observed(work) == mv(32, 64, flops=128)


@pytest.mark.parametrize("mode,opset,flops", [
    # X(1,2,4,4), grid (1,3,3,2) -> Y(1,2,3,3) = 18 outputs; unnormalise 2 × 18 grid coords = 36.
    ("bilinear", 16, 2 * 4 * 18 + 36),   # 4 taps
    ("nearest", 16, 36),                  # no interpolation arithmetic
    ("bicubic", 16, 2 * 16 * 18 + 36),   # 16 taps
    ("linear", 20, 2 * 4 * 18 + 36),     # opset 20 spelling
])
def test_grid_sample(mode, opset, flops):
    # reads (32 + 18)·4 = 200; writes 18·4 = 72.
    _, work = count_single("GridSample", [((1, 2, 4, 4), "fp32"), ((1, 3, 3, 2), "fp32")], {"mode": mode},
                           opset=opset)
    assert observed(work) == mv(200, 72, flops=flops)


def test_range_counts_one_add_per_element():
    # Range with runtime scalars (shape from the loader's bound): 10 outputs, 1 add each;
    # reads 3 scalars 12 bytes; writes 40.
    s = TensorInfo("s", (), "fp32")
    node = OpNode("op", "Range", "", 17, (s, s, s), (TensorInfo("y", (10,), "fp32"),), {})
    assert observed(count_node(node)) == mv(12, 40, flops=10)


def test_gather_shared_embedding_owned_once():
    # Tied embeddings: a Gather and a MatMul read the same (10,4) table; the Gather (first
    # consumer) owns its 40 params, the MatMul none, so the model has 40 params in all.
    from onnx import numpy_helper

    import hwsim
    from hwsim.ops import count_work

    nodes = [helper.make_node("Gather", ["emb", "ids"], ["h"], name="g"),
             helper.make_node("MatMul", ["h", "embT"], ["logits"], name="m"),
             helper.make_node("Transpose", ["emb"], ["embT"], name="t")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, [3])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(f32(10, 4), "emb")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    table = count_work(hwsim.load_model(model))
    params = dict(zip(table.name, table.params, strict=True))
    assert params["g"] == 40 and table.totals()["params"] == 40


#: Default-domain ONNX ops hwsim deliberately does not count (documented in docs/counting.md).
DELIBERATELY_UNSUPPORTED = frozenset({"SequenceMap"})

#: The default-domain ops of the normalisation, reduce, pool and data-movement families.
FAMILY_OPS = {
    "normalization": ("BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization",
                      "RMSNormalization", "LpNormalization", "MeanVarianceNormalization", "LRN"),
    "reduce": ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
               "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "Softmax",
               "LogSoftmax", "Hardmax", "CumSum", "CumProd", "TopK", "SoftmaxCrossEntropyLoss",
               "NegativeLogLikelihoodLoss"),
    "pool": ("MaxPool", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool",
             "MaxRoiPool", "RoiAlign", "MaxUnpool"),
    "data_movement": ("Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements", "GatherND", "Scatter",
                      "ScatterElements", "ScatterND", "Pad", "Tile", "Expand", "Resize", "Upsample",
                      "DepthToSpace", "SpaceToDepth", "Compress", "Trilu", "ReverseSequence", "OneHot",
                      "Range", "NonZero", "Unique", "Col2Im", "CenterCropPad", "GridSample"),
}


@pytest.mark.parametrize("family", list(FAMILY_OPS))
def test_family_ops_registered(family):
    from hwsim.ops.registry import lookup

    fns = {op: lookup(op) for op in FAMILY_OPS[family]}
    assert {fn.__module__ for fn in fns.values()} == {f"hwsim.ops.{family}"}


def test_default_domain_coverage():
    # Every op the installed onnx defines in the default domain is counted, or listed above.
    import onnx.defs

    from hwsim.ops.registry import is_supported

    names = {s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain == ""}
    missing = {n for n in names if not is_supported(n)}
    assert missing <= DELIBERATELY_UNSUPPORTED
