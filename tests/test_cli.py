"""The `tspasm` command line, called in-process through tspasm.cli.main.main.

Exit codes: 0 success, 1 the input was wrong (diagnostics on stderr), 2 bad
usage, 3 an internal error.  Never a Python traceback.
"""
from __future__ import annotations

import re

import pytest

from tspasm import assemble_file, assemble_text, default_isa
from tspasm.asm.printer import format_instruction
from cli_helpers import run_cli as run
from tspasm.cli.main import main
from tspasm.image import read_file, write_bytes, write_file

ISA = default_isa()

SOURCE = """\
; vector add
.data MEM_W0 0x10 i8 [1, 2, 3]
.data MEM_W1 0x11 i8 [4, 5, 6]
start:
@0 { MEM_W0: read 0x10, S0E | MEM_W1: read 0x11, S1E }
@5 VXM0: add.i8 S0E, S1E -> S2E
VXM0: repeat 2, 1
@9 MEM_E0: write 0x20, S2W
.output sum = MEM_E0 0x20 i8
.chip 1
@3 VXM1: mov.i16 S2E -> S4E
"""


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "prog.tsp"
    path.write_text(SOURCE)
    return path


@pytest.fixture(autouse=True)
def no_debug(monkeypatch):
    monkeypatch.delenv("TSPASM_DEBUG", raising=False)


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text


# ---- asm ------------------------------------------------------------------------------------------

def test_asm_writes_the_image_and_a_summary(capsys, src, tmp_path):
    out_path = tmp_path / "out.tspo"
    code, out, err = run(capsys, "asm", src, "-o", out_path)
    assert (code, err) == (0, "")
    assembly = assemble_file(str(src))
    assert out_path.read_bytes() == write_bytes(assembly.program)
    assert out.startswith(f"{out_path}: ")
    assert f"{len(assembly.placed)} instructions" in out and "2 chip(s)" in out


def test_asm_default_output_is_next_to_the_source(capsys, src):
    code, _, _ = run(capsys, "asm", src)
    assert code == 0
    assert src.with_suffix(".tspo").read_bytes() == write_bytes(assemble_file(str(src)).program)


def test_asm_listing(capsys, src, tmp_path):
    listing = tmp_path / "prog.lst"
    code, _, err = run(capsys, "asm", src, "-o", tmp_path / "p.tspo", "--listing", listing)
    assert (code, err) == (0, "")
    text = listing.read_text()
    assert text.startswith("; tspasm listing")
    assert ISA.fingerprint[:16] in text.split("\n")[0]
    assembly = assemble_file(str(src))
    rows = [ln for ln in text.split("\n") if ln and not ln.startswith(";")]
    assert len(rows) == len(assembly.placed) == 6
    for p, row in zip(assembly.placed, rows):
        path, line, col = p.pos.resolve()
        fields = row.split()
        # source position, chip, queue, cycle, row, encoding, instruction
        assert fields[0].endswith(f"{line}:{col}")
        assert fields[1:5] == [str(p.chip), ISA.queues[p.slot].name, str(p.cycle), str(p.row)]
        assert fields[5] == f"{p.word:032x}" and re.fullmatch(r"[0-9a-f]{32}", fields[5])
        assert row.endswith(format_instruction(ISA, p.spec, p.values))
    # Listed in (chip, cycle) order, with both chips.
    assert [(int(r.split()[1]), int(r.split()[3])) for r in rows] == sorted(
        (int(r.split()[1]), int(r.split()[3])) for r in rows)
    assert {r.split()[1] for r in rows} == {"0", "1"}
    assert "; chip 0:" in text and "; chip 1:" in text


def test_listing_names_the_repeat_and_its_cycle(capsys, src, tmp_path):
    listing = tmp_path / "prog.lst"
    run(capsys, "asm", src, "-o", tmp_path / "p.tspo", "--listing", listing)
    line = next(ln for ln in listing.read_text().split("\n") if "repeat 2, 1" in ln)
    assert line.split()[2:4] == ["VXM0", "6"]


# ---- disasm ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [[], ["--no-loc"]], ids=["with-loc", "no-loc"])
def test_disasm_prints_text_that_reassembles_identically(capsys, src, tmp_path, flags):
    image = tmp_path / "p.tspo"
    assert run(capsys, "asm", src, "-o", image)[0] == 0
    code, out, err = run(capsys, "disasm", image, *flags)
    assert (code, err) == (0, "")
    assert out.startswith("; disassembled by tspasm")
    again = assemble_text(out, "again.tsp").program
    original = read_file(str(image), ISA)
    if not flags:
        assert write_bytes(again) == image.read_bytes()
    else:
        assert ".loc" not in out
        again.lines, again.files = original.lines, original.files
        assert write_bytes(again) == image.read_bytes()


def test_disasm_to_a_file(capsys, src, tmp_path):
    image, text = tmp_path / "p.tspo", tmp_path / "p.dis.tsp"
    run(capsys, "asm", src, "-o", image)
    code, out, err = run(capsys, "disasm", image, "-o", text)
    assert (code, out, err) == (0, "", "")
    assert write_bytes(assemble_file(str(text)).program) == image.read_bytes()


# ---- errors ---------------------------------------------------------------------------------------

def test_assembly_errors_exit_1_with_diagnostics_on_stderr(capsys, tmp_path):
    bad = tmp_path / "bad.tsp"
    bad.write_text("@0 VXM0: nop 1\nMEM_W3: add.i8 S0E, S1E -> S2E\nVXM1: ad.i8 S0E, S1E -> S2E\n")
    code, out, err = run(capsys, "asm", bad, "-o", tmp_path / "bad.tspo")
    assert code == 1
    assert out == ""
    assert_no_traceback(err)
    lines = err.split("\n")
    assert lines[0] == f"{bad}:2:1: error: MEM_W3 cannot issue add.i8 (a VXM instruction)"
    assert lines[1] == "  MEM_W3: add.i8 S0E, S1E -> S2E"
    assert lines[2] == "  ^"
    assert f"{bad}:3:7: error: unknown instruction `ad`" in lines
    assert err.rstrip().endswith("2 errors generated.")
    assert not (tmp_path / "bad.tspo").exists()


def test_missing_source_is_one_clear_line(capsys, tmp_path):
    missing = tmp_path / "nope.tsp"
    code, out, err = run(capsys, "asm", missing)
    assert code == 1 and out == ""
    assert_no_traceback(err)
    errors = [ln for ln in err.split("\n") if "error" in ln and "generated" not in ln]
    assert len(errors) == 1
    assert str(missing) in errors[0] and "No such file" in errors[0]


def test_missing_source_error_is_located_at_the_file_not_at_input(capsys, tmp_path):
    """`file: error: ...` names the file the tool was asked to read, not the
    placeholder `<input>` that assemble_text uses for nameless text."""
    missing = tmp_path / "nope.tsp"
    _, _, err = run(capsys, "asm", missing)
    assert not err.startswith("<input>"), err
    assert err.startswith(str(missing))


def test_missing_image_is_one_clear_line(capsys, tmp_path):
    missing = tmp_path / "nope.tspo"
    code, out, err = run(capsys, "disasm", missing)
    assert code == 1 and out == ""
    assert_no_traceback(err)
    assert err.count("\n") == 1
    assert err.startswith(f"{missing}: cannot read") and "No such file" in err


def test_disasm_of_something_that_is_not_an_image(capsys, src):
    code, out, err = run(capsys, "disasm", src)
    assert code == 1 and out == ""
    assert err == f"{src}: not a .tspo program image (bad magic)\n"


def test_disasm_of_an_image_for_another_isa_says_reassemble(capsys, src, tmp_path):
    program = assemble_file(str(src)).program
    program.isa_fingerprint = "ab" * 32
    image = tmp_path / "foreign.tspo"
    write_file(program, str(image))
    code, out, err = run(capsys, "disasm", image)
    assert code == 1 and out == ""
    assert_no_traceback(err)
    assert err.count("\n") == 1 and "reassemble" in err and str(image) in err


def test_disasm_of_a_corrupt_image(capsys, src, tmp_path):
    image = tmp_path / "p.tspo"
    run(capsys, "asm", src, "-o", image)
    blob = bytearray(image.read_bytes())
    blob[-3] ^= 0xFF
    image.write_bytes(bytes(blob))
    code, out, err = run(capsys, "disasm", image)
    assert code == 1 and out == ""
    assert_no_traceback(err)
    assert "corrupt" in err and str(image) in err


def test_output_that_would_overwrite_the_source_is_refused(capsys, src):
    code, out, err = run(capsys, "asm", src, "-o", src)
    assert code in (1, 2) and out == ""
    assert "overwrite" in err
    assert src.read_text() == SOURCE


def test_unwritable_output_is_a_clear_error(capsys, src, tmp_path):
    code, out, err = run(capsys, "asm", src, "-o", tmp_path / "no" / "dir" / "p.tspo")
    assert code == 1 and out == ""
    assert_no_traceback(err)
    assert "cannot write" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    [], ["bogus"], ["asm"], ["disasm"], ["asm", "x.tsp", "--frob"], ["asm", "x.tsp", "-o"],
    ["disasm", "x.tspo", "--no-loc=yes"],
])
def test_argparse_misuse_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "usage: tspasm" in err and "error:" in err
    assert_no_traceback(err)


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as info:
        main(["asm", "--help"])
    assert info.value.code == 0
    out, _ = capsys.readouterr()
    assert "--listing" in out and "--output" in out


def test_internal_errors_are_one_line_exit_3(capsys, src, monkeypatch):
    import tspasm.cli.asm_cmd as asm_cmd

    class Broken:
        def __init__(self, *a, **k):
            pass

        def assemble_file(self, path):
            raise RuntimeError("boom")

    monkeypatch.setattr(asm_cmd, "Assembler", Broken)
    code, out, err = run(capsys, "asm", src)
    assert code == 3 and out == ""
    assert_no_traceback(err)
    assert err.count("\n") == 1
    assert err.startswith("tspasm: internal error: RuntimeError: boom")
