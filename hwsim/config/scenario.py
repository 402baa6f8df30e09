"""Scenario files: a study in YAML — models × devices × workloads × economics × sweep → outputs.

Validated with pydantic (``extra="forbid"``: an unknown key is an error naming its line).
Paths in a scenario are relative to the YAML file. Sweep parameters are dotted paths:

* ``devices.<label>.<spec field>`` (``devices.*.<field>`` for every device),
* ``models.<name>.prune|dtype|activation_density`` (re-applied to the counted table, no recount),
* ``workloads.<index>.<field>``, ``economics.<field>``.

Each sweep point is re-validated (a value outside a field's range is an error naming the
point and the path).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from hwsim.config.cluster import check_degrees
from hwsim.config.economics import Economics

NonNeg = Annotated[float, Field(ge=0.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelEntry(_Frozen):
    """One model of the study: where it comes from and what is done to it before pricing."""

    name: str = Field(description="label used in results and figures")
    source: str = Field(description="zoo:NAME?k=v or a path to an .onnx file (relative to the scenario)")
    family: str = Field(default="", description="idea family for the lottery matrix (dense-cnn, transformer, ...)")
    dims: dict[str, PositiveInt] = Field(default_factory=dict, description="symbolic dims to bind")
    batch: PositiveInt | None = Field(default=None, description="samples per inference (zoo batch / symbolic axis 0)")
    prune: str | None = Field(default=None, description="DENSITY[:pattern], e.g. 0.1 or 0.5:2:4 (declared on the work table)")
    dtype: Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4"] | None = Field(default=None)
    activation_density: Annotated[float, Field(gt=0, le=1)] | None = Field(default=None, description="declared non-zero fraction of GEMM inputs")
    workloads: list[str] | None = Field(default=None, description="labels of the workloads this model runs (default: all)")


class ClusterEntry(_Frozen):
    """Replicate a device into a cluster (see hwsim.config.cluster.ClusterSpec)."""

    count: PositiveInt
    link_bw_bytes_per_s: PositiveFloat
    link_latency_s: NonNeg
    topology: Literal["ring", "tree", "switch", "torus2d"] = "ring"
    dp: PositiveInt = 1
    tp: PositiveInt = 1
    pp: PositiveInt = 1
    microbatches: PositiveInt = 1
    link_energy_j_per_byte: NonNeg | None = None
    sources: dict[str, str] = Field(default_factory=dict, description="field -> citation of the link figures")

    @model_validator(mode="after")
    def _degrees_multiply_to_count(self) -> ClusterEntry:
        check_degrees(self.dp, self.tp, self.pp, self.count)
        return self


class DeviceEntry(_Frozen):
    """A device: a library name or YAML path, optionally derived with overrides, optionally clustered."""

    label: str | None = Field(default=None, description="name in results (default: the device's name)")
    ref: str = Field(description="library name or YAML path (relative to the scenario)")
    fallback: str | None = Field(default=None, description="library name used when `ref` is not in the library (e.g. cpu-local before calibration)")
    set: dict[str, Any] = Field(default_factory=dict, description="spec field overrides (dotted paths)")
    cluster: ClusterEntry | None = None

    @property
    def key(self) -> str:
        """The label used in results and sweep paths."""
        return self.label or self.ref


class WorkloadEntry(_Frozen):
    """What is priced: one inference, a training run, local-update training, or serving under load."""

    type: Literal["inference", "training", "local-training", "serving"] = "inference"
    label: str | None = None
    optimizer: Literal["sgd", "momentum", "adam", "adamw"] = "adamw"
    mixed_precision: bool = True
    recompute: bool = False
    rule: Literal["hebbian", "forward_forward", "feedback_alignment"] = "hebbian"
    tokens: PositiveFloat | None = None
    samples: PositiveFloat | None = None
    steps: PositiveInt | None = None
    epochs: PositiveFloat = 1
    global_batch: PositiveInt | None = Field(default=None, description="training samples per optimizer step (default: the model's batch)")
    zero_stage: Annotated[int, Field(ge=0, le=1)] = 0
    rate_per_s: PositiveFloat | None = None
    slo_s: PositiveFloat | None = None
    max_batch: PositiveInt = 8
    max_wait_s: NonNeg = 0.005
    n_requests: PositiveInt = 2000
    seed: int = 0

    @property
    def key(self) -> str:
        """The label used in results."""
        return self.label or self.type


class RangeSpec(_Frozen):
    """A continuous range for random / Latin-hypercube sweeps."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> RangeSpec:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


class SweepSpec(_Frozen):
    """grid: every combination; zip: values side by side; random / lhs: ``samples`` points in ranges."""

    mode: Literal["grid", "zip", "random", "lhs"] = "grid"
    parameters: dict[str, list[Any] | RangeSpec] = Field(description="dotted path -> values (grid/zip) or range (random/lhs)")
    samples: PositiveInt | None = None
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        if not self.parameters:
            raise ValueError("sweep has no parameters; remove the sweep or give at least one")
        lists = [v for v in self.parameters.values() if isinstance(v, list)]
        if any(len(v) == 0 for v in lists):
            raise ValueError("a sweep parameter has an empty list of values")
        if self.mode in ("grid", "zip") and len(lists) != len(self.parameters):
            raise ValueError(f"{self.mode} sweeps take lists of values, not ranges")
        if self.mode == "zip" and len({len(v) for v in lists}) > 1:
            raise ValueError("zip sweeps need every value list to have the same length")
        if self.mode in ("random", "lhs") and self.samples is None:
            raise ValueError(f"{self.mode} sweeps need `samples`")
        return self


class ReferenceLine(_Frozen):
    """A horizontal reference drawn on figures of ``metric`` (e.g. the brain's 20 W)."""

    label: str
    metric: str
    value: float
    source: str = ""


class BreakEven(_Frozen):
    """Does a new chip pay for its design? (Hooker 2020: a new accelerator costs $30-80M and
    2-3 years.) Savings per sample versus each baseline device decide how much work must move
    to the new chip before the design cost is repaid."""

    new_device: str = Field(description="device label of the new chip")
    baselines: list[str] = Field(min_length=1, description="device labels it replaces")
    nre_usd: list[PositiveFloat] = Field(min_length=1, description="design (non-recurring) costs to test, USD")
    design_years: PositiveFloat = Field(description="years of design before the first chip ships (reported)")
    source: str = ""


class OutputSpec(_Frozen):
    """Where and what to write."""

    dir: str | None = Field(default=None, description="output folder (default results/<name>)")
    formats: list[Literal["csv", "json", "html"]] = Field(default_factory=lambda: ["csv", "json", "html"])
    headline_metric: str = Field(default="energy_per_sample_j", description="metric the answer ranks by")
    figures: list[str] = Field(default_factory=lambda: ["lottery_matrix", "pareto", "roofline", "breakdown"])


class Scenario(_Frozen):
    """A whole study."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    question: str = Field(description="the question the report answers first")
    models: list[ModelEntry] = Field(min_length=1)
    devices: list[DeviceEntry] = Field(min_length=1)
    workloads: list[WorkloadEntry] = Field(default_factory=lambda: [WorkloadEntry()])
    economics: Economics = Field(default_factory=Economics)
    sweep: SweepSpec | None = None
    outputs: OutputSpec = Field(default_factory=OutputSpec)
    reference_lines: list[ReferenceLine] = Field(default_factory=list)
    breakeven: BreakEven | None = None
    max_points: PositiveInt = Field(default=10_000, description="points allowed without --yes")
    ci: dict[str, Any] = Field(default_factory=dict, description="dotted overrides applied under --ci (smaller settings, same code path)")

    @model_validator(mode="before")
    @classmethod
    def _devices_as_strings(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("devices"), list):
            data = dict(data, devices=[{"ref": d} if isinstance(d, str) else d for d in data["devices"]])
        return data

    @model_validator(mode="after")
    def _model_workloads_exist(self) -> Scenario:
        known = {w.key for w in self.workloads}
        for m in self.models:
            missing = sorted(set(m.workloads or ()) - known)
            if missing:
                raise ValueError(f"model {m.name!r} names workloads {missing} that are not defined (defined: {sorted(known)})")
        return self

    @model_validator(mode="after")
    def _breakeven_devices_exist(self) -> Scenario:
        if self.breakeven is not None:
            labels = {d.key for d in self.devices}
            missing = sorted({self.breakeven.new_device, *self.breakeven.baselines} - labels)
            if missing:
                raise ValueError(f"breakeven names devices {missing} that are not in devices ({sorted(labels)})")
        return self

    @model_validator(mode="after")
    def _unique_labels(self) -> Scenario:
        for what, keys in (("model", [m.name for m in self.models]), ("device", [d.key for d in self.devices])):
            dup = {k for k in keys if keys.count(k) > 1}
            if dup:
                raise ValueError(f"{what} labels must be unique: {sorted(dup)} repeated")
        return self
