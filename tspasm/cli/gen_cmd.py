"""`tspasm gen [--check] [--root DIR]`: regenerate the files derived from isa/.

Developers run it after editing isa/; the tests and CI run `--check`, which
fails while a committed generated file is stale.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from ..gen import check, write
from ..isa import load_isa
from ..isa.paths import repo_root


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "gen", help="regenerate files derived from isa/ (C header, docs/isa.md)",
        description="Regenerate native/generated/tsp_isa.h and docs/isa.md from isa/*.toml.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a generated file is missing or stale")
    parser.add_argument("--root", metavar="DIR", type=Path,
                        help="repository checkout to use (default: the one tspasm runs from)")
    parser.set_defaults(func=run)


def _root(args: argparse.Namespace) -> Path:
    root = args.root if args.root is not None else repo_root()
    if root is None:
        raise UsageError("tspasm gen: no source checkout found (tspasm is installed as a package); "
                         "run it from a checkout or pass --root DIR")
    if not (root / "isa" / "machine.toml").is_file():
        raise UsageError(f"tspasm gen: {root} is not a tspasm checkout (no isa/machine.toml)")
    return root


def run(args: argparse.Namespace) -> int:
    root = _root(args)
    isa = load_isa(root / "isa")
    if args.check:
        stale = check(root, isa)
        for rel in stale:
            print(f"{rel}: missing or out of date with isa/; run `tspasm gen`", file=sys.stderr)
        if stale:
            return 1
        print("generated files are up to date")
        return 0
    written = write(root, isa)
    for rel in written:
        print(f"wrote {rel}")
    if not written:
        print("generated files are up to date")
    return 0
