"""Files generated from isa/: the C header for the engine and the ISA reference.

One small module per output (riscv-opcodes style); `outputs` lists them.
"""
from .c_header import make_c_header
from .isa_doc import make_isa_doc
from .outputs import OUTPUTS, check, generated_files, write

__all__ = ["OUTPUTS", "check", "generated_files", "make_c_header", "make_isa_doc", "write"]
