"""The generated files of the repository, and checking or refreshing them.

Generated files are committed (so the C build and the docs need no Python
step); `check` is what the tests and CI run to keep them in step with isa/.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..isa.model import Isa
from .c_header import make_c_header
from .isa_doc import make_isa_doc

# Relative path (POSIX style, from the repository root) -> generator.
OUTPUTS: dict[str, Callable[[Isa], str]] = {
    "native/generated/tsp_isa.h": make_c_header,
    "docs/isa.md": make_isa_doc,
}


def generated_files(isa: Isa) -> dict[str, str]:
    """Every generated file's relative path and its expected text."""
    return {rel: make(isa) for rel, make in OUTPUTS.items()}


def _current(path: Path) -> str | None:
    try:
        # newline="" so a file with CRLF endings counts as stale, not as equal.
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def check(repo_root: str | Path, isa: Isa) -> list[str]:
    """Relative paths of generated files that are missing or differ from isa/."""
    root = Path(repo_root)
    return [rel for rel, text in generated_files(isa).items() if _current(root / rel) != text]


def write(repo_root: str | Path, isa: Isa) -> list[str]:
    """Write the generated files whose content changed; return their relative paths.

    Unchanged files are left alone so their timestamps do not trigger rebuilds.
    """
    root = Path(repo_root)
    written = []
    for rel, text in generated_files(isa).items():
        path = root / rel
        if _current(path) == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        written.append(rel)
    return written
