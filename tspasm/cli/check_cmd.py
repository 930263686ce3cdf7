"""`tspasm check prog.tsp|prog.tspo`: every schedule error, found by the engine's own timing code."""
from __future__ import annotations

import sys

from ..check import ScheduleError, check_schedule
from ..runner import load_program
from .run_cmd import _cycles


def register(sub) -> None:
    p = sub.add_parser("check", help="verify a program's schedule: missing values, two writers, bank ports")
    p.add_argument("program", help="TSP assembly (.tsp, assembled first) or a program image (.tspo)")
    p.add_argument("--max-cycles", type=_cycles, metavar="N", default=None,
                   help="check at most the first N cycles")
    p.add_argument("--topology", metavar="NAME|FILE.toml", default=None,
                   help="chips and C2C links: single, pair, node, rack, system:R or a custom file "
                        "(default: the smallest built-in holding the program's chips)")
    p.set_defaults(func=run)


def run(args) -> int:
    loaded = load_program(args.program)
    result = check_schedule(loaded, args.max_cycles, args.topology)
    if result.errors or not result.complete:
        raise ScheduleError(result)
    for d in result.warnings:
        sys.stderr.write(d.render() + "\n")
    span = f"in the first {result.cycles} cycles, --max-cycles" if result.limited else \
        f"{result.cycles} cycles on the superlane-0 timeline"
    sys.stdout.write(f"{args.program}: no schedule errors ({span})\n")
    return 0
