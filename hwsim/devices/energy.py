"""Energy per operation and per byte, from published tables scaled to a process node.

Two anchor tables (../shared/reference/hardware_facts.yaml, sections 3a and 3b):
* 45 nm, 0.9 V: Horowitz, "Computing's energy problem", ISSCC 2014 (keynote table).
* 7 nm: the same table updated by Jouppi et al., "Ten Lessons From Three Generations Shaped
  Google's TPUv4i", ISCA 2021, Table 3.
Between and beyond the anchors, energy is interpolated log-linearly in the node size (energy
∝ node^α with α fitted on the two anchors for each entry); this is a model, not a measurement,
and a device YAML may give its own figures instead.

A MAC is a multiply plus an add of the same type (fp32 MAC at 45 nm = 3.7 + 0.9 = 4.6 pJ).
Assumptions where no anchor is published: int4 = half of int8, fp8 = half of fp16,
fp64 = 4 × fp32 (multiplier area grows ~quadratically with mantissa width), tf32 = fp32
(conservative). Memory: SRAM 1 MB (64-bit access) / 8 bytes per byte;
DRAM DDR (64-bit, 1.3 nJ) / 8; HBM2 3.9 pJ/bit (section 3c) for HBM devices.
"""

from __future__ import annotations

import math

PJ = 1e-12

#: (multiply, add) energy in pJ at 45 nm and at 7 nm, by dtype.
_MUL_ADD_PJ = {
    "fp32": ((3.7, 0.9), (1.31, 0.38)),
    "fp16": ((1.1, 0.4), (0.34, 0.16)),
    "bf16": ((1.1, 0.4), (0.21, 0.11)),  # 45 nm: fp16 figures (Horowitz lists no bf16)
    "int8": ((0.2, 0.03), (0.07, 0.007)),
    "int32": ((3.1, 0.1), (1.48, 0.03)),
}
#: Per-byte energies in pJ at (45 nm, 7 nm): SRAM 1 MB and DDR DRAM, 64-bit access / 8.
_SRAM_BYTE_PJ = (100 / 8, 14 / 8)
_DRAM_BYTE_PJ = (1300 / 8, 1300 / 8)
#: HBM2: 3.9 pJ/bit (O'Connor et al., MICRO 2017, via hardware_facts 3c).
HBM_BYTE_J = 3.9 * 8 * PJ


def _at(node_nm: float, pair: tuple[float, float]) -> float:
    """Log-linear interpolation/extrapolation between the 45 nm and 7 nm anchors."""
    e45, e7 = pair
    alpha = math.log(e45 / e7) / math.log(45 / 7)
    return e7 * (node_nm / 7) ** alpha


def table_at_node(node_nm: float, hbm: bool = False) -> dict:
    """An ``energy:`` mapping (joules) for a device at ``node_nm``; ``hbm`` selects HBM DRAM."""
    mac, op = {}, {}
    for dtype, (e45, e7) in _MUL_ADD_PJ.items():
        if dtype == "int32":
            continue
        mul = _at(node_nm, (e45[0], e7[0]))
        add = _at(node_nm, (e45[1], e7[1]))
        mac[dtype] = (mul + add) * PJ
        op[dtype] = add * PJ
    for alias, src, factor in (("tf32", "fp32", 1.0), ("fp64", "fp32", 4.0), ("fp8", "fp16", 0.5),
                               ("int4", "int8", 0.5)):
        mac[alias] = mac[src] * factor
        op[alias] = op[src] * factor
    return {
        "mac_j": mac, "op_j": op,
        "sram_byte_j": _at(node_nm, _SRAM_BYTE_PJ) * PJ,
        "dram_byte_j": HBM_BYTE_J if hbm else _at(node_nm, _DRAM_BYTE_PJ) * PJ,
    }


ENERGY_SOURCE = ("Horowitz ISSCC 2014 (45 nm) and Jouppi et al. ISCA 2021 Table 3 (7 nm) op/SRAM/DRAM "
                 "energies, log-linear in node (hwsim/devices/energy.py); HBM2 3.9 pJ/bit")


def tdp_anchored_scale(tdp_w: float, idle_w: float, peak_macs_per_s: float, mac_j: float) -> float:
    """Compute-energy multiplier that makes a chip running MACs at its peak draw its TDP.

    Per-op tables count only the arithmetic; a real chip also spends energy on instruction
    issue, operand delivery and clocks. Anchoring at the TDP assumes that a chip at full
    arithmetic load sits at its power limit (datacentre GPUs running large GEMMs do, e.g. the
    A100 at 400 W): scale = (TDP − idle) / (peak MAC/s × table MAC energy), floored at 1.
    """
    table_w = peak_macs_per_s * mac_j
    return max(1.0, (tdp_w - idle_w) / table_w) if table_w > 0 else 1.0
