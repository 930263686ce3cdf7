"""End-to-end: the real prompt_toolkit prompt fed through a pipe, and `tspasm debug -x`."""
from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tspasm import assemble_file
from tspasm.cli.main import main
from tspasm.debug.repl import Repl, candidates
from tspasm.debug.session import Session

ROOT = Path(__file__).resolve().parents[1]
VADD = ROOT / "programs" / "vector_add_i8.tsp"
PINGPONG = ROOT / "programs" / "pingpong_2chip.tsp"


def drive(keys: str, program: Path = VADD) -> tuple[Session, Repl, int]:
    session = Session(assemble_file(str(program)))
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text(keys)
        repl = Repl(session, history=InMemoryHistory(), input=inp, output=DummyOutput(), color=False)
        status = repl.loop()     # ends at EOF (the pipe runs dry) or `quit`
    return session, repl, status


def test_breakpoint_through_the_prompt():
    session, repl, status = drive("break 10\ncontinue\nquit\n")
    assert status == 0 and session.machine.cycle == 10
    assert any("breakpoint 1: cycle 10" in t and "write 0x0040, S3E" in t for t in repl.transcript)


def test_empty_line_repeats_the_last_step():
    session, _, _ = drive("step 2\n\n\nquit\n")
    assert session.machine.cycle == 6


def test_reverse_step_hash_through_the_prompt():
    session, repl, _ = drive("step 4\ninfo hash\nstep 3\nreverse-step 3\ninfo hash\nquit\n")
    hashes = [t for t in repl.transcript if t.startswith("cycle 4 state hash")]
    assert len(hashes) == 2 and hashes[0] == hashes[1]


def test_link_watchpoint_fires_through_the_prompt():
    # pingpong_2chip: chip 0 sends on L0 at cycle 2 (in flight towards chip 1 from cycle 3); the
    # vector lands in chip 1's receive FIFO after the link latency, at 2 + 217 = 219.
    session, repl, status = drive("watch link 1:L0\ncontinue\ncontinue\ninfo breakpoints\nquit\n", PINGPONG)
    assert status == 0 and session.machine.cycle == 219
    assert "watchpoint 1: link 1:L0 (to chip 0 L0)" in repl.transcript
    first, second = [t for t in repl.transcript if "-- watchpoint 1: link 1:L0 (to chip 0 L0) changed" in t]
    assert first.startswith("watchpoint 1: link 1:L0 (to chip 0 L0)\n  in flight 0 -> 1\n-- cycle 3  chip 0 ")
    assert second.startswith("watchpoint 1: link 1:L0 (to chip 0 L0)\n  fifo 0 -> 1\n  in flight 1 -> 0\n"
                             "-- cycle 219  chip 0 ")
    assert repl.transcript[-1] == "watchpoint 1: link 1:L0 (to chip 0 L0)  hits 2"


def test_bad_command_keeps_the_prompt():
    session, repl, status = drive("bogus\nstep\nquit\n")
    assert status == 0 and session.machine.cycle == 1
    assert "error: unknown command 'bogus' (type `help` for the list)" in repl.transcript


def test_completion_candidates_come_from_the_registry():
    session = Session(assemble_file(str(VADD)))
    assert "reverse-step" in candidates(session, "rev")
    assert "MEM_W2" in candidates(session, "queue MEM")
    assert "VXM0" in candidates(session, "break queue V")
    assert "vector_add_i8.tsp:23" in candidates(session, "break ")
    assert "hash" in candidates(session, "info ")
    assert "S3E@" in candidates(session, "print S")


def test_debug_x_runs_a_command_file(tmp_path, capsys):
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("# comment\nbreak 3\ncontinue\nx/1i8 MEM_W2 0x10\ninfo hash\n")
    assert main(["debug", str(VADD), "-x", str(cmds)]) == 0
    out = capsys.readouterr().out
    assert "(tsp 0:0) break 3\nbreakpoint 1: cycle 3" in out
    assert "(tsp 0:3) x/1i8 MEM_W2 0x10" in out and "cycle 3 state hash 0x" in out


def test_debug_x_exit_status_1_when_a_command_fails(tmp_path, capsys):
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("nonsense\nstep\n")
    assert main(["debug", str(VADD), "-x", str(cmds)]) == 1
    out = capsys.readouterr().out
    assert "error: unknown command 'nonsense'" in out and "(tsp 0:0) step" in out


def test_tsp_lexer_is_a_pygments_plugin():
    pygments = pytest.importorskip("pygments.lexers")
    lexer = pygments.get_lexer_by_name("tsp")
    from pygments.token import Comment, Keyword, Name
    tokens = list(lexer.get_tokens("@3  VXM0: add.i8 S1E, S2E -> S3E ; sum\n"))
    kinds = {v: t for t, v in tokens}
    assert kinds["VXM0"] is Name.Builtin and kinds["add"] is Keyword and kinds["S3E"] is Name.Variable
    assert kinds[".i8"] is Keyword.Pseudo and kinds["; sum"] is Comment.Single


def test_debug_an_image_through_its_disassembly(tmp_path, capsys):
    from tspasm import default_isa
    from tspasm.image.disasm import disassemble
    from tspasm.image.tspo import read_file

    image = tmp_path / "vadd.tspo"
    assert main(["asm", str(VADD), "-o", str(image)]) == 0
    text = disassemble(read_file(str(image), default_isa()), default_isa(), with_loc=False)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "VXM0: add.i8" in t)
    cmds = tmp_path / "cmds.txt"
    cmds.write_text(f"break vadd.dis.tsp:{line}\ncontinue\ninfo hash\n")
    capsys.readouterr()
    assert main(["debug", str(image), "-x", str(cmds)]) == 0
    from_image = capsys.readouterr().out
    assert f"breakpoint 1: {tmp_path / 'vadd.dis.tsp'}:{line} (cycle 3)" in from_image
    assert f"vadd.dis.tsp:{line}" in from_image and "VXM0     add.i8 S1E, S2E -> S3E" in from_image
    # the same machine as debugging the source: equal state hashes at the same cycle
    cmds.write_text("break 3\ncontinue\ninfo hash\n")
    assert main(["debug", str(VADD), "-x", str(cmds)]) == 0
    from_source = capsys.readouterr().out
    hash_of = [next(ln for ln in out.splitlines() if "state hash" in ln) for out in (from_image, from_source)]
    assert hash_of[0] == hash_of[1] and "cycle 3 state hash 0x" in hash_of[0]


def test_debug_a_damaged_image_is_an_error(tmp_path, capsys):
    image = tmp_path / "bad.tspo"
    image.write_bytes(b"TSPO\x00\r\n\x1a" + b"\x00" * 10)
    assert main(["debug", str(image)]) == 1
    err = capsys.readouterr().err
    assert f"{image}: truncated" in err and "Traceback" not in err
