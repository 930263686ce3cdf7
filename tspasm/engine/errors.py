"""The one exception the engine raises, carrying the C message and where it happened."""
from __future__ import annotations

from ..errors import TspError


class EngineError(TspError):
    """A status other than TSP_OK from the C engine.

    `code` is the status name (e.g. "TSP_E_SCHEDULE"); chip, cycle, queue and
    row say where (None when they do not apply); `location` is the source
    position of that instruction when the program has a line table."""

    def __init__(self, message: str, code: str, *, chip: int | None = None, cycle: int | None = None,
                 queue: str | None = None, row: int | None = None, location: str | None = None,
                 other_queue: str | None = None, other_location: str | None = None):
        super().__init__(message)
        self.code = code
        self.chip = chip
        self.cycle = cycle
        self.queue = queue
        self.row = row
        self.location = location
        self.other_queue = other_queue
        self.other_location = other_location


class EngineBuildError(TspError, ImportError):
    """The compiled extension is missing or was built from another isa/."""
