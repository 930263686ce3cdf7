"""Parse TSP assembly with the Lark grammar in tsp.lark.

Speed: a generated program repeats a few statement *shapes* (the text with every
name and number replaced by a placeholder) millions of times.  Each new shape is
parsed once by Lark; the resulting tree is compiled into a small Python function
that builds the same syntax tree from the statement's actual tokens.  Statements
Lark has not seen the shape of, multi-line statements and directives are parsed
by Lark directly.  `parse_text(..., memoize=False)` always uses Lark directly;
tests check both routes give the same trees.
"""
import json
import re
from typing import Callable

import lark
from lark.lexer import Token

from . import ast
from .diagnostics import Collector, Diagnostic
from .lark_frontend import lark_error, lark_parser, parse_int
from .shape_templates import MISSING, NotThisShape, SPLIT, compile_template
from .source import VALUE_TOKEN, Pos, Statement
from .tree_convert import Converter, directive

__all__ = ["Parser", "lark_parser", "parse_int"]

_COMMENT_START = re.compile(r"[;#]|//")
_STRING_OR_COMMENT = re.compile(r'("(?:\\.|[^"\\\n])*")|((?:;|//|#)[^\n]*)')
class Parser:
    """Splits files into statements and parses them; diagnostics go to a Collector."""

    def __init__(self, diags: Collector, memoize: bool = True):
        self.diags = diags
        self.memoize = memoize
        self.templates: dict[tuple, Callable | None] = {}

    def parse_text(self, text: str, path: str) -> list[ast.Node]:
        nodes: list[ast.Node] = []
        if "\r" in text:
            text = text.replace("\r\n", "\n")  # CRLF files; a lone CR stays a syntax error
        lines = text.split("\n")
        i = 0
        n = len(lines)
        templates = self.templates
        split = SPLIT.split
        memoize = self.memoize
        append = nodes.append
        while i < n:
            line = lines[i]
            lineno = i + 1
            i += 1
            if '"' in line:
                code = _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", line)
            elif ";" in line or "#" in line or "//" in line:
                code = line[:_COMMENT_START.search(line).start()]
            else:
                code = line
            if not code or code.isspace():
                continue
            if ("{" in code or "[" in code or "(" in code) and (
                    code.count("{") != code.count("}") or code.count("[") != code.count("]")
                    or code.count("(") != code.count(")")):
                depth = _depth(code)
                start = i - 1
                while depth > 0 and i < n:
                    depth += _depth(_strip_comment(lines[i]))
                    i += 1
                if i - 1 > start:
                    stmt = Statement(path, lineno, "\n".join(lines[start:i]))
                    node = self._parse_direct(stmt)
                    if node is not None:
                        nodes.append(node)
                    continue
            stmt = Statement(path, lineno, line)
            if memoize and not code.lstrip().startswith("."):
                # the shape route (see the module docstring), inlined: this loop is the hot path
                parts = split(code)
                skeleton = tuple(parts[0::2])
                build = templates.get(skeleton, MISSING)
                if build is MISSING:
                    build = templates[skeleton] = compile_template(skeleton)
                if build is not None:
                    try:
                        append(build(parts[1::2], stmt))
                        continue
                    except NotThisShape:
                        pass
            node = self._parse_direct(stmt)
            if node is not None:
                append(node)
        return nodes

    def _parse_direct(self, stmt: Statement):
        if len(stmt.text) > _BIG_DATA and stmt.text.lstrip().startswith(".data"):
            node = self._parse_big_data(stmt)
            if node is not None:
                return node
        try:
            tree = lark_parser().parse(stmt.text)
        except lark.exceptions.UnexpectedInput as exc:
            diag = lark_error(stmt, exc)
            first = stmt.text.split("\n", 1)[0]
            brace = first.find("{")
            semi = first.find(";", brace + 1) if brace >= 0 else -1
            if semi > brace >= 0 and "}" not in first[:semi] and ":" in first[semi:]:
                # `{ a ; b }`: the `;` made the rest of the line, `}` included, a comment
                diag = Diagnostic(stmt.path, stmt.line, semi + 1,
                                  "`;` starts a comment, so this bundle's `}` is commented out",
                                  first, "separate the instructions of a bundle with `|`")
            self.diags.add(diag)
            return None
        stmts = [c for c in tree.children if c is not None and not isinstance(c, Token)]
        if not stmts:
            return None
        if len(stmts) > 1:  # cannot happen for one statement's text, but never crash
            self.diags.error(Pos(stmt), "syntax error: one statement per line")
            return None
        values = VALUE_TOKEN.findall(stmt.text)
        conv = Converter(stmt.text, values, code=False)
        try:
            return directive(stmt, stmts[0], conv)
        except RecursionError:
            self.diags.error(Pos(stmt), "statement nested too deeply",
                             "split the expression or list into smaller pieces")
            return None


    def _parse_big_data(self, stmt: Statement):
        """A long `.data` list of plain decimal numbers: Lark parses the directive with the
        list elided and json reads the numbers (Lark alone needs seconds per 100k values).
        Anything unusual (hex, `inf`, comments in odd places) returns None: the normal route."""
        text = "\n".join(_strip_comment(line) for line in stmt.text.split("\n"))
        start = text.find("[")
        if start < 0 or not _PLAIN_LIST.fullmatch(text, start):
            return None
        try:
            numbers = json.loads(text[start:])
        except (ValueError, RecursionError):
            return None
        head = Statement(stmt.path, stmt.line, text[:start] + "[0]")
        node = self._parse_direct_small(head)
        if not isinstance(node, ast.Data) or not isinstance(numbers, list):
            return None
        node.stmt = stmt
        node.values = ast.NumberList(numbers)
        return node

    def _parse_direct_small(self, stmt: Statement):
        try:
            tree = lark_parser().parse(stmt.text)
        except lark.exceptions.UnexpectedInput:
            return None
        stmts = [c for c in tree.children if c is not None and not isinstance(c, Token)]
        if len(stmts) != 1:
            return None
        conv = Converter(stmt.text, VALUE_TOKEN.findall(stmt.text), code=False)
        return directive(stmt, stmts[0], conv)


_BIG_DATA = 4096  # characters
_PLAIN_LIST = re.compile(r"[\s\[\],0-9.eE+\-]*")


def _strip_comment(line: str) -> str:
    return _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", line)


_BRACKET = re.compile(r'"(?:\\.|[^"\\\n])*"|[\[\](){}]')


def _depth(code: str) -> int:
    d = 0
    for m in _BRACKET.finditer(code):
        c = m.group()
        if c in "[({":
            d += 1
        elif c in "])}":
            d -= 1
    return d
