"""tspasm: assembler, ISA toolchain and tools for the TSP-1 tensor streaming processor.

    >>> import tspasm
    >>> asm = tspasm.assemble_file("programs/vector_add_i8.tsp")
    >>> asm.program.code[0].shape        # (rows, 144 queues, 16 bytes)
"""
from .asm.assembler import Assembly, assemble_file, assemble_text
from .asm.diagnostics import AssemblyError, Diagnostic
from .errors import ImageError, IsaError, TspError, UsageError
from .image import Program, read_file, write_file
from .isa import default_isa, load_isa

# The engine needs the compiled extension; `import tspasm` must work without it,
# so these load on first use (PEP 562).
_ENGINE_NAMES = ("EngineError", "Machine", "Snapshot", "StopReason")


def __getattr__(name: str):
    if name in _ENGINE_NAMES:
        from . import engine
        return getattr(engine, name)
    raise AttributeError(f"module 'tspasm' has no attribute {name!r}")


__version__ = "0.1.0"
# Not the engine names: `from tspasm import *` must not need the compiled extension either.
__all__ = ["Assembly", "AssemblyError", "Diagnostic", "ImageError", "IsaError", "Program", "TspError",
           "UsageError", "assemble_file", "assemble_text", "default_isa", "load_isa", "read_file",
           "write_file"]
