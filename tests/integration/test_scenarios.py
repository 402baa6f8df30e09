"""Shipped scenarios run (under their CI settings), the same results come out of every executor,
and an interrupted run resumes to the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.errors import HwsimError
from hwsim.scenario import compute, run_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs(path, tmp_path):
    result = run_scenario(path, out=tmp_path, ci=True, workers=1)
    for name in ("results.csv", "results.json", "report.html"):
        assert (tmp_path / name).is_file(), name
    assert any((tmp_path / "figures").glob("*.png"))
    assert result.rows and all(r["scenario"] == path.stem for r in result.rows)
    priced = [r for r in result.rows if r.get("latency_s") is not None]
    assert priced and all(r["latency_s"] > 0 for r in priced)
    assert not (tmp_path / ".partial").exists()


def test_local_pool_and_dask_give_identical_files(tmp_path):
    scn = Path(__file__).resolve().parents[2] / "scenarios" / "sparsity_whatif.yaml"
    run_scenario(scn, out=tmp_path / "seq", workers=1)
    run_scenario(scn, out=tmp_path / "pool", workers=2)
    run_scenario(scn, out=tmp_path / "dask", executor="dask", workers=2)
    seq = (tmp_path / "seq" / "results.csv").read_bytes()
    assert (tmp_path / "pool" / "results.csv").read_bytes() == seq
    assert (tmp_path / "dask" / "results.csv").read_bytes() == seq
    assert (tmp_path / "dask" / "results.json").read_bytes() == (tmp_path / "seq" / "results.json").read_bytes()


def test_resume_after_interruption_gives_the_same_file(tmp_path, monkeypatch):
    scn = Path(__file__).resolve().parents[2] / "scenarios" / "sparsity_whatif.yaml"
    run_scenario(scn, out=tmp_path / "clean", workers=1)
    real = compute.compute_chunk
    calls = {"n": 0}

    def flaky(ctx, indices, keep_per_op=False):
        calls["n"] += 1
        if calls["n"] == 4 and not keep_per_op:
            raise HwsimError("simulated interruption")
        return real(ctx, indices, keep_per_op)

    monkeypatch.setattr("hwsim.scenario.executors.compute_chunk", flaky)
    with pytest.raises(HwsimError, match="simulated"):
        run_scenario(scn, out=tmp_path / "cut", workers=1)
    assert not (tmp_path / "cut" / "results.csv").exists()  # nothing final after a failure
    assert (tmp_path / "cut" / ".partial" / "rows.jsonl").read_text().count("\n") == 3
    monkeypatch.setattr("hwsim.scenario.executors.compute_chunk", real)
    run_scenario(scn, out=tmp_path / "cut", workers=1, resume=True)
    assert (tmp_path / "cut" / "results.csv").read_bytes() == (tmp_path / "clean" / "results.csv").read_bytes()
