"""Fuzzing: the assembler and the image reader fail only in the documented way.

(a) Any text -> assemble_text succeeds or raises AssemblyError (nothing else).
(b) The memoized statement parser and the direct Lark parser agree: the same
    image bytes, or the same diagnostics.
(c) Any bytes -> read_bytes returns a Program or raises ImageError; a Program it
    returns disassembles to text or raises TspError (ImageError).

Each crash found while writing these is also pinned as a plain regression test.
"""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sample_sources import SMALL_PROGRAM
from tspasm import AssemblyError, ImageError, TspError, assemble_text, default_isa
from tspasm.image.disasm import disassemble
from tspasm.image.tspo import MAGIC, VERSION, read_bytes, write_bytes

ISA = default_isa()
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    """An empty directory for the fuzzed file's path: .include / .npy resolve inside it."""
    return tmp_path_factory.mktemp("fuzz")


# ---- the token vocabulary of the language ----------------------------------------------------

QUEUES = ["VXM0", "VXM15", "MEM_W0", "MEM_W1", "MEM_E43", "C2C_W0", "C2C_E3", "MXM0_W", "MXM1_A",
          "MXM2_C", "SHF_W0", "PRM_E", "DST_W2", "TRN_E1", "ROT_W", "VXM16", "MEM_W44", "QQ"]
MNEMONICS = ["nop", "repeat", "sync", "notify", "config", "ifetch", "deskew", "runtime_deskew",
             "read", "write", "rw", "gather", "scatter", "lw", "iw", "abc.i8", "abc.f16",
             "acc.set.i32", "acc.add.f32", "shift.up.i8", "shift.down.f32", "permute.i16",
             "distribute.i8", "rotate", "transpose", "mov.i8", "mov.f32", "add.i8", "add.i16.sat",
             "add.f16.sat", "sub.i32", "mul.f16", "cmp.eq.i8", "cmp.i8.eq", "select.f32",
             "convert.f32.i8.sat", "convert.i8", "exp.f16", "exp.i8", "shl.i8.sat", "send", "receive",
             "transmit", "hac", "sac", "ad.i8", "add.i9", "add.i8.sat.x", "add"]
STREAMS = ["S0E", "S1E", "S2E", "S3E", "S4W", "S16E", "S28W", "S30E", "S31W", "S32E", "SG2_0E",
           "SG4_1W", "SG16_1E", "SG3_0E", "L0", "L7", "L8", "L15", "L16"]
NUMBERS = ["0", "1", "2", "3", "4", "7", "16", "31", "255", "319", "320", "1023", "1024", "4095",
           "4096", "8191", "8192", "0x10", "0b101", "1_000", "007", "1.5", "1e3", ".5", "inf", "nan"]
NAMES = ["x", "N", "start", "loop", "foo_bar", "_", "i8", "i16", "i32", "f16", "f32", "set", "up", "eq"]
PUNCT = ["@", "@+", "{", "}", "|", ",", "->", ":", "[", "]", "(", ")", "+", "-", "*", "/", "%",
         "<<", ">>", "&", "^", "~", "=", ".", "\\", "'"]
DIRECTIVES = [".equ", ".data", ".chip", ".output", ".include", ".loc", ".bogus"]
STRINGS = ['"x.npy"', '"inc.tsp"', '""', '"a\\"b"', '"unterminated']
LAYOUT = ["\n", "\n", "\n", "\r\n", "\t", "; comment", "// comment", "# comment", ";"]

TOKENS = QUEUES + MNEMONICS + STREAMS + NUMBERS + NAMES + PUNCT + DIRECTIVES + STRINGS + LAYOUT


def tokens_text():
    sep = st.sampled_from([" ", " ", " ", "", "  "])
    return st.lists(st.tuples(st.sampled_from(TOKENS), sep), max_size=60).map(
        lambda parts: "".join(t + s for t, s in parts))


def _expr():
    atom = st.sampled_from(NUMBERS[:20] + ["N", "x", "start", "(1+2)", "-3", "~0"])
    return st.lists(st.tuples(atom, st.sampled_from([" + ", "-", "*", " << ", "/", " % ", "&", "^"])),
                    min_size=1, max_size=3).map(lambda p: "".join(a + o for a, o in p)[:-1].rstrip(" +-*/%&^<"))


def _operand():
    return st.one_of(st.sampled_from(STREAMS), st.sampled_from(NUMBERS), _expr(), st.sampled_from(NAMES))


@st.composite
def instruction_text(draw):
    ops = draw(st.lists(_operand(), max_size=5))
    seps = [draw(st.sampled_from([", ", " -> ", ",", " "])) for _ in ops]
    body = "".join((s if i else "") + o for i, (s, o) in enumerate(zip(seps, ops)))
    return f"{draw(st.sampled_from(QUEUES))}: {draw(st.sampled_from(MNEMONICS))} {body}".rstrip()


@st.composite
def line_text(draw):
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        cycle = draw(st.sampled_from(["", "@0 ", "@3 ", "@+1 ", "@N ", "@(2*3) ", "@start "]))
        return cycle + draw(instruction_text())
    if kind == 4:
        cycle = draw(st.sampled_from(["", "@5 ", "@+2 "]))
        items = draw(st.lists(instruction_text(), max_size=3))
        sep = draw(st.sampled_from([" | ", "\n", " |\n"]))
        return cycle + "{ " + sep.join(items) + " }"
    if kind == 5:
        return draw(st.sampled_from(NAMES)) + ":"
    if kind == 6:
        return f".equ {draw(st.sampled_from(NAMES))}, {draw(_expr())}"
    if kind == 7:
        vals = draw(st.lists(st.sampled_from(NUMBERS + ["-1", "-128", "128", "x"]), max_size=4))
        return (f".data {draw(st.sampled_from(QUEUES))} {draw(_expr())} "
                f"{draw(st.sampled_from(NAMES[6:11] + ['i7']))} [{', '.join(vals)}]")
    if kind == 8:
        return draw(st.sampled_from([".chip 0", ".chip 1", ".chip 2", ".chip N",
                                     ".output MEM_E0 0 i8", ".output r = MEM_W4 16 i16 2",
                                     ".output VXM0 0 i8", '.include "inc.tsp"']))
    return draw(tokens_text())


def language_text():
    return st.lists(line_text(), max_size=14).map("\n".join)


def assemble_or_diagnose(text: str, path: str, memoize: bool = True):
    """('ok', image bytes) or ('error', diagnostics); any other exception propagates."""
    try:
        program = assemble_text(text, path, memoize=memoize).program
    except AssemblyError as exc:
        assert exc.diagnostics, "an AssemblyError without diagnostics"
        return "error", [(d.path, d.line, d.col, d.message, d.hint, d.notes) for d in exc.diagnostics]
    return "ok", write_bytes(program)


# ---- (a) the assembler never crashes -----------------------------------------------------------------

@FUZZ
@given(text=tokens_text())
def test_token_soup_assembles_or_diagnoses(fuzz_dir, text):
    assemble_or_diagnose(text, str(fuzz_dir / "fuzz.tsp"))


@FUZZ
@given(text=language_text())
def test_language_like_text_assembles_or_diagnoses(fuzz_dir, text):
    kind, result = assemble_or_diagnose(text, str(fuzz_dir / "fuzz.tsp"))
    if kind == "error":
        lines = text.split("\n")
        for _, line, col, message, _, _ in result:
            assert message
            assert 0 <= line <= len(lines) + 1 and col >= 0


@FUZZ
@given(text=st.text(max_size=300))
@example(text="\x00")
@example(text="VXM0: nop 1\x00")
@example(text="\ufeffVXM0: nop 1")
@example(text="VXM0: nop 1\r")
@example(text="{" * 50)
@example(text="[" * 50)
@example(text='"' * 3)
def test_arbitrary_text_assembles_or_diagnoses(fuzz_dir, text):
    assemble_or_diagnose(text, str(fuzz_dir / "fuzz.tsp"))


# Inputs found to raise something other than AssemblyError.  Each is a mistake in
# the input and must come back as a diagnostic (the CLI otherwise reports an
# "internal error" and exits 3).
_BIG = "9" * 5000
CRASHERS = {
    "decimal literal over 4300 digits (cycle)": f"@{_BIG} VXM0: nop 1\n",
    "decimal literal over 4300 digits (operand)": f"VXM0: nop {_BIG}\n",
    "decimal literal over 4300 digits (.equ)": f".equ X, {_BIG}\n",
    "decimal literal over 4300 digits (.chip)": f".chip {_BIG}\n",
    "decimal literal over 4300 digits (.data)": f".data MEM_W0 0 i8 [{_BIG}]\n",
    "link number over 4300 digits": f"C2C_W0: send L{_BIG}, S0E\n",
    "stream group size over 4300 digits": f"VXM0: mov.i8 SG{_BIG}_0E -> S0E\n",
    "integer .data too big for a float": ".data MEM_W0 0 f32 [1" + "0" * 400 + "]\n",
    "1000 unary minus signs": "VXM0: nop " + "-" * 1000 + "1\n",
    "1000-term sum": "VXM0: nop " + "+".join(["1"] * 1000) + "\n",
    "250-term sum (memoized parser only)": "VXM0: nop " + "+".join(["1"] * 250) + "\n",
    "NUL byte in an .include path": '.include "a\x00b"\n',
    ".loc line past 2^32": '.loc "f.tsp" 99999999999 1\n@0 VXM0: nop 1\n',
    ".loc column past 2^32": '.loc "f.tsp" 1 4294967296\n@0 VXM0: nop 1\n',
}


@pytest.mark.parametrize("memoize", [True, False], ids=["memoized", "direct"])
@pytest.mark.parametrize("text", list(CRASHERS.values()), ids=list(CRASHERS))
def test_known_crashers_are_diagnosed(fuzz_dir, text, memoize):
    try:
        assemble_or_diagnose(text, str(fuzz_dir / "crash.tsp"), memoize=memoize)
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{type(exc).__name__} instead of AssemblyError: {str(exc)[:120]}")


# ---- (b) memoized and direct parsing agree --------------------------------------------------------------

@FUZZ
@given(text=language_text())
def test_memoized_and_direct_parsers_agree(fuzz_dir, text):
    path = str(fuzz_dir / "fuzz.tsp")
    assert assemble_or_diagnose(text, path, memoize=True) == assemble_or_diagnose(text, path, memoize=False)


@FUZZ
@given(text=tokens_text())
def test_memoized_and_direct_parsers_agree_on_token_soup(fuzz_dir, text):
    path = str(fuzz_dir / "fuzz.tsp")
    assert assemble_or_diagnose(text, path, memoize=True) == assemble_or_diagnose(text, path, memoize=False)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(instruction_text(), min_size=2, max_size=12))
def test_memoized_parser_reuses_shapes_correctly(fuzz_dir, lines):
    """Many lines of one shape with different tokens: the cached builder must not leak
    one line's tokens into another."""
    text = "\n".join(f"@{i} {ln}" for i, ln in enumerate(lines)) + "\n" + "\n".join(lines)
    path = str(fuzz_dir / "fuzz.tsp")
    assert assemble_or_diagnose(text, path, memoize=True) == assemble_or_diagnose(text, path, memoize=False)


def test_parsers_agree_on_a_valid_program():
    text = "".join(f"@{i} VXM{i % 16}: add.i8 S{i % 30}E, S{(i + 1) % 30}W -> S{i % 7}E\n" for i in range(64))
    ok1, b1 = assemble_or_diagnose(text, "p.tsp", memoize=True)
    ok2, b2 = assemble_or_diagnose(text, "p.tsp", memoize=False)
    assert ok1 == ok2 == "ok" and b1 == b2


# ---- (c) the image reader never crashes --------------------------------------------------------------------

_SOURCE = SMALL_PROGRAM
_BLOB = write_bytes(assemble_text(_SOURCE, "seed.tsp").program)
_HEADER = struct.Struct("<8sHHI32sI12x")
_ENTRY = struct.Struct("<4sIQQI4x")


def _sections(blob: bytes):
    _, _, _, n, fp, _ = _HEADER.unpack_from(blob)
    out = []
    for i in range(n):
        kind, chip, off, size, _ = _ENTRY.unpack_from(blob, _HEADER.size + i * _ENTRY.size)
        out.append((kind, chip, blob[off:off + size]))
    return fp, out


def _build(fp: bytes, sections) -> bytes:
    offset = _HEADER.size + _ENTRY.size * len(sections)
    table = b""
    for kind, chip, payload in sections:
        table += _ENTRY.pack(kind, chip, offset, len(payload), zlib.crc32(payload))
        offset += len(payload)
    return (_HEADER.pack(MAGIC, VERSION, 0, len(sections), fp, zlib.crc32(table)) + table
            + b"".join(p for _, _, p in sections))


def test_image_helpers_rebuild_the_seed():
    assert _build(*_sections(_BLOB)) == _BLOB


def load_and_print(blob: bytes) -> None:
    """The contract: ImageError or a Program; a Program prints or raises TspError."""
    for isa in (None, ISA):
        try:
            program = read_bytes(blob, isa, "fuzz.tspo")
        except ImageError as exc:
            assert str(exc).startswith("fuzz.tspo: ")
            continue
        if isa is None:
            continue
        try:
            text = disassemble(program, ISA)
        except TspError:
            continue
        assert isinstance(text, str) and text.startswith("; disassembled by tspasm")


@FUZZ
@given(blob=st.binary(max_size=2048))
def test_random_bytes(blob):
    load_and_print(blob)


@FUZZ
@given(blob=st.binary(min_size=0, max_size=200))
def test_random_bytes_behind_a_valid_magic(blob):
    load_and_print(MAGIC + struct.pack("<H", VERSION) + blob)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(_BLOB) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.none() | st.integers(0, len(_BLOB)))
def test_mutated_valid_image(edits, cut):
    bad = bytearray(_BLOB)
    for pos, val in edits:
        bad[pos] = val
    load_and_print(bytes(bad[:cut] if cut is not None else bad))


_SECTION_KINDS = [k for k, _, _ in _sections(_BLOB)[1]]


@FUZZ
@given(which=st.integers(0, len(_SECTION_KINDS) - 1),
       edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
       grow=st.binary(max_size=40), cut=st.none() | st.integers(0, 10_000))
def test_mutated_section_with_valid_checksums(which, edits, grow, cut):
    """Checksums recomputed around the damage, so the section decoder itself is fuzzed."""
    fp, secs = _sections(_BLOB)
    kind, chip, payload = secs[which]
    p = bytearray(payload)
    for pos, val in edits:
        if p:
            p[pos % len(p)] = val
    p = bytes(p[:cut] if cut is not None else p) + grow
    secs[which] = (kind, chip, p)
    load_and_print(_build(fp, secs))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["chip", "slot", "addr", "dtype", "shape", "nbytes", "name", "rows", "value", "kind", "x"]),
        inner, max_size=7),
    max_leaves=20)


def _entry(kind: bytes):
    """Mostly well-formed table entries with fuzzed values."""
    val = st.one_of(st.integers(-3, 10_500), st.sampled_from([0, 1, 2, 20, 63, 64, 143, 144, 8191]),
                    _JSON)
    dtype = st.sampled_from(["i8", "i16", "i32", "f16", "f32", "i7", ""]) | _JSON
    if kind == b"DMET":
        return st.fixed_dictionaries({"chip": val, "slot": val, "addr": val, "dtype": dtype,
                                      "shape": st.lists(val, max_size=3) | val, "nbytes": val})
    if kind == b"OUTP":
        return st.fixed_dictionaries({"name": st.text(max_size=6) | _JSON, "chip": val, "slot": val,
                                      "addr": val, "dtype": dtype, "rows": val})
    return st.fixed_dictionaries({"name": st.text(max_size=6) | _JSON, "value": val,
                                  "kind": st.sampled_from(["equ", "label", "other"]) | _JSON, "chip": val})


@FUZZ
@given(data=st.data(), kind=st.sampled_from([b"DMET", b"OUTP", b"SYMB", b"FILE"]))
def test_fuzzed_json_tables(data, kind):
    if kind == b"FILE":
        value = data.draw(st.lists(st.text(max_size=5), max_size=3) | _JSON)
    else:
        value = data.draw(st.lists(_entry(kind), max_size=3) | _JSON)
    payload = json.dumps(value).encode()
    fp, secs = _sections(_BLOB)
    secs = [(k, c, payload if k == kind else p) for k, c, p in secs]
    if kind == b"DMET":  # keep DPAY consistent with whatever sizes were declared, sometimes
        sizes = [e.get("nbytes") for e in value] if isinstance(value, list) and all(
            isinstance(e, dict) for e in value) else []
        if sizes and all(isinstance(n, int) and 0 <= n < 4096 for n in sizes) and data.draw(st.booleans()):
            secs = [(k, c, bytes(sum(sizes)) if k == b"DPAY" else p) for k, c, p in secs]
    load_and_print(_build(fp, secs))


@FUZZ
@given(data=st.data())
def test_fuzzed_code_words(data):
    """Random instruction words in a valid image: decode errors are ImageErrors."""
    fp, secs = _sections(_BLOB)
    which = next(i for i, (k, _, _) in enumerate(secs) if k == b"CODE")
    kind, chip, payload = secs[which]
    head, body = payload[:16], bytearray(payload[16:])
    rows = len(body) // (len(ISA.queues) * 16)
    for _ in range(data.draw(st.integers(1, 4))):
        row = data.draw(st.integers(0, rows - 1))
        slot = data.draw(st.integers(0, len(ISA.queues) - 1))
        spec = data.draw(st.sampled_from(ISA.instructions))
        word = spec.match
        for f in spec.fields:
            word |= data.draw(st.integers(0, (1 << f.width) - 1)) << f.lo
        if data.draw(st.booleans()):
            word = data.draw(st.integers(0, (1 << 128) - 1))
        off = (row * len(ISA.queues) + slot) * 16
        body[off:off + 16] = word.to_bytes(16, "little")
    secs[which] = (kind, chip, head + bytes(body))
    load_and_print(_build(fp, secs))


# Checksummed images whose contents crash the reader instead of raising ImageError.
IMAGE_CRASHERS = {
    "data shape 1e400": (b"DMET", b'[{"chip":0,"slot":20,"addr":0,"dtype":"i8","shape":[1e400],"nbytes":1}]'),
    "data chip 1e400": (b"DMET", b'[{"chip":1e400,"slot":20,"addr":0,"dtype":"i8","shape":[1],"nbytes":1}]'),
    "symbol table nested 100000 deep": (b"SYMB", b"[" * 100_000 + b"]" * 100_000),
    # validate() accepts a symbol whose chip is not an integer; disassemble then sorts
    # chips and raises TypeError.
    "symbol chip null": (b"SYMB", b'[{"name": "a", "value": 0, "kind": "equ", "chip": null}]'),
    "symbol chip string": (b"SYMB", b'[{"name": "a", "value": 0, "kind": "label", "chip": "x"}]'),
}


@pytest.mark.parametrize("kind,payload", list(IMAGE_CRASHERS.values()), ids=list(IMAGE_CRASHERS))
def test_known_image_crashers_are_image_errors(kind, payload):
    fp, secs = _sections(_BLOB)
    blob = _build(fp, [(k, c, payload if k == kind else p) for k, c, p in secs])
    try:
        load_and_print(blob)
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{type(exc).__name__} instead of ImageError: {str(exc)[:120]}")
