"""Custom topologies from a TOML file.

    name = "ring4"            # optional; default: the file name
    chips = 4                 # chips 0..3
    latency = 217             # optional default for every link; default isa c2c.link_latency

    [[links]]
    a = [0, 8]                # [chip, port]: port 8 of chip 0 ...
    b = [1, 0]                # ... to port 0 of chip 1
    latency = 220             # optional, this link only

Every mistake is reported as `FILE:LINE: KEY.PATH: message` (the line of the `[[links]]`
header when the links are written that way, otherwise just the key path), e.g.
`ring.toml:12: links[3].a: chip 9 does not exist (chips are 0..3)`.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ..errors import TopologyError
from ..isa import default_isa
from ..isa.model import Isa
from .model import Link, Topology, check_links

_TOP_KEYS = {"name", "chips", "latency", "links"}
_LINK_KEYS = {"a", "b", "latency"}
_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*links[ \t]*\]\]", re.M)
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_toml_text(text: str, source: str = "<topology>", isa: Isa | None = None) -> Topology:
    """Parse and validate a topology; `source` names the file in messages."""
    isa = isa or default_isa()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        where = f"{source}:{m.group(1)}:{m.group(2)}" if m else source
        raise TopologyError(f"{where}: not valid TOML: {_TOML_POS.sub('', msg)}") from None

    def fail(key: str, message: str) -> TopologyError:
        return TopologyError(f"{source}: {key}: {message}")

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(key, f"unknown key (expected {', '.join(sorted(_TOP_KEYS))})")
    if "chips" not in data:
        raise fail("chips", "missing: say how many chips the topology has")
    chips = data["chips"]
    max_chips = isa.param("system.max_chips")
    if not _int(chips) or not 1 <= chips <= max_chips:
        raise fail("chips", f"{chips!r} is not a chip count (1..{max_chips})")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise fail("name", f"{name!r} is not a name")
    default_latency = data.get("latency", isa.param("c2c.link_latency"))
    if not _int(default_latency) or default_latency < 1:
        raise fail("latency", f"{default_latency!r} is not a positive number of cycles")
    raw_links = data.get("links", [])
    if not isinstance(raw_links, list):
        raise fail("links", "expected an array of tables ([[links]])")

    headers = [text.count("\n", 0, m.start()) + 1 for m in _HEADER.finditer(text)]
    lines = headers if len(headers) == len(raw_links) else None

    def where(i: int) -> str:
        return f"{source}:{lines[i]}: links[{i}]" if lines else f"{source}: links[{i}]"

    links = []
    for i, raw in enumerate(raw_links):
        if not isinstance(raw, dict):
            raise TopologyError(f"{where(i)}: expected a table with keys a, b (and latency)")
        for key in raw:
            if key not in _LINK_KEYS:
                raise TopologyError(f"{where(i)}.{key}: unknown key (expected a, b, latency)")
        ends = []
        for side in ("a", "b"):
            if side not in raw:
                raise TopologyError(f"{where(i)}.{side}: missing: give [chip, port]")
            end = raw[side]
            if not (isinstance(end, list) and len(end) == 2 and all(_int(v) for v in end)):
                raise TopologyError(f"{where(i)}.{side}: {end!r} is not [chip, port]")
            ends.append(end)
        latency = raw.get("latency", default_latency)
        links.append(Link(ends[0][0], ends[0][1], ends[1][0], ends[1][1], latency))
    check_links(chips, links, isa, where)
    return Topology(name, chips, tuple(links), (), isa)


def load_topology(path: str | Path, isa: Isa | None = None) -> Topology:
    """Read a custom topology file; TopologyError (with the location) if it is unreadable or wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise TopologyError(f"{path}: cannot read: {reason}") from None
    return load_toml_text(text, str(path), isa)
