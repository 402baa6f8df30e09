"""`hwsim serve`: JSON fields, reproducible SLO search, bad input."""

from __future__ import annotations

import json

import pytest

from hwsim.cli import main

ARGS = ["serve", "zoo:lenet5", "--device", "xeon-8380", "--requests", "400", "--format", "json"]


def test_serve_json_and_rerun_identical(capsys):
    assert main([*ARGS, "--rate", "2000", "--slo-ms", "5"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*ARGS, "--rate", "2000", "--slo-ms", "5"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first == second
    assert first["p50_s"] <= first["p95_s"] <= first["p99_s"]
    assert first["max_rate_meeting_slo"] > 0


@pytest.mark.parametrize("extra,needle", [
    (["--rate", "-5"], "--rate"),
    (["--rate", "10", "--max-batch", "0"], "--max-batch"),
    (["--rate", "10", "--devices", "0"], "--devices"),
])
def test_serve_bad_input(capsys, extra, needle):
    code = main([*ARGS, *extra])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err and err.count("\n") == 1
