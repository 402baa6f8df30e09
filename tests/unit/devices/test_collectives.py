"""Collective times against the alpha-beta formulas, computed by hand."""

from __future__ import annotations

import pytest

from hwsim.devices.collectives import all_gather_s, all_reduce_s, p2p_s, reduce_scatter_s

N, BW, LAT = 1e9, 100e9, 5e-6  # 1 GB over 100 GB/s links with 5 µs hops


@pytest.mark.parametrize("topology,p,expected", [
    ("ring", 8, 2 * 7 / 8 * 1e9 / 100e9 + 2 * 7 * 5e-6),     # 17.5 ms + 70 µs
    ("tree", 8, 2 * 3 * (5e-6 + 1e9 / 100e9)),                # 6 rounds of a full message
    ("switch", 8, 2 * 7 / 8 * 1e9 / 100e9 + 2 * 5e-6),
    ("torus2d", 16, 2 * 3 / 4 * 1e9 / 100e9 + 2 * 3 / 4 * (1e9 / 4) / 100e9 + 4 * 3 * 5e-6),
])
def test_all_reduce(topology, p, expected):
    assert float(all_reduce_s(N, p, BW, LAT, topology)) == pytest.approx(expected)


def test_single_device_costs_nothing():
    assert float(all_reduce_s(N, 1, BW, LAT)) == 0.0
    assert float(all_gather_s(N, 1, BW, LAT)) == 0.0


def test_gather_scatter_and_p2p():
    assert float(all_gather_s(N, 4, BW, LAT)) == pytest.approx(3 / 4 * 1e9 / 100e9 + 3 * 5e-6)
    assert float(reduce_scatter_s(N, 4, BW, LAT)) == float(all_gather_s(N, 4, BW, LAT))
    assert float(p2p_s(N, BW, LAT)) == pytest.approx(5e-6 + 0.01)


def test_ring_all_reduce_approaches_twice_the_message_time():
    """Bandwidth term 2(p−1)/p → 2 as p grows (Patarasuk & Yuan 2009)."""
    t = float(all_reduce_s(N, 1024, BW, 0.0))
    assert t == pytest.approx(2 * N / BW, rel=1e-3)
