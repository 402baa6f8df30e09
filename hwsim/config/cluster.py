"""A cluster: N identical devices joined by links, with data/tensor/pipeline parallel degrees."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

NonNeg = Annotated[float, Field(ge=0.0)]


class ClusterSpec(BaseModel):
    """``count`` devices of library type ``device``; dp·tp·pp must equal ``count``.

    Link figures are per device and per direction. Default link energy: NVLink 4 at 1.3 pJ/bit
    (hardware_facts 3c, NVIDIA Grace Hopper brief) = 10.4 pJ/byte.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="cluster")
    device: str = Field(description="library name or YAML path of the device")
    count: PositiveInt = Field(description="number of devices")
    link_bw_bytes_per_s: PositiveFloat = Field(description="per-device link bandwidth, one direction (bytes/s)")
    link_latency_s: NonNeg = Field(description="latency of one message hop (s)")
    link_energy_j_per_byte: NonNeg = Field(default=10.4e-12, description="energy to move one byte over a link (J)")
    topology: Literal["ring", "tree", "switch", "torus2d"] = Field(default="ring", description="collective algorithm family")
    dp: PositiveInt = Field(default=1, description="data-parallel replicas")
    tp: PositiveInt = Field(default=1, description="tensor-parallel degree (GEMMs split across devices)")
    pp: PositiveInt = Field(default=1, description="pipeline stages")
    microbatches: PositiveInt = Field(default=1, description="micro-batches in flight through the pipeline")
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _degrees_multiply_to_count(self) -> ClusterSpec:
        check_degrees(self.dp, self.tp, self.pp, self.count)
        return self


def check_degrees(dp: int, tp: int, pp: int, count: int) -> None:
    """Parallel degrees must use every device exactly once: dp·tp·pp = count."""
    if dp * tp * pp != count:
        raise ValueError(f"dp·tp·pp = {dp}·{tp}·{pp} = {dp * tp * pp} must equal count = {count}")
