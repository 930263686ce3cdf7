"""`tspasm disasm prog.tspo [-o out.tsp] [--no-loc]`."""
from __future__ import annotations

import sys

from ..errors import ImageError, UsageError
from ..image.disasm import disassemble
from ..image.tspo import read_file
from ..isa import default_isa


def register(sub) -> None:
    p = sub.add_parser("disasm", help="print a .tspo program image as assembly that reassembles identically")
    p.add_argument("image", help="program image (.tspo)")
    p.add_argument("-o", "--output", help="write the text here instead of standard output")
    p.add_argument("--no-loc", action="store_true",
                   help="compact bundles without .loc line info (code and data still round-trip)")
    p.add_argument("--topology", metavar="NAME|FILE.toml", default=None,
                   help="the topology the program was assembled for (needed only to time syncs that "
                        "transmits release; default: the one recorded in the image, else the smallest "
                        "built-in holding its chips); written into the text as .topology")
    p.set_defaults(func=run)


def run(args) -> int:
    isa = default_isa()
    program = read_file(args.image, isa)
    try:
        text = disassemble(program, isa, with_loc=not args.no_loc, topology=args.topology)
    except ImageError as exc:
        raise ImageError(f"{args.image}: {exc}") from None
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    return 0
