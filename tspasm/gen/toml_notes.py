"""The comments of isa/*.toml, for the generated docs.

tomllib drops comments, yet isa/ keeps its explanations there ([paper]/[ours]
tags, what a family of instructions shares).  The values always come from the
loaded Isa; only prose is read from the text, so a comment can never change
what the toolchain does.
"""
from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"^\[([\w.]+)\]\s*(#.*)?$")
_KEY = re.compile(r"^(\w+)\s*=\s*[^#]*?(?:#\s?(.*))?$")
_TAG = re.compile(r"^\[(paper|ours)\]\s*")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []  # e.g. an installed package without the checkout: docs lose only prose


def leading_comment(path: Path) -> list[str]:
    """The comment block at the top of a TOML file, '#' removed, indentation kept."""
    out = []
    for line in _lines(path):
        if not line.startswith("#"):
            break
        out.append(line[2:] if line.startswith("# ") else line[1:])
    return out


def key_notes(path: Path) -> dict[str, tuple[str, str]]:
    """"section.key" -> (tag, note) from trailing comments such as `# [paper] ...`.

    An indented comment-only line right under a commented key continues its note.
    """
    notes: dict[str, tuple[str, str]] = {}
    section = ""
    last: str | None = None
    for line in _lines(path):
        stripped = line.strip()
        m = _SECTION.match(stripped)
        if m:
            section, last = m.group(1), None
            continue
        if stripped.startswith("#"):
            if last is not None and line[:1].isspace():
                tag, note = notes[last]
                notes[last] = (tag, f"{note} {stripped.lstrip('#').strip()}".strip())
            else:
                last = None
            continue
        m = _KEY.match(stripped)
        if not m:
            last = None
            continue
        key = f"{section}.{m.group(1)}" if section else m.group(1)
        comment = (m.group(2) or "").strip()
        tag_match = _TAG.match(comment)
        tag = f"[{tag_match.group(1)}]" if tag_match else ""
        notes[key] = (tag, comment[tag_match.end():] if tag_match else comment)
        last = key if comment else None
    return notes


def markdown_block(lines: list[str]) -> list[str]:
    """Comment lines as Markdown: prose joined into paragraphs, indented lines as a text block."""
    out: list[str] = []
    para: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if para:
            out.extend([" ".join(para), ""])
            para.clear()
        if block:
            out.extend(["```text", *block, "```", ""])
            block.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif line.startswith((" ", "\t")):
            if para:
                flush()
            block.append(line.rstrip())
        else:
            if block:
                flush()
            para.append(line.strip())
    flush()
    return out
