"""`tspasm asm prog.tsp -o prog.tspo [--listing prog.lst]`."""
from __future__ import annotations

import os
import sys

from ..asm.assembler import Assembler
from ..asm.listing import make_listing
from ..errors import UsageError
from ..image.tspo import write_file


def register(sub) -> None:
    p = sub.add_parser("asm", help="assemble a .tsp file into a .tspo program image")
    p.add_argument("source", help="TSP assembly file (.tsp)")
    p.add_argument("-o", "--output", help="program image to write (default: SOURCE with .tspo)")
    p.add_argument("--listing", metavar="FILE", help="write a listing: source -> chip/queue/cycle -> encoding")
    p.add_argument("--topology", metavar="NAME|FILE.toml", default=None,
                   help="the chips and C2C links that link names and cross-chip syncs refer to: single, "
                        "pair, node, rack, system:R or a custom file (default: the program's .topology, "
                        "else the smallest built-in holding its chips); a .topology naming another one "
                        "is an error")
    p.set_defaults(func=run)


def run(args) -> int:
    out = args.output or os.path.splitext(args.source)[0] + ".tspo"
    if os.path.abspath(out) == os.path.abspath(args.source):
        raise UsageError(f"tspasm asm: output {out} would overwrite the source")
    assembly = Assembler(topology=args.topology).assemble_file(args.source)
    for d in assembly.warnings:
        sys.stderr.write(d.render() + "\n")
    write_file(assembly.program, out)
    if args.listing:
        try:
            with open(args.listing, "w", encoding="utf-8") as fh:
                fh.write(make_listing(assembly))
        except OSError as exc:
            raise UsageError(f"{args.listing}: cannot write listing: {exc.strerror or exc}") from None
    prog = assembly.program
    rows = sum(a.shape[0] for a in prog.code.values())
    sys.stdout.write(f"{out}: {len(assembly.placed)} instructions, {len(prog.chips)} chip(s), "
                     f"{rows} bundle rows\n")
    return 0
