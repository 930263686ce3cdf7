"""Evaluate integer expressions of the assembly language against a symbol table."""
from __future__ import annotations

import difflib
from typing import Mapping


class ExprError(ValueError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "and_": lambda a, b: a & b,
    "xor": lambda a, b: a ^ b,
}
_LIMIT = 1 << 64  # keeps `1 << 100000000` from eating the machine


def evaluate(expr, symbols: Mapping[str, int]) -> int:
    try:
        return _evaluate(expr, symbols)
    except RecursionError:
        raise ExprError("expression nested too deeply") from None


def _evaluate(expr, symbols: Mapping[str, int]) -> int:
    if type(expr) is int:
        if -_LIMIT < expr < _LIMIT:
            return expr
        raise ExprError("integer literal does not fit in 64 bits")
    if type(expr) is str:
        v = symbols.get(expr)
        if v is None:
            found = difflib.get_close_matches(expr, list(symbols), n=3, cutoff=0.7)
            hint = ("did you mean " + " or ".join(f"`{f}`" for f in found) + "?") if found else \
                "define it with `.equ NAME, value` or as a label `NAME:` before a bundle"
            raise ExprError(f"undefined symbol `{expr}`", hint)
        return v
    op = expr[0]
    if op == "neg":
        return -_evaluate(expr[1], symbols)
    if op == "inv":
        return ~_evaluate(expr[1], symbols)
    a = _evaluate(expr[1], symbols)
    b = _evaluate(expr[2], symbols)
    if op in _OPS:
        r = _OPS[op](a, b)
    elif op in ("div", "mod"):
        if b == 0:
            raise ExprError("division by zero")
        r = a // b if op == "div" else a % b
    elif op in ("shl", "shr"):
        if not 0 <= b < 64:
            raise ExprError(f"shift by {b} out of range", "shift by 0..63")
        r = a << b if op == "shl" else a >> b
    else:  # pragma: no cover - the grammar has no other operators
        raise ExprError(f"unknown operator {op}")
    if abs(r) >= _LIMIT:
        raise ExprError("expression value does not fit in 64 bits")
    return r
