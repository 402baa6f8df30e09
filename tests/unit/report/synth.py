"""Small synthetic study results (the contract of hwsim.report) with hand-checkable numbers.

Energy per sample (J) at batch 1 / 8 / 64:

=============  =====  ====  =====  =====
family/model   cpu-x  a100  eie    loihi
=============  =====  ====  =====  =====
dense-cnn cnn  1.0    0.2   0.5    n/a (row present, no value)
               0.5    0.05  0.5    n/a
               0.3    0.01  0.5    n/a
pruned-cnn     0.5    0.15  0.012  0.3
cnn-p90        0.25   0.02  0.012  0.3
               0.15   0.005 0.012  0.3
=============  =====  ====  =====  =====

loihi has no sourced price (usd NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hwsim.devices.base import Bound
from hwsim.ops.work import WorkKind

DEVICES = {"cpu-x": "cpu", "a100": "gpu", "eie": "sparse", "loihi": "neuromorphic"}
BATCHES = (1, 8, 64)
ENERGY = {
    ("cnn", "cpu-x"): (1.0, 0.5, 0.3), ("cnn", "a100"): (0.2, 0.05, 0.01), ("cnn", "eie"): (0.5, 0.5, 0.5),
    ("cnn", "loihi"): (math.nan,) * 3,
    ("cnn-p90", "cpu-x"): (0.5, 0.25, 0.15), ("cnn-p90", "a100"): (0.15, 0.02, 0.005),
    ("cnn-p90", "eie"): (0.012, 0.012, 0.012), ("cnn-p90", "loihi"): (0.3, 0.3, 0.3),
}
FAMILY = {"cnn": "dense-cnn", "cnn-p90": "pruned-cnn"}
METRIC_KEYS = ("latency_s", "throughput_per_s", "energy_j", "energy_per_sample_j", "avg_power_w", "usd",
               "usd_per_1m", "co2_g", "co2_g_per_1m", "utilization", "bound_compute", "bound_memory",
               "bound_overhead", "bound_offload", "fits_in_memory", "devices_needed", "flops", "macs",
               "params")


def row(point: int, model: str, device: str, **values: Any) -> dict[str, Any]:
    """One results row with every contract key (None where not given)."""
    r: dict[str, Any] = {k: None for k in METRIC_KEYS}
    r.update(scenario="synthetic", point=point, model=model, family=FAMILY.get(model, "lstm"),
             workload="inference", device=device, device_kind=DEVICES.get(device, "gpu"))
    r.update(values)
    return r


def rows() -> list[dict[str, Any]]:
    """8 model × device pairs × 3 batch sizes (points 0, 1, 2)."""
    out = []
    for point, batch in enumerate(BATCHES):
        for (model, device), energies in ENERGY.items():
            e = energies[point]
            lat = 1e-3 * (1 + list(DEVICES).index(device)) / batch
            price = math.nan if device == "loihi" else e * 1e-6
            out.append(row(point, model, device, **{"param:batch": batch}, latency_s=lat,
                           throughput_per_s=batch / lat, energy_j=e * batch, energy_per_sample_j=e,
                           avg_power_w=e * batch / lat, usd=price, usd_per_1m=price * 1e6 / batch,
                           utilization=0.1 * (1 + point), bound_compute=0.6, bound_memory=0.4,
                           bound_overhead=0.0, bound_offload=0.0, fits_in_memory=device != "loihi",
                           devices_needed=2 if device == "loihi" else 1, flops=1e9, macs=5e8, params=1e6))
    return out


def per_op() -> dict[tuple[str, str], dict[str, Any]]:
    """Five ops per (model, device) at the base point; the last op is unpriced (NaN latency)."""
    out = {}
    for i, (model, device) in enumerate(sorted(k for k in ENERGY if k[1] != "loihi")):
        scale = 1.0 + i
        out[(model, device)] = {
            "flops": np.array([2e8, 4e8, 1e6, 5e5, 1e8]),
            "bytes": np.array([1e6, 2e6, 4e6, 2e6, 8e5]),
            "latency_s": np.array([1e-4, 2e-4, 5e-5, 2e-5, math.nan]) * scale,
            "kind": np.array([WorkKind.CONV, WorkKind.CONV, WorkKind.ELEMENTWISE, WorkKind.POOL,
                              WorkKind.MATMUL], dtype=np.int8),
            "bound": np.array([Bound.COMPUTE, Bound.COMPUTE, Bound.MEMORY, Bound.OVERHEAD,
                               Bound.UNSUPPORTED], dtype=np.int8),
            "energy_j": np.array([1e-3, 2e-3, 1e-4, 5e-5, math.nan]) * scale,
            "peak_flops_per_s": 1e13 / scale, "mem_bw_bytes_per_s": 1e11,
        }
    return out


def assumptions(url: bool = True) -> dict[str, Any]:
    """Device specs and economics with sources (one value deliberately without)."""
    src = "https://www.nvidia.com/a100-datasheet.pdf" if url else "NVIDIA A100 datasheet, table 1"
    return {
        "devices": {"a100": {"peak_flops_per_s": 3.12e14, "mem_bw_bytes_per_s": 2.039e12,
                             "sources": {"peak_flops_per_s": src, "mem_bw_bytes_per_s": src}},
                    "eie": {"pe_count": 64, "sources": {"pe_count": "Han et al. 2016, ISCA, sec. 4"}}},
        "economics": {"usd_per_kwh": 0.12, "pue": 1.1, "sources": {"usd_per_kwh": "EIA 2023 average"}},
    }


def unpriced() -> list[dict[str, Any]]:
    return [{"op_type": "NonMaxSuppression", "count": 2, "model": "cnn", "device": "eie"}]


def meta(**extra: Any) -> dict[str, Any]:
    m = {"name": "Synthetic lottery", "question": "Does pruning win on a sparse accelerator?",
         "reference_lines": [{"label": "human brain 20 W", "metric": "avg_power_w", "value": 20}],
         "figures": []}
    m.update(extra)
    return m


def serving_rows() -> list[dict[str, Any]]:
    """p50/p99 of one model on two devices over three arrival rates, with a 50 ms SLO."""
    out = []
    for point, rate in enumerate((10.0, 100.0, 400.0)):
        for device, base in (("a100", 0.005), ("cpu-x", 0.02)):
            p50 = base * (1 + rate / 200)
            out.append(row(point, "cnn", device, workload="serving", **{"param:serving.arrival_rate_per_s": rate,
                           "param:serving.slo_p99_s": 0.05}, p50_s=p50, p95_s=2 * p50, p99_s=3 * p50,
                           latency_s=base, energy_per_sample_j=0.1, energy_j=0.1, usd=1e-6, max_rate_meeting_slo=100.0))
    return out
