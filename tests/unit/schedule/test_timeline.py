"""Timeline figures and its Chrome trace: exact values on hand-made entries."""

from __future__ import annotations

import json

import pytest

from hwsim.errors import ConfigError
from hwsim.schedule import Entry, Link, Timeline


def _timeline() -> Timeline:
    return Timeline.of([
        Entry("b", "gpu", 1, 1.0, 3.0),
        Entry("a", "gpu", 0, 0.0, 2.0),
        Entry("x", "gpu->cpu", 0, 2.0, 2.5, "transfer"),
        Entry("c", "cpu", 0, 2.5, 4.0),
    ])


def test_makespan_busy_union_and_idle_fraction():
    t = _timeline()
    assert t.makespan_s == 4.0
    busy = t.busy_s()
    assert busy["gpu"] == 3.0  # [0,2] ∪ [1,3]: overlapping streams count once
    assert busy["cpu"] == 1.5 and busy["gpu->cpu"] == 0.5
    assert t.utilisation()["gpu"] == 0.75
    assert t.idle_fraction() == pytest.approx(1 - (3.0 + 1.5) / (2 * 4.0))
    assert [e.op for e in t.entries] == ["a", "b", "x", "c"]  # sorted by start


def test_find_and_empty():
    assert _timeline().find("c").device == "cpu"
    with pytest.raises(KeyError):
        _timeline().find("nope")
    assert Timeline.of([]).makespan_s == 0.0 and Timeline.of([]).idle_fraction() == 0.0


def test_chrome_trace_one_x_event_per_entry_in_microseconds():
    t = _timeline()
    trace = t.to_chrome_trace()
    assert trace["displayTimeUnit"] == "ms"
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == len(t.entries)
    b = next(e for e in xs if e["name"] == "b")
    assert b["ts"] == 1.0e6 and b["dur"] == 2.0e6 and b["tid"] == 1
    names = {e["pid"]: e["args"]["name"] for e in trace["traceEvents"] if e.get("name") == "process_name"}
    assert names[b["pid"]] == "gpu" and set(names.values()) == {"gpu", "gpu->cpu", "cpu"}


def test_write_chrome_trace_is_atomic_and_valid_json(tmp_path):
    path = tmp_path / "trace.json"
    path.write_text("old")
    _timeline().write_chrome_trace(path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(_timeline().to_chrome_trace()))
    assert [p.name for p in tmp_path.iterdir()] == ["trace.json"]  # no temp file left behind
    with pytest.raises(ConfigError, match="does not exist"):
        _timeline().write_chrome_trace(tmp_path / "missing" / "t.json")


def test_link_transfer_time_and_validation():
    assert Link(1e9, 1e-6).transfer_s(2e9) == pytest.approx(2.000001)
    with pytest.raises(ConfigError, match="bw_bytes_per_s"):
        Link(0.0)
    with pytest.raises(ConfigError, match="latency_s"):
        Link(1.0, -1.0)
