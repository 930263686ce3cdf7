"""Program images: the in-memory Program, the .tspo file, the disassembler."""
from .program import DataSegment, OutputRegion, Program, Symbol
from .tspo import read_bytes, read_file, write_bytes, write_file

__all__ = ["DataSegment", "OutputRegion", "Program", "Symbol", "read_bytes", "read_file",
           "write_bytes", "write_file"]
