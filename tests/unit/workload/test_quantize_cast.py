"""cast_dtype: dtype and bytes follow the new format; index rows are untouched."""

from __future__ import annotations

import numpy as np
import pytest

import hwsim
from hwsim.errors import ConfigError
from hwsim.ops.work import WorkKind
from hwsim.workload.quantize import cast_dtype
from hwsim.workload.sparsity import declare_density


@pytest.fixture(scope="module")
def bert():
    return hwsim.count_work(hwsim.load_model("zoo:bert-base?seq=16"))


def test_cast_to_bf16_halves_float_bytes(bert):
    out = cast_dtype(bert, "bf16")
    floating = np.array([d == "fp32" for d in bert.dtype])
    assert set(out.dtype[floating]) == {"bf16"}
    assert np.allclose(out.columns["bytes_read"][floating], bert.columns["bytes_read"][floating] / 2)
    assert np.array_equal(out.columns["flops"], bert.columns["flops"])


def test_cast_leaves_integer_rows_alone():
    from tests.helpers import single_node_model

    table = hwsim.count_work(hwsim.load_model(single_node_model("Add", [((4,), "int64"), ((4,), "int64")])))
    out = cast_dtype(table, "fp16")
    assert list(out.dtype) == ["int64"]
    assert out.columns["bytes_read"][0] == table.columns["bytes_read"][0] == 64


def test_cast_rejects_unknown_dtype(bert):
    with pytest.raises(ConfigError, match="fp7"):
        cast_dtype(bert, "fp7")


def test_declare_density_only_on_weighted_gemms(bert):
    out = declare_density(bert, weight=0.1, activation=0.5)
    gemm = np.isin(bert.kind, [int(WorkKind.MATMUL), int(WorkKind.CONV)])
    weighted = gemm & (bert.columns["const_bytes"] > 0)
    assert np.all(out.columns["weight_density"][weighted] == 0.1)
    assert np.all(out.columns["weight_density"][~weighted] == bert.columns["weight_density"][~weighted])
    assert np.all(out.columns["act_density"][gemm] == 0.5)
    with pytest.raises(ConfigError):
        declare_density(bert, weight=0.0)


def test_low_bit_dtype_quantises_matrix_products_only(bert):
    from hwsim.workload.quantize import apply_dtype

    out = apply_dtype(bert, "int8")
    gemm = np.isin(bert.kind, [int(WorkKind.MATMUL), int(WorkKind.CONV)]) & (bert.columns["macs"] > 0)
    assert set(out.dtype[gemm]) == {"int8"}
    others = ~gemm & (bert.kind != int(WorkKind.NONE))
    assert set(out.dtype[others]) == set(bert.dtype[others])  # softmax, layer norm... stay fp32
    # an int8 GEMM requantises its outputs: +2 FLOPs per output element (hwsim.workload.quantize)
    assert (out.columns["flops"][gemm] > bert.columns["flops"][gemm]).all()
    assert list(apply_dtype(bert, "bf16").dtype[gemm]) == ["bf16"] * int(gemm.sum())
