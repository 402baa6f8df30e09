"""Queued (simpy) schedules: shared links, agreement with the analytic schedule, pipelines, offload."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from hwsim.devices.base import Bound
from hwsim.errors import ConfigError
from hwsim.schedule import (
    Link,
    schedule_analytic,
    schedule_pipeline,
    schedule_queued,
    split_host_offload,
)

from .helpers import diamond, make_problem, spans
from .test_analytic import dags


def test_two_transfers_contending_for_one_link_are_serialised():
    table, costs = make_problem({"a": 1.0, "b": 1.0, "c": 1.0}, [("a", "b", 1000), ("a", "c", 1000)])
    t = schedule_queued(table, costs, streams=2, placement={"b": "B", "c": "B"}, link=Link(1000.0, 0.5))
    assert spans(t, "transfer") == {"a->b": (1.0, 2.5), "a->c": (2.5, 4.0)}
    assert spans(t) == {"a": (0.0, 1.0), "b": (2.5, 3.5), "c": (4.0, 5.0)}
    assert t.busy_s()["device->B"] == 3.0


def test_opposite_directions_are_separate_links():
    table, costs = make_problem({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}, [("a", "b", 1000), ("c", "d", 1000)])
    t = schedule_queued(table, costs, streams=2, placement={"b": "B", "c": "B"}, link=Link(1000.0))
    assert spans(t, "transfer") == {"a->b": (1.0, 2.0), "c->d": (1.0, 2.0)}


def test_streams_contend_in_queued_schedule():
    t = schedule_queued(*diamond())
    assert t.makespan_s == 6.0
    t2 = schedule_queued(*diamond(), streams=2)
    assert spans(t2) == {"a": (0.0, 1.0), "b": (1.0, 3.0), "c": (1.0, 3.0), "d": (3.0, 4.0)}


@pytest.mark.parametrize("case", ["diamond2", "chain_across_devices", "collective", "offload"])
def test_analytic_equals_queued_without_contention(case):
    link = Link(500.0, 0.1)
    if case == "diamond2":
        args, kw = diamond(), {"streams": 2}
    elif case == "chain_across_devices":
        args = make_problem({"a": 1.0, "b": 0.5, "c": 2.0}, [("a", "b", 100), ("b", "c", 300)])
        kw = {"placement": {"b": "cpu"}, "link": link}
    elif case == "collective":
        args = make_problem({"g1": 2.0, "ar1": 3.0, "g2": 2.0, "opt": 1.0},
                            [("g1", "ar1", 8), ("g1", "g2", 8), ("ar1", "opt", 8), ("g2", "opt", 8)],
                            op_types={"ar1": "AllReduce"})
        kw = {}
    else:
        args = make_problem({"a": 1.0, "soft": 3.0, "b": 2.0}, [("a", "soft", 50), ("soft", "b", 50)], offload=["soft"])
        kw = {"link": link}
    assert schedule_queued(*args, **kw).entries == schedule_analytic(*args, **kw).entries


@settings(max_examples=40, deadline=None)
@given(dags())
def test_analytic_equals_queued_with_unbounded_streams(problem):
    table, costs = problem
    # times agree exactly; stream ids may differ when an op ends exactly as another starts (a tie)
    assert spans(schedule_queued(table, costs, streams=len(table))) == \
        spans(schedule_analytic(table, costs, streams=len(table)))
    assert schedule_queued(table, costs).makespan_s == pytest.approx(costs.latency_s.sum())


@pytest.mark.parametrize("p, m", [(3, 4), (4, 1), (2, 8)])
def test_pipeline_makespan_and_bubble_for_equal_stages(p, m):
    names = {f"s{s}": float(m) for s in range(p)}  # per micro-batch each stage takes 1 s
    table, costs = make_problem(names, [(f"s{s}", f"s{s + 1}", 8) for s in range(p - 1)])
    t = schedule_pipeline(table, costs, stages=list(range(p)), microbatches=m)
    assert t.makespan_s == pytest.approx(m + p - 1)
    assert t.idle_fraction() == pytest.approx((p - 1) / (m + p - 1))
    for j in range(m):
        for s in range(p):
            e = t.find(f"s{s}", microbatch=j)
            assert (e.device, e.start_s, e.end_s) == (f"stage{s}", pytest.approx(j + s), pytest.approx(j + s + 1))


def test_pipeline_equal_cuts_from_stage_count():
    table, costs = make_problem({f"o{i}": 2.0 for i in range(6)}, [(f"o{i}", f"o{i + 1}", 8) for i in range(5)])
    t = schedule_pipeline(table, costs, stages=3, microbatches=2)
    assert t.devices("compute") == ("stage0", "stage1", "stage2")
    assert t.makespan_s == pytest.approx((2 + 3 - 1) * 2.0)  # each stage: 2 ops × 2 s / 2


def test_pipeline_sends_over_the_stage_link():
    table, costs = make_problem({"x": 2.0, "y": 2.0}, [("x", "y", 200)])
    t = schedule_pipeline(table, costs, stages=[0, 1], microbatches=2, link=Link(100.0))
    assert [(e.op, e.microbatch, e.start_s, e.end_s) for e in t.entries if e.kind == "transfer"] == [
        ("send0->1", 0, 1.0, 2.0), ("send0->1", 1, 2.0, 3.0)]
    assert t.find("y", microbatch=1).end_s == 4.0


def test_pipeline_rejects_backward_stage_edges_and_bad_counts():
    table, costs = make_problem({"x": 1.0, "y": 1.0}, [("x", "y", 8)])
    with pytest.raises(ConfigError, match="later pipeline stage"):
        schedule_pipeline(table, costs, stages=[1, 0], microbatches=1)
    with pytest.raises(ConfigError, match="microbatches"):
        schedule_pipeline(table, costs, stages=2, microbatches=0)


class _Spec:
    name, host_link_bw_bytes_per_s, host_link_latency_s = "chip", 100.0, 0.5


class _Chip:
    """A stand-in neuromorphic device: offloaded rows include a 1.5 s host round trip."""

    spec = _Spec()

    def transfer_s(self, table):
        return np.full(len(table), 1.5)


def test_host_offload_moves_round_trip_onto_the_contended_host_link():
    table, costs = make_problem({"a": 1.0, "s1": 3.5, "s2": 3.5, "d": 1.0},
                                [("a", "s1", 100), ("a", "s2", 100), ("s1", "d", 50), ("s2", "d", 50)],
                                offload=["s1", "s2"])
    new, placement, links = split_host_offload(table, costs, _Chip())
    assert new.latency_s.tolist() == [1.0, 2.0, 2.0, 1.0] and new.bound[1] == Bound.OFFLOAD
    assert placement == {"a": "device", "s1": "host", "s2": "host", "d": "device"}
    t = schedule_queued(table, new, streams=2, placement=placement, link=links)
    assert spans(t, "transfer") == {"a->s1": (1.0, 2.5), "a->s2": (2.5, 4.0), "s1->d": (4.5, 5.5),
                                    "s2->d": (6.0, 7.0)}
    assert spans(t)["d"] == (7.0, 8.0)


def test_split_host_offload_needs_a_host_link():
    class NoHost:
        spec = type("S", (), {"name": "gpu"})()

    with pytest.raises(ConfigError, match="no host link"):
        split_host_offload(*diamond(), NoHost())
