"""Frozen descriptions of one ONNX op after loading: static shapes, dtypes, complete attributes.

An :class:`OpNode` is all a work-counting function may look at. Shapes are static tuples of
ints (the loader guarantees it), attributes include the schema defaults, and each input says
whether it is a constant known at load time and whether this op is the first consumer of that
constant (so a parameter shared by two ops, such as tied embeddings, is counted once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwsim.graph.dtypes import dtype_bytes


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One tensor at an op boundary.

    ``const``: value fixed at load time (initializer, Constant, ConstantOfShape or a folded
    sub-computation). ``owned``: this op is the first consumer of that constant, so its
    parameters are attributed here. ``param_numel`` / ``param_bytes``: the parameters this
    input brings to the op — the full size of every parameter tensor it derives from that no
    earlier op claimed (a position table sliced to the sequence length still counts whole;
    a weight already counted by another op counts 0). ``density``: non-zero fraction of the value when it was
    measured (real weights), else 1.0. ``pattern``: structure of the zeros ("dense",
    "unstructured", "2:4", "block4x4").
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    const: bool = False
    owned: bool = False
    density: float = 1.0
    pattern: str = "dense"
    param_numel: int = 0
    param_bytes: float = 0.0
    numel: int = field(init=False, repr=False, compare=False)
    nbytes: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = math.prod(self.shape)
        object.__setattr__(self, "numel", n)  # element count (1 for a scalar)
        object.__setattr__(self, "nbytes", n * dtype_bytes(self.dtype))  # storage bytes

    @property
    def is_param(self) -> bool:
        """Whether this input brings parameters to its op (see ``param_numel``)."""
        return self.param_numel > 0


@dataclass(frozen=True, slots=True)
class OpNode:
    """One op: type, domain, opset, typed inputs/outputs, complete attributes.

    ``values`` holds small constant inputs by position (shape vectors, pads, scales, axes) for
    ops whose work depends on them. ``repeat`` is how many times the op runs per inference
    (trip count of an enclosing Loop/Scan). ``notes`` carries loader remarks (upper bounds used
    for data-dependent shapes, the If branch chosen). ``folded``: every input is a load-time
    constant, so the op is computed once when the model is loaded and costs nothing per run.
    """

    name: str
    op_type: str
    domain: str
    opset: int
    inputs: tuple[TensorInfo | None, ...]
    outputs: tuple[TensorInfo, ...]
    attrs: Mapping[str, Any]
    values: Mapping[int, np.ndarray] = field(default_factory=dict)
    repeat: int = 1
    notes: tuple[str, ...] = ()
    folded: bool = False

    def input(self, i: int) -> TensorInfo | None:
        """Input ``i`` or None when absent (optional input left empty or beyond the list)."""
        return self.inputs[i] if i < len(self.inputs) else None

    @property
    def present_inputs(self) -> tuple[TensorInfo, ...]:
        """Inputs that are given (optional empty inputs dropped)."""
        return tuple(t for t in self.inputs if t is not None)

    @property
    def live_inputs(self) -> tuple[TensorInfo, ...]:
        """Given inputs whose value changes per inference (activations, not load-time constants)."""
        return tuple(t for t in self.inputs if t is not None and not t.const)

    @property
    def qualified_type(self) -> str:
        """``op_type`` with its domain, e.g. ``com.microsoft::Gelu`` (plain for the default domain)."""
        return self.op_type if self.domain in ("", "ai.onnx") else f"{self.domain}::{self.op_type}"
