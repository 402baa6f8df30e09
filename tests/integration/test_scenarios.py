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


def test_resume_after_sigkill_gives_the_same_file(tmp_path):
    """A real `kill -9` mid-run: the partial log survives and --resume completes to the same CSV."""
    import signal
    import subprocess
    import sys
    import time

    scn = Path(__file__).resolve().parents[2] / "scenarios" / "systolic_design_space.yaml"
    run_scenario(scn, out=tmp_path / "clean", workers=1)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "hwsim.cli", "run", str(scn), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / ".partial" / "rows.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and log.read_text().count("\n") >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (out / "results.csv").exists()
    assert main_run(scn, out) == 0
    assert (out / "results.csv").read_bytes() == (tmp_path / "clean" / "results.csv").read_bytes()


def main_run(scn: Path, out: Path) -> int:
    from hwsim.cli import main

    return main(["run", str(scn), "--out", str(out), "--workers", "1", "--resume"])
