"""`hwsim price`: JSON contract and bad input (one line, exit 2, no traceback)."""

from __future__ import annotations

import json

import pytest

from hwsim.cli import main
from tests.helpers import assert_clean_error

KEYS = {"device", "kind", "latency_s", "throughput_per_s", "energy_j", "usd", "co2_g", "utilization",
        "bound_share", "fits_in_memory", "devices_needed", "unsupported_ops"}


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract_and_per_op(capsys):
    code, out, _ = _run(capsys, "price", "zoo:lenet5", "--device", "a100-sxm-80gb", "--device", "xeon-8380",
                        "--format", "json", "--per-op")
    assert code == 0
    doc = json.loads(out)
    assert doc["model"] == "zoo:lenet5"
    assert [r["device"] for r in doc["results"]] == ["a100-sxm-80gb", "xeon-8380"]
    for r in doc["results"]:
        assert KEYS <= set(r)
        assert {"name", "op_type", "latency_s", "compute_s", "memory_s", "overhead_s", "energy_j", "bound"} <= set(r["ops"][0])
        assert r["latency_s"] == pytest.approx(sum(o["latency_s"] for o in r["ops"] if o["latency_s"] is not None))


def test_set_override_changes_the_answer(capsys):
    """Doubling HBM bandwidth speeds up one-token GPT-2 decoding (weights streamed: memory-bound)
    and the overridden device is marked with a star."""
    _, base, _ = _run(capsys, "price", "zoo:gpt2?seq=1", "--device", "a100-sxm-80gb", "--dtype", "fp16", "--format", "json")
    _, fast, _ = _run(capsys, "price", "zoo:gpt2?seq=1", "--device", "a100-sxm-80gb", "--dtype", "fp16", "--format", "json",
                      "--set", "mem_bw_bytes_per_s=4.078e12")
    b, f = json.loads(base)["results"][0], json.loads(fast)["results"][0]
    assert f["latency_s"] < b["latency_s"]
    assert f["device"] == "a100-sxm-80gb*"


def test_unknown_device_did_you_mean(capsys):
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", "a100-sxm-80")[::2], "unknown device", "a100-sxm-80gb")


def test_unknown_key_names_line(capsys, tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("base: a100-sxm-80gb\nname: mine\nmem_bandwith_bytes_per_s: 1.0e12\n")
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", str(p))[::2], "line 3", "mem_bandwith_bytes_per_s", "unknown key")


def test_duplicate_key_names_line(capsys, tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("base: a100-sxm-80gb\nname: dup\ntdp_w: 400\ntdp_w: 500\n")
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", str(p))[::2], "line 4", "duplicate key 'tdp_w'")


def test_python_tag_rejected(capsys, tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("base: a100-sxm-80gb\nname: !!python/object/apply:os.system ['echo pwned']\n")
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", str(p))[::2], "evil.yaml", "invalid YAML")


@pytest.mark.parametrize("value", ["0", "-1e12"])
def test_non_positive_bandwidth(capsys, value):
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", "a100-sxm-80gb", "--set",
                       f"mem_bw_bytes_per_s={value}")[::2], "mem_bw_bytes_per_s", "greater than 0")


def test_dtype_the_device_lacks(capsys):
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", "v100-sxm2", "--dtype", "fp8")[::2],
                 "v100-sxm2", "fp8")


def test_batch_must_be_positive(capsys):
    assert_clean_error(*_run(capsys, "price", "zoo:mlp", "--device", "a100-sxm-80gb", "--batch", "0")[::2], "--batch")
