"""Roll-up: a model that needs several devices pays idle power and dollars for all of them."""

from __future__ import annotations

import math

import pytest

import hwsim
from hwsim.devices import get_device
from hwsim.rollup import price_on


def test_devices_needed_pay_idle_power_and_capex():
    table = hwsim.count_work(hwsim.load_model("zoo:gpt2-medium?seq=16"))
    roomy = price_on(table, get_device("a100-sxm-80gb"))
    tight = price_on(table, get_device("a100-sxm-80gb", {"mem_bytes": "1.0e9"}))
    weights = (table.totals()["weight_bytes"])
    assert weights > 1.0e9 and roomy.devices_needed == 1 and not tight.fits_in_memory
    n = tight.devices_needed
    assert n == math.ceil(tight.memory_bytes["total"] / 1.0e9)
    assert tight.latency_s == pytest.approx(roomy.latency_s)
    idle_w = get_device("a100-sxm-80gb").spec.power_idle_w
    assert tight.energy_j - roomy.energy_j == pytest.approx(idle_w * (n - 1) * roomy.latency_s)
    # capex for n devices over the latency + electricity for the energy (hwsim.economics formula)
    from hwsim.config.economics import J_PER_KWH, SECONDS_PER_YEAR, Economics

    econ, spec = Economics(), get_device("a100-sxm-80gb").spec
    capex = spec.price_usd / (econ.lifetime_years * SECONDS_PER_YEAR * econ.utilization) * tight.latency_s * n
    power = tight.energy_j / J_PER_KWH * econ.pue * econ.electricity_usd_per_kwh
    assert tight.usd == pytest.approx(capex + power)
