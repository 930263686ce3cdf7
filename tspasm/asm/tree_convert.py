"""Lark tree -> syntax tree (tspasm/asm/ast.py).

In *code* mode the converter emits Python source that builds the node from `v`
(the statement's token texts) and `S` (its Statement); shape_templates.py
compiles that source once per statement shape."""
from __future__ import annotations

import re

from lark.lexer import Token

from . import ast
from .lark_frontend import parse_int
from .source import VALUE_TOKEN, Statement

def _cached_atom(k: int) -> str:
    return f"(_ATOMS[_x] if (_x := v[{k}]) in _ATOMS else _atom(_x))"


_BINOPS = {"add", "sub", "mul", "div", "mod", "shl", "shr", "and_", "xor"}


class Converter:
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


def _data_values(conv: Converter, t) -> list:
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


def directive(stmt: Statement, t, conv: Converter):
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
    if kind == "topology_file":
        return ast.Topology(stmt, _unquote(ch[0]), True, conv.tok(ch[0]))
    if kind == "topology":
        name, number = ch
        spec = str(name) if number is None else f"{name}:{number}"
        return ast.Topology(stmt, spec, False, conv.tok(name))
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
