"""`hwsim measure` JSON contract and `hwsim calibrate` bad input."""

from __future__ import annotations

import json

import pytest

from hwsim.cli import main


def test_measure_json_contract(capsys):
    pytest.importorskip("onnxruntime", reason="hwsim[calibrate] not installed")
    assert main(["measure", "zoo:lenet5", "--runs", "5", "--warmup", "1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"model", "threads", "median_s", "p10_s", "p90_s", "runs", "per_op"} <= set(doc)
    assert doc["runs"] == 5 and doc["p10_s"] <= doc["median_s"] <= doc["p90_s"]


@pytest.mark.parametrize("csv_text,needle", [
    ("device,latency_s\na100,0.1\n", "model"),                                    # missing column
    ('device,model,latency_s\na100,"MatMul:m=8,n=8,k=8:fp32",nan\n', "latency_s"),  # NaN latency
    ('device,model,latency_s\na100,"MatMul:m=8,n=8,k=8:fp32",3 ms\n', "latency_s"),  # units in the column
    ('device,model,latency_s\na100,"Frob:x=1:fp32",0.001\n', "Frob"),               # unknown op signature
])
def test_calibrate_csv_errors(capsys, tmp_path, csv_text, needle):
    pytest.importorskip("scipy", reason="hwsim[calibrate] not installed")
    p = tmp_path / "m.csv"
    p.write_text(csv_text)
    out = tmp_path / "cal.yaml"
    code = main(["calibrate", "--from", str(p), "--device", "a100-sxm-80gb", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err, err
    assert not out.exists()


def test_calibrate_from_needs_device(capsys, tmp_path):
    code = main(["calibrate", "--from", str(tmp_path / "x.csv"), "--out", str(tmp_path / "o.yaml")])
    assert code == 2 and "--device" in capsys.readouterr().err
