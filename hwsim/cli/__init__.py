"""The `hwsim` command. Thin: parse arguments, call the library, print the result.

Every user error (an :class:`HwsimError`, a malformed argument) prints one line to stderr and
exits with status 2, without a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hwsim.cli.args import EXIT_USAGE, build_parser
from hwsim.cli.commands import (
    cmd_calibrate,
    cmd_devices,
    cmd_inspect,
    cmd_measure,
    cmd_ops,
    cmd_price,
    cmd_run,
    cmd_serve,
    cmd_zoo,
)
from hwsim.errors import HwsimError

COMMANDS = {"run": cmd_run, "serve": cmd_serve, "measure": cmd_measure, "calibrate": cmd_calibrate, "inspect": cmd_inspect, "price": cmd_price, "devices": cmd_devices, "zoo": cmd_zoo, "ops": cmd_ops}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hwsim` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.verb](args)
    except HwsimError as exc:
        sys.stderr.write(f"hwsim: error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:  # a file the user named cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"hwsim: error: {where}{exc.strerror or exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("hwsim: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
