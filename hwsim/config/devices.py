"""Device specifications: one frozen pydantic model per device kind, discriminated by ``kind``.

Every field's name carries its unit (SI, no prefixes) and its description says what it means.
Every number given in a device YAML carries a citation in the spec's ``sources`` map
(dotted field path -> source); :func:`undocumented_fields` lists those that do not.
Presets live in ``devices/<kind>/<name>.yaml``; a YAML may derive from another with
``base: NAME`` plus overrides (see :mod:`hwsim.devices.library`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from hwsim.config.calibration import CalibrationBlock
from hwsim.ops.work import WorkKind

Dtype = Literal["fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4"]
KindLabel = Literal["matmul", "conv", "elementwise", "reduce", "norm", "pool", "data_movement", "none"]
#: convolution variants with their own curves and thread scaling (hwsim/devices/cpu.py curve_keys)
ConvKey = Literal["Conv/narrow", "Conv/depthwise", "Conv/grouped", "Conv/nchw_input"]
Fraction = Annotated[float, Field(gt=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Efficiency(_Frozen):
    """Achieved fraction of peak for one work kind, saturating with problem size:
    ``eff(w) = peak_fraction · w / (w + half_work_flops)`` where ``w`` is the op's FLOPs.
    Small ops run far below peak (launch, tiling, cache warm-up); large ones approach
    ``peak_fraction``. Calibration (issue 6) fits both numbers."""

    peak_fraction: Fraction = Field(description="asymptotic fraction of the dtype's peak reached by large ops")
    half_work_flops: NonNeg = Field(description="FLOPs at which an op reaches half of peak_fraction")


class EnergySpec(_Frozen):
    """Dynamic energy per operation and per byte moved (joules)."""

    mac_j: dict[Dtype, PositiveFloat] = Field(description="energy of one multiply-accumulate, by dtype")
    op_j: dict[Dtype, PositiveFloat] = Field(description="energy of one non-MAC arithmetic op (add, compare, exp), by dtype")
    sram_byte_j: PositiveFloat = Field(description="energy to read or write one byte of on-chip SRAM/cache")
    dram_byte_j: PositiveFloat = Field(description="energy to read or write one byte of off-chip memory (DRAM/HBM)")


class CacheLevel(_Frozen):
    """One on-chip memory level (a cache or scratchpad), totalled over the chip."""

    name: str
    bytes: PositiveFloat = Field(description="capacity in bytes, summed over all cores/slices")
    bw_bytes_per_s: PositiveFloat = Field(description="aggregate bandwidth in bytes/s")


class DeviceSpecBase(_Frozen):
    """Fields every device kind has."""

    name: str = Field(description="library name, e.g. a100-sxm-80gb")
    description: str = Field(default="", description="one line: what the device is")
    sources: dict[str, str] = Field(default_factory=dict, description="dotted field path -> citation of its value")
    process_nm: PositiveFloat | None = Field(default=None, description="process node in nm (for energy-table scaling)")
    mem_bytes: PositiveFloat = Field(description="device memory capacity (HBM/DRAM) in bytes")
    mem_bw_bytes_per_s: PositiveFloat = Field(description="peak off-chip memory bandwidth in bytes/s")
    tdp_w: PositiveFloat = Field(description="thermal design power (W): the ceiling on average power")
    power_idle_w: NonNeg = Field(description="static/idle power (W), paid for every second the device is held")
    price_usd: NonNeg | None = Field(default=None, description="purchase price per device (USD), for capex amortisation")
    rental_usd_per_hour: NonNeg | None = Field(default=None, description="cloud price per device-hour (USD)")
    energy: EnergySpec = Field(description="dynamic energy per op and per byte")
    efficiency: dict[KindLabel, Efficiency] = Field(default_factory=dict,
                                                    description="achieved fraction of peak per work kind (default: peak_fraction 1, half_work_flops 0)")
    mem_efficiency: Fraction = Field(default=1.0, description="achievable fraction of mem_bw_bytes_per_s (STREAM-like)")
    compute_energy_scale: Annotated[float, Field(ge=1.0)] = Field(
        default=1.0, description="multiplier on mac_j/op_j for the energy a real chip spends around each operation "
                                 "(instruction fetch, operand delivery, clocking) that per-op arithmetic tables omit; "
                                 "see hwsim.devices.energy.tdp_anchored_scale")
    calibration: CalibrationBlock | None = Field(
        default=None, description="what `hwsim calibrate` fitted, on what data, with residuals and provenance "
                                  "(hwsim.config.calibration); models never read it, only the fitted fields")

    @model_validator(mode="after")
    def _idle_below_tdp(self) -> DeviceSpecBase:
        if self.power_idle_w > self.tdp_w:
            raise ValueError(f"power_idle_w ({self.power_idle_w}) exceeds tdp_w ({self.tdp_w})")
        return self

    def kind_efficiency(self, kind: WorkKind) -> Efficiency:
        """The efficiency curve of a work kind (ideal when the spec gives none)."""
        return self.efficiency.get(kind.label, _IDEAL)  # type: ignore[arg-type]


_IDEAL = Efficiency(peak_fraction=1.0, half_work_flops=0.0)


class CpuSpec(DeviceSpecBase):
    """A multi-core CPU: peak = cores × (simd_bits / dtype bits... via fp32 lanes) × fma_units × 2 × freq_hz × dtype_speedup."""

    kind: Literal["cpu"] = "cpu"
    cores: PositiveInt = Field(description="physical cores used")
    freq_hz: PositiveFloat = Field(description="sustained all-core clock under vector load (Hz)")
    simd_bits: PositiveInt = Field(description="vector register width in bits (128 SSE/NEON, 256 AVX2, 512 AVX-512)")
    fma_units: PositiveInt = Field(description="vector FMA pipes per core")
    dtype_speedup: dict[Dtype, PositiveFloat] = Field(description="throughput per cycle relative to fp32 FMA lanes (fp64 0.5; int8 4 with VNNI; bf16 with AMX...); a dtype absent here is not supported")
    caches: list[CacheLevel] = Field(default_factory=list, description="on-chip levels, smallest first")
    dispatch_overhead_s: NonNeg = Field(description="per-op runtime dispatch cost (s)")
    zero_work_dispatch_s: NonNeg = Field(
        default=0.0, description="runtime cost (s) of executing one op without work (Reshape, Shape, Unsqueeze, "
                                 "Flatten...: a kernel call and an output allocation, ~1-2 us in ONNX Runtime); "
                                 "constant-folded rows stay free. 0 (default): free, as before calibration; calibrated "
                                 "from chains of such ops (hwsim/calibrate/microbench.py)")
    threads: PositiveInt | None = Field(default=None, description="intra-op threads the runtime uses (None: one per core)")
    parallel_fraction: dict[KindLabel | ConvKey, Fraction] = Field(
        default_factory=dict, description="Amdahl parallel fraction p per work kind (absent: 1, perfect scaling): "
                                          "effective cores = 1 / ((1 - p) + p / threads); a convolution key "
                                          "('Conv/narrow', 'Conv/depthwise', 'Conv/grouped') overrides 'conv' for its rows; calibrated")
    parallel_half_time_s: NonNeg = Field(
        default=0.0, description="one-core op time (s) at which an op gets half of its Amdahl multi-thread speed-up: "
                                 "speed-up = 1 + (E - 1) · r1 / (r1 + this); short ops stay on one thread. 0 (default): "
                                 "every op gets the full Amdahl speed-up; calibrated with parallel_fraction")
    parallel_half_time_kind_s: dict[KindLabel | ConvKey, NonNeg] = Field(
        default_factory=dict, description="parallel_half_time_s per work kind or convolution key (absent: "
                                          "parallel_half_time_s): "
                                          "ONNX Runtime threads a 6 us convolution well but not a 6 us LayerNormalization; calibrated")
    parallel_sync_s: NonNeg = Field(
        default=0.0, description="fork/join cost (s) of an op the runtime spreads over its threads, weighted like the "
                                 "speed-up by r1 / (r1 + half-time) (hwsim/devices/cpu.py sync_s): a 2 us op can run "
                                 "slower on 2 threads than on 1. 0 (default): none; calibrated with parallel_fraction")
    parallel_sync_kind_s: dict[KindLabel | ConvKey, NonNeg] = Field(
        default_factory=dict, description="parallel_sync_s per work kind or convolution key (absent: parallel_sync_s): "
                                          "ONNX Runtime's few-channel NCHW-input convolution paid ~5 us on 2 threads "
                                          "where others paid ~1; calibrated")
    op_efficiency: dict[str, Efficiency] = Field(
        default_factory=dict, description="calibrated curves overriding the kind's for one op type ('Erf', 'LSTM') or "
                                          "convolutions ('Conv/depthwise', 'Conv/grouped' with w = FLOPs per group; 'Conv/narrow': under 16 output "
                                          "channels; 'Conv/nchw_input' with w = c·r·r taps per output (half_work_flops then "
                                          "counts taps), hwsim/devices/cpu.py curve_keys); empty: kind curves only")
    fuse_epilogues: bool = Field(
        default=False, description="the runtime fuses activations, BatchNormalization and constant bias/scale ops into "
                                   "the Conv/MatMul/Gemm producing their input (hwsim/ops/epilogue.py), so those ops "
                                   "cost nothing; ONNX Runtime's CPU provider does by default")
    blocked_layout: bool = Field(
        default=False, description="the runtime runs convolutions in a channel-blocked layout (NCHWc) and converts "
                                   "tensors entering and leaving those regions (hwsim/ops/layout.py); ONNX Runtime's "
                                   "CPU provider does on x86")
    dynamic_shapes: bool = Field(
        default=False, description="the runtime executes the shape computations (Shape, Gather, Unsqueeze, Concat of "
                                   "dims) of graphs whose inputs have symbolic dims on every inference, each at its op type's "
                                   "op_overhead_s, else zero_work_dispatch_s (hwsim/ops/shape_ops.py); ONNX Runtime does")
    op_bandwidth_scale: dict[str, PositiveFloat] = Field(
        default_factory=dict, description="calibrated multiplier on the bandwidth one op type achieves: below 1 for "
                                          "strided access (a Transpose moving 4 MB ran at 11 GB/s where a Relu streams "
                                          "80), above 1 where hwsim counts bytes the kernel skips (Gather reads only the "
                                          "indexed rows); empty: every op at its level's bandwidth")
    copy_chunk_s: NonNeg = Field(
        default=0.0, description="runtime cost (s) of each contiguous run a transpose keeping its last axis copies "
                                 "separately (hwsim/ops/strided.py; ~10 ns in ONNX Runtime on this project's VM). "
                                 "0 (default): bytes only; calibrated")
    op_overhead_s: dict[str, NonNeg] = Field(
        default_factory=dict, description="calibrated fixed runtime cost (s) per executed op of one op type, replacing "
                                          "dispatch_overhead_s for it ('Add': a broadcasting binary op checks shapes and "
                                          "allocates its output: ~1 us in ONNX Runtime where a Relu costs ~0.3 us); "
                                          "empty: dispatch_overhead_s for every op")

    def effective_cores(self, kind: str | None = None) -> float:
        """Cores' worth of throughput for a work kind: 1 / ((1 - p) + p / t) (Amdahl), t = threads or cores."""
        t = self.threads or self.cores
        p = self.parallel_fraction.get(kind, 1.0) if kind else 1.0  # type: ignore[call-overload]
        return float(t) if p == 1.0 else 1.0 / ((1.0 - p) + p / t)

    def headline_flops_per_s(self) -> float:
        """Largest peak over dtypes: cores × simd_bits/32 × fma_units × 2 × freq_hz × speedup."""
        return self.cores * self.simd_bits / 32 * self.fma_units * 2 * self.freq_hz * max(self.dtype_speedup.values())


class GpuSpec(DeviceSpecBase):
    """A GPU: tensor-core and vector (CUDA-core) peaks per dtype, HBM and L2, launch overhead."""

    kind: Literal["gpu"] = "gpu"
    sms: PositiveInt = Field(description="streaming multiprocessors")
    freq_hz: PositiveFloat = Field(description="boost clock (Hz) the peaks are quoted at")
    tensor_flops_per_s: dict[Dtype, PositiveFloat] = Field(description="dense tensor-core peak by dtype (FLOP/s; 1 MAC = 2)")
    vector_flops_per_s: dict[Dtype, PositiveFloat] = Field(description="CUDA-core (non-tensor) peak by dtype (FLOP/s)")
    l2_bytes: PositiveFloat = Field(description="L2 cache capacity (bytes)")
    l2_bw_bytes_per_s: PositiveFloat = Field(description="L2 bandwidth (bytes/s)")
    launch_overhead_s: NonNeg = Field(description="per-kernel launch and scheduling cost (s)")
    tile_m: PositiveInt = Field(default=128, description="GEMM thread-block tile rows (wave quantisation)")
    tile_n: PositiveInt = Field(default=128, description="GEMM thread-block tile columns")
    fp32_gemm_uses_tf32: bool = Field(default=False, description="fp32 matmul/conv run on tensor cores at the tf32 peak (cuBLAS/cuDNN TF32 mode, e.g. torch.backends.cuda.matmul.allow_tf32); off: CUDA cores at vector fp32")
    sparse_24: bool = Field(default=False, description="sparse tensor cores: 2:4 weights double eligible tensor math")
    sparse_kernel_fraction: Fraction = Field(default=0.27, description="fraction of fp32 vector peak an unstructured sparse kernel reaches on its non-zeros")
    sparse_index_bytes: NonNeg = Field(default=4, description="index bytes read per non-zero weight by an unstructured sparse kernel (CSR int32)")

    def headline_flops_per_s(self) -> float:
        """Largest dense peak over tensor-core and vector dtypes."""
        return max([*self.tensor_flops_per_s.values(), *self.vector_flops_per_s.values()])


class SystolicSpec(DeviceSpecBase):
    """A TPU-like chip: `arrays` systolic arrays of array_rows × array_cols MACs at freq_hz."""

    kind: Literal["systolic"] = "systolic"
    array_rows: PositiveInt = Field(description="rows of each systolic array (MAC units)")
    array_cols: PositiveInt = Field(description="columns of each systolic array")
    arrays: PositiveInt = Field(description="number of arrays (MXUs) per chip")
    freq_hz: PositiveFloat = Field(description="array clock (Hz)")
    dataflow: Literal["ws", "os", "is"] = Field(description="weight-, output- or input-stationary")
    conv_mapping: Literal["im2col", "per_tap"] = Field(default="im2col",
                                                       description="im2col: K = Cin·kh·kw in one GEMM; per_tap: one GEMM per kernel tap with K = Cin, accumulated")
    ifmap_sram_bytes: PositiveFloat = Field(description="input-activation buffer (bytes)")
    filter_sram_bytes: PositiveFloat = Field(description="weight buffer (bytes)")
    ofmap_sram_bytes: PositiveFloat = Field(description="output buffer (bytes)")
    sram_bw_bytes_per_s: PositiveFloat = Field(description="on-chip buffer bandwidth (bytes/s)")
    vector_flops_per_s: PositiveFloat = Field(description="vector unit peak for non-GEMM work (FLOP/s)")
    dtype_speedup: dict[Dtype, PositiveFloat] = Field(description="MACs per PE per cycle by dtype (bf16 1; int8 2 where supported)")

    def headline_flops_per_s(self) -> float:
        """arrays × rows × cols × 2 × freq_hz × the best dtype speedup."""
        return self.arrays * self.array_rows * self.array_cols * 2 * self.freq_hz * max(self.dtype_speedup.values())


class SparseSpec(DeviceSpecBase):
    """An EIE/SCNN/Cambricon-X-style accelerator whose PEs skip zero operands."""

    kind: Literal["sparse"] = "sparse"
    pes: PositiveInt = Field(description="processing elements")
    freq_hz: PositiveFloat = Field(description="clock (Hz)")
    macs_per_pe_per_cycle: PositiveFloat = Field(description="MACs each PE completes per cycle")
    dtypes: list[Dtype] = Field(description="operand types the PEs compute in")
    skip_zero_weights: bool = Field(description="PEs skip zero weights (compressed weight storage)")
    skip_zero_activations: bool = Field(description="PEs skip zero activations (dynamic sparsity)")
    weight_bits: PositiveInt = Field(description="stored bits per non-zero weight value")
    index_bits: NonNeg = Field(description="index bits stored per non-zero weight (relative or absolute)")
    pointer_bits: NonNeg = Field(default=0, description="bits of each per-PE column pointer of a compressed (CSC) weight matrix; 0 = no pointer array (EIE: 16)")
    load_balance: Fraction = Field(description="average PE utilisation under the zero pattern (work imbalance across PEs)")
    sram_bytes: PositiveFloat = Field(description="on-chip weight storage (bytes); weights beyond it stream from DRAM")
    vector_flops_per_s: PositiveFloat = Field(description="throughput for non-MAC work (FLOP/s)")

    def headline_flops_per_s(self) -> float:
        """pes × macs_per_pe_per_cycle × 2 × freq_hz (dense-equivalent before zero skipping)."""
        return self.pes * self.macs_per_pe_per_cycle * 2 * self.freq_hz


class NeuromorphicSpec(DeviceSpecBase):
    """A Loihi/TrueNorth-style spiking chip. Activations become spikes over `timesteps`."""

    kind: Literal["neuromorphic"] = "neuromorphic"
    cores: PositiveInt = Field(description="neuro-cores per chip")
    neurons_per_core: PositiveInt = Field(description="neurons each core holds")
    synapses_per_core: PositiveInt = Field(description="synapses (weights) each core holds")
    timesteps: PositiveInt = Field(description="algorithmic timesteps per inference (rate-coding window)")
    firing_rate: Fraction = Field(description="average spikes per neuron per timestep")
    timestep_s: PositiveFloat = Field(description="wall time of one timestep (s)")
    energy_per_synop_j: PositiveFloat = Field(description="energy of one synaptic operation (spike × fan-out weight)")
    energy_per_spike_j: PositiveFloat = Field(description="energy to emit and route one spike")
    energy_per_neuron_update_j: PositiveFloat = Field(description="energy of one neuron state update per timestep")
    energy_per_plasticity_j: PositiveFloat = Field(description="energy of one on-chip synaptic weight update (learning)")
    host: str = Field(description="library name of the CPU that runs refused (non-spiking) ops")
    host_link_bw_bytes_per_s: PositiveFloat = Field(description="chip <-> host link bandwidth (bytes/s)")
    host_link_latency_s: NonNeg = Field(description="latency of one chip <-> host transfer (s)")

    def headline_flops_per_s(self) -> float:
        """Spiking chips do synaptic events, not FLOPs: 0."""
        return 0.0


DeviceSpec = Annotated[CpuSpec | GpuSpec | SystolicSpec | SparseSpec | NeuromorphicSpec, Field(discriminator="kind")]
DEVICE_KINDS = ("cpu", "gpu", "systolic", "sparse", "neuromorphic")


def numeric_fields(data: object, prefix: str = "") -> list[str]:
    """Dotted paths of every number in a (YAML) mapping, ``sources`` and ``name`` excluded."""
    out: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k in ("sources", "base"):
                continue
            out += numeric_fields(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += numeric_fields(v, f"{prefix}.{i}")
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out.append(prefix)
    return out


def undocumented_fields(data: dict, sources: dict[str, str]) -> list[str]:
    """Numbers in ``data`` without a citation: a source may cover a path or any of its parents."""
    missing = []
    for path in numeric_fields(data):
        parts = path.split(".")
        if not any(".".join(parts[:i]) in sources for i in range(len(parts), 0, -1)):
            missing.append(path)
    return missing
