"""The .tspo image file: write/read round trip and every way a file can be bad.

A damaged file must be refused with ImageError (which names the reason), never
another exception, and never be loaded as a different program.  The only bytes
no checksum covers are the header's reserved ones (the flags word and the
trailing padding); changing those may leave the program unchanged, nothing else.
"""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest

from sample_sources import SMALL_PROGRAM
from tspasm import ImageError, assemble_text, default_isa, load_isa
from tspasm.image import read_bytes, read_file, write_bytes, write_file
from tspasm.image.tspo import MAGIC, VERSION

ISA = default_isa()

# The layout, written out independently of the writer (checked against it below).
HEADER = struct.Struct("<8sHHI32sI12x")  # magic, version, flags, nsections, fingerprint, table crc
ENTRY = struct.Struct("<4sIQQI4x")  # kind, chip, offset, size, crc
FLAGS = range(10, 12)
HEADER_PADDING = range(52, 64)
RESERVED = set(FLAGS) | set(HEADER_PADDING)

SOURCE = SMALL_PROGRAM + """\
.chip 1
@1 VXM3: mov.f32 S4W -> S8W
.output second = MEM_W8 4 i32 2
"""


@pytest.fixture(scope="module")
def program():
    return assemble_text(SOURCE, "small.tsp").program


@pytest.fixture(scope="module")
def blob(program):
    return write_bytes(program)


def same_program(a, b) -> bool:
    return (a.isa_fingerprint == b.isa_fingerprint
            and sorted(a.code) == sorted(b.code)
            and all(np.array_equal(a.code[c], b.code[c]) and a.code[c].dtype == b.code[c].dtype
                    for c in a.code)
            and a.data == b.data and a.outputs == b.outputs and a.symbols == b.symbols
            and a.files == b.files and a.lines.dtype == b.lines.dtype
            and np.array_equal(a.lines, b.lines))


def split(blob: bytes):
    """(version, flags, fingerprint bytes, [(kind, chip, payload)])."""
    magic, version, flags, n, fp, _ = HEADER.unpack_from(blob)
    assert magic == MAGIC
    out = []
    for i in range(n):
        kind, chip, off, size, _ = ENTRY.unpack_from(blob, HEADER.size + i * ENTRY.size)
        out.append((kind, chip, blob[off:off + size]))
    return version, flags, fp, out


def build(sections, version=VERSION, flags=0, fp=None) -> bytes:
    """An image with correct checksums around whatever sections we give it."""
    fp = fp if fp is not None else bytes.fromhex(ISA.fingerprint)
    offset = HEADER.size + ENTRY.size * len(sections)
    table = b""
    for kind, chip, payload in sections:
        table += ENTRY.pack(kind, chip, offset, len(payload), zlib.crc32(payload))
        offset += len(payload)
    head = HEADER.pack(MAGIC, version, flags, len(sections), fp, zlib.crc32(table))
    return head + table + b"".join(p for _, _, p in sections)


def replace_section(blob: bytes, kind: bytes, payload: bytes, chip: int | None = None) -> bytes:
    version, flags, fp, secs = split(blob)
    secs = [(k, c, payload if k == kind and (chip is None or c == chip) else p) for k, c, p in secs]
    return build(secs, version, flags, fp)


def load_error(blob: bytes, isa=ISA) -> str:
    with pytest.raises(ImageError) as info:
        read_bytes(blob, isa, "img.tspo")
    msg = str(info.value)
    assert msg.startswith("img.tspo: ")
    return msg


# ---- round trip ----------------------------------------------------------------------------

def test_layout_helpers_match_the_writer(blob):
    assert build(split(blob)[3]) == blob


def test_write_read_roundtrip(program, blob):
    for isa in (None, ISA):
        again = read_bytes(blob, isa)
        assert same_program(program, again)
        assert write_bytes(again) == blob


def test_write_read_file_roundtrip(program, tmp_path):
    path = tmp_path / "p.tspo"
    write_file(program, str(path))
    assert path.read_bytes() == write_bytes(program)
    assert same_program(read_file(str(path), ISA), program)


def test_image_contents(program, blob):
    _, _, fp, secs = split(blob)
    assert fp.hex() == ISA.fingerprint
    kinds = [(k, c) for k, c, _ in secs]
    assert kinds[:2] == [(b"CODE", 0), (b"CODE", 1)]
    assert sorted(k for k, _ in kinds[2:]) == sorted([b"DMET", b"DPAY", b"OUTP", b"SYMB", b"FILE", b"LINE"])
    loaded = read_bytes(blob, ISA)
    assert sorted(loaded.code) == [0, 1]
    assert loaded.code[0].dtype == np.uint8
    assert [(d.dtype, d.shape) for d in loaded.data] == [("i8", (3,)), ("f16", (2, 2))]
    assert np.frombuffer(loaded.data[1].data, "<f2").tolist() == [0.5, -1.0, 2.0, float("inf")]
    assert {o.name for o in loaded.outputs} == {"out", "second"}
    assert {(s.name, s.kind) for s in loaded.symbols} == {("N", "equ"), ("start", "label")}
    assert loaded.files == ["small.tsp"]


def test_empty_program_roundtrips():
    empty = assemble_text("; nothing\n").program
    assert empty.code == {}
    assert same_program(read_bytes(write_bytes(empty), ISA), empty)


def test_writing_is_deterministic():
    a = assemble_text(SOURCE, "small.tsp").program
    b = assemble_text(SOURCE, "small.tsp").program
    assert write_bytes(a) == write_bytes(b)


def test_source_order_of_data_does_not_change_the_image():
    one = ".data MEM_W0 0 i8 [1]\n.data MEM_W4 0 i8 [2]\n"
    two = ".data MEM_W4 0 i8 [2]\n.data MEM_W0 0 i8 [1]\n"
    assert write_bytes(assemble_text(one, "x").program) == write_bytes(assemble_text(two, "x").program)


# ---- truncation and corruption -------------------------------------------------------------------

def test_every_truncation_is_an_image_error(blob):
    assert len(blob) > 1000
    lengths = list(range(0, 256)) + list(range(256, len(blob), 3)) + [len(blob) - 1]
    for n in lengths:
        with pytest.raises(ImageError) as info:
            read_bytes(blob[:n], ISA, "t.tspo")
        msg = str(info.value)
        assert "truncated" in msg or "bad magic" in msg or "corrupt" in msg, (n, msg)
    # Without an ISA, too.
    for n in lengths[::7]:
        with pytest.raises(ImageError):
            read_bytes(blob[:n])


def test_truncation_messages_say_what_is_missing(blob):
    assert "truncated" in load_error(blob[:HEADER.size - 1])
    assert "section table" in load_error(blob[:HEADER.size + 5])
    assert "truncated" in load_error(blob[:-1])


@pytest.mark.parametrize("xor", [0x01, 0x80, 0xFF])
def test_single_byte_corruption(program, blob, xor):
    step = 1 if xor == 0x01 else 5
    unchanged = []
    for i in range(0, len(blob), step):
        bad = bytearray(blob)
        bad[i] ^= xor
        try:
            got = read_bytes(bytes(bad), ISA)
        except ImageError:
            continue
        assert i in RESERVED, f"byte {i} corrupted (^{xor:#x}) but the image still loaded"
        assert same_program(got, program)
        unchanged.append(i)
    # docs/tspo-format.md: the reader ignores flags and the reserved header bytes; every
    # other byte is covered by a checksum, the magic, the version or the fingerprint.
    assert set(unchanged) <= RESERVED


def test_corruption_without_an_isa_is_still_caught(blob):
    for i in range(64, len(blob), 11):  # past the header (fingerprint is only checked with an isa)
        bad = bytearray(blob)
        bad[i] ^= 0x40
        with pytest.raises(ImageError):
            read_bytes(bytes(bad))


# ---- bad headers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("junk", [b"", b"\x00" * 64, b"PK\x03\x04" + b"\x00" * 100,
                                  b"TSPO\x00\r\n\x1b" + b"\x00" * 100, b"; TSP-1 assembly\n" * 8])
def test_bad_magic(junk):
    assert "bad magic" in load_error(junk)


def test_a_prefix_of_the_magic_is_truncated_not_bad_magic(blob):
    assert "truncated" in load_error(blob[:5])


@pytest.mark.parametrize("version", [0, VERSION + 1, 0xFFFF])
def test_wrong_version(blob, version):
    _, flags, fp, secs = split(blob)
    msg = load_error(build(secs, version=version, flags=flags, fp=fp))
    assert f"format version {version}" in msg and f"reads version {VERSION}" in msg


def test_foreign_fingerprint_with_isa_says_reassemble(blob):
    _, _, _, secs = split(blob)
    foreign = build(secs, fp=bytes(range(32)))
    msg = load_error(foreign)
    assert "reassemble" in msg
    assert "000102030405" in msg and ISA.fingerprint[:12] in msg
    # Without an ISA to compare against, the image loads and keeps its fingerprint.
    assert read_bytes(foreign).isa_fingerprint == bytes(range(32)).hex()


def test_image_of_a_changed_isa_is_refused(tmp_path, blob):
    import shutil
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "isa"
    shutil.copytree(root, tmp_path / "isa")
    mxm = tmp_path / "isa" / "instructions" / "mxm.toml"
    mxm.write_text(mxm.read_text().replace("latency = 20\n", "latency = 21\n", 1))
    other = load_isa(tmp_path / "isa")
    assert other.fingerprint != ISA.fingerprint
    assert "reassemble" in load_error(blob, other)


def test_implausible_section_count(blob):
    head = bytearray(blob[:HEADER.size])
    struct.pack_into("<I", head, 12, 0xFFFFFFFF)
    assert "not plausible" in load_error(bytes(head) + blob[HEADER.size:])


# ---- checksummed but inconsistent contents ------------------------------------------------------------

@pytest.mark.parametrize("kind,payload,reason", [
    (b"DMET", b"{not json", "malformed"),
    (b"DMET", b'{"a": 1}', "malformed"),
    (b"DMET", b"[1, 2]", "malformed"),
    (b"DMET", json.dumps([{"chip": 0, "slot": 20, "addr": 0, "dtype": "i8", "shape": [3],
                           "nbytes": 999}]).encode(), "malformed"),
    (b"DPAY", b"", "malformed"),
    (b"DPAY", b"\x00" * 4096, "malformed"),
    (b"OUTP", b'[{"name": "x"}]', "malformed"),
    (b"OUTP", json.dumps([{"name": "x", "chip": 0, "slot": ISA.queue_by_name["VXM0"].slot, "addr": 0,
                           "dtype": "i8", "rows": 0}]).encode(), "not a MEM slice"),
    (b"OUTP", json.dumps([{"name": "x", "chip": 0, "slot": 20, "addr": 0, "dtype": "i9",
                           "rows": 0}]).encode(), "malformed"),
    (b"SYMB", b'[{"name": "x", "value": 1, "kind": "macro", "chip": 0}]', "malformed"),
    (b"SYMB", b"\xff\xfe", "malformed"),
    (b"FILE", b'[1, 2]', "malformed"),
    (b"FILE", b'"name"', "malformed"),
    (b"FILE", b"[]", "malformed"),  # the line table names file 0
    (b"LINE", b"\x00" * 7, "malformed"),
    (b"CODE", b"\x01\x00", "malformed"),
    (b"CODE", struct.pack("<IIII", 2, 144, 16, 0) + b"\x00" * 10, "malformed"),
    (b"CODE", struct.pack("<IIII", 1, 143, 16, 0) + b"\x00" * (143 * 16), "malformed"),
])
def test_inconsistent_sections_are_image_errors(blob, kind, payload, reason):
    assert reason in load_error(replace_section(blob, kind, payload))


def test_sections_of_unknown_kind_are_ignored(program, blob):
    version, flags, fp, secs = split(blob)
    extra = secs[:1] + [(b"XTRA", 7, b"future data")] + secs[1:] + [(b"\x00\x00\x00\x00", 0, b"")]
    assert same_program(read_bytes(build(extra, version, flags, fp), ISA), program)


def test_missing_or_repeated_sections(blob):
    version, flags, fp, secs = split(blob)
    without = [s for s in secs if s[0] != b"SYMB"]
    assert "'SYMB' is missing or repeated" in load_error(build(without, version, flags, fp))
    twice = secs + [s for s in secs if s[0] == b"FILE"]
    assert "'FILE' is missing or repeated" in load_error(build(twice, version, flags, fp))
    dup_code = secs + [s for s in secs if s[0] == b"CODE"][:1]
    assert "two CODE sections" in load_error(build(dup_code, version, flags, fp))


def test_code_of_a_chip_out_of_range(blob):
    version, flags, fp, secs = split(blob)
    secs = [(k, 10_440 if k == b"CODE" and c == 1 else c, p) for k, c, p in secs]
    assert "chip 10440 out of range" in load_error(build(secs, version, flags, fp))


def test_section_pointing_into_the_header(blob):
    version, flags, fp, secs = split(blob)
    table = bytearray(blob[HEADER.size:HEADER.size + ENTRY.size * len(secs)])
    struct.pack_into("<Q", table, 8, 0)  # first entry's offset -> 0
    head = HEADER.pack(MAGIC, version, flags, len(secs), fp, zlib.crc32(bytes(table)))
    assert "truncated" in load_error(head + bytes(table) + blob[len(head) + len(table):])


def test_read_file_errors_are_image_errors(tmp_path, program):
    with pytest.raises(ImageError, match="cannot read"):
        read_file(str(tmp_path / "missing.tspo"))
    with pytest.raises(ImageError, match="cannot read"):
        read_file(str(tmp_path))  # a directory
    with pytest.raises(ImageError, match="cannot write"):
        write_file(program, str(tmp_path / "no" / "such" / "dir.tspo"))


# ---- the topology record (TOPO) ------------------------------------------------------------------

TOPO_SOURCE = ".topology {topo}\n.chip 0\n@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send chip1, S0W\n"


def with_topo(blob: bytes, record) -> bytes:
    version, flags, fp, secs = split(blob)
    secs = [s for s in secs if s[0] != b"TOPO"] + [(b"TOPO", 0, json.dumps(record).encode())]
    return build(secs, version, flags, fp)


def test_an_image_without_a_named_topology_has_no_topo_section(blob):
    assert [k for k, _, _ in split(blob)[3]] == [b"CODE", b"CODE", b"DMET", b"DPAY", b"OUTP", b"SYMB",
                                                 b"FILE", b"LINE"]
    assert read_bytes(blob, ISA).topology is None


def test_a_builtin_topology_comes_back_as_the_builtin():
    from tspasm.topology import builtin

    program = assemble_text(TOPO_SOURCE.format(topo="rack"), "t.tsp").program
    image = write_bytes(program)
    topo_sections = [json.loads(p) for k, _, p in split(image)[3] if k == b"TOPO"]
    assert len(topo_sections) == 1 and topo_sections[0]["name"] == "rack"
    assert len(topo_sections[0]["links"]) == len(builtin("rack", ISA).links)
    back = read_bytes(image, ISA).topology
    rack = builtin("rack", ISA)
    assert (back.name, back.chips, back.links, back.symmetries) == (rack.name, rack.chips, rack.links,
                                                                   rack.symmetries)
    assert write_bytes(read_bytes(image, ISA)) == image


def test_a_custom_topology_is_recorded_link_by_link(tmp_path):
    far = tmp_path / "far.toml"
    far.write_text("chips = 2\n[[links]]\na = [0, 0]\nb = [1, 5]\nlatency = 300\n")
    program = assemble_text(TOPO_SOURCE.format(topo=f'"{far}"'), "t.tsp").program
    back = read_bytes(write_bytes(program), ISA).topology
    assert back.chips == 2 and [tuple(link) for link in back.links] == [(0, 0, 1, 5, 300)]


@pytest.mark.parametrize("record,reason", [
    ("rack", "not a topology record"),
    ({"name": "x", "chips": 2, "links": [[0, 0, 1]]}, "is not [chip_a, port_a, chip_b, port_b, latency]"),
    ({"name": "x", "chips": "2", "links": []}, "expected an integer"),
    ({"name": "x", "chips": 0, "links": []}, "is not a number of chips"),
    ({"name": "x", "chips": 10**9, "links": []}, "is not a number of chips (1..10440)"),
    ({"name": "x", "chips": 2, "links": [[0, 0, 5, 0, 217]]}, "TOPO section"),
    ({"name": "x", "chips": 1, "links": []}, "code for chip 1, but its topology x has chips 0..0"),
])
def test_bad_topology_records_are_image_errors(blob, record, reason):
    msg = load_error(with_topo(blob, record))
    assert "malformed section contents" in msg and reason in msg


def test_a_repeated_topo_section_is_an_image_error(blob):
    version, flags, fp, secs = split(blob)
    rec = json.dumps({"name": "pair", "chips": 2, "links": [[0, 0, 1, 0, 217]]}).encode()
    twice = secs + [(b"TOPO", 0, rec), (b"TOPO", 0, rec)]
    assert "'TOPO' is repeated" in load_error(build(twice, version, flags, fp))
