"""Bad scenarios: a clear error naming the line or field, exit 2, and no output written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.cli import main
from tests.helpers import assert_clean_error

GOOD = """\
name: tiny
question: Which device runs the MLP cheapest?
models:
  - {name: mlp, source: "zoo:mlp"}
devices:
  - a100-sxm-80gb
  - xeon-8380
"""


def _run(capsys, tmp_path: Path, text: str, *extra: str) -> tuple[int, str, Path]:
    scn = tmp_path / "s.yaml"
    scn.write_text(text)
    out = tmp_path / "out"
    code = main(["run", str(scn), "--out", str(out), "--workers", "1", *extra])
    return code, capsys.readouterr().err, out


def _clean(code: int, err: str, out: Path, *needles: str) -> None:
    assert_clean_error(code, err, *needles)
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert written == [], written


@pytest.mark.parametrize("text,needles", [
    (GOOD + "colour: blue\n", ("line 8", "colour", "unknown key")),
    (GOOD.replace("name: tiny", "name: tiny\nname: again"), ("line 2", "duplicate key 'name'")),
    (GOOD + "max_points: lots\n", ("max_points", "integer")),
    (GOOD + "economics: {pue: 0.5}\n", ("economics.pue", "greater than or equal to 1")),
    (GOOD.replace("name: tiny", "name: !!python/object/apply:os.system ['true']"), ("invalid YAML",)),
    (GOOD + "sweep: {parameters: {devices.h100.tdp_w: [1, 2]}}\n", ("line 8", "devices.h100.tdp_w", "no device labelled")),
    (GOOD + "sweep: {parameters: {}}\n", ("sweep", "no parameters")),
    (GOOD + "sweep: {parameters: {economics.pue: []}}\n", ("empty list",)),
    (GOOD + "sweep: {parameters: {devices.*.mem_bw_bytes_per_s: [-1.0]}}\n", ("point 0", "mem_bw_bytes_per_s", "greater than 0")),
])
def test_bad_scenarios(capsys, tmp_path, text, needles):
    _clean(*_run(capsys, tmp_path, text), *needles)


def test_too_many_points_needs_yes(capsys, tmp_path):
    text = GOOD + "max_points: 3\nsweep: {parameters: {economics.pue: [1.1, 1.2, 1.3, 1.4]}}\n"
    _clean(*_run(capsys, tmp_path, text), "4 sweep points", "--yes")
    code, err, out = _run(capsys, tmp_path, text, "--yes")
    assert code == 0 and (out / "results.csv").is_file()


def test_unwritable_output_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    scn = tmp_path / "s.yaml"
    scn.write_text(GOOD)
    code = main(["run", str(scn), "--out", str(blocker / "sub"), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be written" in err and "Traceback" not in err
