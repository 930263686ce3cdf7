"""The debugger's command logic, driven through Session.execute without a terminal."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tspasm import assemble_file, assemble_text
from tspasm.debug.commands import COMMANDS, Registry
from tspasm.debug.session import Quit, Session

ROOT = Path(__file__).resolve().parents[1]
VADD = ROOT / "programs" / "vector_add_i8.tsp"

# The add issues one cycle too early: S1E/S2E reach position 24 at cycle 3, not 2.
EARLY = """\
.data MEM_W2 0x0010 i8 [1, 2, 3]
.data MEM_W3 0x0010 i8 [10, 20, 30]
@0  { MEM_W2: read 0x0010, S1E | MEM_W3: read 0x0010, S2E }
@2  VXM0: add.i8 S1E, S2E -> S3E
"""


@pytest.fixture
def s():
    return Session(assemble_file(str(VADD)))


def cycle(session):
    return session.machine.cycle


def test_starts_at_cycle_zero_with_the_issuing_slots(s):
    out = s.execute("context")
    assert "cycle 0" in out and "start of program" in out
    assert "MEM_W2   read 0x0010, S1E" in out and "vector_add_i8.tsp:22" in out


def test_step_and_step_n(s):
    s.execute("step")
    assert cycle(s) == 1
    out = s.execute("step 2")
    assert cycle(s) == 3 and "stepped 2 cycles" in out
    assert "VXM0     add.i8 S1E, S2E -> S3E" in out           # issuing now, with its source
    assert re.search(r"^\* S1E@24 +1 2 3 127 -128 -5 0 100", out, re.M)  # new value marked


def test_changed_marker_only_for_changed_values(s):
    s.execute("queue MEM_E0")
    s.execute("goto 8")
    out = s.execute("step")
    assert re.search(r"^\* S3E@27", out, re.M)


def test_next_runs_to_the_focused_queues_next_issue(s):
    assert "focused queue 0:MEM_E0" in s.execute("queue MEM_E0")
    out = s.execute("next")
    assert cycle(s) == 10 and "MEM_E0 issues next" in out
    assert "write 0x0040, S3E" in out


def test_break_cycle_continue_and_halt(s):
    assert s.execute("break 3") == "breakpoint 1: cycle 3"
    out = s.execute("continue")
    assert cycle(s) == 3 and "breakpoint 1: cycle 3" in out
    out = s.execute("continue")
    assert "program halted at cycle 11" in out
    assert "halted" in s.execute("continue")               # never exits; stays at the end
    assert "hits 1" in s.execute("info breakpoints")


def test_break_file_line_and_queue(s):
    assert "cycle 10" in s.execute("break vector_add_i8.tsp:24")
    s.execute("continue")
    assert cycle(s) == 10
    s.execute("goto 0")
    s.execute("delete")
    s.execute("break queue VXM0")
    s.execute("continue")
    assert cycle(s) == 3
    assert "no instruction on" in s.execute("break vector_add_i8.tsp:2")


def test_tbreak_fires_once_and_delete(s):
    assert s.execute("tbreak 5").startswith("temporary breakpoint 1")
    s.execute("continue")
    assert cycle(s) == 5
    assert s.execute("info breakpoints") == "no breakpoints or watchpoints"
    s.execute("break 7")
    s.execute("break 9")
    s.execute("delete 2")
    s.execute("continue")
    assert cycle(s) == 9
    assert s.execute("delete 42").startswith("error: no breakpoint")


def test_until(s):
    out = s.execute("until 7")
    assert cycle(s) == 7 and "reached cycle 7" in out
    assert s.execute("until 3").startswith("error:")


def test_watch_fires_on_the_mem_write(s):
    assert s.execute("watch MEM_E0 0x40") == "watchpoint 1: 0:MEM_E0 0x0040"
    out = s.execute("continue")
    assert cycle(s) == 11
    assert "watchpoint 1: 0:MEM_E0 0x0040 changed" in out
    assert "old: 0 0 0 0 0 0 0 0" in out and "new: 11 22 33 -128 127 0 -7 -56" in out


def test_watch_stream_at_a_position(s):
    s.execute("watch S3E@28")
    s.execute("continue")
    assert cycle(s) == 10   # the sum reaches position 28 at cycle 10
    assert s.execute("print S3E@28").splitlines()[1].split()[1:5] == ["11", "22", "33", "-128"]


def test_c2c_links_are_reported_cleanly(s):
    assert s.execute("info links") == "no C2C links on this machine (topology single)"
    assert s.execute("watch link L3") == "error: no C2C links on this machine (topology single)" and s.failed
    assert s.execute("watch L3") == "error: C2C links are watched with `watch link [chip:]Ln`, like `watch link L3`"


def test_x_formats(s):
    out = s.execute("x/1i8 MEM_W2 0x10")
    assert out.splitlines()[0] == "0:MEM_W2 0x0010 (i8):"
    assert out.splitlines()[1].split()[1:] == ["1", "2", "3", "127", "-128", "-5", "0", "100"]
    assert "(lanes 8..319 are 0)" in out
    assert s.execute("x/1x MEM_W2 0x10").splitlines()[1].split()[1:4] == ["01", "02", "03"]
    # i16 takes byte 1 from the next slice (MEM_W3): 1 + 10 * 256
    assert s.execute("x/1i16 MEM_W2 0x10").splitlines()[1].split()[1] == str(1 + 10 * 256)
    assert "f32" in s.execute("x/2f32 MEM_W2 0x10")
    assert len([ln for ln in s.execute("x/3i8 0:MEM_W2 0x10").splitlines() if ln.startswith("0:")]) == 3
    assert s.execute("x/4q MEM_W2 0x10").startswith("error: bad format")


def test_print_stream(s):
    s.execute("goto 3")
    assert s.execute("print S1E@24/x").splitlines()[1].split()[1:4] == ["01", "02", "03"]
    assert "nothing on the stream" in s.execute("print S9W@3")
    assert s.execute("print S3E").startswith("error:")


def test_display_shows_at_every_stop(s):
    s.execute("display x/1i8 MEM_E0 0x40")
    out = s.execute("goto 11")
    assert "1: x/1i8 MEM_E0 0x40 =" in out and "-128" in out
    s.execute("undisplay 1")
    assert "1: x/1i8" not in s.execute("step")


def test_info_queues_and_hash(s):
    out = s.execute("info queues")
    assert "VXM0" in out and "nop 3" in out and "busy-until" in out
    s.execute("goto 4")
    out = s.execute("info queues")
    assert "VXM0" not in out and "MEM_E0" in out and "vector_add_i8.tsp:24" in out
    assert "VXM0" in s.execute("info queues all")
    assert re.fullmatch(r"cycle 4 state hash 0x[0-9a-f]{16}", s.execute("info hash"))


def test_reverse_step_lands_on_the_same_state_hash(s):
    hashes = {}
    for _ in range(11):
        hashes[cycle(s)] = s.machine.state_hash()
        s.execute("step")
    for back in (1, 3, 7):
        s.execute("goto 11")
        s.execute(f"reverse-step {back}")
        assert cycle(s) == 11 - back
        assert s.machine.state_hash() == hashes[11 - back]
        s.execute("step")
        assert s.machine.state_hash() == hashes.get(12 - back, s.machine.state_hash())


def test_goto_forward_and_back(s):
    s.execute("goto 6")
    h6 = s.machine.state_hash()
    s.execute("goto 2")
    assert cycle(s) == 2
    s.execute("goto 6")
    assert s.machine.state_hash() == h6
    assert "program halted at cycle 11" in s.execute("goto 500")


def test_reverse_continue_goes_to_the_previous_stop(s):
    s.execute("break 3")
    s.execute("break 7")
    s.execute("goto 9")
    out = s.execute("reverse-continue")
    assert cycle(s) == 7 and "breakpoint 2" in out
    s.execute("reverse-continue")
    assert cycle(s) == 3
    out = s.execute("reverse-continue")
    assert cycle(s) == 0 and "no earlier stop" in out


def test_break_error_stops_after_a_schedule_error():
    s = Session(assemble_text(EARLY, "early.tsp"))
    s.execute("break error")
    out = s.execute("continue")
    assert "schedule error at cycle 2" in out
    assert cycle(s) == 3


def test_focus_chip_and_queue(s):
    assert s.execute("queue MEM_E0").startswith("focused queue 0:MEM_E0")
    assert s.execute("chip 0").startswith("focused chip 0")
    assert s.execute("chip 5").startswith("error: chip 5 has no code")
    assert s.execute("queue NOPE").startswith("error: no queue named")


def test_list_marks_the_issuing_lines(s):
    s.execute("goto 3")
    out = s.execute("list")
    assert re.search(r"^>\s+23  @3  VXM0: add.i8", out, re.M)
    assert "   22  " in s.execute("list vector_add_i8.tsp:22")


@pytest.mark.parametrize("line", ["frobnicate", "step x", "step -1", "break", "break nowhere", "x/1i8 MEM_W2",
                                  "x/1i8 MEM_W2 zz", "print S40E@1", "info nothing", "goto", "until",
                                  "watch MEM_W2", "watch VXM0 0x10", "display x/1i8 NOPE 0", "help nothing",
                                  'step "unclosed', "undisplay 9", "list nothere"])
def test_bad_commands_are_one_line_errors(s, line):
    out = s.execute(line)
    assert out.startswith("error: ") and "\n" not in out and s.failed


def test_help_covers_every_command(s):
    listing = s.execute("help")
    for c in COMMANDS:
        assert re.search(rf"^  {re.escape(c.name)} ", listing, re.M), c.name
        assert s.execute(f"help {c.name}").startswith(c.name)
        for alias in c.aliases:
            assert s.execute(f"help {alias}").startswith(c.name)
        assert hasattr(s, c.handler)


def test_registry_refuses_duplicate_words():
    with pytest.raises(ValueError):
        Registry(COMMANDS + (COMMANDS[0],))


def test_quit_raises(s):
    with pytest.raises(Quit):
        s.execute("quit")


# A read repeated with an address step of 3 from address 0x0010, then a word after it.
REPEATED = """\
@0 MEM_W2: read 0x0010, S1E, 3
@1 MEM_W2: repeat 5, 1
@9 MEM_W2: read 0x0040, S1E
"""


def test_a_repeating_queue_shows_the_re_issue_it_has_coming():
    s = Session(assemble_text(REPEATED, "rep.tsp"))
    out = s.execute("goto 3")
    # cycle 3 is re-issue 3 of 5: the address has stepped 3 x 3 from 0x0010
    assert re.search(r"MEM_W2 +read 0x0019, S1E, 3  \[repeat 3/5\] +rep\.tsp:1", out)
    assert "read 0x0040" not in out
    q = s.machine.queue_info(0, "MEM_W2")
    assert (q.state, q.repeat_row, q.repeat, q.next_row) == ("repeating", 0, (3, 5), 2)
    info = s.execute("info queues")
    assert re.search(r"MEM_W2 +repeating +next @3 +read 0x0019, S1E, 3  \[repeat 3/5\]", info)
    s.execute("goto 9")
    assert s.machine.queue_info(0, "MEM_W2").repeat is None
    assert re.search(r"MEM_W2 +read 0x0040, S1E +rep\.tsp:3", s.execute("context"))
