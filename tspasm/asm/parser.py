"""Parse TSP assembly with the Lark grammar in tsp.lark.

Speed: a generated program repeats a few statement *shapes* (the text with every
name and number replaced by a placeholder) millions of times.  Each new shape is
parsed once by Lark; the resulting tree is compiled into a small Python function
that builds the same syntax tree from the statement's actual tokens.  Statements
Lark has not seen the shape of, multi-line statements and directives are parsed
by Lark directly.  `parse_text(..., memoize=False)` always uses Lark directly;
tests check both routes give the same trees.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Callable

import lark
from lark.lexer import Token

from . import ast
from .diagnostics import Collector, Diagnostic
from .source import VALUE_TOKEN, Pos, Statement

_COMMENT_START = re.compile(r"[;#]|//")
_STRING_OR_COMMENT = re.compile(r'("(?:\\.|[^"\\\n])*")|((?:;|//|#)[^\n]*)')

_TERMINAL_NAMES = {
    "NAME": "a name", "OPNAME": "a mnemonic", "INT": "an integer", "FLOAT": "a number",
    "STRING": 'a "string"', "_NL": "end of line", "BAR": "'|'", "SEP": "',' or '->'",
    "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'", "LPAR": "'('",
    "RPAR": "')'", "COMMA": "','", "COLON": "':'", "AT": "'@'", "EQUAL": "'='",
    "PLUS": "'+'", "MINUS": "'-'", "TILDE": "'~'", "DOT": "'.'", "$END": "end of statement",
}


class _DropNewlinesInBrackets(lark.lark.PostLex):
    """Newlines inside [...] and (...) continue the statement (long .data lists)."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for tok in stream:
            if tok.type in ("LSQB", "LPAR"):
                depth += 1
            elif tok.type in ("RSQB", "RPAR"):
                depth = max(depth - 1, 0)
            elif tok.type == "_NL" and depth:
                continue
            yield tok


@functools.lru_cache(maxsize=1)
def lark_parser() -> lark.Lark:
    return lark.Lark.open(
        "tsp.lark", rel_to=__file__, parser="lalr", lexer="contextual",
        maybe_placeholders=True, postlex=_DropNewlinesInBrackets(),
    )


def parse_int(text: str) -> int:
    """INT token -> int: 0x.., 0b.., decimal (leading zeros allowed), '_' separators."""
    t = text.replace("_", "")
    if len(t) > 1 and t[0] == "0" and t[1] in "xXbB":
        return int(t, 0)
    if len(t) <= 1000:
        return int(t, 10)
    if not t.isdigit():
        raise ValueError(f"invalid literal {text[:20]!r}")
    value = 0  # past Python's 4300-digit int() limit: exact, in chunks
    for i in range(0, len(t), 1000):
        chunk = t[i:i + 1000]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


# ---------------------------------------------------------------------------
# Lark tree -> syntax tree.  `leaf` turns a token into (value-or-code, token index).

_BINOPS = {"add", "sub", "mul", "div", "mod", "shl", "shr", "and_", "xor"}


class _Converter:
    """Converts a Lark statement tree.  In code mode it emits Python source that
    builds the node from `v` (token texts) and `S` (the Statement)."""

    def __init__(self, text: str, values: list[str] | None, code: bool):
        self.code = code
        self.tokmap = {m.start(): i for i, m in enumerate(VALUE_TOKEN.finditer(text))}
        self.values = values

    def tok(self, token: Token) -> int:
        return self.tokmap.get(token.start_pos, -1)

    def text(self, token: Token, check: str = "_name") -> str:
        k = self.tok(token)
        if self.code:
            cache = "_NAMES" if check == "_name" else "_OPNAMES"
            return f"(_x if (_x := v[{k}]) in {cache} else {check}(_x))"
        return self.values[k] if self.values is not None and k >= 0 else str(token)

    def expr(self, t) -> tuple[str, int]:
        """(expression value or code, first token index)."""
        if isinstance(t, Token):
            raise ValueError(f"unexpected token {t!r}")
        kind = t.data
        if kind == "int_":
            k = self.tok(t.children[0])
            return (_cached_atom(k) if self.code else parse_int(self.text(t.children[0]))), k
        if kind == "name":
            k = self.tok(t.children[0])
            return (_cached_atom(k) if self.code else self.text(t.children[0])), k
        if kind in ("neg", "inv"):
            a, k = self.expr(t.children[0])
            return (f"({kind!r}, {a})" if self.code else (kind, a)), k
        if kind in _BINOPS:
            a, k = self.expr(t.children[0])
            b, _ = self.expr(t.children[1])
            return (f"({kind!r}, {a}, {b})" if self.code else (kind, a, b)), k
        raise ValueError(f"unexpected tree {kind}")

    def build(self, cls: str, *args) -> str | object:
        if self.code:
            return f"{cls}(S, {', '.join(str(a) for a in args)})"
        return (cls, args)

    def statement(self, t):
        kind = t.data
        if kind == "label":
            tk = t.children[0]
            return self.build("Label", self.text(tk), self.tok(tk))
        if kind == "bundle":
            return self.bundle(t)
        raise ValueError(kind)

    def bundle(self, t):
        cycle = "None" if self.code else None
        instrs = []
        for child in t.children:
            if isinstance(child, Token) or child is None:
                continue
            if child.data in ("abs_cycle", "rel_cycle"):
                e, k = self.expr(child.children[0])
                kind = "abs" if child.data == "abs_cycle" else "rel"
                cycle = f"({kind!r}, {e}, {k})" if self.code else (kind, e, k)
            elif child.data == "instr":
                instrs.append(self.instr(child))
        if self.code:
            return f"Bundle(S, {cycle}, [{', '.join(instrs)}])"
        return ("Bundle", (cycle, instrs))

    def instr(self, t):
        q, op = t.children[0], t.children[1]
        operands = t.children[2] if len(t.children) > 2 else None
        ops = []
        if operands is not None:
            sep = None
            for child in operands.children:
                if isinstance(child, Token) and child.type == "SEP":
                    sep = str(child)
                    continue
                e, k = self.expr(child)
                ops.append(f"({sep!r}, {e}, {k})" if self.code else (sep, e, k))
        if self.code:
            return (f"Instr(S, {self.text(q)}, {self.tok(q)}, {self.text(op, '_opname')}, {self.tok(op)}, "
                    f"({''.join(o + ', ' for o in ops)}))")
        return ("Instr", (self.text(q), self.tok(q), self.text(op), self.tok(op), tuple(ops)))


def _instantiate(stmt: Statement, spec):
    """Turn a direct-mode converter result into nodes."""
    cls, args = spec
    if cls == "Bundle":
        cycle, instrs = args
        return ast.Bundle(stmt, cycle, [ast.Instr(stmt, *i[1]) for i in instrs])
    return getattr(ast, cls)(stmt, *args)


def _data_values(conv: _Converter, t) -> list:
    out = []
    for item in t.children:
        if item is None:
            continue
        if item.data == "list":
            out.append(_data_values(conv, item))
        else:
            tk = item.children[0]
            sign = "-" if item.data == "neg_num" else ""
            out.append((sign + conv.text(tk), conv.tok(tk)))
    return out


def _unquote(token: Token) -> str:
    s = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", s)


def _directive(stmt: Statement, t, conv: _Converter):
    kind = t.data
    ch = t.children
    if kind == "equ":
        e, k = conv.expr(ch[1])
        return ast.Equ(stmt, conv.text(ch[0]), e, conv.tok(ch[0]))
    if kind == "include":
        return ast.Include(stmt, _unquote(ch[0]), conv.tok(ch[0]))
    if kind == "chip":
        e, k = conv.expr(ch[0])
        return ast.Chip(stmt, e, k)
    if kind == "loc":
        return ast.Loc(stmt, _unquote(ch[0]), parse_int(str(ch[1])), parse_int(str(ch[2])))
    if kind == "data":
        slice_tok, addr_t, dtype_tok, bits, src = ch
        addr, ak = conv.expr(addr_t)
        if isinstance(src, Token):
            values, vtok = _unquote(src), conv.tok(src)
        else:
            values, vtok = _data_values(conv, src), ak
        return ast.Data(stmt, str(slice_tok), conv.tok(slice_tok), addr, ak, str(dtype_tok),
                        conv.tok(dtype_tok), values, vtok, bits is not None)
    if kind == "output":
        name_tok, slice_tok, addr_t, dtype_tok, rows_t = ch
        addr, ak = conv.expr(addr_t)
        rows, rk = conv.expr(rows_t) if rows_t is not None else (None, -1)
        return ast.Output(stmt, str(name_tok) if name_tok is not None else None, str(slice_tok),
                          conv.tok(slice_tok), addr, ak, str(dtype_tok), conv.tok(dtype_tok), rows, rk)
    return _instantiate(stmt, conv.statement(t))


# ---------------------------------------------------------------------------

def _lark_error(stmt: Statement, exc: lark.exceptions.UnexpectedInput) -> Diagnostic:
    line = stmt.line + max(getattr(exc, "line", 1), 1) - 1
    col = max(getattr(exc, "column", 1), 1)
    src = stmt.source_line(line)
    hint = ""
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        ch = src[col - 1] if 0 < col <= len(src) else "?"
        msg = f"unexpected character {ch!r}"
        stripped = src.strip()
        if ch == "." and re.match(r"[A-Za-z_]\w*\.", stripped) and ":" not in stripped.split(".")[0]:
            hint = "an instruction names its queue first, e.g. `VXM0: add.i8 S1E, S2E -> S3E`"
    elif isinstance(exc, lark.exceptions.UnexpectedToken):
        tok = exc.token
        what = "end of line" if tok.type in ("_NL", "$END") else repr(str(tok))
        msg = f"unexpected {what}"
        expected = sorted({_TERMINAL_NAMES.get(e, repr(e)) for e in exc.expected
                           if not e.startswith("__")})
        if expected:
            hint = "expected " + ", ".join(expected[:8])
        if tok.type in ("_NL", "$END"):
            col = len(src.rstrip()) + 1
    else:
        msg = "unexpected end of statement"
    return Diagnostic(stmt.path, line, col, f"syntax error: {msg}", src, hint)


class _NotThisShape(Exception):
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
        raise _NotThisShape
    if len(_NAMES) < _CACHE_LIMIT:
        _NAMES.add(tok)
    return tok


def _opname(tok: str) -> str:
    c = tok[0]
    if not (c.isalpha() or c == "_"):
        raise _NotThisShape
    if len(_OPNAMES) < _CACHE_LIMIT:
        _OPNAMES.add(tok)
    return tok


def _atom(tok: str):
    c = tok[0]
    if c.isdigit():
        try:
            value = parse_int(tok)
        except ValueError:
            raise _NotThisShape from None
    elif c == '"' or "." in tok:
        raise _NotThisShape
    else:
        value = tok
    if len(_ATOMS) < _CACHE_LIMIT:
        _ATOMS[tok] = value
    return value


def _cached_atom(k: int) -> str:
    return f"(_ATOMS[_x] if (_x := v[{k}]) in _ATOMS else _atom(_x))"


def _compile_template(skeleton: tuple) -> Callable | None:
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
    conv = _Converter(shape, None, code=True)
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


_SPLIT = re.compile("(" + VALUE_TOKEN.pattern + ")")
_MISSING = object()


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
        split = _SPLIT.split
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
                build = templates.get(skeleton, _MISSING)
                if build is _MISSING:
                    build = templates[skeleton] = _compile_template(skeleton)
                if build is not None:
                    try:
                        append(build(parts[1::2], stmt))
                        continue
                    except _NotThisShape:
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
            diag = _lark_error(stmt, exc)
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
        conv = _Converter(stmt.text, values, code=False)
        try:
            return _directive(stmt, stmts[0], conv)
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
        conv = _Converter(stmt.text, VALUE_TOKEN.findall(stmt.text), code=False)
        return _directive(stmt, stmts[0], conv)


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
