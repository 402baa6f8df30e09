"""Analytic list schedules: exact timelines on small DAGs, and the two limits (sum, critical path)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.errors import ConfigError
from hwsim.graph.paths import critical_path
from hwsim.schedule import Link, schedule_analytic

from .helpers import diamond, make_problem, spans


def test_one_stream_runs_ops_back_to_back():
    t = schedule_analytic(*diamond())
    assert spans(t) == {"a": (0.0, 1.0), "b": (1.0, 3.0), "c": (3.0, 5.0), "d": (5.0, 6.0)}
    assert t.makespan_s == 6.0 and t.busy_s() == {"device": 6.0}


def test_two_streams_halve_the_two_branch_diamond():
    t = schedule_analytic(*diamond(), streams=2)
    assert spans(t) == {"a": (0.0, 1.0), "b": (1.0, 3.0), "c": (1.0, 3.0), "d": (3.0, 4.0)}
    assert {e.op: e.stream for e in t.entries} == {"a": 0, "b": 0, "c": 1, "d": 0}
    assert t.makespan_s == 4.0  # branches 4 s -> 2 s


def test_transfer_on_edges_crossing_devices():
    table, costs = make_problem({"a": 1.0, "b": 1.0}, [("a", "b", 2000)])
    t = schedule_analytic(table, costs, placement={"b": "cpu"}, link=Link(1000.0, 0.25))
    assert spans(t) == {"a": (0.0, 1.0), "b": (3.25, 4.25)}  # 0.25 + 2000/1000
    assert spans(t, "transfer") == {"a->b": (1.0, 3.25)}
    assert t.find("a->b", kind="transfer").device == "device->cpu"


def test_analytic_transfers_do_not_contend():
    table, costs = make_problem({"a": 1.0, "b": 1.0, "c": 1.0}, [("a", "b", 1000), ("a", "c", 1000)])
    t = schedule_analytic(table, costs, streams=2, placement={"b": "B", "c": "B"}, link=Link(1000.0, 0.5))
    assert spans(t, "transfer") == {"a->b": (1.0, 2.5), "a->c": (1.0, 2.5)}


def test_offload_rows_go_to_host_and_run_beside_the_chip():
    table, costs = make_problem({"a": 1.0, "soft": 3.0, "b": 2.0, "d": 1.0},
                                [("a", "soft", 8), ("a", "b", 8), ("soft", "d", 8), ("b", "d", 8)], offload=["soft"])
    t = schedule_analytic(table, costs)
    assert t.find("soft").device == "host"
    assert spans(t) == {"a": (0.0, 1.0), "soft": (1.0, 4.0), "b": (1.0, 3.0), "d": (4.0, 5.0)}
    assert any("not modelled" in n for n in t.notes)


def test_collectives_overlap_compute_on_their_own_stream():
    table, costs = make_problem({"g1": 2.0, "ar1": 3.0, "g2": 2.0, "opt": 1.0},
                                [("g1", "ar1", 8), ("g1", "g2", 8), ("ar1", "opt", 8), ("g2", "opt", 8)],
                                op_types={"ar1": "AllReduce"})
    t = schedule_analytic(table, costs)
    assert spans(t, "collective") == {"ar1": (2.0, 5.0)}
    assert t.find("ar1", kind="collective").stream == 1  # after the one compute stream
    assert spans(t) == {"g1": (0.0, 2.0), "g2": (2.0, 4.0), "opt": (5.0, 6.0)}


def test_unpriced_ops_take_zero_and_are_noted():
    table, costs = make_problem({"a": 1.0, "b": float("nan"), "c": 1.0}, [("a", "b", 8), ("b", "c", 8)])
    t = schedule_analytic(table, costs)
    assert t.makespan_s == 2.0 and any("unpriced" in n for n in t.notes)


def test_rows_missing_from_graph_nodes_are_contracted():
    table, costs = make_problem({"a": 1.0, "x": 5.0, "c": 1.0}, [("a", "x", 8), ("x", "c", 8)])
    sub = table.select([0, 2])
    sub_costs = type(costs)(**{k: (v[[0, 2]] if hasattr(v, "shape") else v) for k, v in costs.__dict__.items()})
    t = schedule_analytic(sub, sub_costs, streams=2)
    assert spans(t) == {"a": (0.0, 1.0), "c": (1.0, 2.0)}  # c still waits for a through x


@pytest.mark.parametrize("kwargs, match", [
    ({"streams": 0}, "streams"),
    ({"placement": {"zz": "cpu"}}, "not in the table"),
    ({"placement": {"b": "cpu"}, "link": {("device", "gpu"): Link(1.0)}}, "no link between"),
])
def test_bad_arguments_raise_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        schedule_analytic(*diamond(), **kwargs)


@st.composite
def dags(draw):
    n = draw(st.integers(1, 9))
    lat = {f"op{i}": draw(st.floats(0.0, 10.0)) for i in range(n)}
    edges = [(f"op{i}", f"op{j}", 8) for j in range(n) for i in range(j) if draw(st.booleans())]
    return make_problem(lat, edges)


@settings(max_examples=60, deadline=None)
@given(dags())
def test_limits_sum_with_one_stream_and_critical_path_with_unbounded_streams(problem):
    table, costs = problem
    assert schedule_analytic(table, costs).makespan_s == pytest.approx(costs.latency_s.sum())
    length, _ = critical_path(table.graph, dict(zip(table.name, costs.latency_s)))
    assert schedule_analytic(table, costs, streams=len(table)).makespan_s == pytest.approx(length)
