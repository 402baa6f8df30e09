"""ONNX loading: read, bind symbolic dims, make every shape static, flatten control flow."""

from hwsim.graph.load import LoadedModel, load_model
from hwsim.graph.opnode import OpNode, TensorInfo

__all__ = ["LoadedModel", "OpNode", "TensorInfo", "load_model"]
