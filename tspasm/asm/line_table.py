"""The line table: (chip, slot, row) -> file:line:col for every placed instruction."""
from __future__ import annotations

import numpy as np

from ..image.program import LINE_DTYPE
from ..isa.model import Isa
from .schedule import Placed


def _queue_column(p: Placed, qname: str) -> tuple[str, int, int]:
    """file:line:col of the queue name that issues p (fast path: a str.find on one line)."""
    stmt = p.stmt
    text = stmt.text
    at = text.find(qname)
    if at >= 0 and "\n" not in text and text.find(qname, at + 1) < 0:
        end = at + len(qname)
        if (at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_")) and \
                (end == len(text) or not (text[end].isalnum() or text[end] == "_")):
            return stmt.path, stmt.line, at + 1
    return p.pos.resolve()


def line_table(placed_sorted: list[Placed], isa: Isa) -> tuple[list[str], np.ndarray]:
    """Line table rows for placed instructions already in (chip, slot, row) order."""
    files: dict[str, int] = {}
    names = [q.name for q in isa.queues]
    entries = []
    append = entries.append
    for p in placed_sorted:
        if p.row < 0:
            continue
        path, ln, cl = p.loc if p.loc is not None else _queue_column(p, names[p.slot])
        idx = files.get(path)
        if idx is None:
            idx = files[path] = len(files)
        append((p.chip, p.slot, p.row, idx, ln, cl))
    return list(files), np.array(entries, LINE_DTYPE) if entries else np.zeros(0, LINE_DTYPE)
