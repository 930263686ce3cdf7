"""The --topology option of the commands that run a program (run, debug), one wording for both."""
from __future__ import annotations


def add_topology_arg(p) -> None:
    p.add_argument("--topology", metavar="NAME|FILE.toml", default=None,
                   help="chips and C2C links: single, pair, node, rack, system:R or a custom file "
                        "(default: the program's .topology, or the one a .tspo records, else the "
                        "smallest built-in holding the program's chips)")
