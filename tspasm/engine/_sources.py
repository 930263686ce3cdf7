"""Which C sources an engine build came from.

The build compiles a hash of native/engine/* and the generated ISA header into
the extension; in a source checkout the import compares it with the files on
disk, so a C edit without a rebuild fails loudly instead of testing a stale
engine.  Imported by path from _build.py too, so it must not import tspasm.
"""
from __future__ import annotations

import hashlib
from pathlib import Path


def engine_sources(root: Path) -> list[Path]:
    engine = root / "native" / "engine"
    files = sorted(engine.glob("*.c")) + sorted(engine.glob("*.h"))
    return files + [root / "native" / "generated" / "tsp_isa.h"]


def source_hash(root: Path) -> str | None:
    """sha256 over the engine's sources, or None when root is not a checkout."""
    files = engine_sources(root)
    if not all(f.is_file() for f in files) or len(files) < 2:
        return None
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0")
        h.update(f.read_bytes().replace(b"\r\n", b"\n"))
    return h.hexdigest()
