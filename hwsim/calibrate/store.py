"""Writing a calibrated device YAML atomically, and provenance helpers.

Atomic write: the YAML is rendered and validated in memory, written to a temporary file in the
target folder, flushed and fsync'ed, then ``os.replace``'d over the target (atomic on POSIX
within one filesystem). An interruption at any point leaves either the old file or none, never
half a file; the temporary is removed on any exception (KeyboardInterrupt included).
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from pathlib import Path

import yaml

from hwsim.errors import ConfigError
from hwsim.fileio import write_atomic

DEFAULT_OUT = Path.home() / ".config" / "hwsim" / "devices" / "cpu" / "cpu-local.yaml"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def machine_name() -> str:
    """Host name of this machine."""
    return socket.gethostname() or platform.node()


def check_writable(out: str | os.PathLike, force: bool) -> Path:
    """The target path; ConfigError if it exists and ``force`` is not set (checked before any work)."""
    path = Path(out).expanduser()
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; pass force=True (--force) to overwrite it")
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (hwsim.fileio), expanding ``~``."""
    return write_atomic(Path(path).expanduser(), text)


def write_device_yaml(data: dict, out: str | os.PathLike, force: bool, header: str = "") -> Path:
    """Validate ``data`` as a device spec, then write it atomically (ConfigError if it exists and not ``force``)."""
    from hwsim.devices.library import validate_spec

    path = check_writable(out, force)
    validate_spec(dict(data), str(path))
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return atomic_write_text(path, comment + body)
