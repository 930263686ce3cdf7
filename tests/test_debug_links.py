"""Watchpoints on C2C links and `tspasm debug --topology`, through Session.execute and main() without
a terminal (the real prompt: test_debug_repl.py).

The timeline of programs/pingpong_2chip.tsp (its header comments): chip 0 sends x on L0 at cycle 2;
it is receivable on chip 1 from 2 + 217 = 219 (the link latency, c2c.link_latency); chip 1's
receive at 230 pops it; chip 1 sends the sum back at 280, receivable on chip 0 from 497; chip 0's
receive at 508 pops it.  A watchpoint stops just after a change, at the next cycle boundary.  The
expected cycles below are computed from the assembler's schedule and the ISA's latency, not from
the engine's link counters that the watchpoint reads.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from prompt_toolkit.document import Document

from tspasm import assemble_file
from cli_helpers import run_cli
from tspasm.debug import context
from tspasm.debug.repl import DebugCompleter, candidates
from tspasm.debug.session import Session

ROOT = Path(__file__).resolve().parents[1]
PINGPONG = ROOT / "programs" / "pingpong_2chip.tsp"
VADD = ROOT / "programs" / "vector_add_i8.tsp"


@pytest.fixture(scope="module")
def asm():
    return assemble_file(str(PINGPONG))


@pytest.fixture
def s(asm):
    return Session(asm)


@pytest.fixture(autouse=True)
def no_debug(monkeypatch):
    monkeypatch.delenv("TSPASM_DEBUG", raising=False)


def link_ops(session) -> dict[tuple[int, str], int]:
    """{(chip, "send" | "receive"): cycle} of the L0 instructions, from the assembler's schedule."""
    ops = {}
    for p in session.asm.placed:
        text = context.instruction_text(session, p.chip, p.slot, p.row)
        op, _, operands = text.partition(" ")
        if op in ("send", "receive") and operands.startswith("L0,"):
            ops[(p.chip, op)] = p.cycle
    return ops


def expected_stops(session, chip: int) -> list[tuple[int, list[str]]]:
    """(cycle, change lines) of every stop of `watch link <chip>:L0`, in order."""
    ops = link_ops(session)
    lat = session.isa.param("c2c.link_latency")
    other = 1 - chip
    return sorted([
        (ops[(chip, "send")] + 1, ["sent 0 -> 1"]),
        (ops[(other, "send")] + 1, ["in flight 0 -> 1"]),
        (ops[(other, "send")] + lat, ["fifo 0 -> 1", "in flight 1 -> 0"]),
        (ops[(chip, "receive")] + 1, ["received 0 -> 1", "fifo 1 -> 0"]),
    ])


def test_the_schedule_is_the_one_the_header_describes(s):
    # If pingpong_2chip.tsp is retimed, the expectations follow; these are the header's numbers today.
    assert s.isa.param("c2c.link_latency") == 217
    assert link_ops(s)[(0, "send")] == 2
    assert [c for c, _ in expected_stops(s, 1)] == [3, 219, 231, 281]
    assert [c for c, _ in expected_stops(s, 0)] == [3, 281, 497, 509]


@pytest.mark.parametrize("chip, command", [(1, "watch link 1:L0"), (0, "watch link L0"), (0, "watch link 0:l0")])
def test_link_watch_stops_at_each_move_of_the_link(s, chip, command):
    peer = 1 - chip
    what = f"link {chip}:L0 (to chip {peer} L0)"
    assert s.execute(command) == f"watchpoint 1: {what}"
    counters = {"sent": 0, "received": 0, "fifo": 0, "in flight": 0}
    for n, (cycle, changes) in enumerate(expected_stops(s, chip), 1):
        out = s.execute("continue")
        assert s.machine.cycle == cycle
        assert out.splitlines()[:2 + len(changes)] == [
            f"watchpoint 1: {what}", *(f"  {c}" for c in changes),
            f"-- cycle {cycle}  chip 0  queue MEM_W43 (position 2) -- watchpoint 1: {what} changed"]
        for c in changes:                          # the engine's counters now agree with the stop
            name, new = re.fullmatch(r"(.+) \d+ -> (\d+)", c).groups()
            counters[name] = int(new)
        info = s.machine.link_info(chip, 0)
        assert (info["sent"], info["received"], info["fifo"], info["in_flight"]) == tuple(counters.values())
        assert s.execute("info breakpoints") == f"watchpoint 1: {what}  hits {n}"
    out = s.execute("continue")
    assert "program halted at cycle" in out and "watchpoint" not in out


def test_two_link_watches_fire_together(s):
    s.execute("watch link L0")
    s.execute("watch link 1:L0")
    out = s.execute("continue")           # the send at 2 moves sent on chip 0 and in flight on chip 1
    assert s.machine.cycle == 3
    assert "watchpoint 1: link 0:L0 (to chip 1 L0)\n  sent 0 -> 1" in out
    assert "watchpoint 2: link 1:L0 (to chip 0 L0)\n  in flight 0 -> 1" in out
    assert ("-- watchpoint 1: link 0:L0 (to chip 1 L0) changed, watchpoint 2: link 1:L0 (to chip 0 L0) changed"
            in out)


def test_info_breakpoints_and_delete(s):
    s.execute("break 100")
    s.execute("watch link 1:L0")
    assert s.execute("info breakpoints") == ("breakpoint 1: cycle 100  hits 0\n"
                                             "watchpoint 2: link 1:L0 (to chip 0 L0)  hits 0")
    assert s.execute("delete 2") == "deleted 2"
    assert s.execute("info breakpoints") == "breakpoint 1: cycle 100  hits 0"
    s.execute("delete 1")
    out = s.execute("continue")                 # nothing left to stop it
    assert "program halted" in out and "watchpoint" not in out


def test_link_watch_with_time_travel(s):
    stops = [c for c, _ in expected_stops(s, 1)]
    s.execute("watch link 1:L0")
    s.execute("goto 250")                                  # no stop: goto ignores points
    out = s.execute("reverse-continue")
    assert s.machine.cycle == stops[2] and "watchpoint 1: link 1:L0 (to chip 0 L0) changed" in out
    h = s.machine.state_hash()
    s.execute("reverse-continue")
    assert s.machine.cycle == stops[1]
    out = s.execute("continue")                            # forward again after a replay: same stop, same state
    assert s.machine.cycle == stops[2] and s.machine.state_hash() == h
    assert "  received 0 -> 1\n  fifo 1 -> 0" in out


@pytest.mark.parametrize("line, message", [
    ("watch link", "usage: watch link [chip:]Ln"),
    ("watch link L0 L1", "usage: watch link [chip:]Ln"),
    ("watch link X1", "'X1' is not a C2C port; write Ln or chip:Ln, like L0 or 1:L0"),
    ("watch link 1:0", "'1:0' is not a C2C port"),
    ("watch link L3", "chip 0 L3 is not wired in topology pair (wired ports of chip 0: L0)"),
    ("watch link 1:L15", "chip 1 L15 is not wired in topology pair (wired ports of chip 1: L0)"),
    ("watch link 2:L0", "chip 2 has no C2C link to watch (chips with links: 0 1)"),
    ("watch link 99:L0", "chip 99 has no C2C link to watch (chips with links: 0 1)"),
    ("watch L0", "C2C links are watched with `watch link [chip:]Ln`, like `watch link L0`"),
    ("watch 1:L0", "C2C links are watched with `watch link [chip:]Ln`, like `watch link 1:L0`"),
    ("watch C2C_W0 0", "C2C links are watched with `watch link [chip:]Ln`, like `watch link L0`"),
])
def test_bad_link_watches_are_one_line_errors(s, line, message):
    out = s.execute(line)
    assert out.startswith("error: " + message) and "\n" not in out and s.failed
    assert s.execute("info breakpoints") == "no breakpoints or watchpoints"


def test_no_links_on_one_chip():
    s = Session(assemble_file(str(VADD)))
    assert s.execute("watch link L0") == "error: no C2C links on this machine (topology single)"
    assert candidates(s, "watch link ") == []


def test_completion_offers_link_then_the_wired_ports(s):
    assert "link" in candidates(s, "watch ") and "MEM_E0" in candidates(s, "watch ")
    assert "link" not in candidates(s, "display ")
    assert candidates(s, "watch link ") == ["L0", "0:L0", "1:L0"]
    comp = DebugCompleter(s)

    def complete(text):
        return [c.text for c in comp.get_completions(Document(text), None)]
    assert complete("watch li") == ["link"]
    assert complete("watch link 1:") == ["1:L0"]
    assert complete("watch link L") == ["L0"]
    s.execute("chip 1")
    assert candidates(s, "watch link ")[0] == "L0"


def test_help_watch_comes_from_the_registry(s):
    text = s.execute("help watch")
    assert text.startswith("watch [chip:]SLICE ADDR [rows] | Sn(E|W)@POS | link [chip:]Ln")
    assert "watch link L0" in text and "watch link 1:L0" in text
    assert re.search(r"^  watch +stop when a MEM word, a stream or a C2C link changes$", s.execute("help"), re.M)


# ---- --topology ---------------------------------------------------------------------------------------

def test_session_default_topology_is_runs(s):
    assert s.machine.topology.name == "pair"
    assert len(s.execute("info links").splitlines()) == 2


def test_session_on_a_named_topology_keeps_it_across_replays(asm):
    s = Session(asm, topology="node")
    assert s.machine.topology.name == "node"
    # node: port p of chip 0 goes to chip p + 1, so L3 is wired (to chip 4) where pair has no L3
    assert s.execute("watch link L3") == "watchpoint 1: link 0:L3 (to chip 4 L0)"
    s.execute("delete")
    s.execute("watch link 1:L0")
    s.execute("continue")
    s.execute("continue")
    assert s.machine.cycle == 219                  # same latency on node: same stops as on pair
    s.execute("goto 0")                            # a fresh machine: still node
    assert s.machine.topology.name == "node" and len(s.execute("info links").splitlines()) == 14


def test_debug_topology_node_runs_the_program(capsys, tmp_path):
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("info links\nwatch link 1:L0\ncontinue\ndelete\ncontinue\nx/1i8 MEM_W43 0x10\n")
    code, out, err = run_cli(capsys, "debug", PINGPONG, "--topology", "node", "-x", cmds)
    assert code == 0 and err == ""
    assert "chip 0 L6 -> chip 7 L0: latency 217" in out          # node's links, not pair's
    assert "-- watchpoint 1: link 1:L0 (to chip 0 L0) changed" in out
    # the program's end and result are run's on the same topology
    code, run_out, _ = run_cli(capsys, "run", PINGPONG, "--topology", "node")
    cycles = re.search(r"cycles: (\d+) on", run_out).group(1)
    assert f"program halted at cycle {cycles}" in out
    y = run_out.split("= [", 1)[1].split()[:4]
    x = out.split("0:MEM_W43 0x0010 (i8):\n", 1)[1].split()[1:5]
    assert x == y


@pytest.mark.parametrize("topology, code, message", [
    ("links.toml", 1, "chip 0 L0 has no link in this topology (send uses it)"),
    ("single", 2, "tspasm: error: the program uses chip 1 but topology single has only chips 0..0"),
    ("bogus", 2, "tspasm: error: unknown topology 'bogus'"),
    ("missing.toml", 1, "missing.toml: cannot read"),
])
def test_debug_topology_errors_are_runs(capsys, tmp_path, topology, code, message):
    # links.toml: 2 chips joined on L1, so the program's L0 has no link
    (tmp_path / "links.toml").write_text("chips = 2\n[[links]]\na = [0, 1]\nb = [1, 1]\n")
    spec = topology if topology in ("single", "bogus") else str(tmp_path / topology)
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("step\n")
    got = run_cli(capsys, "debug", PINGPONG, "--topology", spec, "-x", cmds)
    assert got[0] == code and got[1] == "" and message in got[2].splitlines()[0]
    assert "Traceback" not in got[2]
    ran = run_cli(capsys, "run", PINGPONG, "--topology", spec)
    assert (got[0], got[2]) == (ran[0], ran[2])       # the same status and the same words as run
