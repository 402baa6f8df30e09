"""Schedules: when each op runs on which engine, and serving under load.

* :mod:`.analytic` (default, pure): list scheduling over the op DAG with stream and transfer
  times; transfers never contend.
* :mod:`.queued` (simpy): the same problem with contended streams and shared links, GPipe
  pipelines, host offload over the host link.
* :mod:`.serving` / :mod:`.serving_sim` (simpy): request arrivals, dynamic batching, N devices;
  latency percentiles, utilisation, energy, dollars; SLO-constrained maximum rate.
* :mod:`.timeline`, :mod:`.trace`: the frozen Timeline and its Chrome trace (Perfetto) JSON.

DESIGN deviation: DESIGN.md names ``queued.py`` as the only module importing simpy; the serving
event loop lives in a second simpy module, ``serving_sim.py``, to keep both under 400 lines.
Nothing else imports simpy.
"""

from hwsim.schedule.analytic import schedule_analytic
from hwsim.schedule.problem import COLLECTIVE_OP_TYPES, split_host_offload
from hwsim.schedule.queued import schedule_pipeline, schedule_queued, schedule_with_host
from hwsim.schedule.serving import (
    LatencyTable,
    ServingResult,
    latency_table,
    latency_table_from,
    max_rate_meeting_slo,
    simulate_serving,
)
from hwsim.schedule.timeline import Entry, Link, Timeline

__all__ = [
    "COLLECTIVE_OP_TYPES", "Entry", "LatencyTable", "Link", "ServingResult", "Timeline", "latency_table",
    "latency_table_from", "max_rate_meeting_slo", "schedule_analytic", "schedule_pipeline", "schedule_queued",
    "schedule_with_host", "simulate_serving", "split_host_offload",
]
