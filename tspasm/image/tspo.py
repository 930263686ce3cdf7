"""The .tspo program file: header, section table, sections (docs/tspo-format.md).

Every section carries a CRC-32, so truncation and corruption are caught at load
with the reason; a file built for another ISA is rejected by fingerprint.
"""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np

from ..errors import ImageError
from .validate import validate
from .program import LINE_DTYPE, DataSegment, OutputRegion, Program, Symbol

MAGIC = b"TSPO\x00\r\n\x1a"
VERSION = 1
_HEADER = struct.Struct("<8sHHI32sI12x")  # magic, version, flags, nsections, fingerprint, table crc
_ENTRY = struct.Struct("<4sIQQI4x")  # kind, chip, offset, size, crc
_CODE_HEAD = struct.Struct("<IIII")  # rows, queues, slot bytes, reserved
MAX_SECTIONS = 1 << 20


def _json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _pieces(program: Program) -> list:
    """The image as a list of byte buffers, in file order.  The code rows stay numpy
    memory (a 1M-line program has ~300 MB of them): no copy is made until the caller
    joins the pieces or writes them out."""
    sections: list[tuple[bytes, int, list]] = []
    for chip in sorted(program.code):
        arr = np.ascontiguousarray(program.code[chip], np.uint8)
        rows, queues, width = arr.shape
        sections.append((b"CODE", chip, [_CODE_HEAD.pack(rows, queues, width, 0), memoryview(arr).cast("B")]))
    meta = [{"chip": d.chip, "slot": d.slot, "addr": d.addr, "dtype": d.dtype, "shape": list(d.shape),
             "nbytes": len(d.data)} for d in program.data]
    sections.append((b"DMET", 0, [_json(meta)]))
    sections.append((b"DPAY", 0, [d.data for d in program.data]))
    sections.append((b"OUTP", 0, [_json([o.__dict__ for o in program.outputs])]))
    # explicit dicts: `s.__dict__` would first have to build one per object (a label per tile:
    # 125,000 of them in a 1M-line program, 0.6 s) - the same keys, and sort_keys orders them
    sections.append((b"SYMB", 0, [_json([{"name": s.name, "value": s.value, "kind": s.kind, "chip": s.chip}
                                         for s in program.symbols])]))
    sections.append((b"FILE", 0, [_json(program.files)]))
    sections.append((b"LINE", 0, [memoryview(np.ascontiguousarray(program.lines, LINE_DTYPE)).cast("B")]))
    if program.topology is not None:
        from .topo_section import to_record

        sections.append((b"TOPO", 0, [_json(to_record(program.topology))]))
    offset = _HEADER.size + _ENTRY.size * len(sections)
    table = []
    for kind, chip, parts in sections:
        size = crc = 0
        for part in parts:
            size += len(part)
            crc = zlib.crc32(part, crc)
        table.append(_ENTRY.pack(kind, chip, offset, size, crc))
        offset += size
    table_bytes = b"".join(table)
    fp = bytes.fromhex(program.isa_fingerprint)
    header = _HEADER.pack(MAGIC, VERSION, 0, len(sections), fp, zlib.crc32(table_bytes))
    return [header, table_bytes] + [part for _, _, parts in sections for part in parts]


def write_bytes(program: Program) -> bytes:
    return b"".join(_pieces(program))


def write_file(program: Program, path: str) -> None:
    pieces = _pieces(program)
    try:
        with open(path, "wb") as fh:
            for part in pieces:
                fh.write(part)
    except OSError as exc:
        raise ImageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def read_bytes(blob: bytes, isa=None, name: str = "<image>") -> Program:
    """Parse an image; with `isa`, also require its fingerprint and validate every table against it."""
    expected_fingerprint = isa.fingerprint if isa is not None else None
    def bad(msg: str) -> ImageError:
        return ImageError(f"{name}: {msg}")

    if len(blob) < _HEADER.size:
        if not MAGIC.startswith(blob[:8]) or not blob:
            raise bad("not a .tspo program image (bad magic)")
        raise bad(f"truncated: {len(blob)} bytes, the header alone is {_HEADER.size}")
    magic, version, _flags, nsec, fp, table_crc = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise bad("not a .tspo program image (bad magic)")
    if version != VERSION:
        raise bad(f"format version {version}; this tspasm reads version {VERSION}")
    fingerprint = fp.hex()
    if expected_fingerprint is not None and fingerprint != expected_fingerprint:
        raise bad(f"built for ISA {fingerprint[:12]}…, but this toolchain's isa/ is "
                  f"{expected_fingerprint[:12]}…; reassemble the source with this tspasm")
    if nsec > MAX_SECTIONS:
        raise bad(f"section count {nsec} is not plausible (corrupt header)")
    table_end = _HEADER.size + _ENTRY.size * nsec
    if table_end > len(blob):
        raise bad(f"truncated: the section table ends at byte {table_end}, the file has {len(blob)}")
    table = blob[_HEADER.size:table_end]
    if zlib.crc32(table) != table_crc:
        raise bad("section table is corrupt (checksum mismatch)")
    sections: dict[bytes, list[tuple[int, bytes]]] = {}
    for i in range(nsec):
        kind, chip, off, size, crc = _ENTRY.unpack_from(table, i * _ENTRY.size)
        label = f"section {kind.decode('latin-1')!r}" + (f" (chip {chip})" if kind == b"CODE" else "")
        if off < table_end or off + size > len(blob):
            raise bad(f"truncated: {label} needs bytes {off}..{off + size}, the file has {len(blob)}")
        payload = blob[off:off + size]
        if zlib.crc32(payload) != crc:
            raise bad(f"{label} is corrupt (checksum mismatch)")
        sections.setdefault(kind, []).append((chip, payload))
    for need in (b"DMET", b"DPAY", b"OUTP", b"SYMB", b"FILE", b"LINE"):
        if len(sections.get(need, [])) != 1:
            raise bad(f"section {need.decode()!r} is missing or repeated")
    if len(sections.get(b"TOPO", [])) > 1:
        raise bad("section 'TOPO' is repeated")
    try:
        program = _decode(sections, fingerprint, isa)
        if isa is not None:
            validate(program, isa)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, AttributeError, OverflowError,
            RecursionError) as exc:
        raise bad(f"malformed section contents: {exc}") from None
    return program


def _int(x, what: str | None = None) -> int:
    """A JSON integer, strictly (not a bool, float or string); `what` names it in the error."""
    if type(x) is not int:
        raise ValueError(f"{what + ': ' if what else ''}expected an integer, got {x!r:.40}")
    return x


def _list(x) -> list:
    if type(x) is not list:
        raise ValueError(f"expected a list, got {type(x).__name__}")
    return x


def _str(x) -> str:
    if type(x) is not str:
        raise ValueError(f"expected a string, got {x!r:.40}")
    return x


def _one(sections, kind: bytes) -> bytes:
    return sections[kind][0][1]


def _decode(sections, fingerprint: str, isa) -> Program:
    code: dict[int, np.ndarray] = {}
    for chip, payload in sections.get(b"CODE", []):
        if len(payload) < _CODE_HEAD.size:
            raise ValueError(f"CODE section of chip {chip} is too short")
        rows, queues, width, _ = _CODE_HEAD.unpack_from(payload)
        body = payload[_CODE_HEAD.size:]
        if len(body) != rows * queues * width:
            raise ValueError(f"CODE section of chip {chip}: {len(body)} bytes for {rows}x{queues}x{width}")
        if chip in code:
            raise ValueError(f"two CODE sections for chip {chip}")
        code[chip] = np.frombuffer(body, np.uint8).reshape(rows, queues, width).copy()
    payload = _one(sections, b"DPAY")
    data = []
    offset = 0
    for m in _list(json.loads(_one(sections, b"DMET"))):
        shape = tuple(_int(x) for x in _list(m["shape"]))
        size = _int(m["nbytes"])
        if size < 0:
            raise ValueError("negative data size")
        if offset + size > len(payload):
            raise ValueError("data payload shorter than its segment table")
        data.append(DataSegment(_int(m["chip"]), _int(m["slot"]), _int(m["addr"]), _str(m["dtype"]), shape,
                                payload[offset:offset + size]))
        offset += size
    if offset != len(payload):
        raise ValueError("data payload longer than its segment table")
    outputs = [OutputRegion(_str(o["name"]), _int(o["chip"]), _int(o["slot"]), _int(o["addr"]),
                            _str(o["dtype"]), _int(o["rows"]))
               for o in _list(json.loads(_one(sections, b"OUTP")))]
    symbols = [Symbol(_str(s["name"]), _int(s["value"]), _str(s["kind"]), _int(s["chip"]))
               for s in _list(json.loads(_one(sections, b"SYMB")))]
    files = json.loads(_one(sections, b"FILE"))
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ValueError("FILE section is not a list of names")
    raw = _one(sections, b"LINE")
    if len(raw) % LINE_DTYPE.itemsize:
        raise ValueError("LINE section size is not a whole number of entries")
    lines = np.frombuffer(raw, LINE_DTYPE).copy()
    if len(lines) and int(lines["file"].max()) >= len(files):
        raise ValueError("line table names a file index past the FILE section")
    topology = None
    if b"TOPO" in sections:
        from ..isa import default_isa
        from .topo_section import from_record

        topology = from_record(json.loads(_one(sections, b"TOPO")), isa or default_isa())
    return Program(fingerprint, code, data, outputs, symbols, files, lines, topology)


def read_file(path: str, isa=None) -> Program:
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return read_bytes(blob, isa, path)
