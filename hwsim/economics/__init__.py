"""Dollars and carbon from seconds and joules (see :mod:`hwsim.config.economics` for defaults).

capex: usd = price_usd / (lifetime_s × utilization) × time + energy_kWh × PUE × electricity
rental: usd = rental_usd_per_hour / 3600 × time (the rate includes power and facility)
co2_g = energy_kWh × PUE × grid intensity (operational carbon; embodied carbon not modelled).
A device with no sourced price gets ``usd`` = NaN (reported as null / "n/a"), never a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.config.devices import DeviceSpecBase
from hwsim.config.economics import J_PER_KWH, SECONDS_PER_YEAR, Economics


@dataclass(frozen=True)
class Cost:
    """Money and carbon of one run."""

    usd: float
    co2_g: float
    energy_kwh: float
    basis: str  # how usd was computed, for the assumptions table


def run_cost(spec: DeviceSpecBase, econ: Economics, time_s: float, energy_j: float, devices: int = 1) -> Cost:
    """Cost of ``devices`` devices busy for ``time_s`` seconds using ``energy_j`` joules in all."""
    kwh = energy_j / J_PER_KWH
    co2 = kwh * econ.pue * econ.grid_gco2_per_kwh
    mode = econ.pricing
    if mode == "capex" and spec.price_usd is None:
        mode = "rental" if spec.rental_usd_per_hour is not None else mode
    if mode == "rental" and spec.rental_usd_per_hour is not None:
        usd = spec.rental_usd_per_hour / 3600.0 * time_s * devices
        return Cost(usd, co2, kwh, f"rental {spec.rental_usd_per_hour} USD/h × {devices} device(s)")
    if spec.price_usd is None:
        return Cost(math.nan, co2, kwh, f"no sourced {'rental rate' if mode == 'rental' else 'price'} for "
                                        f"{spec.name!r}: dollars not computed (set one with --set price_usd=...)")
    capex_per_s = spec.price_usd / (econ.lifetime_years * SECONDS_PER_YEAR * econ.utilization)
    usd = capex_per_s * time_s * devices + kwh * econ.pue * econ.electricity_usd_per_kwh
    return Cost(usd, co2, kwh, f"capex {spec.price_usd} USD over {econ.lifetime_years} y at utilization "
                               f"{econ.utilization} × {devices} device(s) + electricity {econ.electricity_usd_per_kwh} USD/kWh × PUE {econ.pue}")
