"""ONNX element types: names and storage sizes in bytes.

Sizes are the storage sizes the ONNX spec gives each element type
(onnx/onnx.proto3 `TensorProto.DataType`); 4-bit types pack two elements per byte.
Strings have no fixed size; hwsim counts them at 8 bytes (a pointer), a documented convention.
"""

from __future__ import annotations

from onnx import TensorProto

#: ONNX data-type enum -> short name used throughout hwsim.
DTYPE_NAMES: dict[int, str] = {
    TensorProto.FLOAT: "fp32",
    TensorProto.UINT8: "uint8",
    TensorProto.INT8: "int8",
    TensorProto.UINT16: "uint16",
    TensorProto.INT16: "int16",
    TensorProto.INT32: "int32",
    TensorProto.INT64: "int64",
    TensorProto.STRING: "string",
    TensorProto.BOOL: "bool",
    TensorProto.FLOAT16: "fp16",
    TensorProto.DOUBLE: "fp64",
    TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64",
    TensorProto.COMPLEX64: "complex64",
    TensorProto.COMPLEX128: "complex128",
    TensorProto.BFLOAT16: "bf16",
    TensorProto.FLOAT8E4M3FN: "fp8",
    TensorProto.FLOAT8E4M3FNUZ: "fp8",
    TensorProto.FLOAT8E5M2: "fp8",
    TensorProto.FLOAT8E5M2FNUZ: "fp8",
    TensorProto.UINT4: "uint4",
    TensorProto.INT4: "int4",
}
for _name, _short in (("FLOAT4E2M1", "fp4"), ("FLOAT8E8M0", "fp8"), ("UINT2", "uint2"), ("INT2", "int2")):
    if hasattr(TensorProto, _name):
        DTYPE_NAMES[getattr(TensorProto, _name)] = _short

#: Storage bytes per element, by short name.
DTYPE_BYTES: dict[str, float] = {
    "fp64": 8, "int64": 8, "uint64": 8, "complex64": 8, "complex128": 16, "string": 8,
    "fp32": 4, "int32": 4, "uint32": 4,
    "fp16": 2, "bf16": 2, "int16": 2, "uint16": 2,
    "fp8": 1, "int8": 1, "uint8": 1, "bool": 1,
    "int4": 0.5, "uint4": 0.5, "fp4": 0.5, "int2": 0.25, "uint2": 0.25,
    "unknown": 4,
}

FLOAT_DTYPES = frozenset({"fp64", "fp32", "fp16", "bf16", "fp8", "fp4"})
#: Element types that hold model parameters (weights, quantized weights); index and shape
#: tensors (int64, bool, string) never count as parameters.
PARAM_DTYPES = FLOAT_DTYPES | frozenset({"int8", "uint8", "int4", "uint4", "int16", "uint16", "int32"})


def dtype_name(elem_type: int) -> str:
    """Short name of an ONNX element type ("unknown" for 0 / undefined)."""
    return DTYPE_NAMES.get(elem_type, "unknown")


def dtype_bytes(name: str) -> float:
    """Storage size in bytes of one element of dtype ``name``."""
    return DTYPE_BYTES.get(name, 4)
