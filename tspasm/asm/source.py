"""Source text and positions.

Positions are kept cheap while assembling (a statement and a token index) and
turned into file:line:col only when something needs them: a diagnostic, the
line table, a listing.
"""
from __future__ import annotations

import re

# The value tokens of a statement, in the order the lexer sees them (mirrors the
# terminals STRING, FLOAT, INT and NAME/OPNAME of tsp.lark, in their priority order).
VALUE_TOKEN = re.compile(
    r'"(?:\\.|[^"\\\n])*"'
    r"|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
    r"|0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*"
    r"|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
)


class Statement:
    """One statement of a source file: a line, or several lines of a bundle or list."""

    __slots__ = ("path", "line", "text", "_cols")

    def __init__(self, path: str, line: int, text: str):
        self.path = path
        self.line = line
        self.text = text
        self._cols: list[int] | None = None  # value-token offsets, computed on demand

    def token_position(self, k: int) -> tuple[int, int]:
        """(line, col) of value token k (1-based), or of the statement start if k < 0."""
        text = self.text
        if k < 0:
            return self.line, len(text) - len(text.lstrip(" \t")) + 1
        starts = self._cols
        if starts is None:
            starts = self._cols = [m.start() for m in VALUE_TOKEN.finditer(text)]
        if k >= len(starts):
            return self.token_position(-1)
        start = starts[k]
        if "\n" not in text:
            return self.line, start + 1
        return self.line + text.count("\n", 0, start), start - text.rfind("\n", 0, start)

    def source_line(self, line: int) -> str:
        lines = self.text.split("\n")
        idx = line - self.line
        return lines[idx] if 0 <= idx < len(lines) else ""


class Pos:
    """A position: statement + value-token index."""

    __slots__ = ("stmt", "tok")

    def __init__(self, stmt: Statement, tok: int = -1):
        self.stmt = stmt
        self.tok = tok

    def resolve(self) -> tuple[str, int, int]:
        line, col = self.stmt.token_position(self.tok)
        return self.stmt.path, line, col

    def __repr__(self) -> str:
        path, line, col = self.resolve()
        return f"{path}:{line}:{col}"
