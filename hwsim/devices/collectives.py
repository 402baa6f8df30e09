"""Collective communication times from bytes and links (alpha-beta model).

n bytes per device, p devices, link bandwidth B (bytes/s, per direction), hop latency a.
* ring all-reduce: 2(p−1)/p · n/B + 2(p−1)·a  (bandwidth-optimal; Patarasuk & Yuan,
  J. Parallel Distrib. Comput. 2009).
* tree all-reduce: 2·⌈log2 p⌉·(a + n/B)  (binomial reduce + broadcast; Thakur, Rabenseifner &
  Gropp, IJHPCA 2005).
* switch (full bisection, e.g. NVSwitch): ring volume 2(p−1)/p · n/B with 2 hops of latency.
* torus2d (q×q, q = √p): reduce-scatter and all-gather along rows, all-reduce of n/q along
  columns: 2(q−1)/q·n/B + 2(q−1)/q·(n/q)/B + 4(q−1)·a.
* all-gather / reduce-scatter (ring): (p−1)/p · n/B + (p−1)·a, n = the full gathered size.
* point-to-point: a + n/B.
All accept numpy arrays for n. p = 1 costs nothing.
"""

from __future__ import annotations

import math

import numpy as np


def all_reduce_s(n: np.ndarray | float, p: int, bw: float, lat: float, topology: str = "ring") -> np.ndarray:
    """Time to all-reduce ``n`` bytes across ``p`` devices."""
    n = np.asarray(n, dtype=float)
    if p <= 1:
        return np.zeros_like(n)
    if topology == "tree":
        return 2 * math.ceil(math.log2(p)) * (lat + n / bw)
    if topology == "switch":
        return 2 * (p - 1) / p * n / bw + 2 * lat
    if topology == "torus2d":
        q = max(2, round(math.sqrt(p)))
        return 2 * (q - 1) / q * n / bw + 2 * (q - 1) / q * (n / q) / bw + 4 * (q - 1) * lat
    return 2 * (p - 1) / p * n / bw + 2 * (p - 1) * lat


def all_gather_s(n: np.ndarray | float, p: int, bw: float, lat: float) -> np.ndarray:
    """Time to all-gather a result of ``n`` bytes (each device holds n/p) over a ring."""
    n = np.asarray(n, dtype=float)
    return np.zeros_like(n) if p <= 1 else (p - 1) / p * n / bw + (p - 1) * lat


def reduce_scatter_s(n: np.ndarray | float, p: int, bw: float, lat: float) -> np.ndarray:
    """Time to reduce-scatter ``n`` bytes (each device ends with n/p) over a ring."""
    return all_gather_s(n, p, bw, lat)


def p2p_s(n: np.ndarray | float, bw: float, lat: float) -> np.ndarray:
    """Time to send ``n`` bytes from one device to another."""
    return lat + np.asarray(n, dtype=float) / bw


def all_reduce_link_bytes(n: float, p: int) -> float:
    """Bytes each device puts on its links in a ring all-reduce: 2(p−1)/p · n."""
    return 0.0 if p <= 1 else 2 * (p - 1) / p * n
