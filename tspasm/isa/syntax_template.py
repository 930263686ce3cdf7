"""Parse an instruction's syntax template, e.g. "add.{dtype}[.{sat}] {a}, {b} -> {dst}".

The template is the single description of an instruction's assembly form: the
binder parses against it and the printer prints from it.
"""
from __future__ import annotations

import re

from .model import OperandItem, SuffixItem

_SUFFIX = re.compile(r"(\[\.\{(\w+)\}\])|(\.\{(\w+)\})")
_OPERAND = re.compile(r"\s*(\[)?\s*(,|->)?\s*\{(\w+)\}\s*")


class TemplateError(ValueError):
    pass


def parse_template(syntax: str) -> tuple[str, tuple[SuffixItem, ...], tuple[OperandItem, ...]]:
    """Split a template into mnemonic, suffix items and operand items."""
    head, _, tail = syntax.strip().partition(" ")
    base, dot, rest = head.partition(".")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", base):
        raise TemplateError(f"bad mnemonic {base!r} in syntax {syntax!r}")
    suffixes: list[SuffixItem] = []
    rest = dot + rest
    pos = 0
    while pos < len(rest):
        m = _SUFFIX.match(rest, pos)
        if not m:
            raise TemplateError(f"cannot read suffix {rest[pos:]!r} in syntax {syntax!r}")
        if m.group(2):
            suffixes.append(SuffixItem(m.group(2), True))
        else:
            suffixes.append(SuffixItem(m.group(4), False))
        pos = m.end()
    operands: list[OperandItem] = []
    text = tail.strip()
    # Trailing optional group "[, {x}, {y}]": strip the closing bracket, mark the rest.
    optional_from = None
    if "[" in text:
        start = text.index("[")
        if not text.endswith("]") or text.count("[") != 1:
            raise TemplateError(f"only one trailing [optional] group is allowed: {syntax!r}")
        optional_from = start
        text = text[:start] + " " + text[start + 1:-1]
    pos = 0
    while pos < len(text):
        m = _OPERAND.match(text, pos)
        if not m:
            raise TemplateError(f"cannot read operands {text[pos:]!r} in syntax {syntax!r}")
        sep = m.group(2)
        if (sep is None) != (not operands):
            raise TemplateError(f"operands must be separated by ',' or '->': {syntax!r}")
        optional = optional_from is not None and m.start(3) > optional_from
        operands.append(OperandItem(m.group(3), sep, optional))
        pos = m.end()
    return base, tuple(suffixes), tuple(operands)
