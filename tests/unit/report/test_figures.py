"""Figures: each draws, saves PNG + SVG deterministically, and refuses data it cannot draw."""

from __future__ import annotations

import matplotlib
import pytest

from hwsim.report import figures
from hwsim.report.answer import ReportDataError
from tests.unit.report import synth

REFS = synth.meta()["reference_lines"]


def _draw_all(d):
    rows, per_op = synth.rows(), synth.per_op()
    two_params = [dict(r, **{"param:clock": c}) for r in rows for c in (1e9, 2e9)]
    return {
        "roofline": figures.roofline(per_op, "cnn", "a100", path_stem=d / "roofline"),
        "breakdown": figures.breakdown(per_op, path_stem=d / "breakdown"),
        "pareto": figures.pareto(rows, "latency_s", "avg_power_w", path_stem=d / "pareto", reference_lines=REFS),
        "sweep_lines": figures.sweep_lines(rows, "param:batch", "energy_per_sample_j", path_stem=d / "sweep"),
        "sweep_heatmap": figures.sweep_heatmap(two_params, "param:batch", "param:clock", "energy_j",
                                               path_stem=d / "heat"),
        "lottery_matrix": figures.lottery_matrix(rows, path_stem=d / "lottery"),
        "serving_curve": figures.serving_curve(synth.serving_rows(), path_stem=d / "serving"),
    }


def test_every_figure_writes_png_and_svg_deterministically(tmp_path):
    first, second = _draw_all(tmp_path / "a"), _draw_all(tmp_path / "b")
    for name, paths in first.items():
        assert [p.suffix for p in paths] == [".png", ".svg"], name
        assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        svg = paths[1].read_text()
        assert "<dc:date>" not in svg and "Matplotlib v" not in svg, name
        for p, q in zip(paths, second[name]):
            assert p.read_bytes() == q.read_bytes(), f"{name}: {p.name} differs between two draws"
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")], "temp files left"


def test_figures_leave_global_rcparams_alone(tmp_path):
    before = matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["font.size"]
    figures.lottery_matrix(synth.rows(), path_stem=tmp_path / "x")
    assert (matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["font.size"]) == before


def test_reference_line_drawn_only_for_its_metric(tmp_path):
    with_ref = figures.pareto(synth.rows(), "latency_s", "avg_power_w", path_stem=tmp_path / "p",
                              reference_lines=REFS)[1].read_text()
    without = figures.pareto(synth.rows(), "latency_s", "energy_j", path_stem=tmp_path / "q",
                             reference_lines=REFS)[1].read_text()
    assert "human brain 20 W" in with_ref or with_ref.count("<path") > without.count("<path")
    assert with_ref != without


@pytest.mark.parametrize("call", [
    lambda d: figures.roofline(synth.per_op(), "cnn", "nowhere", path_stem=d / "r"),
    lambda d: figures.breakdown({}, path_stem=d / "b"),
    lambda d: figures.pareto([], path_stem=d / "p"),
    lambda d: figures.sweep_lines(synth.rows(), "param:none", "energy_j", path_stem=d / "s"),
    lambda d: figures.serving_curve(synth.rows(), path_stem=d / "v"),
    lambda d: figures.lottery_matrix([synth.row(0, "cnn", "a100")], path_stem=d / "l"),
])
def test_missing_data_raises_report_data_error(tmp_path, call):
    with pytest.raises(ReportDataError):
        call(tmp_path)
    assert not list(tmp_path.iterdir())


def test_pareto_without_values_raises(tmp_path):
    rows = [synth.row(0, "cnn", "a100", latency_s=1.0)]  # energy_j is None
    with pytest.raises(ReportDataError, match="energy_j"):
        figures.pareto(rows, path_stem=tmp_path / "p")


def test_per_op_keys_with_workload_and_labelled_serving_rows(tmp_path):
    ops = {(m, d, "inference"): v for (m, d), v in synth.per_op().items()}
    paths = figures.roofline(ops, "cnn", "eie", path_stem=tmp_path / "r")
    assert "cnn on eie (inference)" in paths[1].read_text() or paths[0].stat().st_size > 0
    assert figures.breakdown(ops, path_stem=tmp_path / "b")[0].exists()
    with pytest.raises(ReportDataError):
        figures.roofline(ops, "cnn", "eie", "training", path_stem=tmp_path / "t")
    # the runner's serving rows: one workload label per rate, the rate in `rate_per_s`, no param
    rows = [synth.row(0, "cnn", d, workload=f"serve-{rate:g}", rate_per_s=rate, p50_s=p, p99_s=3 * p)
            for d in ("a100", "cpu-x") for rate, p in ((10.0, 0.01), (100.0, 0.02))]
    assert figures.serving_curve(rows, path_stem=tmp_path / "s", slo_s=0.05)[0].exists()
