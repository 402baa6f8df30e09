"""The answer-first summary and the analyses behind it, checked against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsim.report.answer import (
    ReportDataError,
    answer,
    cost_ratio,
    crossovers,
    fmt,
    headline_metric,
    lottery_table,
    pareto_mask,
)
from tests.unit.report import synth


def test_lottery_ratios_by_hand():
    t = lottery_table(synth.rows(), "energy_per_sample_j")
    assert t.devices == ("cpu-x", "a100", "eie", "loihi")  # kind order: cpu, gpu, sparse, neuromorphic
    assert t.labels == ("dense-cnn", "pruned-cnn")
    dense, pruned = t.ratios
    np.testing.assert_allclose(dense[:3], [1.0 / 0.2, 1.0, 0.5 / 0.2])
    np.testing.assert_allclose(pruned, [0.5 / 0.012, 0.15 / 0.012, 1.0, 0.3 / 0.012])
    assert math.isnan(dense[3]) and t.present[0, 3]  # loihi row exists, value missing: not ranked
    assert (np.nanmin(t.ratios, axis=1) == 1.0).all()


def test_lottery_uses_base_point_only():
    t = lottery_table(synth.rows(), "energy_per_sample_j")
    assert t.values[0, 1] == 0.2  # batch 1, not the batch-64 0.01


def test_lottery_higher_is_better_metric():
    t = lottery_table(synth.rows(), "throughput_per_s")
    best = np.nanargmax(t.values[0])
    assert t.ratios[0, best] == 1.0
    assert t.ratios[0, 0] == pytest.approx(t.values[0, best] / t.values[0, 0])


def test_cost_ratio_edge_cases():
    assert cost_ratio(2.0, 1.0, "energy_j") == 2.0
    assert cost_ratio(1.0, 4.0, "throughput_per_s") == 4.0
    assert math.isnan(cost_ratio(math.nan, 1.0, "energy_j"))
    assert cost_ratio(0.0, 0.0, "energy_j") == 1.0 and cost_ratio(1.0, 0.0, "energy_j") == math.inf


def test_lottery_without_rows_raises():
    with pytest.raises(ReportDataError):
        lottery_table([], "energy_j")


def test_pareto_mask_by_hand():
    xs = [1.0, 2.0, 3.0, 2.0, 4.0, math.nan, 1.0]
    ys = [5.0, 2.0, 1.0, 3.0, 4.0, 0.1, 5.0]
    # (1,5) and its duplicate, (2,2), (3,1) are the front; (2,3) is beaten by (2,2); (4,4) by (2,2); NaN never
    assert pareto_mask(xs, ys).tolist() == [True, True, True, False, False, False, True]


def test_crossovers_by_hand():
    cross = crossovers([r for r in synth.rows() if r["model"] == "cnn-p90"], "param:batch", "energy_per_sample_j")
    found = {(c.winner, c.loser, c.before, c.after) for c in cross}
    assert found == {("a100", "eie", 8, 64), ("cpu-x", "loihi", 1, 8)}


def test_crossover_skips_ties():
    # dense cnn: cpu-x 1.0/0.5/0.3 vs eie 0.5/0.5/0.5 -> tie at 8, cpu-x better from 64
    cross = crossovers([r for r in synth.rows() if r["model"] == "cnn"], "param:batch", "energy_per_sample_j")
    assert [(c.winner, c.loser, c.before, c.after) for c in cross] == [("cpu-x", "eie", 1, 64)]


def test_answer_names_winner_loser_and_ratio():
    text = answer(synth.rows(), synth.meta())
    assert text[0] == ("On energy per sample, the dense-cnn model cnn (inference) wins on a100 (200 mJ) "
                       "and loses on cpu-x (1 J, 5× worse); no value on loihi, not ranked.")
    assert text[1] == ("On energy per sample, the pruned-cnn model cnn-p90 (inference) wins on eie (12 mJ) "
                       "and loses on cpu-x (500 mJ, 41.7× worse).")
    assert any(s.startswith("No single device wins every family (a100 wins dense-cnn; eie wins pruned-cnn)")
               for s in text)


def test_answer_says_no_price_rather_than_ranking():
    text = answer(synth.rows(), synth.meta())
    assert "No sourced price for loihi: shown as n/a and not ranked." in text
    usd = answer(synth.rows(), synth.meta(metric="usd"))
    assert "No dollars value for loihi: shown as n/a and not ranked." in usd
    assert not any("loses on loihi" in s or "wins on loihi" in s for s in usd)


def test_answer_sweep_best_point_and_crossover():
    text = answer(synth.rows(), synth.meta())
    assert ("Over the sweep of batch, the best energy per sample is 5 mJ: cnn-p90 on a100 at batch=64."
            in text)
    assert "cnn-p90 (inference): a100 overtakes eie between batch=8 and 64." in text


def test_answer_reference_line_and_memory():
    text = " ".join(answer(synth.rows(), synth.meta()))
    assert "Against the human brain 20 W reference (20 W)" in text
    assert "Does not fit in one device's memory: cnn on loihi (2 devices)" in text


def test_answer_single_winner_and_empty():
    rows = [r for r in synth.rows() if r["device"] in ("a100", "cpu-x")]
    assert "a100 wins every family: no lottery on this metric." in answer(rows, {})
    assert answer([], {}) == ["The study produced no results."]


def test_headline_metric_and_fmt():
    assert headline_metric(synth.rows(), {}) == "energy_per_sample_j"
    assert headline_metric(synth.rows(), {"metric": "usd"}) == "usd"
    assert fmt(0.012, "energy_per_sample_j") == "12 mJ"
    assert fmt(2.5e-6, "latency_s") == "2.5 µs"
    assert fmt(math.nan, "usd") == "n/a" and fmt(None, "usd") == "n/a"
    assert fmt(0.456, "utilization") == "45.6%"
    assert fmt(1.234, "usd") == "$1.23"


def test_ties_are_reported_as_ties_not_a_win():
    rows = [synth.row(0, "cnn", d, energy_per_sample_j=0.1) for d in ("a100", "cpu-x")]
    assert answer(rows, {})[0] == "On energy per sample, the dense-cnn model cnn (inference) ties on cpu-x, a100 (100 mJ)."


def test_crossover_labels_omit_parameters_a_row_does_not_have():
    rows = [dict(r, **{"param:rate": None}) for r in synth.rows() if r["model"] == "cnn-p90"]
    rows += [synth.row(0, "cnn", "a100", **{"param:rate": v}) for v in (1.0, 2.0)]
    labels = {c.series for c in crossovers(rows, "param:batch", "energy_per_sample_j")}
    assert labels == {"cnn-p90 (inference)"}


def test_tied_groups_do_not_count_as_wins_in_the_summary():
    rows = synth.rows() + [synth.row(0, "lstm1", d, energy_per_sample_j=0.1) for d in ("cpu-x", "eie")]
    summary = [s for s in answer(rows, {}) if s.startswith("No single device")]
    assert summary and "lstm" not in summary[0]


def test_runner_meta_headline_metric_is_honoured():
    text = answer(synth.rows(), {"headline_metric": "latency_s"})
    assert text[0].startswith("On latency, the dense-cnn model cnn (inference) wins on cpu-x")
