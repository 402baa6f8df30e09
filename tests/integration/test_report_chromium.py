"""Render the HTML report in headless Chromium: every figure decodes, the page is not blank.

The report's inline script sets ``<body data-figures-loaded="N">`` once N images have
``complete && naturalWidth > 0``; ``--dump-dom`` after a virtual-time budget shows N.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from hwsim.report.html import write_report
from tests.unit.report import synth

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed (CI installs it in .ci/run)")


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    rows = synth.rows() + synth.serving_rows()
    path = write_report(d, rows, synth.per_op(), synth.assumptions(), synth.unpriced(), synth.meta())
    n = len(list((d / "figures").glob("*.png")))
    assert n >= 8
    return path, n


def test_every_figure_loads_in_chromium(report, tmp_path):
    path, n = report
    run = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", path.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body[^>]*>", run.stdout)
    assert body, run.stdout[:500]
    loaded = re.search(r'data-figures-loaded="(\d+)"', body[0])
    assert loaded, f"the load script did not run: {body[0]}"
    assert int(loaded[1]) == n
    assert f'data-figures-total="{n}"' in body[0]


def test_screenshot_is_not_blank(report, tmp_path):
    path, _ = report
    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, "--virtual-time-budget=5000", "--window-size=1280,2400", "--hide-scrollbars",
                    f"--screenshot={shot}", path.as_uri())
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    with Image.open(shot) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (1280, 2400)
        colours = rgb.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "screenshot is (nearly) a single colour"
    white = max((c for c in colours if c[1] == (255, 255, 255)), default=(0, None))[0]
    assert white < 0.97 * rgb.size[0] * rgb.size[1], "screenshot is almost all white"


def test_a_broken_image_is_counted_as_not_loaded(report, tmp_path):
    path, n = report
    page = path.read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1))
    run = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", broken.as_uri())
    assert int(re.search(r'data-figures-loaded="(\d+)"', run.stdout)[1]) == n - 1
