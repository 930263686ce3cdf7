"""The TSP-1 cycle engine: a C core (native/engine/) bound with cffi.

    >>> from tspasm.engine import Machine
    >>> m = Machine(tspasm.assemble_file("programs/vector_add_i8.tsp").program)
    >>> m.run(), m.cycle, m.outputs()["c"][:4]

Importing checks that the compiled extension was built from the same isa/ as
this package and raises EngineBuildError (an ImportError) with the remedy if not.
"""
from ._native import COMPILED_FINGERPRINT
from .clocks import ClockModel
from .errors import EngineBuildError, EngineError
from .machine import Hazard, Machine, QueueInfo, Snapshot, StopReason

__all__ = ["COMPILED_FINGERPRINT", "ClockModel", "EngineBuildError", "EngineError", "Hazard", "Machine", "QueueInfo", "Snapshot",
           "StopReason"]
