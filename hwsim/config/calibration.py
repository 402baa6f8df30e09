"""The ``calibration:`` block of a device YAML: what was fitted, on what, how well.

Written by ``hwsim calibrate`` (:mod:`hwsim.calibrate`), read by nothing but reports and
:func:`hwsim.calibrate.validate.prediction_band`: device models read only the fitted spec
fields (``efficiency``, ``dispatch_overhead_s``, ``caches``, ``mem_efficiency``,
``parallel_fraction``), never measurement files. Residuals are ratios measured / predicted.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResidualStats(_Frozen):
    """Distribution of measured / predicted latency ratios over a set of measurements."""

    n: NonNegativeInt = Field(description="number of measurements")
    rms_log: float = Field(description="root mean square of ln(measured / predicted)")
    p10: PositiveFloat = Field(description="10th percentile of measured / predicted")
    p50: PositiveFloat = Field(description="median of measured / predicted")
    p90: PositiveFloat = Field(description="90th percentile of measured / predicted")
    within_10pct: float = Field(ge=0.0, le=1.0, description="fraction with |measured / predicted - 1| <= 0.10")
    within_15pct: float = Field(ge=0.0, le=1.0, description="fraction with |measured / predicted - 1| <= 0.15")


class CalibrationSource(_Frozen):
    """Provenance: where and with what the measurements were taken."""

    machine: str = Field(description="host name of the measured machine")
    cpu_model: str = Field(description="processor model string (/proc/cpuinfo) or GPU name")
    date: str = Field(description="ISO-8601 UTC time of the fit")
    runtime: str = Field(description="inference runtime measured, e.g. onnxruntime CPUExecutionProvider")
    runtime_version: str = Field(description="its version")
    measurement_file: str = Field(description="path of the measurement file the fit read")
    measurement_sha256: str = Field(description="sha256 of that file's bytes")
    threads: list[int] = Field(default_factory=list, description="intra-op thread counts measured")


class CalibrationBlock(_Frozen):
    """Fitted parameters with their residual statistics and provenance.

    ``band_low``/``band_high`` are the p10 / p90 of the cross-validated measured/predicted
    ratios: a prediction ``t`` carries the band ``[t·band_low, t·band_high]`` (nominal 80 %).
    """

    source: CalibrationSource
    method: str = Field(description="fit method, e.g. scipy.optimize.least_squares on ln latency, soft-L1 loss")
    parameters: dict[str, float] = Field(description="every fitted parameter by dotted name (SI units)")
    training_set: list[str] = Field(description="what the fit saw: microbenchmark grid name and any training models")
    fit: ResidualStats = Field(description="in-sample residuals of the final fit")
    cross_validated: ResidualStats = Field(description="held-out residuals of a k-fold cross-validation")
    fit_error: float = Field(ge=0.0, description="final least-squares cost: 0.5 · sum of squared (robust) log residuals")
    band_low: PositiveFloat = Field(description="p10 of cross-validated measured / predicted (band lower factor)")
    band_high: PositiveFloat = Field(description="p90 of cross-validated measured / predicted (band upper factor)")
    session_overhead_s: float = Field(default=0.0, ge=0.0, description="per-inference runtime cost (session.run entry/exit), added once per model")
    energy: str = Field(default="not measured", description="energy counters used, or why none were")

    def band(self, latency_s: float) -> tuple[float, float]:
        """(p10, p90) band of a latency predicted with this calibration: latency × (band_low, band_high)."""
        return latency_s * self.band_low, latency_s * self.band_high
