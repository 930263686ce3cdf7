"""Parsing of debugger operands ([chip:]NAME, Sn(E|W)@POS[/type], x/FMT) and value formatting.

Kept apart from session.py so the grammar of operands is in one place and
formatting can be tested without a machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

TYPES = ("i8", "i16", "i32", "f16", "f32", "x")
_NUMPY = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "f16": np.float16, "f32": np.float32,
          "x": np.uint8}
_STREAM = re.compile(r"^(?:(\d+):)?S(\d+)([EW])@(\d+)(?:/(\w+))?$", re.IGNORECASE)
_XFMT = re.compile(r"^x(?:/(\d*)(i8|i16|i32|f16|f32|x)?)?$")
LANES_PER_LINE = 16


class DebugError(Exception):
    """A user mistake in a debugger command: printed as one line, never a traceback."""


def parse_int(text: str, what: str) -> int:
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        raise DebugError(f"{what} must be a number, not {text!r}") from None


def split_chip(text: str, default: int) -> tuple[int, str]:
    """'1:MEM_W2' -> (1, 'MEM_W2'); 'MEM_W2' -> (default, 'MEM_W2')."""
    head, sep, rest = text.partition(":")
    if sep and head.isdigit():
        return int(head), rest
    return default, text


def check_type(name: str) -> str:
    if name not in TYPES:
        raise DebugError(f"unknown type {name!r}; types are {' '.join(TYPES)}")
    return name


@dataclass(frozen=True)
class StreamRef:
    chip: int
    number: int
    direction: str  # "E" or "W"
    pos: int
    type: str

    @property
    def name(self) -> str:
        return f"S{self.number}{self.direction}"

    def __str__(self) -> str:
        return f"{self.chip}:{self.name}@{self.pos}"


def parse_stream(text: str, default_chip: int, default_type: str = "i8") -> StreamRef:
    m = _STREAM.match(text)
    if not m:
        raise DebugError(f"{text!r} is not a stream at a position, like S3E@24 or 0:S3E@24/i16")
    chip = int(m.group(1)) if m.group(1) else default_chip
    number, pos = int(m.group(2)), int(m.group(4))
    if number > 31:
        raise DebugError(f"there are 32 streams per direction (S0..S31), not S{number}")
    return StreamRef(chip, number, m.group(3).upper(), pos, check_type(m.group(5) or default_type))


def parse_xfmt(word: str) -> tuple[int, str]:
    """'x/4i32' -> (4, 'i32'); 'x' -> (1, 'x')."""
    m = _XFMT.match(word)
    if not m:
        raise DebugError(f"bad format {word!r}; use x/<n><type> with type one of {' '.join(TYPES)}")
    n = int(m.group(1)) if m.group(1) else 1
    if n < 1:
        raise DebugError("x/ needs a count of at least 1")
    return n, m.group(2) or "x"


def view(raw: np.ndarray, type_: str) -> np.ndarray:
    """Bytes laid out as planes (rows, lanes * itemsize, plane-interleaved) viewed as type_."""
    return np.ascontiguousarray(raw).view(_NUMPY[type_])


def stream_value(planes: list[np.ndarray], type_: str) -> np.ndarray:
    """One 320-byte plane per stream of the group -> 320 elements (byte j of every lane on plane j)."""
    stacked = np.stack([p.astype(np.uint8) for p in planes], axis=-1)  # (lanes, nbytes)
    return stacked.reshape(-1).view(_NUMPY[type_])


def _cell(v, type_: str) -> str:
    if type_ == "x":
        return f"{int(v):02x}"
    if type_.startswith("f"):
        return f"{float(v):g}"
    return str(int(v))


def short(values: np.ndarray | None, type_: str, n: int = 8) -> str:
    """The first n lanes on one line; '-' for nothing on a stream."""
    if values is None:
        return "-"
    cells = " ".join(_cell(v, type_) for v in values[:n])
    return cells + (" ..." if len(values) > n else "")


def lanes(values: np.ndarray, type_: str, indent: str = "  ") -> str:
    """Every lane up to the last non-zero one, LANES_PER_LINE per line with the first lane's index."""
    nz = np.flatnonzero(values)
    end = int(nz[-1]) + 1 if len(nz) else 1
    end = min(len(values), -(-end // 8) * 8)  # round up to whole groups of 8 lanes for readability
    cells = [_cell(v, type_) for v in values[:end]]
    width = max(len(c) for c in cells)
    out = []
    for start in range(0, end, LANES_PER_LINE):
        row = " ".join(c.rjust(width) for c in cells[start:start + LANES_PER_LINE])
        out.append(f"{indent}[{start:03d}] {row}")
    if end < len(values):
        out.append(f"{indent}(lanes {end}..{len(values) - 1} are 0)")
    return "\n".join(out)
