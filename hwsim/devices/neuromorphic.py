"""Neuromorphic chips (Loihi / TrueNorth style): rate-coded spiking execution, host offload.

**What runs on chip** (:meth:`NeuromorphicModel.supports`), decided by work kind and op type:

* synaptic layers: MATMUL/CONV rows that own weights (``params`` > 0). A product of two
  activations (attention's Q·Kᵀ, P·V) has no static synapses and is refused.
* pooling: AveragePool, GlobalAveragePool, MaxPool, GlobalMaxPool as fixed-weight synaptic
  sums (max pooling is approximated by the rate-coded average, as ANN-to-SNN conversion does);
* sums: Add, Sub, Sum (a neuron integrating two populations through ±1 synapses);
* fused, free: ReLU-like activations (the neuron's threshold *is* the ReLU), BatchNormalization
  (inference statistics fold into the preceding synaptic weights and bias), Identity/Dropout,
  zero-work rows and data movement without arithmetic (spike routing tables).
* **refused** (priced on the host CPU, bound OFFLOAD): NORM rows other than BatchNormalization
  (LayerNorm, GroupNorm, RMSNorm...), every REDUCE row (Softmax, LogSoftmax, ReduceMean, TopK...),
  non-ReLU elementwise ops (Mul, Div, Exp, Erf, Tanh, Sigmoid, Gelu...), activation×activation
  products, the op types in :data:`REFUSED_OP_TYPES` (fused attention, recurrent cells), data
  movement with arithmetic (Resize, scatter) and LpPool.

**Rate coding** (per on-chip neuron population: synaptic, pool and sum rows), with T =
``timesteps`` and r = ``firing_rate`` (spikes per neuron per timestep):

* neurons N = output elements of the row (one neuron per activation);
* spikes = N·r·T; neuron updates = N·T (every neuron integrates every timestep);
* synaptic ops: every input spike traverses the fan-out of its neuron, and Σ fan-out over the
  inputs is exactly the number of (input, output) products, i.e. the MACs. So synops =
  MACs·d_w·r·T (zero weights are not stored). Pool: one synapse per tap, synops = FLOPs·r·T.
  Sum: one synapse per input element, synops = (FLOPs + N)·r·T.
* dynamic energy = synops·e_synop + spikes·e_spike + updates·e_update. Static power × time is
  added by the roll-up (``power_idle_w`` × latency, :mod:`hwsim.rollup`), as for every device.
* **latency, pipelined**: every layer sits on its own cores and all cores advance together one
  barrier-synchronised timestep at a time, so a chain of L populations finishes one input after
  (T + L − 1)·timestep_s. Each population row is charged timestep_s and the first row of each
  on-chip segment (the first population, and the first one after a host round trip, which
  drains the pipeline) an extra (T − 1)·timestep_s; the row sum of a chain is then exact.
  ``timestep_s`` is a spec constant: Loihi's timesteps are not fixed-duration, so its YAML
  derives one from published throughput (see devices/neuromorphic/loihi2.yaml).

**Host offload**: refused rows are priced by the host CPU's model (``spec.host``) on the
sub-table of those rows, plus their transfers over the host link: activations in
(bytes_read − weight_bytes) and out (bytes_written), (in + out)/host_link_bw + 2 ×
host_link_latency_s per row (each offloaded op is one round trip; consecutive offloaded ops
are not merged — an upper bound). Link energy is not modelled.

**Training** (columns added by :mod:`hwsim.workload.training` and :mod:`hwsim.workload.local`;
absent columns change nothing): rows with ``plasticity`` > 0 are local weight updates run by
the on-chip learning engine: energy = plasticity × ``energy_per_plasticity_j``, latency one
``timestep_s`` (the learning phase of a timestep; assumption — no published update rate).
Rows of a global backward pass or optimizer (``phase`` 1 or 2) that do any work are refused: the chip has no
path to send errors back through its synapses, so they run on the host.

**Capacity**: :meth:`NeuromorphicModel.devices_needed` = max(⌈N_total / (cores ·
neurons_per_core)⌉, ⌈synapses / (cores · synapses_per_core)⌉) with synapses = Σ params·d_w of
the synaptic rows (shared convolution weights stored once; a crossbar chip without weight
sharing, e.g. TrueNorth, needs more). Cores are assumed perfectly packed.
"""

from __future__ import annotations

import math

import numpy as np

from hwsim.config.devices import NeuromorphicSpec
from hwsim.devices.base import Bound, CostTable, DeviceModel, unsupported_rows
from hwsim.ops.work import WorkKind, WorkTable

#: Activation ops that are the spiking neuron's own non-linearity (fused, free).
NEURON_OPS = frozenset({"Relu", "Clip", "LeakyRelu", "PRelu", "ThresholdedRelu", "Identity", "Dropout"})
#: Ops folded into the preceding synaptic layer (inference BatchNorm: per-channel scale and bias).
FOLDED_OPS = frozenset({"BatchNormalization"})
POOL_OPS = frozenset({"AveragePool", "GlobalAveragePool", "MaxPool", "GlobalMaxPool"})
SUM_OPS = frozenset({"Add", "Sub", "Sum"})
#: Weighted ops that still cannot run as spiking synapses (multiplicative gates, softmax inside).
REFUSED_OP_TYPES = frozenset({"Attention", "MultiHeadAttention", "GroupQueryAttention", "PackedAttention",
                              "LSTM", "GRU", "RNN"})
_GEMM = (int(WorkKind.MATMUL), int(WorkKind.CONV))


class NeuromorphicModel:
    """Prices a WorkTable on a spiking chip (see the module docstring); refused ops go to the host."""

    kind = "neuromorphic"

    def __init__(self, spec: NeuromorphicSpec, host: DeviceModel | None = None) -> None:
        self.spec = spec
        self._host = host

    @property
    def host(self) -> DeviceModel:
        """The host CPU model (``spec.host`` from the library unless one was given)."""
        if self._host is None:
            from hwsim.devices import get_device

            return get_device(self.spec.host)
        return self._host

    def row_classes(self, table: WorkTable) -> dict[str, np.ndarray]:
        """Boolean masks: synaptic, pool, sum (neuron populations), free (fused/routing), refused."""
        c, ops = table.columns, table.op_type
        counted = ~unsupported_rows(table)
        named = np.isin(ops, list(REFUSED_OP_TYPES))
        synaptic = np.isin(table.kind, _GEMM) & (c["params"] > 0) & ~named
        pool = (table.kind == WorkKind.POOL) & np.isin(ops, list(POOL_OPS))
        sums = (table.kind == WorkKind.ELEMENTWISE) & np.isin(ops, list(SUM_OPS))
        zero = (c["flops"] <= 0) & np.isin(table.kind, [int(WorkKind.NONE), int(WorkKind.DATA_MOVEMENT)])
        fused = np.isin(ops, list(NEURON_OPS | FOLDED_OPS)) & ~named
        free = (zero | fused) & ~(synaptic | pool | sums)
        plastic = _column(table, "plasticity") > 0
        idle = (c["flops"] <= 0) & (c["bytes_read"] + c["bytes_written"] <= 0)
        global_grad = np.isin(_column(table, "phase"), (1.0, 2.0)) & ~plastic & ~idle
        synaptic, pool, sums, free = (m & ~plastic & ~global_grad for m in (synaptic, pool, sums, free))
        on_chip = (synaptic | pool | sums | free | plastic) & counted
        return {"synaptic": synaptic & counted, "pool": pool & counted, "sum": sums & counted,
                "free": free & counted, "plastic": plastic & counted, "refused": counted & ~on_chip}

    def supports(self, table: WorkTable) -> np.ndarray:
        """Rows the chip runs itself (everything else is offloaded to the host or unsupported)."""
        cls = self.row_classes(table)
        return cls["synaptic"] | cls["pool"] | cls["sum"] | cls["free"] | cls["plastic"]

    def counts(self, table: WorkTable) -> dict[str, np.ndarray]:
        """Per row: neurons, spikes, neuron updates and synaptic ops per inference (0 off chip)."""
        s, c, cls = self.spec, table.columns, self.row_classes(table)
        population = cls["synaptic"] | cls["pool"] | cls["sum"]
        elements = np.array([float(math.prod(shapes[0])) if shapes else 0.0 for shapes in table.output_shapes])
        neurons = np.where(population, elements, 0.0)
        rt = s.firing_rate * s.timesteps
        synops = np.select([cls["synaptic"], cls["pool"], cls["sum"]],
                           [c["macs"] * c["weight_density"] * rt, c["flops"] * rt, (c["flops"] + elements) * rt], 0.0)
        return {"neurons": neurons, "spikes": neurons * rt, "updates": neurons * s.timesteps, "synops": synops}

    def on_chip_energy_j(self, table: WorkTable) -> np.ndarray:
        """synops·e_synop + spikes·e_spike + updates·e_update per row (joules)."""
        s, n = self.spec, self.counts(table)
        plastic = self.row_classes(table)["plastic"]
        return (n["synops"] * s.energy_per_synop_j + n["spikes"] * s.energy_per_spike_j
                + n["updates"] * s.energy_per_neuron_update_j
                + np.where(plastic, self.plasticity_energy_j(_column(table, "plasticity")), 0.0))

    def on_chip_latency_s(self, table: WorkTable) -> np.ndarray:
        """Pipelined timesteps: timestep_s per population, + (T − 1)·timestep_s at each segment start."""
        s, cls = self.spec, self.row_classes(table)
        population = cls["synaptic"] | cls["pool"] | cls["sum"]
        latency = np.where(population | cls["plastic"], s.timestep_s, 0.0)
        fresh = True
        for i in range(len(table)):
            if cls["refused"][i]:
                fresh = True
            elif population[i]:
                if fresh:
                    latency[i] += (s.timesteps - 1) * s.timestep_s
                fresh = False
        return latency

    def devices_needed(self, table: WorkTable) -> int:
        """Chips needed to hold every neuron and non-zero synapse of the on-chip rows."""
        s, c = self.spec, table.columns
        neurons = float(self.counts(table)["neurons"].sum())
        synapses = float((c["params"] * c["weight_density"])[self.row_classes(table)["synaptic"]].sum())
        by_neurons = math.ceil(neurons / (s.cores * s.neurons_per_core))
        by_synapses = math.ceil(synapses / (s.cores * s.synapses_per_core))
        return max(1, by_neurons, by_synapses)

    def plasticity_energy_j(self, updates: float | np.ndarray) -> float | np.ndarray:
        """Energy of ``updates`` on-chip synaptic weight updates (local learning), joules."""
        return updates * self.spec.energy_per_plasticity_j

    def transfer_s(self, table: WorkTable) -> np.ndarray:
        """Host-link time of each row if offloaded: (act in + out)/bw + 2 × link latency."""
        c, s = table.columns, self.spec
        moved = np.maximum(c["bytes_read"] - c["weight_bytes"], 0.0) + c["bytes_written"]
        return moved / s.host_link_bw_bytes_per_s + 2.0 * s.host_link_latency_s

    def price(self, table: WorkTable) -> CostTable:
        """On-chip rows from spike counts; refused rows on the host plus transfers (OFFLOAD)."""
        n = len(table)
        cls = self.row_classes(table)
        latency, energy = self.on_chip_latency_s(table), self.on_chip_energy_j(table)
        compute, memory, overhead = latency.copy(), np.zeros(n), np.zeros(n)
        bound = np.full(n, Bound.COMPUTE, dtype=np.int8)
        util, peak = np.zeros(n), np.zeros(n)
        off = cls["refused"]
        if off.any():
            host = self.host.price(table.select(off))
            link = self.transfer_s(table)[off]
            latency[off] = host.latency_s + link
            energy[off] = host.energy_j
            compute[off], memory[off], overhead[off] = host.compute_s, host.memory_s, host.overhead_s + link
            util[off], peak[off] = host.utilization, host.peak_flops_per_s
            bound[off] = Bound.OFFLOAD
        bad = unsupported_rows(table)
        latency[bad], energy[bad], bound[bad] = np.nan, np.nan, Bound.UNSUPPORTED
        notes = (f"{int(off.sum())} ops offloaded to host {self.spec.host!r}",) if off.any() else ()
        if cls["plastic"].any():
            notes += (f"{int(cls['plastic'].sum())} local-update rows priced as on-chip plasticity events",)
        return CostTable(latency_s=latency, compute_s=compute, memory_s=memory, overhead_s=overhead,
                         energy_j=energy, bound=bound, utilization=util, peak_flops_per_s=peak, notes=notes)


def _column(table: WorkTable, key: str) -> np.ndarray:
    """A training column of ``table``, zeros when the table has none (inference tables)."""
    return table.columns[key] if key in table.columns else np.zeros(len(table))
