"""cffi build script for the engine (API mode, out-of-line).

setuptools runs it through setup.py's `cffi_modules`; it compiles every
native/engine/*.c into the extension `tspasm.engine._tsp_engine`.  The cdef is
read from the real header native/engine/tsp_engine_api.h, so the binding cannot
drift from the C declarations.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import sys
import sysconfig
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "native" / "engine"
GENERATED = ROOT / "native" / "generated"

# By path: importing the tspasm package here would need the extension being built.
_spec = importlib.util.spec_from_file_location("_tsp_sources", Path(__file__).with_name("_sources.py"))
_sources = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sources)


def _rel(path: Path) -> str:
    # setuptools wants source paths relative to the project (it runs from there).
    return os.path.relpath(path)


# Strict IEEE arithmetic: no fused multiply-add, no fast-math reassociation.  Hidden
# visibility: only the module init is exported, so calls inside the engine skip the PLT.
# -O3 turns on GCC's full loop vectorizer (the per-lane loops of vxm_ops.c and the
# int8 dot product of mxm_dot.c are written for it).  On x86-64 the baseline is
# x86-64-v2 (SSE4.2, POPCNT: every x86-64 CPU since ~2009, and CI's machines), which
# adds the SSE4.1 byte/dword min/max, pmulld and blends those loops need; never
# -march=native, since the wheel must run on another machine than the one that built it.
COMPILE_ARGS = [] if sys.platform == "win32" else [
    "-std=c11", "-O3", "-ffp-contract=off", "-fno-fast-math", "-fvisibility=hidden"]
if sys.platform != "win32" and platform.machine().lower() in ("x86_64", "amd64"):
    COMPILE_ARGS.append("-march=x86-64-v2")

# Link-time optimization: the per-instruction path crosses files (icu.c -> mem.c/vxm.c ->
# stream_io.c -> streams.c); with -flto the compiler inlines those small calls (-12% of
# the instructions of a streaming run).  GCC's "auto" runs its link-time jobs in parallel.
_CC = os.environ.get("CC") or sysconfig.get_config_var("CC") or ""
LTO = [] if sys.platform == "win32" else ["-flto=auto"] if "gcc" in _CC else ["-flto"]

ffibuilder = FFI()
ffibuilder.cdef((ENGINE / "tsp_engine_api.h").read_text(encoding="utf-8"))
ffibuilder.set_source(
    "tspasm.engine._tsp_engine",
    '#include "tsp_engine.h"',
    sources=[_rel(p) for p in sorted(ENGINE.glob("*.c"))],
    include_dirs=[_rel(ENGINE), _rel(GENERATED)],
    depends=[_rel(p) for p in sorted(ENGINE.glob("*.h"))] + [_rel(GENERATED / "tsp_isa.h")],
    extra_compile_args=COMPILE_ARGS + LTO,
    extra_link_args=COMPILE_ARGS + LTO,
    define_macros=[("TSP_ENGINE_SOURCE_HASH", f'"{_sources.source_hash(ROOT)}"')],
    libraries=[] if sys.platform == "win32" else ["m"],
)
