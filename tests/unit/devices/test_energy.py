"""Energy tables at the anchor nodes equal the published figures; TDP anchoring by hand."""

from __future__ import annotations

import pytest

from hwsim.devices.energy import HBM_BYTE_J, table_at_node, tdp_anchored_scale

PJ = 1e-12


def test_45nm_anchor_is_horowitz():
    t = table_at_node(45)
    assert t["mac_j"]["fp32"] == pytest.approx((3.7 + 0.9) * PJ)   # Horowitz ISSCC 2014
    assert t["mac_j"]["int8"] == pytest.approx((0.2 + 0.03) * PJ)
    assert t["sram_byte_j"] == pytest.approx(100 / 8 * PJ)         # 1 MB SRAM, 64-bit access
    assert t["dram_byte_j"] == pytest.approx(1300 / 8 * PJ)


def test_7nm_anchor_is_tpuv4i_table():
    t = table_at_node(7, hbm=True)
    assert t["mac_j"]["bf16"] == pytest.approx((0.21 + 0.11) * PJ)  # Jouppi et al. ISCA 2021
    assert t["op_j"]["fp32"] == pytest.approx(0.38 * PJ)
    assert t["dram_byte_j"] == HBM_BYTE_J == pytest.approx(3.9 * 8 * PJ)


def test_energy_falls_with_node_between_anchors():
    e = [table_at_node(nm)["mac_j"]["fp16"] for nm in (45, 28, 16, 7, 5)]
    assert e == sorted(e, reverse=True)


def test_tdp_anchored_scale_by_hand():
    # 400 W TDP, 55 W idle, 156e12 MAC/s at 0.32 pJ: table power 49.9 W -> 345 / 49.92 = 6.91
    assert tdp_anchored_scale(400, 55, 156e12, 0.32e-12) == pytest.approx(345 / (156e12 * 0.32e-12))
    assert tdp_anchored_scale(10, 9, 1e12, 5e-12) == 1.0  # never below 1
