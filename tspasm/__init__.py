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

__version__ = "0.1.0"
__all__ = ["Assembly", "AssemblyError", "Diagnostic", "ImageError", "IsaError", "Program", "TspError",
           "UsageError", "assemble_file", "assemble_text", "default_isa", "load_isa", "read_file",
           "write_file"]
