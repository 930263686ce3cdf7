"""Where isa/ lives: beside the package in a checkout, or packaged as tspasm._isa."""
from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def repo_root() -> Path | None:
    """The source checkout this package runs from, if any (needed by `tspasm gen`)."""
    if (_CHECKOUT / "isa" / "machine.toml").is_file() and (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT
    return None


def isa_root() -> Path:
    root = repo_root()
    if root is not None:
        return root / "isa"
    # Installed: pyproject.toml maps isa/ to the package directory tspasm/_isa.
    return Path(__file__).resolve().parents[1] / "_isa"
