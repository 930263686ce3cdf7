"""`tspasm check prog.tsp|prog.tspo [--seeds N --drift-ppm PPM --jitter]`: every schedule error,
found by the engine's own timing code; with clock realism, under each of seeds 0..N-1 (a program
that synchronizes correctly has none under any seed)."""
from __future__ import annotations

import sys

from ..check import ScheduleError, check_schedule
from ..runner import load_program
from .clock_args import _seed, add_clock_args, clock_model
from .run_cmd import _cycles


def register(sub) -> None:
    p = sub.add_parser("check", help="verify a program's schedule: missing values, two writers, bank ports")
    p.add_argument("program", help="TSP assembly (.tsp, assembled first) or a program image (.tspo)")
    p.add_argument("--max-cycles", type=_cycles, metavar="N", default=None,
                   help="check at most the first N cycles")
    p.add_argument("--topology", metavar="NAME|FILE.toml", default=None,
                   help="chips and C2C links: single, pair, node, rack, system:R or a custom file "
                        "(default: the program's .topology, else the smallest built-in holding its "
                        "chips); a .topology naming another one is an error")
    add_clock_args(p)
    p.add_argument("--seeds", type=_seed, metavar="N", default=1,
                   help="with --drift-ppm/--jitter: check under seeds SEED..SEED+N-1 (default 1)")
    p.set_defaults(func=run)


def run(args) -> int:
    import dataclasses

    loaded = load_program(args.program, args.topology)
    clocks = clock_model(args)
    seeds = [clocks] if clocks is None else \
        [dataclasses.replace(clocks, seed=args.seed + k) for k in range(max(args.seeds, 1))]
    for model in seeds:
        result = check_schedule(loaded, args.max_cycles, args.topology, model)
        if result.errors or not result.complete:
            if model is not None:
                result.warnings.insert(0, _under(model, loaded.path))
            raise ScheduleError(result)
    for d in result.warnings:
        sys.stderr.write(d.render() + "\n")
    span = f"in the first {result.cycles} cycles, --max-cycles" if result.limited else \
        f"{result.cycles} cycles on the superlane-0 timeline"
    under = f", under seeds {args.seed}..{args.seed + len(seeds) - 1} ({clocks.describe(seed=False)})" if clocks else ""
    sys.stdout.write(f"{args.program}: no schedule errors ({span}{under})\n")
    return 0


def _under(model, path):
    from ..asm.diagnostics import Diagnostic

    flags = f" --seed {model.seed}" + (f" --drift-ppm {model.drift_ppm:g}" if model.drift_ppm else "") + \
        (" --jitter" if model.jitter else "")
    return Diagnostic(path=str(path), line=0, col=0, severity="note",
                      message=f"the errors below happen with clock realism: {model.describe()}; "
                              f"reproduce with: tspasm run {path}{flags}")
