"""The Lark side of the parser: the grammar instance, its post-lexer, integer
literals, and Lark's exceptions turned into our diagnostics (in one place)."""
from __future__ import annotations

import functools
import re

import lark

from .diagnostics import Diagnostic
from .source import Statement

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

def lark_error(stmt: Statement, exc: lark.exceptions.UnexpectedInput) -> Diagnostic:
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
