"""Serving under load: exact batching on a hand-made trace, M/D/1 against Pollaczek–Khinchine,
determinism of the SLO search, and input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsim.config.economics import Economics
from hwsim.devices import get_device
from hwsim.economics import run_cost
from hwsim.errors import ConfigError
from hwsim.schedule import latency_table, latency_table_from, max_rate_meeting_slo, simulate_serving

TRACE = [0.0, 0.2, 0.4, 0.5, 3.0, 3.1]
TABLE = latency_table({1: (1.0, 10.0), 2: (1.5, 14.0), 3: (2.0, 18.0)}, power_idle_w=2.0)


def test_batcher_on_a_trace_one_device_exact():
    # batch r0-r2 fills at 0.4 -> [0.4, 2.4]; r3 is past its deadline at 2.4 -> [2.4, 3.4];
    # r4, r5 wait for r4's deadline 4.0 -> batch of 2 [4.0, 5.5]
    r = simulate_serving(TABLE, devices=1, arrival=TRACE, max_batch=3, max_wait_s=1.0)
    assert r.latencies_s.tolist() == pytest.approx([2.4, 2.2, 2.0, 2.9, 2.5, 2.4])
    assert r.horizon_s == pytest.approx(5.5) and r.mean_batch == 2.0
    assert r.utilisation == pytest.approx(4.5 / 5.5)
    assert r.energy_j == pytest.approx(18 + 10 + 14 + 2.0 * (5.5 - 4.5))
    assert r.throughput_per_s == pytest.approx(6 / 5.5)
    assert math.isnan(r.usd_per_million)  # no device spec, no dollars


def test_batcher_on_a_trace_two_devices_exact():
    # device 1 takes the batcher at 0.4 and sends r3 alone at its deadline 1.5
    r = simulate_serving(TABLE, devices=2, arrival=TRACE, max_batch=3, max_wait_s=1.0)
    assert r.latencies_s.tolist() == pytest.approx([2.4, 2.2, 2.0, 2.0, 2.5, 2.4])
    assert r.utilisation == pytest.approx(4.5 / (2 * 5.5))
    assert r.energy_j == pytest.approx(42 + 2.0 * (2 * 5.5 - 4.5))


def test_dollars_per_million_requests_from_run_cost():
    spec = get_device("a100-sxm-80gb").spec
    table = latency_table({1: (1.0, 10.0), 2: (1.5, 14.0), 3: (2.0, 18.0)}, power_idle_w=2.0, spec=spec)
    r = simulate_serving(table, devices=1, arrival=TRACE, max_batch=3, max_wait_s=1.0)
    expected = run_cost(spec, Economics(), 5.5, 44.0, devices=1).usd / 6 * 1e6
    assert r.usd_per_million == pytest.approx(expected) and expected > 0


def test_single_server_waits_follow_the_lindley_recursion_exactly():
    rng = np.random.default_rng(7)
    arrivals = np.cumsum(rng.exponential(1.0, 2000))
    r = simulate_serving(lambda b: 0.9, arrival=arrivals)
    wait, expected = 0.0, [0.0]
    for gap in np.diff(arrivals - arrivals[0]):
        wait = max(0.0, wait + 0.9 - gap)
        expected.append(wait)
    assert r.latencies_s - 0.9 == pytest.approx(np.array(expected), abs=1e-9)


@pytest.mark.parametrize("rho, n", [(0.5, 100_000), (0.8, 200_000)])
def test_md1_mean_wait_matches_pollaczek_khinchine(rho, n):
    mu = 1000.0  # service 1 ms
    r = simulate_serving(lambda b: 1.0 / mu, rate_per_s=rho * mu, n_requests=n, seed=0)
    w_q = rho / (2 * mu * (1 - rho))  # M/D/1: E[W_q] = ρ / (2μ(1 − ρ))
    assert r.wait_mean_s == pytest.approx(w_q, rel=0.05)
    assert r.utilisation == pytest.approx(rho, rel=0.02)
    assert r.latency_mean_s == pytest.approx(r.wait_mean_s + 1.0 / mu)


def test_poisson_runs_are_seeded_and_duration_bounded():
    a = simulate_serving(lambda b: 0.001, rate_per_s=500.0, duration_s=10.0, seed=3)
    b = simulate_serving(lambda b: 0.001, rate_per_s=500.0, duration_s=10.0, seed=3)
    assert np.array_equal(a.latencies_s, b.latencies_s)
    assert abs(a.n_requests - 5000) < 5 * math.sqrt(5000)
    c = simulate_serving(lambda b: 0.001, rate_per_s=500.0, duration_s=10.0, seed=4)
    assert not np.array_equal(a.latencies_s[:100], c.latencies_s[:100])


def test_slo_search_is_deterministic_and_meets_the_slo():
    table = latency_table({1: 0.010, 2: 0.012, 4: 0.016})
    kw = {"devices": 2, "max_batch": 4, "max_wait_s": 0.002, "n_requests": 4000, "seed": 1}
    first = max_rate_meeting_slo(table, slo_s=0.05, **kw)
    assert first == max_rate_meeting_slo(table, slo_s=0.05, **kw)
    capacity = 2 * 4 / 0.016
    assert 0 < first < capacity
    check = simulate_serving(table, 2, "poisson", first, 4, 0.002, n_requests=4000, seed=1)
    assert check.latency_p99_s <= 0.05
    assert max_rate_meeting_slo(table, slo_s=0.005, **kw) == 0.0  # service alone exceeds it


def test_latency_table_pads_to_the_next_priced_batch():
    t = latency_table({1: 1.0, 4: {"latency_s": 2.0, "energy_j": 3.0}})
    assert (t(3), t.energy(3), t(1), t.energy(1)) == (2.0, 3.0, 1.0, 0.0)
    with pytest.raises(ConfigError, match="exceeds the largest"):
        t(5)


def test_latency_table_from_prices_each_batch_with_the_rollup():
    from hwsim import count_work, load_model
    from hwsim.rollup import price_on

    dev = get_device("a100-sxm-80gb")
    t = latency_table_from("zoo:mlp", dev, [4, 1])
    direct = price_on(count_work(load_model("zoo:mlp?batch=4")), dev, batch=4)
    assert t.batch_sizes == (1, 4)
    assert (t(4), t.energy(4)) == (direct.latency_s, direct.energy_j)
    assert t.power_idle_w == dev.spec.power_idle_w
    with pytest.raises(ConfigError, match="already sets batch"):
        latency_table_from("zoo:mlp?batch=2", dev, [1])
    with pytest.raises(ConfigError, match="pass a callable"):
        latency_table_from("model.onnx", dev, [1])
    via_callable = latency_table_from(lambda b: count_work(load_model(f"zoo:mlp?batch={b}")), dev, [4])
    assert via_callable(4) == direct.latency_s


@pytest.mark.parametrize("kwargs, match", [
    ({"rate_per_s": -1.0, "n_requests": 10}, "rate_per_s"),
    ({"rate_per_s": 1.0, "n_requests": 10, "max_batch": 0}, "max_batch"),
    ({"rate_per_s": 1.0, "n_requests": 10, "devices": 0}, "devices"),
    ({"rate_per_s": 1.0, "n_requests": 10, "max_wait_s": -0.1}, "max_wait_s"),
    ({"rate_per_s": 1.0}, "exactly one of"),
    ({"rate_per_s": 1.0, "n_requests": 10, "duration_s": 5.0}, "exactly one of"),
    ({"rate_per_s": 1.0, "n_requests": 10, "arrival": "uniform"}, "arrival"),
    ({"arrival": [0.0, 2.0, 1.0]}, "non-decreasing"),
    ({"arrival": [0.0, 1.0], "rate_per_s": 5.0}, "Poisson arrivals only"),
])
def test_bad_serving_input_raises_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        simulate_serving(lambda b: 0.01, **kwargs)


def test_bad_slo_input_raises_config_error():
    with pytest.raises(ConfigError, match="slo_s"):
        max_rate_meeting_slo(lambda b: 0.01, slo_s=-1.0)
    with pytest.raises(ConfigError, match="percentile"):
        max_rate_meeting_slo(lambda b: 0.01, slo_s=1.0, percentile=99)
    with pytest.raises(ConfigError, match="latencies must be finite"):
        simulate_serving(lambda b: 0.0, rate_per_s=1.0, n_requests=5)
