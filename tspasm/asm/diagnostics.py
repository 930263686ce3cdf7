"""Diagnostics in the llvm-mc / rustc shape: file:line:col: error: message, source, caret, hint."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import TspError
from .source import Pos


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    col: int
    message: str
    source_line: str = ""
    hint: str = ""
    severity: str = "error"
    notes: tuple[str, ...] = field(default=())

    @staticmethod
    def at(pos: Pos | None, message: str, hint: str = "", notes: tuple[str, ...] = ()) -> "Diagnostic":
        if pos is None:
            return Diagnostic("<input>", 0, 0, message, "", hint, notes=notes)
        path, line, col = pos.resolve()
        return Diagnostic(path, line, col, message, pos.stmt.source_line(line), hint, notes=notes)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.message)

    def render(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        out = [f"{where}: {self.severity}: {self.message}"]
        if self.source_line:
            text = self.source_line.replace("\t", " ")
            out.append(f"  {text}")
            out.append("  " + " " * max(self.col - 1, 0) + "^")
        for note in self.notes:
            out.append(f"  note: {note}")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


SHOWN = 100  # diagnostics rendered in the message; all are kept in .diagnostics


class AssemblyError(TspError):
    """One or more diagnostics; all errors of an input are collected, sorted.
    `diagnostics` holds the errors; `warnings` the warnings found alongside them
    (rendered too, in source order with the errors)."""

    def __init__(self, diagnostics: list[Diagnostic], warnings: list[Diagnostic] = ()):
        self.diagnostics = sorted(set(diagnostics), key=Diagnostic.sort_key)
        self.warnings = sorted(set(warnings), key=Diagnostic.sort_key)
        n = len(self.diagnostics)
        shown = self.diagnostics[:SHOWN]
        summary = f"{n} error{'s' if n != 1 else ''}"
        if self.warnings:
            w = len(self.warnings)
            summary += f" and {w} warning{'s' if w != 1 else ''}"
            shown = sorted(shown + self.warnings, key=Diagnostic.sort_key)
        summary += " generated."
        if n > SHOWN:
            summary += f" (the first {SHOWN} are shown)"
        super().__init__("\n".join(d.render() for d in shown) + "\n" + summary)


class Collector:
    """Gathers diagnostics during a pass; raises them all at the end."""

    def __init__(self, limit: int = 1000):
        self.items: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.limit = limit

    def error(self, pos: Pos | None, message: str, hint: str = "", notes: tuple[str, ...] = ()) -> None:
        if len(self.items) < self.limit:
            self.items.append(Diagnostic.at(pos, message, hint, notes))

    def warning(self, pos: Pos | None, message: str, hint: str = "", notes: tuple[str, ...] = ()) -> None:
        """A warning does not stop the assembly; it is reported with the result."""
        if len(self.warnings) < self.limit:
            d = Diagnostic.at(pos, message, hint, notes)
            self.warnings.append(Diagnostic(d.path, d.line, d.col, d.message, d.source_line, d.hint,
                                            "warning", d.notes))

    def add(self, diag: Diagnostic) -> None:
        if len(self.items) < self.limit:
            self.items.append(diag)

    def raise_if_any(self) -> None:
        if self.items:
            raise AssemblyError(self.items, self.warnings)
