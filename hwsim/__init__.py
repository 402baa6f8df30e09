"""hwsim: what does this model cost — seconds, joules, dollars, grams of CO2 — on hardware that
exists, and on hardware that could exist?

Public API (more arrives with pricing, scheduling and scenarios)::

    from hwsim import load_model, count_work
    table = count_work(load_model("zoo:resnet50?batch=8"))
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import onnx

from hwsim.errors import HwsimError
from hwsim.graph import LoadedModel, OpNode, TensorInfo, load_model
from hwsim.ops import OpWork, WorkKind, WorkTable, count_work

__version__ = "0.1.0"


def inspect_model(
    source: str | os.PathLike | onnx.ModelProto | bytes,
    dims: Mapping[str, int] | None = None,
    input_shapes: Mapping[str | int, Sequence[int]] | None = None,
    on_unsupported: str = "raise",
) -> WorkTable:
    """Load ``source`` and count its work in one call."""
    return count_work(load_model(source, dims, input_shapes, on_unsupported))  # type: ignore[arg-type]


__all__ = [
    "HwsimError", "LoadedModel", "OpNode", "OpWork", "TensorInfo", "WorkKind", "WorkTable",
    "count_work", "inspect_model", "load_model",
]
