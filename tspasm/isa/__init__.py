"""The machine-readable TSP-1 description (isa/) as frozen Python records."""
from .loader import default_isa, load_isa
from .model import Field, InstrSpec, Isa, OperandItem, Queue, SuffixItem

__all__ = ["default_isa", "load_isa", "Field", "InstrSpec", "Isa", "OperandItem", "Queue", "SuffixItem"]
