"""Economics: what a device-second and a kilowatt-hour cost in dollars and grams of CO2.

Defaults, with sources (../shared/reference/hardware_facts.yaml, section 4):
* electricity 0.0806 USD/kWh: US industrial average price 2023 (EIA via Statista 190680).
* PUE 1.58: average data-centre PUE, Uptime Institute 2023 survey.
* grid 367 gCO2/kWh: US utility-scale generation 2023 (EIA FAQ 74: 0.81 lb/kWh).
* lifetime 5 years: hyperscaler server depreciation 5-6 years (10-K filings 2022-2025).
* utilization 1.0: a definition, not a fact — capex is spread over busy seconds only if the
  device is always busy; lower it to model a fleet that idles (cost per useful second rises).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(gt=0.0, le=1.0)]


class Economics(BaseModel):
    """Prices and intensities used to turn seconds and joules into dollars and CO2."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pricing: Literal["capex", "rental"] = Field(default="capex", description="amortise the purchase price, or pay the cloud hourly rate (which includes power)")
    electricity_usd_per_kwh: Annotated[float, Field(ge=0)] = Field(default=0.0806, description="electricity price (USD/kWh)")
    pue: Annotated[float, Field(ge=1.0)] = Field(default=1.58, description="power usage effectiveness: facility energy / IT energy")
    grid_gco2_per_kwh: Annotated[float, Field(ge=0)] = Field(default=367.0, description="grid carbon intensity (gCO2/kWh)")
    lifetime_years: Annotated[float, Field(gt=0)] = Field(default=5.0, description="years over which the purchase price is amortised")
    utilization: Fraction = Field(default=1.0, description="fraction of its lifetime the device does paid work")


SECONDS_PER_YEAR = 365.25 * 24 * 3600
J_PER_KWH = 3.6e6
