"""`tspasm debug prog.tsp|prog.tspo [-x commands.txt] [--topology NAME|FILE.toml] [--seed N
--drift-ppm PPM --jitter]`: the interactive debugger,
or a scripted session.  --topology is resolved as `tspasm run` resolves it, with the same errors.
An image is debugged through its disassembly (kept in memory as prog.dis.tsp): listings,
`list` and line breakpoints refer to that text.

With -x every line of the file runs through the same Session.execute as the REPL,
echoed after a prompt like the REPL's, so a transcript reads like a terminal
session.  The script always runs to its end (or `quit`); the exit status is 1 if
any command failed, else 0.
"""
from __future__ import annotations

import sys

from ..asm.assembler import Assembler
from ..errors import UsageError
from .clock_args import add_clock_args, clock_model
from .topology_arg import add_topology_arg


def register(sub) -> None:
    p = sub.add_parser("debug", help="debug a program: step cycles, break, watch, go back in time")
    p.add_argument("source", help="TSP assembly file (.tsp), or a .tspo image (debugged through its disassembly)")
    p.add_argument("-x", "--commands", metavar="FILE",
                   help="run the debugger commands in FILE (one a line) and exit; status 1 if any failed")
    # the same option and help as `tspasm run`: the Session builds its machine with runner.make_machine
    add_topology_arg(p)
    add_clock_args(p)
    p.set_defaults(func=run)


def load(path: str):
    """(assembly, sources) for the debugger.  A .tsp is assembled.  A .tspo image is
    disassembled (compact bundles, on the topology it records) and that text assembled
    under the name prog.dis.tsp, whose text the debugger shows from memory."""
    if not path.endswith(".tspo"):
        return Assembler().assemble_file(path), None
    from ..image.disasm import disassemble
    from ..image.tspo import read_file
    from ..isa import default_isa

    isa = default_isa()
    program = read_file(path, isa)
    text = disassemble(program, isa, with_loc=False)
    name = path[:-len(".tspo")] + ".dis.tsp"
    return Assembler(isa, topology=program.topology).assemble_text(text, name), {name: text}


def run(args) -> int:
    from ..debug.session import Session
    assembly, sources = load(args.source)
    session = Session(assembly, sources=sources, topology=args.topology, path=args.source,
                      clocks=clock_model(args))
    if args.commands is None:
        from ..debug.repl import Repl
        return Repl(session, color=sys.stdout.isatty()).loop()
    try:
        with open(args.commands, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise UsageError(f"{args.commands}: cannot read: {exc.strerror or exc}") from None
    return run_script(session, lines, sys.stdout)


def run_script(session, lines: list[str], out) -> int:
    from ..debug.session import Quit
    status = 0
    out.write(session.execute("context") + "\n")
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.write(f"(tsp {session.chip}:{session.machine.cycle}) {line.strip()}\n")
        try:
            text = session.execute(line)
        except Quit:
            break
        if session.failed:
            status = 1
        if text:
            out.write(text + "\n")
    return status
