"""Syntax tree of TSP assembly.  Every node keeps its Statement and value-token
indices, so any diagnostic can point at file:line:col.

Expressions are plain values for speed: an int literal is an `int`, a symbol is
a `str`, an operator is a tuple (op, a, b) or (op, a) for unary minus/invert.
"""
from __future__ import annotations

from .source import Pos, Statement


class Node:
    __slots__ = ("stmt",)

    def pos(self, tok: int = -1) -> Pos:
        return Pos(self.stmt, tok)


class Label(Node):
    __slots__ = ("name", "tok")

    def __init__(self, stmt: Statement, name: str, tok: int):
        self.stmt, self.name, self.tok = stmt, name, tok


class Instr(Node):
    """`QUEUE: mnemonic.suffix operand, operand -> operand`; operands are (sep, expr, tok)."""

    __slots__ = ("queue", "qtok", "opname", "optok", "operands")

    def __init__(self, stmt, queue, qtok, opname, optok, operands):
        self.stmt, self.queue, self.qtok = stmt, queue, qtok
        self.opname, self.optok, self.operands = opname, optok, operands


class Bundle(Node):
    """Instructions issued in one cycle; cycle is None or (kind, expr, tok), kind abs/rel."""

    __slots__ = ("cycle", "instrs")

    def __init__(self, stmt, cycle, instrs):
        self.stmt, self.cycle, self.instrs = stmt, cycle, instrs


class Equ(Node):
    __slots__ = ("name", "expr", "tok")

    def __init__(self, stmt, name, expr, tok):
        self.stmt, self.name, self.expr, self.tok = stmt, name, expr, tok


class Include(Node):
    __slots__ = ("path", "tok")

    def __init__(self, stmt, path, tok):
        self.stmt, self.path, self.tok = stmt, path, tok


class Chip(Node):
    __slots__ = ("expr", "tok")

    def __init__(self, stmt, expr, tok):
        self.stmt, self.expr, self.tok = stmt, expr, tok


class Data(Node):
    """`.data SLICE ADDR TYPE [bits] [values] | "file.npy"`; values is a nested list of
    (token text with sign, tok) scalars, or a str path; `bits` = raw bit patterns."""

    __slots__ = ("slice", "stok", "addr", "atok", "dtype", "dtok", "values", "vtok", "bits")

    def __init__(self, stmt, slice_, stok, addr, atok, dtype, dtok, values, vtok, bits=False):
        self.stmt, self.slice, self.stok, self.addr, self.atok = stmt, slice_, stok, addr, atok
        self.dtype, self.dtok, self.values, self.vtok, self.bits = dtype, dtok, values, vtok, bits


class NumberList:
    """`.data` values already read as numbers (nested lists of int/float) by the fast
    route for big lists; positions inside the list are not kept."""

    __slots__ = ("numbers",)

    def __init__(self, numbers: list):
        self.numbers = numbers


class Output(Node):
    """`.output [NAME =] SLICE ADDR TYPE [ROWS]`."""

    __slots__ = ("name", "slice", "stok", "addr", "atok", "dtype", "dtok", "rows", "rtok")

    def __init__(self, stmt, name, slice_, stok, addr, atok, dtype, dtok, rows, rtok):
        self.stmt, self.name, self.slice, self.stok, self.addr, self.atok = stmt, name, slice_, stok, addr, atok
        self.dtype, self.dtok, self.rows, self.rtok = dtype, dtok, rows, rtok


class Loc(Node):
    """`.loc "file" LINE COL`: the next instruction's line-table entry (written by disasm)."""

    __slots__ = ("path", "line", "col")

    def __init__(self, stmt, path, line, col):
        self.stmt, self.path, self.line, self.col = stmt, path, line, col


class Topology(Node):
    """`.topology NAME` (a built-in: single, pair, node, rack, system:R) or
    `.topology "file.toml"`; `spec` is the name or the path as written."""

    __slots__ = ("spec", "is_file", "tok")

    def __init__(self, stmt, spec, is_file, tok):
        self.stmt, self.spec, self.is_file, self.tok = stmt, spec, is_file, tok
