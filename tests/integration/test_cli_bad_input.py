"""Bad input to `hwsim inspect`: one-line error naming the problem, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from hwsim.cli import main
from tests.helpers import assert_clean_error, single_node_model


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def _relu_model() -> onnx.ModelProto:
    return single_node_model("Relu", [((1, 4), "fp32")])


def test_missing_file(capsys, tmp_path):
    code, err = _run(capsys, "inspect", str(tmp_path / "absent.onnx"))
    assert_clean_error(code, err, "absent.onnx", "no such file")


def test_zero_bytes(capsys, tmp_path):
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    assert_clean_error(*_run(capsys, "inspect", str(p)), "empty.onnx", "empty")


def test_random_bytes(capsys, tmp_path):
    p = tmp_path / "noise.onnx"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert_clean_error(*_run(capsys, "inspect", str(p)), "noise.onnx", "not")


def test_truncated_file(capsys, tmp_path):
    data = _relu_model().SerializeToString()
    p = tmp_path / "cut.onnx"
    p.write_bytes(data[: len(data) // 2])
    assert_clean_error(*_run(capsys, "inspect", str(p)), "cut.onnx")


def test_cycle(capsys, tmp_path):
    a = helper.make_node("Relu", ["y"], ["x2"], name="a")
    b = helper.make_node("Relu", ["x2"], ["y"], name="b")
    g = helper.make_graph([a, b], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    p = tmp_path / "cycle.onnx"
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    assert_clean_error(*_run(capsys, "inspect", str(p)), "cycle", "'a'")


def test_unknown_domain_op(capsys, tmp_path):
    m = single_node_model("Frobnicate", [((1, 4), "fp32")], domain="com.acme")
    p = tmp_path / "acme.onnx"
    p.write_bytes(m.SerializeToString())
    assert_clean_error(*_run(capsys, "inspect", str(p)), "com.acme::Frobnicate", "hwsim ops")


def _dynamic_model(tmp_path: Path) -> Path:
    m = single_node_model("Relu", [(("batch", 3), "fp32")])
    p = tmp_path / "dyn.onnx"
    p.write_bytes(m.SerializeToString())
    return p


def test_unbound_dim(capsys, tmp_path):
    assert_clean_error(*_run(capsys, "inspect", str(_dynamic_model(tmp_path))), "'batch'", "--dim")


@pytest.mark.parametrize("value", ["-4", "0", "abc"])
def test_bad_dim_value(capsys, tmp_path, value):
    assert_clean_error(*_run(capsys, "inspect", str(_dynamic_model(tmp_path)), "--dim", f"batch={value}"), "batch")


def test_absurd_dim(capsys, tmp_path):
    code, err = _run(capsys, "inspect", str(_dynamic_model(tmp_path)), "--dim", f"batch={2**39}")
    assert_clean_error(code, err, "2^40")


def test_dim_not_in_model(capsys, tmp_path):
    code, err = _run(capsys, "inspect", str(_dynamic_model(tmp_path)), "--dim", "batch=1", "--dim", "sequence=4")
    assert_clean_error(code, err, "'sequence'", "batch")


def test_external_data_escaping_folder(capsys, tmp_path):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 4])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "64")):
        e = w.external_data.add()
        e.key, e.value = k, v
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    sub = tmp_path / "model"
    sub.mkdir()
    p = sub / "escape.onnx"
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    assert_clean_error(*_run(capsys, "inspect", str(p)), "escapes", "'w'")


def test_unknown_zoo_name(capsys):
    assert_clean_error(*_run(capsys, "inspect", "zoo:resnet5"), "resnet50")


def test_console_script_exit_status(tmp_path):
    """The installed entry point itself: status 2, one line, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "hwsim.cli", "inspect", str(tmp_path / "x.onnx")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
