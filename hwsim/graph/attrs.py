"""Complete an ONNX node's attributes with the defaults its operator schema declares."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import onnx
from onnx import helper


@lru_cache(maxsize=4096)
def schema_defaults(op_type: str, domain: str, opset: int) -> tuple[tuple[str, Any], ...]:
    """(name, default) pairs declared by the schema of ``op_type`` at ``opset`` (empty if none)."""
    try:
        schema = onnx.defs.get_schema(op_type, opset, domain)
    except Exception:  # no schema: contrib or unknown op
        return ()
    out = []
    for name, attr in schema.attributes.items():
        if attr.default_value is not None and attr.default_value.type != 0:
            out.append((name, _decode(helper.get_attribute_value(attr.default_value))))
    return tuple(out)


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def node_attrs(node: onnx.NodeProto, domain: str, opset: int) -> dict[str, Any]:
    """Schema defaults overlaid with the node's own attributes (strings decoded, lists as tuples)."""
    attrs = dict(schema_defaults(node.op_type, domain, opset))
    for a in node.attribute:
        attrs[a.name] = _decode(helper.get_attribute_value(a))
    return attrs
