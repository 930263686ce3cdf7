"""A Pygments lexer for TSP-1 assembly (.tsp), registered as the `tsp` lexer plugin.

Regex-only on purpose: Pygments plugins are imported by unrelated tools (pygmentize,
Sphinx), so this must not load the ISA tables.  Queue names follow the fixed
naming scheme of isa/queues.toml.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

QUEUE = (r"(?:MEM_[WE]\d+|VXM\d+|MXM\d+_[WAC]|SHF_[WE]\d+|PRM_[WE]|DST_[WE]\d+|TRN_[WE]\d+|ROT_[WE]"
         r"|C2C_[WE]\d+)")
STREAM = r"(?:SG\d+_\d+[EW]|S\d+[EW])\b"


class TspLexer(RegexLexer):
    name = "TSP-1 assembly"
    aliases = ["tsp", "tspasm"]
    filenames = ["*.tsp"]
    mimetypes = ["text/x-tsp"]

    tokens = {
        "common": [
            (r"(;|//|#).*?$", Comment.Single),
            (r"[ \t]+", Whitespace),
            (r'"(\\.|[^"\\\n])*"', String),
            (r"0[xX][0-9a-fA-F_]+|0[bB][01_]+", Number.Hex),
            (r"([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+", Number.Float),
            (r"[0-9][0-9_]*", Number.Integer),
        ],
        "root": [
            (r"\n", Whitespace),
            include("common"),
            (r"\.(equ|include|chip|data|output|loc)\b", Keyword.Declaration),
            (r"(@)(\+?)", bygroups(Operator, Operator)),
            (r"(" + QUEUE + r")(\s*)(:)", bygroups(Name.Builtin, Whitespace, Punctuation), "instruction"),
            (r"^([A-Za-z_][A-Za-z0-9_]*)(:)", bygroups(Name.Label, Punctuation)),
            (QUEUE + r"\b", Name.Builtin),
            (STREAM, Name.Variable),
            (r"\b(bits|i8|i16|i32|f16|f32)\b", Keyword.Type),
            (r"[{}\[\](),=|]", Punctuation),
            (r"->|<<|>>|[-+*/%^&~]", Operator),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r".", Text),
        ],
        # After `QUEUE:`: the mnemonic with its .suffixes, then operands until `|`, `}` or end of line.
        "instruction": [
            (r"[ \t]+", Whitespace),
            (r"([a-z_][a-z0-9_]*)((?:\.[A-Za-z0-9_]+)*)", bygroups(Keyword, Keyword.Pseudo), "operands"),
            (r"", Text, "#pop"),
        ],
        "operands": [
            (r"(?=[|}\n])", Text, "#pop:2"),
            (r"(?=;|//|#)", Text, "#pop:2"),
            include("common"),
            (STREAM, Name.Variable),
            (r"\bL\d+\b", Name.Variable.Global),
            (r"->|,", Punctuation),
            (r"[-+*/%^&~()<>]", Operator),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name.Constant),
        ],
    }
