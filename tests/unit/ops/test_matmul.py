"""MatMul, Gemm, Einsum, MatMulInteger, QLinearMatMul on single-node graphs, hand-counted.

fp32 = 4 bytes, uint8 = 1, int32 = 4. A constant (initializer) operand with more than one
element is a parameter; scalars never are.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

FIELDS = ("kind", "flops", "macs", "bytes_read", "bytes_written", "params", "gemm")


def observed(work):
    return {k: getattr(work, k) for k in FIELDS}


def u8(*shape: int) -> np.ndarray:
    return np.full(shape, 3, dtype=np.uint8)


def scalar(v, dtype=np.float32) -> np.ndarray:
    return np.array(v, dtype=dtype)


CASES = {
    # (2,3) @ W(3,4): 2·4·3 = 24 MACs; reads (6 + 12)·4, writes 8·4; W is 12 params.
    "matmul_2d_weight": (
        "MatMul", [((2, 3), "fp32"), f32(3, 4)], {},
        dict(flops=48, macs=24, bytes_read=72, bytes_written=32, params=12, gemm=(1, 2, 4, 3))),
    # (2,1,5,3) @ (4,3,6) -> (2,4,5,6): batch 2·4 = 8, 8·5·6·3 = 720 MACs;
    # reads (30 + 72)·4 = 408, writes 240·4 = 960.
    "matmul_batched_broadcast": (
        "MatMul", [((2, 1, 5, 3), "fp32"), ((4, 3, 6), "fp32")], {},
        dict(flops=1440, macs=720, bytes_read=408, bytes_written=960, params=0, gemm=(8, 5, 6, 3))),
    # (3,) @ (3,4) -> (4,): m = 1, n = 4, k = 3 -> 12 MACs; reads (3 + 12)·4, writes 16.
    "matmul_vec_mat": (
        "MatMul", [((3,), "fp32"), ((3, 4), "fp32")], {},
        dict(flops=24, macs=12, bytes_read=60, bytes_written=16, params=0, gemm=(1, 1, 4, 3))),
    # (5,3) @ (3,) -> (5,): m = 5, n = 1, k = 3 -> 15 MACs; reads (15 + 3)·4, writes 20.
    "matmul_mat_vec": (
        "MatMul", [((5, 3), "fp32"), ((3,), "fp32")], {},
        dict(flops=30, macs=15, bytes_read=72, bytes_written=20, params=0, gemm=(1, 5, 1, 3))),
    # (3,) @ (3,) -> (): a dot product, 3 MACs; reads 24, writes one float.
    "matmul_dot": (
        "MatMul", [((3,), "fp32"), ((3,), "fp32")], {},
        dict(flops=6, macs=3, bytes_read=24, bytes_written=4, params=0, gemm=(1, 1, 1, 3))),
    # (3,) @ (2,3,4) -> (2,4): batch 2, m 1, n 4, k 3 -> 24 MACs; reads (3 + 24)·4, writes 32.
    "matmul_vec_batched": (
        "MatMul", [((3,), "fp32"), ((2, 3, 4), "fp32")], {},
        dict(flops=48, macs=24, bytes_read=108, bytes_written=32, params=0, gemm=(2, 1, 4, 3))),
    # Gemm A(2,3) · W(4,3)ᵀ + C(4): m 2, n 4, k 3 -> 24 MACs; bias add 8 -> 48 + 8 = 56 FLOPs;
    # params 12 + 4; reads (6 + 12 + 4)·4 = 88; writes 8·4.
    "gemm_transB_bias": (
        "Gemm", [((2, 3), "fp32"), f32(4, 3), f32(4)], {"transB": 1},
        dict(flops=56, macs=24, bytes_read=88, bytes_written=32, params=16, gemm=(1, 2, 4, 3))),
    # Gemm 0.5·A(3,2)ᵀ·B(3,4) + 2·C(2,4): 24 MACs; per output: C add 1, beta·C 1, alpha 1
    # -> 48 + 3·8 = 72; reads (6 + 12 + 8)·4 = 104 (C a graph input: no params).
    "gemm_transA_alpha_beta": (
        "Gemm", [((3, 2), "fp32"), ((3, 4), "fp32"), ((2, 4), "fp32")],
        {"transA": 1, "alpha": 0.5, "beta": 2.0},
        dict(flops=72, macs=24, bytes_read=104, bytes_written=32, params=0, gemm=(1, 2, 4, 3))),
    # beta = 0: C is read but never added -> 48 FLOPs only.
    "gemm_beta_zero": (
        "Gemm", [((2, 3), "fp32"), ((3, 4), "fp32"), ((2, 4), "fp32")], {"beta": 0.0},
        dict(flops=48, macs=24, bytes_read=104, bytes_written=32, params=0, gemm=(1, 2, 4, 3))),
    # Einsum bij,bjk->bik with (2,3,4), (2,4,5): 2·3·4·5 = 120 MACs; view (b, i, k, j);
    # reads (24 + 40)·4 = 256, writes 30·4 = 120.
    "einsum_bmm": (
        "Einsum", [((2, 3, 4), "fp32"), ((2, 4, 5), "fp32")], {"equation": "bij,bjk->bik"},
        dict(flops=240, macs=120, bytes_read=256, bytes_written=120, params=0, gemm=(2, 3, 5, 4))),
    # Einsum ij,jk (implicit output ik) with W(4,5): 3·4·5 = 60 MACs; params 20.
    "einsum_implicit": (
        "Einsum", [((3, 4), "fp32"), f32(4, 5)], {"equation": "ij,jk"},
        dict(flops=120, macs=60, bytes_read=128, bytes_written=60, params=20, gemm=(1, 3, 5, 4))),
    # Einsum ij->i: a one-operand reduction, 3·4 = 12 adds, kind REDUCE.
    "einsum_reduce": (
        "Einsum", [((3, 4), "fp32")], {"equation": "ij->i"},
        dict(kind=WorkKind.REDUCE, flops=12, macs=0, bytes_read=48, bytes_written=12, params=0, gemm=None)),
    # MatMulInteger uint8 (2,3) @ W uint8 (3,4) -> int32 (2,4): 24 MACs; reads 6 + 12 bytes,
    # writes 8·4; uint8 weights are parameters.
    "matmul_integer": (
        "MatMulInteger", [((2, 3), "uint8"), u8(3, 4)], {},
        dict(flops=48, macs=24, bytes_read=18, bytes_written=32, params=12, gemm=(1, 2, 4, 3))),
    # QLinearMatMul(a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp): 24 MACs + requantise 2·8 = 64 FLOPs;
    # reads a 6 + 4 + 1 + b 12 + 4 + 1 + 4 + 1 = 33 bytes, writes 8 (uint8); params: b only.
    "qlinear_matmul": (
        "QLinearMatMul",
        [((2, 3), "uint8"), scalar(0.1), scalar(0, np.uint8), u8(3, 4), scalar(0.2), scalar(0, np.uint8),
         scalar(0.3), scalar(0, np.uint8)], {},
        dict(flops=64, macs=24, bytes_read=33, bytes_written=8, params=12, gemm=(1, 2, 4, 3))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matmul_family_counts(case):
    op, inputs, attrs, expected = CASES[case]
    _, work = count_single(op, inputs, attrs)
    want = {"kind": WorkKind.MATMUL, **expected}
    assert observed(work) == want


def test_matmul_weight_density_reflects_zeros():
    # Half the weight entries are zero -> weight density 0.5; MACs still dense (24).
    w = f32(3, 4)
    w[:, :2] = 0.0
    _, work = count_single("MatMul", [((2, 3), "fp32"), w])
    assert work.weight_density == pytest.approx(0.5)
    assert work.macs == 24


def test_matmul_fp16_bytes_and_dtype():
    # fp16: 2 bytes per element: reads (6 + 12)·2 = 36, writes 8·2 = 16.
    _, work = count_single("MatMul", [((2, 3), "fp16"), ((3, 4), "fp16")])
    assert (work.bytes_read, work.bytes_written, work.dtype) == (36, 16, "fp16")


def test_matmul_integer_dtype_is_integer():
    _, work = count_single("MatMulInteger", [((2, 3), "uint8"), u8(3, 4)])
    assert work.dtype == "uint8"


def test_qlinear_matmul_dtype_is_integer():
    _, work = count_single("QLinearMatMul", CASES["qlinear_matmul"][1])
    assert work.dtype == "uint8"


def test_shared_weight_counted_once_by_first_consumer():
    # The same initializer feeds two MatMuls: only the first consumer owns its 12 params.
    from onnx import helper, numpy_helper

    import hwsim
    from hwsim.ops import count_work

    w = numpy_helper.from_array(f32(3, 4), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y1"], name="a"),
             helper.make_node("MatMul", ["y1", "w2"], ["y2"], name="b"),
             helper.make_node("MatMul", ["x", "w"], ["y3"], name="c")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("y2", "y3")],
                          [w, numpy_helper.from_array(f32(4, 4), "w2")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    table = count_work(hwsim.load_model(model))
    assert table.totals()["params"] == 12 + 16
