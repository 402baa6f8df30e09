"""`hwsim price --workload ...`: training on clusters, local training, pruning; bad input."""

from __future__ import annotations

import json

import pytest

from hwsim.cli import main


def _json(capsys, *argv):
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_training_json_has_run_metrics(capsys):
    doc = _json(capsys, "price", "zoo:mlp?batch=32", "--device", "a100-sxm-80gb", "--workload", "training",
                "--samples", "60000", "--optimizer", "adam", "--format", "json")
    r = doc["results"][0]
    for key in ("mfu", "hfu", "wall_time_s", "energy_kwh", "usd", "co2_kg", "steps"):
        assert key in r, key
    assert r["steps"] == 60000 // 32 + (1 if 60000 % 32 else 0)


def test_local_training_on_loihi_is_priced_on_chip(capsys):
    doc = _json(capsys, "price", "zoo:mlp", "--device", "loihi2", "--workload", "local-training",
                "--steps", "10", "--format", "json")
    r = doc["results"][0]
    assert r["bound_offload"] == 0.0 and r["energy_per_sample_j"] > 0


@pytest.mark.parametrize("extra,needle", [
    (["--workload", "training", "--cluster", "8", "--dp", "2", "--tp", "2"], "must equal count"),
    (["--workload", "training", "--cluster", "5", "--tp", "5"], "heads"),
    (["--prune", "1.5"], "(0, 1]"),
    (["--prune", "0.5:3:7x"], "pattern"),
])
def test_bad_workload_input(capsys, extra, needle):
    code = main(["price", "zoo:gpt2?seq=32", "--device", "a100-sxm-80gb", "--steps", "1", *extra]
                if "--workload" in extra else ["price", "zoo:gpt2?seq=32", "--device", "a100-sxm-80gb", *extra])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err and err.count("\n") == 1, err
