"""Statement shapes compiled once into builders (see the parser's docstring)."""
from __future__ import annotations

import re
from typing import Callable

import lark
from lark.lexer import Token

from . import ast
from .lark_frontend import lark_parser, parse_int
from .source import VALUE_TOKEN
from .tree_convert import Converter

class NotThisShape(Exception):
    """A statement's tokens do not fit the template of its skeleton (e.g. a number
    where the grammar wants a name); Lark parses it directly instead."""


# Tokens already checked, so repeated names and numbers cost one dict lookup.
_CACHE_LIMIT = 1 << 20
_NAMES: set[str] = set()
_OPNAMES: set[str] = set()
_ATOMS: dict[str, object] = {}


def _name(tok: str) -> str:
    c = tok[0]
    if not (c.isalpha() or c == "_") or "." in tok:
        raise NotThisShape
    if len(_NAMES) < _CACHE_LIMIT:
        _NAMES.add(tok)
    return tok


def _opname(tok: str) -> str:
    c = tok[0]
    if not (c.isalpha() or c == "_"):
        raise NotThisShape
    if len(_OPNAMES) < _CACHE_LIMIT:
        _OPNAMES.add(tok)
    return tok


def _atom(tok: str):
    c = tok[0]
    if c.isdigit():
        try:
            value = parse_int(tok)
        except ValueError:
            raise NotThisShape from None
    elif c == '"' or "." in tok:
        raise NotThisShape
    else:
        value = tok
    if len(_ATOMS) < _CACHE_LIMIT:
        _ATOMS[tok] = value
    return value


def compile_template(skeleton: tuple) -> Callable | None:
    """Parse a statement skeleton once (every value token as `x`) and compile a
    builder for it; None if it is not a bundle or label."""
    shape = " x ".join(skeleton)
    try:
        tree = lark_parser().parse(shape)
    except lark.exceptions.LarkError:
        return None
    stmts = [c for c in tree.children if c is not None and not isinstance(c, Token)]
    if len(stmts) != 1 or stmts[0].data not in ("bundle", "label"):
        return None
    conv = Converter(shape, None, code=True)
    try:
        code = conv.statement(stmts[0])
    except RecursionError:
        return None  # the direct route reports "nested too deeply"
    namespace = {"Bundle": ast.Bundle, "Instr": ast.Instr, "Label": ast.Label,
                 "_atom": _atom, "_name": _name, "_opname": _opname, "_ATOMS": _ATOMS,
                 "_NAMES": _NAMES, "_OPNAMES": _OPNAMES}
    try:
        return eval(f"lambda v, S: {code}", namespace)  # noqa: S307 - code built from our own tree
    except (RecursionError, MemoryError, SyntaxError):
        return None  # absurdly deep expressions: the direct route reports them


SPLIT = re.compile("(" + VALUE_TOKEN.pattern + ")")
MISSING = object()
