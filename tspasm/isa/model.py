"""Frozen records describing TSP-1, built once from isa/ by the loader."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping


@dataclass(frozen=True)
class Field:
    """A named bit range of the 128-bit instruction word."""

    name: str
    lo: int
    hi: int
    kind: str  # opcode uint int stream dtype enum flag link choice
    limit: int | None = None  # exclusive upper bound of the operand value
    min: int = 0
    values: tuple = ()  # enum names or choice integers
    doc: str = ""

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lo

    def value_range(self) -> tuple[int, int]:
        """Inclusive range of legal operand values (before encoding)."""
        if self.kind == "int":
            half = 1 << (self.width - 1)
            return -half, half - 1
        if self.kind in ("enum", "choice", "dtype"):
            return 0, len(self.values) - 1
        top = (1 << self.width) if self.limit is None else self.limit
        return self.min, top - 1


@dataclass(frozen=True)
class Queue:
    """One of the 144 instruction queues; `slot` is its index in a bundle row."""

    slot: int
    name: str
    unit: str
    pos: int
    hemi: str
    index: int  # MEM slice number, VXM ALU number, SXM/C2C unit number, MXM plane


@dataclass(frozen=True)
class OperandItem:
    """One operand position of an instruction's assembly syntax."""

    field: str
    sep: str | None  # separator before it: None, "," or "->"
    optional: bool


@dataclass(frozen=True)
class SuffixItem:
    """One `.suffix` of a mnemonic: a dtype, enum or flag field."""

    field: str
    optional: bool


@dataclass(frozen=True, eq=False)
class InstrSpec:
    """One instruction of the ISA: syntax, encoding, timing and legality."""

    name: str
    opcode: int
    units: tuple[str, ...]  # ("*",) = every queue
    syntax: str
    suffixes: tuple[SuffixItem, ...]
    operands: tuple[OperandItem, ...]
    fields: tuple[Field, ...]  # every non-opcode field, in syntax order
    defaults: Mapping[str, int]
    allow: Mapping[str, frozenset[int]]  # field -> legal encoded values
    reads: Mapping[str, Any]  # stream field -> width (int, a field name, or "<field>^2")
    writes: Mapping[str, Any]
    steps: Mapping[str, Any]  # field advanced per repeat -> step field name or constant
    latency: int
    control: str | None
    saturating: frozenset[int]  # dtype codes for which .sat is legal
    saturating_field: str
    description: str
    source: str  # file the instruction was defined in
    match: int
    mask: int
    field_index: Mapping[str, int] = dc_field(default_factory=dict)
    layout: tuple[tuple[int, int], ...] = ()  # (lo, value mask) per field, for fast encoding

    def legal_on(self, unit: str) -> bool:
        return "*" in self.units or unit in self.units

    def field(self, name: str) -> Field:
        return self.fields[self.field_index[name]]

    def stepped(self, values: tuple[int, ...], k: int) -> tuple[int, ...]:
        """The field values of the k-th re-issue under `repeat`: each field in `steps`
        advanced k times by its step (another field's value, or a constant)."""
        out = list(values)
        for name, step in self.steps.items():
            s = values[self.field_index[step]] if isinstance(step, str) else step
            out[self.field_index[name]] += k * s
        return tuple(out)


@dataclass(frozen=True, eq=False)
class Isa:
    """The whole machine description; `fingerprint` hashes its content."""

    machine: Mapping[str, Any]
    queues: tuple[Queue, ...]
    fields: Mapping[str, Field]
    instructions: tuple[InstrSpec, ...]
    dtypes: tuple[str, ...]  # names in encoding order
    dtype_bytes: Mapping[str, int]
    dtype_numpy: Mapping[str, str]
    fingerprint: str
    root: str
    queue_by_name: Mapping[str, Queue] = dc_field(default_factory=dict)
    by_name: Mapping[str, InstrSpec] = dc_field(default_factory=dict)
    by_unit: Mapping[str, tuple[InstrSpec, ...]] = dc_field(default_factory=dict)

    def param(self, key: str) -> Any:
        """A machine.toml value by dotted key, e.g. "mem.words"."""
        node: Any = self.machine
        for part in key.split("."):
            node = node[part]
        return node

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(sorted({q.unit for q in self.queues}))

    def queues_of(self, unit: str) -> tuple[Queue, ...]:
        return tuple(q for q in self.queues if q.unit == unit)
