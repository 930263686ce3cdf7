"""Whole programs round-trip through the image and the disassembler.

For every programs/*.tsp (globbed when the tests are collected) and for the
sources below:  assemble -> .tspo bytes -> read -> disassemble -> assemble gives
byte-identical .tspo (line info included, through `.loc`); and the compact
`with_loc=False` text reassembles to the same code, data, outputs and symbols.
Random programs drawn by hypothesis must do the same.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tspasm import ImageError, TspError, assemble_file, assemble_text, default_isa
from tspasm.asm.encoding import encode
from tspasm.image.disasm import disassemble
from tspasm.image.tspo import read_bytes, write_bytes

REPO = Path(__file__).resolve().parents[1]
ISA = default_isa()
PROGRAM_FILES = sorted((REPO / "programs").glob("*.tsp"))

# ---- sources of the test itself ----------------------------------------------------

RICH = """\
; a program touching most of the language
.equ BASE, 0x20
.equ ROWS, 3
.equ NEG, -5
.data MEM_W0 BASE i8 [1, -2, 3, 127, -128]
.data MEM_E4 0 i16 [[1, 2], [-32768, 32767], [0, 0]]
.data MEM_W10 100 i32 [2147483647, -2147483648]
.data MEM_E20 7 f16 [0.5, -0.0, inf, -inf, 65504, 6e-8]
.data MEM_W20 7 f32 [0.1, 1e-30, nan, 3.4028234663852886e38, -0.0]
start:
@0 {
  MEM_W0: read BASE, S0E
  MEM_W1: read BASE + 1, S1E, -1     // optional step given
  VXM3: config 0xfffff
}
@+4 VXM0: add.i8.sat S0E, S1E -> S2E
VXM0: repeat ROWS, 2
@20 { VXM1: notify | VXM2: sync | MEM_E3: sync }
loop:
@30 { SHF_W0: shift.down.i16 S4W, 319 -> S6W | PRM_E: permute.f32 S8E, S12E -> S16E }
@31 { ROT_W: rotate 4, S0E -> S16E | TRN_E1: transpose S16W -> S0W }
@32 { MXM0_W: lw S16E | MXM1_A: abc.f16 S4E | MXM2_C: acc.add.f32 S28W, 1023 }
@33 { C2C_W2: send L7, S3E | C2C_E3: receive L8, S9W | C2C_E0: hac L15 | C2C_W0: transmit L0 }
@34 { VXM5: convert.f32.i8.sat S0E -> S4E | VXM6: cmp.ge.i32 S0E, S4E -> S8E }
@34 VXM7: select.f16 S0W, S2W, S4W -> S6W
@35 { MEM_W5: rw 1, S0E, 4097, S1E, -4096, 4095 | MEM_E5: gather S2E, S3E | MEM_E6: scatter S4E, S5E }
@36 { VXM8: deskew | VXM9: runtime_deskew 0 | VXM10: ifetch 4294967295 | C2C_W1: sac 65535 }
@40 VXM9: nop 7
@5000000000 VXM11: nop 1     # a gap longer than one nop can count
end:
.output result = MEM_E0 0 i8
.output MEM_W2 0x100 i16 ROWS
.chip 3
.equ CHIP3_ONLY, 7
.data MEM_W0 0 i8 [9]
@2 MEM_W0: read 0, S0E
late:
.output c3 = MEM_W0 0 i8
.chip 5
.output only_out = MEM_E1 0 f32 2
"""

NOPS = """\
; explicit nops that equal, and that differ from, what the assembler fills gaps with
@0 VXM0: add.i8 S0E, S1E -> S2E
@1 VXM0: nop 4
@5 VXM0: add.i8 S0E, S1E -> S2E
@6 VXM0: nop 2
@8 VXM0: nop 3
@11 VXM0: add.i8 S0E, S1E -> S2E
@20 VXM0: nop 9
@3 VXM1: nop 1
@4 VXM1: nop 1
@9 VXM1: notify
@0 VXM2: sync
@13 VXM2: mov.i8 S0E -> S1E
"""

LABELS = """\
; labels with and without instructions at their cycle, on several chips
.chip 1
first:
second:
@7 { }
@9 VXM0: nop 1
after_last:
.chip 0
zero:
@0 MEM_E43: write 0, S31W, 4095
.chip 2
lonely:
"""

WITH_INCLUDE = """\
.include "inc/defs.inc"
.data MEM_W4 0 i32 "inc/table.npy"
.data MEM_E8 0 f32 "inc/vec.npy"
@0 MEM_W4: read TABLE_ADDR, S0E
.include "inc/body.inc"
"""

SOURCES = {"rich": RICH, "nops": NOPS, "labels": LABELS, "with_include": WITH_INCLUDE}


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("programs")
    (root / "inc").mkdir()
    (root / "inc" / "defs.inc").write_text(".equ TABLE_ADDR, 0\n.equ LATER, 12\n")
    (root / "inc" / "body.inc").write_text("@LATER VXM4: relu.i32 S0E -> S4E\nVXM4: repeat 2, 1\n")
    np.save(root / "inc" / "table.npy", np.arange(-6, 6, dtype=np.int64).reshape(3, 4))
    np.save(root / "inc" / "vec.npy", np.array([1.5, -2.25, np.inf], np.float64))
    for name, text in SOURCES.items():
        (root / f"{name}.tsp").write_text(text)
    return root


CASES = [pytest.param(("file", p), id=f"programs/{p.name}") for p in PROGRAM_FILES] + \
        [pytest.param(("inline", name), id=f"inline/{name}") for name in SOURCES]


def _path(case, source_dir) -> str:
    kind, what = case
    return str(what) if kind == "file" else str(source_dir / f"{what}.tsp")


# ---- comparisons ------------------------------------------------------------------------

def same_code(a, b) -> bool:
    return sorted(a.code) == sorted(b.code) and all(np.array_equal(a.code[c], b.code[c]) for c in a.code)


def assert_same_contents(a, b) -> None:
    """Everything but the line table."""
    assert a.isa_fingerprint == b.isa_fingerprint
    assert same_code(a, b)
    assert a.data == b.data
    assert a.outputs == b.outputs
    assert a.symbols == b.symbols


def roundtrip(program, name="disasm.tsp"):
    """image bytes -> read -> disassemble -> assemble; returns (bytes1, text, bytes2, program2)."""
    b1 = write_bytes(program)
    loaded = read_bytes(b1, ISA)
    text = disassemble(loaded, ISA)
    again = assemble_text(text, name).program
    return b1, text, write_bytes(again), again


# ---- the round trips ----------------------------------------------------------------------

_ASSEMBLED: dict[str, object] = {}


def _program(case, source_dir):
    """Assemble each source once per test session (some programs/ carry big .npy data)."""
    path = _path(case, source_dir)
    if path not in _ASSEMBLED:
        _ASSEMBLED[path] = assemble_file(path).program
    return _ASSEMBLED[path]


def _split_data_statements(text: str) -> tuple[list[str], str]:
    """(the .data statements, the text without them); a statement may span lines."""
    data, rest, current, depth = [], [], None, 0
    for line in text.split("\n"):
        if current is None and line.startswith(".data "):
            current, depth = [line], line.count("[") - line.count("]")
        elif current is not None:
            current.append(line)
            depth += line.count("[") - line.count("]")
        else:
            rest.append(line)
            continue
        if depth == 0:
            data.append("\n".join(current))
            current = None
    assert current is None
    return data, "\n".join(rest)


# Reassembling inline .data goes through Lark value by value; for programs with big
# tables the compact test checks the data statements textually instead (the .loc round
# trip above already proves those statements reassemble to the same bytes).
_BIG_DATA = 20_000


@pytest.mark.parametrize("case", CASES)
def test_disassembly_reassembles_to_identical_bytes(case, source_dir):
    program = _program(case, source_dir)
    b1, text, b2, again = roundtrip(program)
    assert b2 == b1
    # The line table points back at the original source, not at the disassembly.
    assert again.files == program.files
    assert "disasm.tsp" not in again.files
    # Disassembling the reassembled program prints the same text.
    assert disassemble(again, ISA) == text


@pytest.mark.parametrize("case", CASES)
def test_compact_disassembly_keeps_code_data_outputs_and_symbols(case, source_dir):
    program = _program(case, source_dir)
    loaded = read_bytes(write_bytes(program), ISA)
    text = disassemble(loaded, ISA, with_loc=False)
    assert ".loc" not in text
    elements = sum(int(np.prod(d.shape)) for d in program.data)
    if elements <= _BIG_DATA:
        again = assemble_text(text, "compact.tsp").program
        assert_same_contents(program, again)
        # The compact form is a fixed point of disassemble . assemble.
        assert disassemble(again, ISA, with_loc=False) == text
        return
    data, rest = _split_data_statements(text)
    assert data == _split_data_statements(disassemble(loaded, ISA))[0]
    assert len(data) == len(program.data)
    again = assemble_text(rest, "compact.tsp").program
    assert again.data == []
    again.data = program.data
    assert_same_contents(program, again)


def test_inline_sources_assemble_to_what_they_say(source_dir):
    """Guards the sources above against silently testing less than intended."""
    rich = assemble_file(str(source_dir / "rich.tsp")).program
    assert sorted(rich.code) == [0, 3]
    assert rich.code[0].shape[1:] == (len(ISA.queues), ISA.param("geometry.slot_bytes"))
    assert {s.name for s in rich.symbols} >= {"BASE", "ROWS", "NEG", "start", "loop", "end", "late",
                                              "CHIP3_ONLY"}
    assert {o.name for o in rich.outputs} == {"result", "MEM_W2_0100", "c3", "only_out"}
    assert len(rich.data) == 6
    inc = assemble_file(str(source_dir / "with_include.tsp")).program
    table = next(d for d in inc.data if d.dtype == "i32")
    assert table.shape == (3, 4)
    assert np.frombuffer(table.data, "<i4").tolist() == list(range(-6, 6))
    assert any(s.name == "LATER" and s.value == 12 for s in inc.symbols)
    assert len(inc.files) == 2  # the main file and body.inc both issue instructions


@pytest.mark.skipif(not PROGRAM_FILES, reason="programs/ has no .tsp files yet")
def test_program_files_are_collected():
    assert all(p.suffix == ".tsp" for p in PROGRAM_FILES)


# ---- random programs --------------------------------------------------------------------

_SIMPLE = {}
for _q in ISA.queues:
    _SIMPLE.setdefault(_q.unit, [s for s in ISA.by_unit[_q.unit]
                                 if s.control in (None, "wait", "epoch", "delay", "release")])
_LINKS_PER_HEMI = ISA.param("c2c.links") // 2
_EPOCH = ISA.param("sync.hac_epoch")


def _draw_instruction(draw, spec, queue) -> tuple[str, dict]:
    """Legal assembly text for spec on queue (small integers keep programs short), and
    the integer operand values (defaults included)."""
    values = {}
    ints = dict(spec.defaults)
    for f in spec.fields:
        if f.kind in ("dtype", "enum", "choice"):
            allowed = sorted(spec.allow.get(f.name, range(len(f.values))))
            values[f.name] = draw(st.sampled_from(allowed))
    parts = [spec.name]
    for s in spec.suffixes:
        f = ISA.fields[s.field]
        if f.kind == "flag":
            t = values.get(spec.saturating_field)
            if t in spec.saturating and draw(st.booleans()):
                parts.append(f.name)
        else:
            parts.append(str(f.values[values[f.name]]))
    ops = []
    for o in spec.operands:
        f = ISA.fields[o.field]
        if o.optional and not draw(st.booleans()):
            break
        if f.kind == "stream":
            width, align = 1, 1
            for role in (spec.reads, spec.writes):
                w = role.get(f.name)
                if w is None:
                    continue
                if isinstance(w, int):
                    width, align = max(width, w), max(align, w)
                else:
                    sq = w.endswith("^2")
                    fd = ISA.fields[w[:-2] if sq else w]
                    v = values[fd.name]
                    n = ISA.dtype_bytes[fd.values[v]] if fd.kind == "dtype" else fd.values[v]
                    width = max(width, n * n if sq else n)
            base = draw(st.sampled_from([b for b in range(0, 33 - width) if b % align == 0]))
            text = f"S{base}{draw(st.sampled_from('EW'))}"
        elif f.kind == "link":
            lo = 0 if queue.hemi == "W" else _LINKS_PER_HEMI
            text = f"L{draw(st.integers(lo, lo + _LINKS_PER_HEMI - 1))}"
        elif f.kind in ("enum", "choice"):
            text = str(f.values[values[f.name]])
        else:
            lo, hi = f.value_range()
            v = draw(st.integers(lo, min(hi, lo + 40)) | st.integers(max(lo, -3), min(hi, 3)))
            ints[f.name] = v
            text = str(v)
        ops.append((o.sep, text))
    out = ".".join(parts)
    for sep, text in ops:
        out += " " + text if sep is None else (", " + text if sep == "," else " -> " + text)
    return out, ints


def _repeat_fits(spec, ints: dict, n: int) -> bool:
    """Every field the repeat steps stays in range (the assembler checks this)."""
    for name, step in spec.steps.items():
        s = ints[step] if isinstance(step, str) else step
        lo, hi = ISA.fields[name].value_range()
        if not lo <= ints[name] + n * s <= hi:
            return False
    return True


def _busy(spec, text: str, cycle: int) -> int:
    """First cycle the queue is free again (only the controls _SIMPLE allows)."""
    if spec.control == "wait":
        return cycle + int(text.split()[1])
    if spec.control == "epoch":
        return (cycle // _EPOCH + 1) * _EPOCH
    if spec.control == "delay":
        return cycle + max(int(text.split()[1]), 1)
    return cycle + 1


def _data_value(draw, dtype: str) -> str:
    np_t = np.dtype(ISA.dtype_numpy[dtype])
    if np_t.kind == "i":
        info = np.iinfo(np_t)
        return str(draw(st.integers(int(info.min), int(info.max))))
    v = draw(st.floats(width=np_t.itemsize * 8, allow_nan=False) | st.just(math.nan))
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


@st.composite
def programs(draw):
    lines = []
    nchips = draw(st.integers(1, 2))
    for chip in range(nchips):
        lines.append(f".chip {chip}")
        for k in range(draw(st.integers(0, 2))):
            lines.append(f".equ E{chip}_{k}, {draw(st.integers(-1000, 1000))}")
        for k in range(draw(st.integers(0, 2))):  # distinct slices: never overlapping
            dtype = draw(st.sampled_from(ISA.dtypes))
            hemi = draw(st.sampled_from("WE"))
            n = draw(st.integers(1, 4))
            vals = ", ".join(_data_value(draw, dtype) for _ in range(n))
            lines.append(f".data MEM_{hemi}{8 * k} {draw(st.integers(0, 8000))} {dtype} [{vals}]")
        free: dict[str, int] = {}
        last: dict[str, tuple] = {}
        queues = draw(st.lists(st.sampled_from(ISA.queues), min_size=1, max_size=4, unique_by=lambda q: q.slot))
        for i in range(draw(st.integers(1, 10))):
            q = draw(st.sampled_from(queues))
            cycle = free.get(q.name, 0) + draw(st.integers(0, 3))
            prev = last.get(q.name)
            n, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            if (prev is not None and prev[1] == cycle - 1 and "*" not in prev[0].units
                    and _repeat_fits(prev[0], prev[2], n) and draw(st.booleans())):
                lines.append(f"@{cycle} {q.name}: repeat {n}, {d}")
                free[q.name] = prev[1] + n * d + 1
                last.pop(q.name)
                continue
            if draw(st.integers(0, 5)) == 0:
                lines.append(f"L{chip}_{i}_x:")
            spec = draw(st.sampled_from(_SIMPLE[q.unit]))
            text, ints = _draw_instruction(draw, spec, q)
            lines.append(f"@{cycle} {q.name}: {text}")
            free[q.name] = _busy(spec, text, cycle)
            last[q.name] = (spec, cycle, ints)
        if draw(st.booleans()):
            lines.append(f".output MEM_E40 {draw(st.integers(0, 100))} i8 {draw(st.integers(1, 4))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=programs())
def test_random_programs_roundtrip(source):
    program = assemble_text(source, "random.tsp").program
    b1, _, b2, _ = roundtrip(program)
    assert b2 == b1
    compact = disassemble(program, ISA, with_loc=False)
    assert_same_contents(program, assemble_text(compact, "compact.tsp").program)


# ---- bugs the round trip must not have -------------------------------------------------------

def test_negative_nan_data_roundtrips():
    """`-nan` is legal .data syntax and sets the sign bit; the disassembly must keep it."""
    program = assemble_text(".data MEM_W0 0 f32 [-nan, nan]\n.data MEM_W8 0 f16 [-nan]\n").program
    f32 = next(d for d in program.data if d.dtype == "f32")
    f16 = next(d for d in program.data if d.dtype == "f16")
    assert f32.data[:4] == bytes.fromhex("0000c0ff")  # f32 -nan: sign bit set
    assert f16.data == bytes.fromhex("00fe")  # f16 -nan
    b1, text, b2, _ = roundtrip(program)
    assert b2 == b1, f"the disassembly\n{text}\nloses the sign of -nan"


def _image_with_word(queue_name: str, spec_name: str, values: tuple):
    """A one-word program built by hand (as a corrupt or foreign tool could)."""
    base = assemble_text(f"@0 {queue_name}: nop 1\n").program
    q = ISA.queue_by_name[queue_name]
    word = encode(ISA.by_name[spec_name], values)
    base.code[0][0, q.slot, :] = np.frombuffer(word.to_bytes(16, "little"), np.uint8)
    base.lines = base.lines[:0]
    base.files = []
    return read_bytes(write_bytes(base), ISA)


@pytest.mark.parametrize("queue,spec,values", [
    ("C2C_W0", "send", (12, 0)),      # L12 is driven from the east C2C queues only
    ("C2C_E1", "receive", (3, 0)),    # L3 from the west ones only
    ("MXM0_W", "lw", (3,)),           # lw reads an aligned group of 16 streams
    ("VXM0", "add", (2, 0, 30, 0, 0)),  # add.i32 from S30E runs past S31E
], ids=["west-queue-east-link", "east-queue-west-link", "misaligned-lw", "group-past-S31"])
def test_image_words_the_assembler_cannot_write_are_refused_or_reassemble(queue, spec, values):
    """The disassembler promises text that reassembles to the same bytes.  For an image
    holding a word the assembler would reject, it must refuse (ImageError) rather than
    print text that does not assemble."""
    program = _image_with_word(queue, spec, values)
    try:
        text = disassemble(program, ISA)
    except TspError:
        return
    try:
        again = assemble_text(text, "disasm.tsp").program
    except TspError as exc:
        pytest.fail(f"disassemble printed text that does not assemble:\n{text}\n{exc}")
    assert same_code(again, program)


def test_disassembly_of_an_image_with_an_unreleased_sync_is_an_image_error():
    program = assemble_text("@0 { VXM0: sync | VXM1: notify }\n@5 VXM0: nop 1\n").program
    # Drop the notify: VXM0 now parks forever.
    program.code[0][:, ISA.queue_by_name["VXM1"].slot, :] = 0
    program.lines = program.lines[:0]
    program.files = []
    with pytest.raises(ImageError, match="VXM0"):
        disassemble(read_bytes(write_bytes(program), ISA), ISA)


def test_nan_payloads_from_npy_roundtrip(tmp_path):
    """Only a .npy file can carry NaN payloads; the disassembly must keep every bit."""
    raw32 = np.array([0x7FC00001, 0xFFC00000, 0x7F800001, 0x3F800000], np.uint32)
    raw16 = np.array([0x7E01, 0xFE00, 0x3C00], np.uint16)
    np.save(tmp_path / "a.npy", raw32.view(np.float32))
    np.save(tmp_path / "b.npy", raw16.view(np.float16))
    src = tmp_path / "p.tsp"
    src.write_text('.data MEM_W0 0 f32 "a.npy"\n.data MEM_E0 0 f16 "b.npy"\n')
    program = assemble_file(str(src)).program
    seg32 = next(d for d in program.data if d.dtype == "f32")
    assert np.frombuffer(seg32.data, "<u4").tolist() == raw32.tolist()
    b1, text, b2, _ = roundtrip(program)
    assert b2 == b1, text
    compact = assemble_text(disassemble(program, ISA, with_loc=False), "c.tsp").program
    assert compact.data == program.data
