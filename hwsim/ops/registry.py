"""The op registry: exact (domain, op_type) -> work-counting function.

Each op family module registers its functions with :func:`register`. An op type missing
from the registry is never priced as free: :func:`lookup` raises :class:`UnsupportedOpError`.
"""

from __future__ import annotations

from collections.abc import Callable

from hwsim.errors import UnsupportedOpError
from hwsim.graph.opnode import OpNode
from hwsim.ops.work import OpWork

WorkFn = Callable[[OpNode], OpWork]

MS_DOMAIN = "com.microsoft"
ML_DOMAIN = "ai.onnx.ml"

_REGISTRY: dict[tuple[str, str], WorkFn] = {}


def _norm_domain(domain: str) -> str:
    return "" if domain == "ai.onnx" else domain


def register(*op_types: str, domain: str = "") -> Callable[[WorkFn], WorkFn]:
    """Decorator: count ``op_types`` of ``domain`` with the decorated function."""

    def deco(fn: WorkFn) -> WorkFn:
        for op in op_types:
            key = (_norm_domain(domain), op)
            if key in _REGISTRY:
                raise RuntimeError(f"op {key} registered twice")
            _REGISTRY[key] = fn
        return fn

    return deco


def is_supported(op_type: str, domain: str = "") -> bool:
    """Whether hwsim can count ``op_type`` of ``domain``."""
    return (_norm_domain(domain), op_type) in _REGISTRY


def lookup(op_type: str, domain: str = "") -> WorkFn:
    """The counting function for an op, or :class:`UnsupportedOpError` naming it."""
    try:
        return _REGISTRY[(_norm_domain(domain), op_type)]
    except KeyError:
        qual = op_type if not _norm_domain(domain) else f"{domain}::{op_type}"
        raise UnsupportedOpError(
            f"op type {qual!r} is not supported; `hwsim ops` lists the {len(_REGISTRY)} supported op types",
            (qual,),
        ) from None


def supported_ops() -> list[str]:
    """All registered op types, domain-qualified outside the default domain, sorted."""
    return sorted(op if not d else f"{d}::{op}" for d, op in _REGISTRY)
