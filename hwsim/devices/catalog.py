"""Headline figures of every library device, for `hwsim devices`."""

from __future__ import annotations

from hwsim.devices.library import library_index, library_spec
from hwsim.errors import HwsimError
from hwsim.report.inspect import si


def device_rows() -> list[dict[str, str]]:
    """One row per library device: name, kind, peak, memory, bandwidth, TDP, price."""
    rows = []
    for name in sorted(library_index()):
        try:
            spec = library_spec(name)
        except HwsimError as exc:
            rows.append({"name": name, "kind": "?", "peak": "", "memory": "", "bandwidth": "", "tdp": "",
                         "price": "", "description": f"invalid: {exc}"})
            continue
        peak = spec.headline_flops_per_s()
        price = f"${spec.price_usd:,.0f}" if spec.price_usd else (f"${spec.rental_usd_per_hour}/h" if spec.rental_usd_per_hour else "")
        rows.append({"name": name, "kind": spec.kind, "peak": si(peak, "FLOP/s") if peak else "spiking",
                     "memory": si(spec.mem_bytes, "B"), "bandwidth": si(spec.mem_bw_bytes_per_s, "B/s"),
                     "tdp": f"{spec.tdp_w:g} W", "price": price, "description": spec.description})
    return rows
