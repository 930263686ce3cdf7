"""The in-memory program image: what the assembler produces, the .tspo file
stores, the disassembler prints and the engine loads."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Line table rows: which source position produced the word at (chip, slot, row).
LINE_DTYPE = np.dtype([("chip", "<u4"), ("slot", "<u2"), ("row", "<u4"),
                       ("file", "<u4"), ("line", "<u4"), ("col", "<u4")])


@dataclass
class DataSegment:
    """A typed tensor placed at (chip, MEM slice, address).  Byte plane j of each
    element lives in slice index + j of the same hemisphere (reference-model 1)."""

    chip: int
    slot: int  # queue slot of the first MEM slice
    addr: int
    dtype: str
    shape: tuple[int, ...]  # (n,) = one vector, (rows, n) = rows vectors
    data: bytes  # little-endian elements, row-major, exactly prod(shape) elements


@dataclass
class OutputRegion:
    """A MEM region a run reports (`.output`)."""

    name: str
    chip: int
    slot: int
    addr: int
    dtype: str
    rows: int  # 0 = one vector reported with shape (lanes,)


@dataclass
class Symbol:
    name: str
    value: int
    kind: str  # "equ" or "label"
    chip: int


@dataclass
class Program:
    isa_fingerprint: str
    code: dict[int, np.ndarray]  # chip -> uint8 array (rows, queues, slot_bytes)
    data: list[DataSegment] = field(default_factory=list)
    outputs: list[OutputRegion] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, LINE_DTYPE))
    # The tspasm.topology.Topology the program was assembled for (`.topology` or
    # --topology); None: none was named, and runs pick the default for its chips.
    topology: object | None = None

    @property
    def chips(self) -> list[int]:
        return sorted(set(self.code) | {d.chip for d in self.data})

    def canonicalize(self) -> None:
        """Sort tables so equal programs have equal bytes, whatever the source order."""
        self.data.sort(key=lambda d: (d.chip, d.slot, d.addr))
        self.symbols.sort(key=lambda s: (s.name, s.chip))
        if len(self.lines):
            order = np.lexsort((self.lines["row"], self.lines["slot"], self.lines["chip"]))
            self.lines = self.lines[order]
