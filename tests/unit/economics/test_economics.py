"""Dollars and carbon by hand."""

from __future__ import annotations

import math

import pytest

from hwsim.config.economics import SECONDS_PER_YEAR, Economics
from hwsim.economics import run_cost


class _Spec:
    name = "toy"
    price_usd = 10_000.0
    rental_usd_per_hour = 2.0


def test_capex_amortisation_plus_electricity():
    econ = Economics(electricity_usd_per_kwh=0.10, pue=1.5, grid_gco2_per_kwh=400, lifetime_years=4, utilization=0.5)
    cost = run_cost(_Spec(), econ, time_s=3600.0, energy_j=3.6e6)  # one hour, one kWh
    capex = 10_000 / (4 * SECONDS_PER_YEAR * 0.5) * 3600
    assert cost.usd == pytest.approx(capex + 1.0 * 1.5 * 0.10)
    assert cost.co2_g == pytest.approx(1.0 * 1.5 * 400)
    assert cost.energy_kwh == pytest.approx(1.0)


def test_rental_includes_power():
    cost = run_cost(_Spec(), Economics(pricing="rental"), time_s=1800.0, energy_j=7.2e6, devices=8)
    assert cost.usd == pytest.approx(2.0 / 2 * 8)
    assert cost.co2_g == pytest.approx(2.0 * 1.58 * 367)


def test_missing_prices_give_no_dollars_not_a_guess():
    class Bare:
        name = "bare"
        price_usd = None
        rental_usd_per_hour = None

    cost = run_cost(Bare(), Economics(), 1.0, 3.6e6)
    assert math.isnan(cost.usd) and "dollars not computed" in cost.basis
    assert cost.co2_g == pytest.approx(1.58 * 367)


@pytest.mark.parametrize("field,value", [("pue", 0.9), ("utilization", 0.0), ("lifetime_years", 0), ("extra", 1)])
def test_economics_validation(field, value):
    with pytest.raises(ValueError):
        Economics(**{field: value})
