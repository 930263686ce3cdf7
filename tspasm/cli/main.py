"""`tspasm` entry point: parse arguments, run one command, map errors to exit codes.

Exit codes: 0 success, 1 the input was wrong (diagnostics printed), 2 bad usage,
3 an internal error (a bug in tspasm).
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import TspError, UsageError
from . import asm_cmd, check_cmd, debug_cmd, disasm_cmd, gen_cmd, run_cmd, topo_cmd

COMMANDS = (asm_cmd, disasm_cmd, check_cmd, run_cmd, debug_cmd, topo_cmd, gen_cmd)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: usage + exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tspasm", description="TSP-1 assembler, simulator and debugger.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        sys.stderr.write(f"tspasm: error: {exc}\n")
        return 2
    except TspError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("tspasm: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug in tspasm: say so in one line, never a traceback
        if os.environ.get("TSPASM_DEBUG"):
            raise
        sys.stderr.write(f"tspasm: internal error: {type(exc).__name__}: {exc} "
                         "(set TSPASM_DEBUG=1 for a traceback, and please report it)\n")
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
