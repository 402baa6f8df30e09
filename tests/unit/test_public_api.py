"""The top-level API composes: load → count → price → simulate agree with each other."""

from __future__ import annotations

import pytest

import hwsim


def test_load_count_price_simulate_agree():
    table = hwsim.count_work(hwsim.load_model("zoo:lenet5"))
    result = hwsim.price(table, "a100-sxm-80gb")
    timeline = hwsim.simulate(table, result.costs)
    # one stream on one device: the makespan is the sum of op latencies the roll-up reports
    assert timeline.makespan_s == pytest.approx(result.latency_s)
    queued = hwsim.simulate(table, result.costs, queued=True)
    assert queued.makespan_s == pytest.approx(timeline.makespan_s)
