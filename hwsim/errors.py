"""Every failure a user can cause is an :class:`HwsimError`.

The CLI turns these into a one-line message and exit status 2, without a traceback.
Messages name the file, node or field at fault and say what would fix it.
"""

from __future__ import annotations


class HwsimError(Exception):
    """Base class of user-facing errors: bad input, unsupported work, impossible requests."""


class ModelLoadError(HwsimError):
    """The model file could not be read or is not a valid ONNX model."""


class ShapeError(HwsimError):
    """A tensor's shape could not be made static (an unbound dim, a data-dependent shape)."""


class BindError(HwsimError):
    """A dimension binding given by the caller is malformed or names nothing in the graph."""


class UnsupportedOpError(HwsimError):
    """An op hwsim cannot count. Never priced as free: it raises unless the caller asked to warn."""

    def __init__(self, message: str, op_types: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.op_types = op_types


class ZooError(HwsimError):
    """An unknown zoo model name or a bad zoo parameter."""


class ConfigError(HwsimError):
    """A YAML or CLI configuration value is invalid."""
