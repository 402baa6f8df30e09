"""A small ONNX graph builder shared by the zoo's model families.

Conventions (they hold for every zoo model):

* Trainable parameters (and BatchNormalization running statistics) are graph initializers,
  created with :meth:`GraphBuilder.weight`. Nothing else is an initializer, so "sum of numel of
  the float initializers" is the parameter count (plus BN buffers, which published counts omit).
* Non-trainable constants (shapes, axes, scalars, masks, position indices) are ``Constant``
  nodes, always holding their data, so shape inference can read them. Identical small
  constants are shared (one ``Constant`` node per value).
* By default no weight data is materialised: each initializer carries dims and data type and
  points at external data location ``#<model>.weights`` with a consistent contiguous
  (offset, length) byte layout. No such file exists; the leading ``#`` is ONNX's convention
  for in-memory / not-on-disk external data (``onnx.model_container.ModelContainer``), which
  ``onnx.checker.check_model`` skips instead of failing on a missing file. This lets GPT-3
  175B build in seconds. With ``weights="random"``
  initializers hold float32 random data (``numpy.random.default_rng(seed)``) in ``raw_data``.
* Every node and tensor name is unique and readable: a node's single output is named after
  the node (``layer3.1.conv2``), a weight after its module (``layer3.1.conv2.weight``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper

from hwsim.errors import ZooError

#: Opset and IR version of every zoo model (IR 8 is the lowest IR that carries opset 17).
OPSET = 17
IR_VERSION = 8
#: ``weights="random"`` refuses models whose weights exceed this (protobuf's 2 GiB limit).
MAX_RANDOM_BYTES = 2 * 1024**3
_FLOAT_BYTES = 4


@dataclass(frozen=True)
class Init:
    """How ``weights="random"`` fills one initializer.

    kind: "normal" (N(0, std)), "he" (N(0, sqrt(2 / fan_in)), He et al. 2015, fan_in = numel of
    one output slice), "uniform" (U(-std, std)), "ones", "zeros".
    """

    kind: str = "normal"
    std: float = 0.02


NORMAL = Init("normal", 0.02)  # GPT-2 / BERT initializer_range (Radford 2019, Devlin 2019)
HE = Init("he")
ONES = Init("ones")
ZEROS = Init("zeros")


@dataclass(frozen=True)
class _Weight:
    name: str
    shape: tuple[int, ...]
    init: Init


def _sample(rng: np.random.Generator, w: _Weight) -> np.ndarray:
    """Random float32 values for one weight, following its :class:`Init`."""
    shape, kind = w.shape, w.init.kind
    if kind == "ones":
        return np.ones(shape, np.float32)
    if kind == "zeros":
        return np.zeros(shape, np.float32)
    if kind == "uniform":
        return rng.uniform(-w.init.std, w.init.std, size=shape).astype(np.float32)
    std = w.init.std
    if kind == "he":
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        std = float(np.sqrt(2.0 / max(fan_in, 1)))
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)


def _const_name(arr: np.ndarray) -> str:
    """A readable unique name for a small constant, e.g. ``const.i64.0_2_1_3``."""
    kind = {np.dtype(np.int64): "i64", np.dtype(np.float32): "f32", np.dtype(bool): "b"}[arr.dtype]
    if arr.size > 8:
        return f"const.{kind}.{'x'.join(map(str, arr.shape))}"
    text = "_".join(f"{v:g}" if kind == "f32" else str(int(v)) for v in arr.ravel())
    text = text.replace("-", "m").replace(".", "p").replace("+", "")
    return f"const.{kind}.{text or 'empty'}" + (".s" if arr.ndim == 0 else "")


class GraphBuilder:
    """Collects inputs, weights, constants and nodes; :meth:`model` emits the ``ModelProto``."""

    def __init__(self, name: str, doc: str = "", weights: str = "none", seed: int = 0) -> None:
        self.name, self.doc, self.weights, self.seed = name, doc, weights, seed
        self._nodes: list[onnx.NodeProto] = []
        self._inputs: list[onnx.ValueInfoProto] = []
        self._outputs: list[onnx.ValueInfoProto] = []
        self._weights: list[_Weight] = []
        self._consts: dict[tuple, str] = {}
        self._names: set[str] = set()

    def _claim(self, name: str) -> str:
        if name in self._names:
            raise ValueError(f"zoo builder bug: name {name!r} used twice in {self.name}")
        self._names.add(name)
        return name

    def input(self, name: str, shape: Sequence[int], dtype: int = TensorProto.FLOAT) -> str:
        """Declare a graph input with a static shape; returns its name."""
        self._inputs.append(helper.make_tensor_value_info(self._claim(name), dtype, list(shape)))
        return name

    def output(self, name: str, shape: Sequence[int], dtype: int = TensorProto.FLOAT) -> str:
        """Mark an existing tensor as a graph output with its (static) shape."""
        self._outputs.append(helper.make_tensor_value_info(name, dtype, list(shape)))
        return name

    def weight(self, name: str, shape: Sequence[int], init: Init = NORMAL) -> str:
        """Declare a float32 parameter initializer; returns its name."""
        self._weights.append(_Weight(self._claim(name), tuple(int(d) for d in shape), init))
        return name

    def const(self, value: np.ndarray | Sequence | float | int, dtype=None) -> str:
        """A shared ``Constant`` node holding ``value`` (int64 for ints, float32 for floats)."""
        arr = np.asarray(value, dtype=dtype)
        if dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            name, n = _const_name(arr), 1
            while name in self._names:  # same shape, different values: number them
                name, n = f"{_const_name(arr)}.{n}", n + 1
            self._claim(name)
            tensor = onnx.numpy_helper.from_array(arr, name=name)
            self._nodes.append(helper.make_node("Constant", [], [name], name=name, value=tensor))
            self._consts[key] = name
        return self._consts[key]

    def node(self, op: str, inputs: Sequence[str], name: str, out: str | None = None,
             **attrs) -> str:
        """Append one node with a single output (named ``out`` or after the node)."""
        output = self._claim(out or name)
        if out is not None and out != name:
            self._claim(name)
        self._nodes.append(helper.make_node(op, list(inputs), [output], name=name, **attrs))
        return output

    def multi(self, op: str, inputs: Sequence[str], name: str, outs: Sequence[str],
              **attrs) -> list[str]:
        """Append one node with several named outputs (e.g. Split into q, k, v)."""
        self._claim(name)
        outputs = [self._claim(o) for o in outs]
        self._nodes.append(helper.make_node(op, list(inputs), outputs, name=name, **attrs))
        return outputs

    def weight_bytes(self) -> int:
        """Total bytes of all parameter initializers (float32)."""
        return sum(int(np.prod(w.shape, dtype=np.int64)) * _FLOAT_BYTES for w in self._weights)

    def _initializers(self) -> list[TensorProto]:
        if self.weights == "random":
            total = self.weight_bytes()
            if total > MAX_RANDOM_BYTES:
                raise ZooError(
                    f"zoo model {self.name!r}: weights=random needs {total / 1024**3:.1f} GiB, "
                    f"over the 2 GiB limit; use weights=none (the default) or a smaller model")
            rng = np.random.default_rng(self.seed)
            return [onnx.numpy_helper.from_array(_sample(rng, w), w.name) for w in self._weights]
        return self._external_initializers()

    def _external_initializers(self) -> list[TensorProto]:
        tensors, offset, location = [], 0, f"#{self.name}.weights"
        for w in self._weights:
            length = int(np.prod(w.shape, dtype=np.int64)) * _FLOAT_BYTES
            t = TensorProto(name=w.name, dims=list(w.shape), data_type=TensorProto.FLOAT,
                            data_location=TensorProto.EXTERNAL)
            for key, val in (("location", location), ("offset", str(offset)),
                             ("length", str(length))):
                entry = t.external_data.add()
                entry.key, entry.value = key, val
            tensors.append(t)
            offset += length
        return tensors

    def model(self) -> onnx.ModelProto:
        """The finished model: opset 17 default domain, IR version 8."""
        graph = helper.make_graph(self._nodes, self.name, self._inputs, self._outputs,
                                  initializer=self._initializers(), doc_string=self.doc)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="hwsim.zoo", doc_string=self.doc)
        model.ir_version = IR_VERSION
        helper.set_model_props(model, {"hwsim.zoo.name": self.name,
                                       "hwsim.zoo.weights": self.weights})
        return model
