"""Diagnostics: each mistake is reported at the right file:line:col, with the
source line, a caret under the column, and a hint or note where one helps.

The rendered shape is llvm-mc / rustc style:

    file:line:col: error: message
      <source line>
      <spaces>^
      note: ...
      hint: ...
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from tspasm import AssemblyError, assemble_file, assemble_text
from tspasm.asm.diagnostics import Diagnostic

PATH = "prog.tsp"


def errors(src: str, path: str = PATH, **kw) -> AssemblyError:
    with pytest.raises(AssemblyError) as info:
        assemble_text(src, path, **kw)
    return info.value


def file_errors(path) -> AssemblyError:
    with pytest.raises(AssemblyError) as info:
        assemble_file(str(path))
    return info.value


def only(err: AssemblyError) -> Diagnostic:
    assert len(err.diagnostics) == 1, str(err)
    return err.diagnostics[0]


def check(d: Diagnostic, line: int, col: int, message: str | re.Pattern, path: str = PATH,
          src: str | None = None) -> None:
    """Position, message, and the rendered block (header, source line, caret)."""
    assert (d.path, d.line, d.col) == (path, line, col), d.render()
    if isinstance(message, re.Pattern):
        assert message.search(d.message), d.message
    else:
        assert d.message == message
    assert d.severity == "error"
    lines = d.render().split("\n")
    assert lines[0] == f"{path}:{line}:{col}: error: {d.message}"
    if src is not None:
        assert d.source_line == src.split("\n")[line - 1]
    assert lines[1] == "  " + d.source_line.replace("\t", " ")
    assert lines[2] == "  " + " " * (col - 1) + "^"
    # The caret sits under column `col` of the source line.
    assert lines[2].index("^") - 2 == col - 1


def col_of(src_line: str, needle: str) -> int:
    """Column of the last occurrence of needle (operands come after queue names)."""
    assert needle in src_line
    return src_line.rindex(needle) + 1


def number_cols(src_line: str, literal: str) -> set[int]:
    """A negative literal may be marked at its sign or at its digits."""
    col = col_of(src_line, literal)
    return {col, col + 1} if literal.startswith("-") else {col}


# ---- placement and mnemonics ------------------------------------------------------------

def test_instruction_on_the_wrong_queue():
    src = "@0 VXM0: nop 1\n    MEM_W3: add.i8 S0E, S1E -> S2E\n"
    d = only(errors(src))
    check(d, 2, 5, "MEM_W3 cannot issue add.i8 (a VXM instruction)", src=src)
    assert "VXM0..VXM15" in d.hint
    assert "MEM_W3 is a MEM queue" in d.hint and "read" in d.hint
    rendered = d.render()
    assert rendered.endswith("  hint: " + d.hint)


def test_misspelled_mnemonic_suggests_the_right_one():
    src = "VXM0: ad.i8 S0E, S1E -> S2E\n"
    d = only(errors(src))
    check(d, 1, 7, "unknown instruction `ad`", src=src)
    assert d.hint.startswith("did you mean") and "`add`" in d.hint


def test_misspelled_mnemonic_of_another_unit():
    d = only(errors("MEM_W0: raed 0, S0E\n"))
    check(d, 1, 9, "unknown instruction `raed`")
    assert "`read`" in d.hint


def test_unknown_queue_with_suggestion():
    src = "@2 { VXM0: nop 1 | VXM99: add.i8 S0E, S1E -> S2E }\n"
    d = only(errors(src))
    check(d, 1, col_of(src, "VXM99"), "unknown queue `VXM99`", src=src)
    assert "did you mean" in d.hint and "`VXM9`" in d.hint


def test_unknown_queue_without_close_match_lists_the_queues():
    d = only(errors("QQQQQQQQ: nop 1\n"))
    check(d, 1, 1, "unknown queue `QQQQQQQQ`")
    assert "MEM_W0..MEM_W43" in d.hint and "VXM0..VXM15" in d.hint


@pytest.mark.parametrize("src,message,hint_has", [
    ("VXM0: add.i9 S0E, S1E -> S2E", re.compile(r"^`\.i9` is not an? .*`add`"), "i8, i16, i32, f16, f32"),
    ("VXM0: exp.i8 S0E -> S2E", "`exp` has no .i8 form", "f16, f32"),
    ("VXM0: add.f16.sat S0E, S2E -> S4E", "`.sat` does not apply to `add.f16.sat`", "i8, i16, i32"),
    ("VXM0: add S0E, S1E -> S2E", "`add` needs a .dtype suffix", "add.{dtype}"),
    ("VXM0: add.i8.sat.x S0E, S1E -> S2E", "`add.i8.sat.x` has too many suffixes", "add.{dtype}"),
    ("VXM0: cmp.i8.eq S0E, S1E -> S2E", re.compile(r"^`\.i8` is not .*`cmp`"), "eq, ne, lt, le, gt, ge"),
])
def test_bad_suffix(src, message, hint_has):
    d = only(errors(src + "\n"))
    check(d, 1, 7, message, src=src)
    assert hint_has in d.hint


# ---- operands --------------------------------------------------------------------------------

@pytest.mark.parametrize("src,needle,message,hint", [
    ("MEM_W0: read 8192, S0E", "8192", "MEM word address 8192 out of range for read", "addr must be in 0..8191"),
    ("SHF_W0: shift.up.i8 S0E, 320 -> S1E", "320", "lane distance 320 out of range for shift",
     "lanes must be in 0..319"),
    ("VXM0: nop 0", "0", None, "count must be in 1..4294967295"),
    ("MEM_W0: read 0, S0E, 4096", "4096", None, "step must be in -4096..4095"),
    ("MEM_W0: read 0, S0E, -4097", "-4097", None, "step must be in -4096..4095"),
    ("MXM0_C: acc.set.i32 S0E, 1024", "1024", None, "slot must be in 0..1023"),
])
def test_operand_out_of_range(src, needle, message, hint):
    d = only(errors(src + "\n"))
    assert d.col in number_cols(src, needle), d.render()
    check(d, 1, d.col, message or re.compile(r"out of range for"), src=src)
    assert d.hint == hint


def test_choice_operand_not_in_its_values():
    src = "ROT_W: rotate 5, S0E -> S16E"
    d = only(errors(src + "\n"))
    check(d, 1, col_of(src, "5"), "operand n of rotate must be one of 3, 4, got 5")


def test_enum_operand_must_be_named():
    # `mode` is a suffix of acc, so use a stream where a link is wanted instead.
    src = "C2C_W0: send S0E, S1E"
    d = only(errors(src + "\n"))
    check(d, 1, col_of(src, "S0E"), re.compile(r"must be a link L0\.\.L15, got `S0E`"))


def test_operand_out_of_range_through_a_symbol_points_at_the_use():
    src = ".equ TOO_FAR, 9000\nMEM_W0: read TOO_FAR, S0E\n"
    d = only(errors(src))
    check(d, 2, 14, "MEM word address 9000 out of range for read", src=src)


@pytest.mark.parametrize("src,needle,message", [
    ("VXM0: add.i8 S0E, S1E", None, "add takes 3 operands, got 2"),
    ("VXM0: add.i8 S0E, S1E -> S2E, S3E", "S3E", "add takes 3 operands, got 4"),
    ("MEM_W0: read 0", None, "read takes 2 to 3 operands, got 1"),
    ("VXM0: sync 1", "1", "sync takes 0 operands, got 1"),
    ("VXM0: nop", None, "nop takes 1 operand, got 0"),
])
def test_wrong_operand_count(src, needle, message):
    d = only(errors(src + "\n"))
    col = col_of(src, needle) if needle else 7 if src.startswith("VXM") else 9
    check(d, 1, col, message, src=src)
    assert d.hint.startswith("write ")


def test_wrong_separator():
    src = "VXM0: add.i8 S0E -> S1E, S2E"
    err = errors(src + "\n")
    assert [(d.col, d.message) for d in err.diagnostics] == [
        (col_of(src, "S1E"), "expected ',' before operand b"),
        (col_of(src, "S2E"), "expected '->' before operand dst"),
    ]


@pytest.mark.parametrize("bad", ["S32E", "S1X", "foo", "SG3_0E", "SG4_8E"])
def test_bad_stream_name(bad):
    src = f"VXM0: add.i8 S0E, {bad} -> S2E"
    d = only(errors(src + "\n"))
    check(d, 1, col_of(src, bad), re.compile(rf"(must be a stream, got `{bad}`|no stream group {bad})"))


def test_stream_group_alignment_and_extent():
    src = "MXM0_W: lw S3E\n@1 VXM0: add.i32 S30E, S0E -> S4E\n"
    err = errors(src)
    a, b = err.diagnostics
    check(a, 1, 12, "lw takes an aligned group of 16 streams", src=src)
    assert a.hint == "src must be S0E, S16E"
    check(b, 2, 18, "add needs 4 streams from S30E, past S31E", src=src)
    assert b.hint == "start the group at S28E or lower"


@pytest.mark.parametrize("queue,link,side", [("C2C_W0", 12, "west"), ("C2C_E3", 7, "east")])
def test_link_on_the_wrong_hemisphere(queue, link, side):
    src = f"{queue}: send L{link}, S0E"
    d = only(errors(src + "\n"))
    check(d, 1, col_of(src, f"L{link}"), f"{queue} cannot drive link L{link}")
    assert side in d.hint


# ---- syntax errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("src,col,message", [
    ("VXM0: add.i8 S0E, S1E -> S2E )", 30, "syntax error: unexpected ')'"),
    ("@0 { VXM0: nop 1 | ", 19, "syntax error: unexpected end of line"),
    ("add.i8 S0E, S1E -> S2E", 4, "syntax error: unexpected character '.'"),
    ("VXM0: nop 1 $", 13, "syntax error: unexpected character '$'"),
    ("@ VXM0: nop 1", 7, "syntax error: unexpected ':'"),  # VXM0 is read as the cycle
])
def test_syntax_error_caret(src, col, message):
    full = "; leading comment\n\n" + src + "\n"
    d = only(errors(full))
    check(d, 3, col, message, src=full)


def test_syntax_error_says_what_was_expected():
    d = only(errors("VXM0: add.i8 S0E, S1E -> S2E )\n"))
    assert d.hint.startswith("expected ")
    assert "'|'" in d.hint


def test_queue_missing_hint():
    d = only(errors("add.i8 S0E, S1E -> S2E\n"))
    assert "names its queue first" in d.hint


def test_syntax_error_inside_a_multi_line_bundle_points_at_its_line():
    src = "@0 {\n  VXM0: nop 1\n  VXM1: nop 1 $\n}\n"
    d = only(errors(src))
    check(d, 3, 15, "syntax error: unexpected character '$'", src=src)


# ---- scheduling ---------------------------------------------------------------------------------

def test_two_instructions_on_one_queue_in_one_cycle_names_both():
    src = "@3 VXM0: nop 1\n@3 VXM0: add.i8 S0E, S1E -> S2E\n"
    d = only(errors(src))
    check(d, 2, 4, "two instructions on VXM0 in cycle 3", src=src)
    assert d.notes == (f"the other is `nop 1` at cycle 3 ({PATH}:1:4)",)
    assert f"  note: {d.notes[0]}" in d.render()


def test_two_instructions_in_one_bundle_on_one_queue():
    src = "@7 { VXM2: mov.i8 S0E -> S1E | VXM2: relu.i8 S0E -> S1E }\n"
    d = only(errors(src))
    check(d, 1, col_of(src, "VXM2: relu"), "two instructions on VXM2 in cycle 7")
    assert "mov.i8 S0E -> S1E" in d.notes[0]


def test_issue_while_busy_after_nop():
    src = "@0 VXM0: nop 5\n@3 VXM0: add.i8 S0E, S1E -> S2E\n"
    d = only(errors(src))
    check(d, 2, 4, "VXM0 is still busy in cycle 3", src=src)
    assert d.hint == "issue at cycle 5 or later"
    assert d.notes == (f"`nop 5` at cycle 0 ({PATH}:1:4) keeps it busy until cycle 4",)


def test_issue_while_busy_after_repeat():
    src = "@0 VXM0: add.i8 S0E, S1E -> S2E\n@1 VXM0: repeat 3, 2\n@5 VXM0: add.i8 S0E, S1E -> S2E\n"
    d = only(errors(src))
    check(d, 3, 4, "VXM0 is still busy in cycle 5", src=src)
    assert d.hint == "issue at cycle 7 or later"
    assert "`repeat 3, 2` at cycle 1" in d.notes[0] and "until cycle 6" in d.notes[0]


def test_busy_boundary_is_exact():
    assemble_text("@0 VXM0: nop 5\n@5 VXM0: add.i8 S0E, S1E -> S2E\n")
    assemble_text("@0 VXM0: add.i8 S0E, S1E -> S2E\n@1 VXM0: repeat 3, 2\n@7 VXM0: nop 1\n")


@pytest.mark.parametrize("src,line,hint_has", [
    ("@0 VXM0: add.i8 S0E, S1E -> S2E\n@2 VXM0: repeat 3, 2\n", 2, "`add.i8 S0E, S1E -> S2E` at cycle 0"),
    ("@0 VXM0: repeat 3, 2\n", 1, "is nothing"),
    ("@0 VXM0: config 1\n@1 VXM0: repeat 3, 2\n", 2, "config"),
    ("@0 VXM0: add.i8 S0E, S1E -> S2E\n@1 VXM1: repeat 3, 2\n", 2, "is nothing"),
])
def test_repeat_not_right_after_its_instruction(src, line, hint_has):
    d = only(errors(src))
    check(d, line, 4, "repeat must issue the cycle after the unit instruction it repeats", src=src)
    assert hint_has in d.hint


def test_repeat_that_steps_an_address_out_of_range():
    src = "@0 MEM_W0: read 8190, S0E\n@1 MEM_W0: repeat 3, 1\n"
    d = only(errors(src))
    check(d, 2, 4, re.compile(r"^repeat 3 steps addr of `read 0x1ffe, S0E` at cycle 0 to 8193, "
                              r"outside 0\.\.8191$"), src=src)
    assert "at most 1 time" in d.hint
    assemble_text("@0 MEM_W0: read 8190, S0E\n@1 MEM_W0: repeat 1, 1\n")
    assemble_text("@0 MEM_W0: read 8191, S0E, 0\n@1 MEM_W0: repeat 1000, 1\n")


@pytest.mark.parametrize("src,line,cycle", [
    ("@0 VXM0: sync\n", 1, 0),
    ("@0 VXM1: notify\n@10 VXM0: sync\n", 2, 10),
    (".chip 1\n@0 VXM1: notify\n.chip 0\n@2 VXM0: sync\n", 4, 2),  # a notify on another chip
])
def test_sync_never_released(src, line, cycle):
    d = only(errors(src))
    check(d, line, 4 + len(str(cycle)) - 1, f"sync at cycle {cycle} is never released", src=src)
    assert "notify" in d.hint


def test_sync_released_by_a_recent_notify_is_fine():
    notify_latency = 4
    assemble_text(f"@0 VXM1: notify\n@{notify_latency - 1} VXM0: sync\n")
    errors(f"@0 VXM1: notify\n@{notify_latency} VXM0: sync\n")


# ---- symbols ---------------------------------------------------------------------------------------

def test_undefined_symbol():
    src = "MEM_W0: read ADDR, S0E\n"
    d = only(errors(src))
    check(d, 1, 14, "undefined symbol `ADDR`", src=src)
    assert ".equ" in d.hint


def test_undefined_symbol_suggests_a_close_one():
    src = ".equ ADDRESS, 1\nMEM_W0: read ADDRES, S0E\n"
    d = only(errors(src))
    check(d, 2, 14, "undefined symbol `ADDRES`", src=src)
    assert d.hint == "did you mean `ADDRESS`?"


def test_undefined_symbol_in_a_cycle_and_in_data():
    src = "@START VXM0: nop 1\n.data MEM_W0 WHERE i8 [1]\n"
    err = errors(src)
    assert [(d.line, d.col, d.message) for d in err.diagnostics] == [
        (1, 2, "undefined symbol `START`"), (2, 14, "undefined symbol `WHERE`")]


@pytest.mark.parametrize("src,line,col,first", [
    (".equ X, 1\n.equ X, 2\n", 2, 6, "1:6"),
    ("top:\n@0 VXM0: nop 1\ntop:\n@1 VXM0: nop 1\n", 3, 1, "1:1"),
    (".equ here, 3\nhere:\n@0 VXM0: nop 1\n", 2, 1, "1:6"),
])
def test_duplicate_symbol(src, line, col, first):
    d = only(errors(src))
    check(d, line, col, re.compile(r"^symbol `\w+` is already defined$"), src=src)
    assert d.notes == (f"first defined at {PATH}:{first}",)


@pytest.mark.parametrize("name", ["S0E", "S31W", "L3", "VXM0", "MEM_E43"])
def test_reserved_names_are_not_symbols(name):
    d = only(errors(f".equ {name}, 1\n"))
    check(d, 1, 6, f"`{name}` is a reserved name and cannot be a symbol")


def test_expression_errors():
    err = errors(".equ A, 1 / 0\n.equ B, 1 << 64\n.equ C, 1 << 63 << 1\n")
    assert [(d.line, d.message) for d in err.diagnostics] == [
        (1, "division by zero"), (2, "shift by 64 out of range"),
        (3, "expression value does not fit in 64 bits")]


def test_cycle_and_chip_out_of_range():
    err = errors("@281474976710656 VXM0: nop 1\n.chip 10440\n")
    a, b = err.diagnostics
    check(a, 1, 2, "cycle 281474976710656 out of range")
    check(b, 2, 7, "chip 10440 out of range")


# ---- .data ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,value,message", [
    ("i8", "128", "128 does not fit in int8"),
    ("i8", "-129", "-129 does not fit in int8"),
    ("i16", "40000", "40000 does not fit in int16"),
    ("i32", "0x80000000", "2147483648 does not fit in int32"),
    ("f16", "1e6", "1e6 overflows float16"),
    ("f32", "1e39", "1e39 overflows float32"),
    ("i8", "1.5", "`1.5` is not an integer"),
    ("i32", "inf", "`inf` is not an integer"),
])
def test_data_value_out_of_range_for_its_type(dtype, value, message):
    src = f".data MEM_W0 0 {dtype} [1, {value}, 2]"
    d = only(errors(src + "\n"))
    assert d.col in number_cols(src, value), d.render()
    check(d, 1, d.col, message, src=src)


def test_data_value_error_on_a_continuation_line():
    src = ".data MEM_W0 0 i8 [\n  [1, 2],\n  [3, 300]\n]\n"
    d = only(errors(src))
    check(d, 3, 7, "300 does not fit in int8", src=src)


def test_data_placement_errors():
    src = (".data MEM_W43 0 i16 [1]\n.data VXM0 0 i8 [1]\n.data MEM_W0 8192 i8 [1]\n"
           ".data MEM_W0 0 i7 [1]\n.data MEM_W0 8190 i8 [[1], [2], [3]]\n")
    err = errors(src)
    got = [(d.line, d.col, d.message) for d in err.diagnostics]
    assert got == [
        (1, 7, "2-byte elements at MEM_W43 need slices MEM_W43..MEM_W44"),
        (2, 7, "`VXM0` is not a MEM slice"),
        (3, 14, "address 8192 with 1 vector(s) does not fit in MEM"),
        (4, 16, "unknown element type `i7`"),
        (5, 14, "address 8190 with 3 vector(s) does not fit in MEM"),
    ]


def test_data_overlapping():
    src = ".data MEM_W0 0 i16 [1]\n.data MEM_W1 0 i8 [2]\n"
    d = only(errors(src))
    check(d, 2, 14, ".data overlaps earlier .data in MEM_W1 at address 0", src=src)
    assert d.notes == (f"the other .data is at {PATH}:1:7",)


def test_data_rows_overlap_but_neighbours_do_not():
    assemble_text(".data MEM_W0 0 i8 [[1], [2]]\n.data MEM_W0 2 i8 [3]\n.data MEM_W1 0 i8 [4]\n")
    d = only(errors(".data MEM_W0 0 i8 [[1], [2]]\n.data MEM_W0 1 i8 [3]\n"))
    check(d, 2, 14, ".data overlaps earlier .data in MEM_W0 at address 1")


def test_data_overlap_reported_at_the_right_statement_after_an_earlier_bad_data():
    """A .data that fails (line 1) must not shift which statement an overlap is blamed on."""
    src = ".data MEM_W0 0 i8 [300]\n.data MEM_W5 0 i8 [1]\n.data MEM_W5 0 i8 [2]\n"
    err = errors(src)
    got = [(d.line, d.message) for d in err.diagnostics]
    assert (3, ".data overlaps earlier .data in MEM_W5 at address 0") in got, got
    overlap = next(d for d in err.diagnostics if "overlaps" in d.message)
    assert overlap.notes == (f"the other .data is at {PATH}:2:7",)


def test_every_overlapping_data_is_reported():
    """C overlaps A without touching B (sorted by address A, B, C): both overlaps are errors."""
    src = (".data MEM_W0 0 i8 [[1], [1], [1], [1], [1], [1], [1], [1]]\n"
           ".data MEM_W0 1 i8 [2]\n.data MEM_W0 5 i8 [3]\n")
    err = errors(src)
    assert sorted(d.line for d in err.diagnostics) == [2, 3], str(err)


def test_bad_data_shapes():
    err = errors(".data MEM_W0 0 i8 []\n.data MEM_W2 0 i8 [[1, 2], [3]]\n.data MEM_W4 0 i8 [[[1]]]\n"
                 ".data MEM_W6 0 i8 [" + ", ".join(["1"] * 321) + "]\n")
    assert [d.line for d in err.diagnostics] == [1, 2, 3, 4]
    assert err.diagnostics[1].message == "rows of a .data list must all have the same length"


def test_npy_missing(tmp_path):
    src = tmp_path / "p.tsp"
    src.write_text('.data MEM_W0 0 i32 "nope.npy"\n')
    d = only(file_errors(src))
    check(d, 1, 20, f"cannot open `{tmp_path / 'nope.npy'}`: no such file", path=str(src))


@pytest.mark.parametrize("stored,declared,message", [
    (np.array([1.5, 2.0], np.float32), "i32", "holds float32 values that int32 cannot represent exactly"),
    (np.array([1, 300], np.int32), "i8", "holds int32 values that int8 cannot represent exactly"),
    (np.array([70000.0], np.float32), "f16", "holds float32 values that float16 cannot represent exactly"),
    (np.array([0.1], np.float64), "f32", "holds float64 values that float32 cannot represent exactly"),
])
def test_npy_lossy_conversion(tmp_path, stored, declared, message):
    np.save(tmp_path / "v.npy", stored)
    src = tmp_path / "p.tsp"
    text = f'.data MEM_W0 0 {declared} "v.npy"'
    src.write_text(text + "\n")
    d = only(file_errors(src))
    check(d, 1, col_of(text, '"v.npy"'), f"`{tmp_path / 'v.npy'}` {message}", path=str(src))
    assert declared in {"i32": "int32", "i8": "int8", "f16": "float16", "f32": "float32"} and d.hint


def test_npy_exact_conversion_is_accepted(tmp_path):
    np.save(tmp_path / "v.npy", np.array([[1, -2], [3, 4]], np.int64))
    src = tmp_path / "p.tsp"
    src.write_text('.data MEM_W0 0 i8 "v.npy"\n')
    seg = assemble_file(str(src)).program.data[0]
    assert seg.shape == (2, 2) and np.frombuffer(seg.data, np.int8).tolist() == [1, -2, 3, 4]


# ---- .include ------------------------------------------------------------------------------------

def test_include_missing(tmp_path):
    src = tmp_path / "p.tsp"
    src.write_text('@0 VXM0: nop 1\n.include "gone.inc"\n')
    d = only(file_errors(src))
    check(d, 2, 10, re.compile(r"^cannot read `.*gone\.inc`: No such file"), path=str(src))


def test_circular_include(tmp_path):
    (tmp_path / "a.inc").write_text('@0 VXM0: nop 1\n.include "b.inc"\n')
    (tmp_path / "b.inc").write_text('.include "a.inc"\n')
    src = tmp_path / "p.tsp"
    src.write_text('.include "a.inc"\n')
    d = only(file_errors(src))
    check(d, 1, 10, "`a.inc` includes itself", path=str(tmp_path / "b.inc"))
    assert "circular" in d.hint


def test_self_include(tmp_path):
    src = tmp_path / "p.tsp"
    src.write_text('.include "p.tsp"\n')
    d = only(file_errors(src))
    check(d, 1, 10, "`p.tsp` includes itself", path=str(src))


def test_errors_inside_an_included_file_point_into_it(tmp_path):
    (tmp_path / "body.inc").write_text("; body\n@0 VXM0: ad.i8 S0E, S1E -> S2E\n")
    src = tmp_path / "p.tsp"
    src.write_text('.include "body.inc"\n')
    d = only(file_errors(src))
    check(d, 2, 10, "unknown instruction `ad`", path=str(tmp_path / "body.inc"))


# ---- all errors at once, sorted ---------------------------------------------------------------------

def test_all_errors_of_a_file_are_reported_together_sorted_by_line():
    src = "\n".join([
        "VXM0: ad.i8 S0E, S1E -> S2E",           # 1 binder: unknown instruction
        ".equ X, 1",                             # 2
        "MEM_W3: add.i8 S0E, S1E -> S2E",        # 3 binder: wrong queue
        ".equ X, 2",                             # 4 pass 1: duplicate symbol
        "VXM1: nop 1 )",                         # 5 parser: syntax error
        ".data MEM_W0 0 i8 [999]",               # 6 data
        "@9 VXM2: nop 1",                        # 7
        "@9 VXM2: nop 1",                        # 8 scheduler: two in one cycle
        "MEM_W0: read UNDEFINED, S0E",           # 9 undefined symbol
        "@0 VXM3: sync",                         # 10 scheduler: never released
    ]) + "\n"
    err = errors(src)
    lines = [d.line for d in err.diagnostics]
    assert lines == [1, 3, 4, 5, 6, 8, 9, 10], str(err)
    assert lines == sorted(lines)
    text = str(err)
    assert text.endswith("\n8 errors generated.")
    # Rendered in the same order.
    headers = [ln for ln in text.split("\n") if re.match(rf"{re.escape(PATH)}:\d+:\d+: error: ", ln)]
    assert [int(h.split(":")[1]) for h in headers] == lines


def test_errors_from_several_files_are_sorted_by_file_then_line(tmp_path):
    (tmp_path / "z.inc").write_text("VXM0: ad.i8 S0E, S1E -> S2E\n")
    src = tmp_path / "a.tsp"
    src.write_text('VXM1: nopp 1\n.include "z.inc"\nVXM2: nopp 1\n')
    err = file_errors(src)
    got = [(d.path, d.line) for d in err.diagnostics]
    assert got == sorted(got)
    assert got == [(str(src), 1), (str(src), 3), (str(tmp_path / "z.inc"), 1)]


def test_one_error_summary_is_singular():
    assert str(errors("VXM0: nopp 1\n")).endswith("\n1 error generated.")


def test_tabs_in_the_source_line_keep_the_caret_aligned():
    src = "\tVXM0:\tad.i8 S0E, S1E -> S2E\n"
    d = only(errors(src))
    assert (d.line, d.col) == (1, 8)
    lines = d.render().split("\n")
    assert lines[1] == "   VXM0: ad.i8 S0E, S1E -> S2E"
    assert lines[2].index("^") == lines[1].index("ad.i8")


@pytest.mark.parametrize("memoize", [True, False])
def test_positions_are_the_same_with_and_without_the_shape_cache(memoize):
    src = ("VXM0: add.i8 S0E, S1E -> S2E\nVXM1: add.i8 S0E, S1E -> S99E\n"
           "VXM2: add.i8 S0E, S1E -> S2E\nVXM3: add.i8 S0E, SS1E -> S2E\n")
    err = errors(src, memoize=memoize)
    assert [(d.line, d.col) for d in err.diagnostics] == [(2, 26), (4, 19)]
