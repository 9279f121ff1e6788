"""Entry point of the ``retirement`` console script."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import IO, NoReturn

from cli.commands import (
    OPS_COMMANDS,
    add_demo_command,
    add_dev_command,
    add_ops_commands,
    run_demo,
    run_dev,
    run_ops,
)
from cli.rules import UsageError, add_rules_commands, run_rules

PROG = "retirement"


class _Parser(argparse.ArgumentParser):
    """Bad arguments give one clear line on stderr and exit status 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Jilin 'retirement as one thing' service tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_rules_commands(sub)
    add_demo_command(sub)
    add_dev_command(sub)
    add_ops_commands(sub)
    return parser


def run(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run one command and return its exit status (for tests and for :func:`main`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    try:
        if args.command == "demo":
            return run_demo(args, stream)
        if args.command == "dev":
            return run_dev(args, stream)
        if args.command in OPS_COMMANDS:
            return run_ops(args, stream)
        return run_rules(args, stream)
    except (UsageError, ValueError, ArithmeticError) as exc:
        # Every input the rules refuse is a ValueError with a readable reason (InvalidIdNumber,
        # PolicyError, PensionInputError, a date or month out of range).
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2


def main() -> NoReturn:
    try:
        status = run()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        status = 130
    except BrokenPipeError:
        status = 141  # as if killed by SIGPIPE, like any Unix tool whose reader left
    # A reader that went away (`… | head`) is not a failure of ours to report.
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    sys.stderr.flush()
    # os._exit, not sys.exit: after Temporal's Rust core has run, CPython can crash during
    # interpreter finalisation and turn a success into exit 134/139 (engineering.md). Output is
    # flushed above, so the status we return is the command's real one.
    os._exit(status)
