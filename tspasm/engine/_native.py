"""The one import point of the compiled extension (pymunk's shape), and the
handshake that the extension was built from the same isa/ as this package."""
from __future__ import annotations

from pathlib import Path

from ..isa import default_isa
from ._sources import source_hash
from .errors import EngineBuildError

try:
    from ._tsp_engine import ffi, lib
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise EngineBuildError(
        "the TSP engine extension (tspasm.engine._tsp_engine) is not built. Install the package "
        "with `pip install .`; in a source checkout use `pip install -e .` or "
        "`python setup.py build_ext --inplace`") from exc


def check_fingerprint(compiled: str, expected: str) -> None:
    """Refuse an extension compiled from a different isa/ than the one loaded now."""
    if compiled != expected:
        raise EngineBuildError(
            f"the compiled TSP engine implements ISA {compiled[:16]}... but isa/ is now "
            f"{expected[:16]}...; the extension is stale. Rebuild it - reinstall: pip install . "
            f"(in a checkout: pip install -e . or python setup.py build_ext --inplace)")


def check_sources(compiled: str, on_disk: str | None) -> None:
    """In a source checkout, refuse an extension built from other C sources."""
    if on_disk is not None and compiled != on_disk:
        raise EngineBuildError(
            "the compiled TSP engine was built from other sources than native/engine/ holds now; "
            "rebuild it: pip install -e . (or python setup.py build_ext --inplace)")


COMPILED_FINGERPRINT = ffi.string(lib.tsp_isa_fingerprint()).decode("ascii")
check_fingerprint(COMPILED_FINGERPRINT, default_isa().fingerprint)
# Only a checkout has native/ next to the package; an installed wheel skips this.
check_sources(ffi.string(lib.tsp_engine_source_hash()).decode("ascii"),
              source_hash(Path(__file__).resolve().parents[2]))

__all__ = ["COMPILED_FINGERPRINT", "check_fingerprint", "check_sources", "ffi", "lib"]
