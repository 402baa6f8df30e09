"""Golden key numbers of every shipped scenario (base point, CI settings).

Regenerate ONLY on purpose, after checking the change is intended:
    HWSIM_REGEN_GOLDEN=1 pytest tests/regression/test_golden.py
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from hwsim.scenario import run_scenario
from hwsim.scenario.outputs import json_safe

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden")
KEYS = ("latency_s", "energy_j", "energy_per_sample_j", "usd", "co2_g", "utilization", "wall_time_s",
        "energy_kwh", "mfu", "devices_needed")
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def key_numbers(path: Path) -> dict[str, dict[str, float | None]]:
    result = run_scenario(path, ci=True, workers=1, write=False)
    out = {}
    for r in result.rows:
        if r["point"] != 0:
            continue
        key = f"{r['model']} | {r['workload']} | {r['device']}"
        out[key] = {k: r.get(k) for k in KEYS if k in r}
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_golden(path):
    got = key_numbers(path)
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("HWSIM_REGEN_GOLDEN") == "1":
        golden.write_text(json.dumps(json_safe(got), indent=1, sort_keys=True, allow_nan=False) + "\n")
    expected = json.loads(golden.read_text())
    assert sorted(got) == sorted(expected)
    for cell, values in expected.items():
        for k, v in values.items():
            g = got[cell].get(k)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                assert g is None or (isinstance(g, float) and math.isnan(g)), (cell, k)
            else:
                assert g == pytest.approx(v, rel=1e-9), (cell, k, g, v)
