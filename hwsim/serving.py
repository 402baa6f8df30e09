"""Serving under load — public entry points (implemented in :mod:`hwsim.schedule.serving`)."""

from hwsim.schedule.serving import (
    LatencyTable,
    ServingResult,
    latency_table,
    latency_table_from,
    max_rate_meeting_slo,
    simulate_serving,
)

__all__ = ["LatencyTable", "ServingResult", "latency_table", "latency_table_from", "max_rate_meeting_slo",
           "simulate_serving"]
