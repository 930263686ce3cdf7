"""Topology-aware assembly: `.topology`, link operands that name the peer chip, and
syncs released by a `transmit` from another chip (docs/assembly.md "Naming links" and
"Synchronizing chips").

Release cycles are computed from the ISA (sync.hac_epoch, sync.notify_latency,
c2c.link_latency*), and checked against the engine itself at the end."""
from __future__ import annotations

import json
import random
import re

import pytest

from tspasm import AssemblyError, ImageError, UsageError, assemble_file, assemble_text, default_isa
from tspasm.asm.links import default_topology
from tspasm.asm.printer import format_instruction
from cli_helpers import run_cli
from tspasm.image.disasm import disassemble
from tspasm.image.timeline import program_timeline
from tspasm.engine import Machine
from tspasm.image.tspo import read_bytes, read_file, write_bytes
from tspasm.topology import builtin, load_toml_text

ISA = default_isa()
E = ISA.param("sync.hac_epoch")
NL = ISA.param("sync.notify_latency")
LAT = ISA.param("c2c.link_latency")
LAT_MAX = ISA.param("c2c.link_latency_max")
LMIN = ISA.param("c2c.link_latency_min")
LMAX = ISA.param("c2c.link_latency_max")
PATH = "prog.tsp"


def boundary(a: int) -> int:
    """The first HAC epoch boundary at or after cycle a."""
    return -(-a // E) * E


def errors(src: str, **kw) -> AssemblyError:
    with pytest.raises(AssemblyError) as info:
        assemble_text(src, PATH, **kw)
    return info.value


def only(err: AssemblyError):
    assert len(err.diagnostics) == 1, str(err)
    return err.diagnostics[0]


def at(d, line: int, col: int, message: str, severity: str = "error") -> None:
    """Position, message, and the rendered caret under the column."""
    assert (d.path, d.line, d.col, d.message, d.severity) == (PATH, line, col, message, severity), d.render()
    rendered = d.render().split("\n")
    assert rendered[0] == f"{PATH}:{line}:{col}: {severity}: {message}"
    assert rendered[2] == "  " + " " * (col - 1) + "^"


def col_of(src: str, line: int, text: str) -> int:
    return src.split("\n")[line - 1].index(text) + 1


def placed(asm, chip: int, queue: str, cycle: int):
    slot = ISA.queue_by_name[queue].slot
    hits = [p for p in asm.placed if (p.chip, p.slot, p.cycle) == (chip, slot, cycle)]
    assert len(hits) == 1
    return hits[0]


def link_of(p) -> int:
    return p.values[p.spec.field_index["link"]]


# ---- naming links by the peer chip -----------------------------------------------------------

def test_a_chip_name_encodes_exactly_like_its_port_on_pair():
    named = assemble_text(".chip 0\n@0 C2C_W0: send chip1, S0W\n@30 C2C_W1: transmit chip1\n"
                          "@60 C2C_W2: hac chip1\n.chip 1\n@300 C2C_W3: receive chip0, S1E\n")
    ported = assemble_text(".chip 0\n@0 C2C_W0: send L0, S0W\n@30 C2C_W1: transmit L0\n"
                           "@60 C2C_W2: hac L0\n.chip 1\n@300 C2C_W3: receive L0, S1E\n")
    assert [p.word for p in named.placed] == [p.word for p in ported.placed]
    assert [format_instruction(ISA, p.spec, p.values) for p in named.placed] == \
        ["send L0, S0W", "transmit L0", "hac L0", "receive L0, S1E"]
    assert named.topology is None  # no .topology: the runner's default (pair) was used


@pytest.mark.parametrize("chip,queue,peer,port", [
    (0, "C2C_W0", 1, 0), (0, "C2C_W3", 7, 6),      # local: port p goes to node-mate p (p < k) or p + 1
    (3, "C2C_W0", 0, 0), (3, "C2C_W1", 4, 3),
    (0, "C2C_E0", 15, 8), (0, "C2C_E1", 71, 9),    # intra-rack global links, copies 0 and 1
    (3, "C2C_E2", 36, 8), (3, "C2C_E3", 44, 9),
])
def test_the_port_chosen_in_a_rack(chip, queue, peer, port):
    asm = assemble_text(f".topology rack\n.chip {chip}\n@0 {queue}: send chip{peer}, S0E\n")
    p = placed(asm, chip, queue, 0)
    assert link_of(p) == port
    assert builtin("rack").ports(chip)[port][0] == peer
    assert p.word == assemble_text(f".topology rack\n.chip {chip}\n@0 {queue}: send L{port}, S0E\n").placed[0].word
    assert asm.topology.name == "rack"


def test_the_same_text_on_two_chips_names_two_ports():
    """Binding results are memoized by text; a chip name depends on the chip too."""
    asm = assemble_text(".topology node\n.chip 0\n@0 C2C_W0: send chip1, S0W\n"
                        ".chip 2\n@0 C2C_W0: send chip1, S0W\n.chip 5\n@0 C2C_W0: send chip1, S0W\n")
    assert [link_of(p) for p in sorted(asm.placed, key=lambda p: p.chip)] == [0, 1, 1]
    asm = assemble_text(".topology node\n.chip 6\n@0 C2C_W0: send chip7, S0W\n.chip 7\n@0 C2C_W0: send chip6, S0W\n")
    assert [link_of(p) for p in sorted(asm.placed, key=lambda p: p.chip)] == [6, 6]


def test_no_link_to_that_chip():
    src = ".topology node\n.chip 2\n@0 C2C_W0: send chip9, S0W\n"
    d = only(errors(src))
    at(d, 3, col_of(src, 3, "chip9"), "no link joins chip 2 to chip 9 in topology node (chips 0..7)")
    assert d.hint == ("chip 2 is linked to chips 0 (L0), 1 (L1), 3 (L2), 4 (L3), 5 (L4), 6 (L5), 7 (L6)")


def test_no_link_between_two_chips_of_the_topology_lists_this_chips_peers():
    src = ".topology rack\n.chip 0\n@0 C2C_E0: send chip16, S0E\n"
    d = only(errors(src))
    at(d, 3, col_of(src, 3, "chip16"), "no link joins chip 0 to chip 16 in topology rack")
    assert d.hint == ("chip 0 is linked to chips 1 (L0), 2 (L1), 3 (L2), 4 (L3), 5 (L4), 6 (L5), 7 (L6), "
                      "15 (L8), 71 (L9)")


def test_the_default_topology_of_one_chip_has_no_links():
    """Chip 1 has no code or data here, so the default is `single`, as the runner's."""
    src = "@0 C2C_W0: send chip1, S0W\n"
    d = only(errors(src))
    at(d, 1, col_of(src, 1, "chip1"), "no link joins chip 0 to chip 1 in topology single (chips 0..0)")
    assert d.hint == "chip 0 has no links in topology single"


TWIN = """\
name = "twin"
chips = 2
[[links]]
a = [0, 0]
b = [1, 0]
[[links]]
a = [0, 8]
b = [1, 9]
[[links]]
a = [0, 1]
b = [1, 1]
"""


def test_several_links_to_that_chip_must_be_named_by_port(tmp_path):
    (tmp_path / "twin.toml").write_text(TWIN)
    src = f'.topology "{tmp_path / "twin.toml"}"\n@0 C2C_W0: send chip1, S0W\n'
    d = only(errors(src))
    at(d, 2, col_of(src, 2, "chip1"), "3 links join chip 0 to chip 1 in topology twin: L0, L1, L8")
    assert d.hint == "name the port instead: `L0` or `L1` or `L8`; C2C_W0 drives `L0` and `L1`"
    asm = assemble_text(src.replace("chip1", "L8").replace("C2C_W0", "C2C_E0"), PATH)
    assert link_of(asm.placed[0]) == 8


def test_the_port_must_be_on_the_queues_side():
    src = ".topology rack\n.chip 0\n@0 C2C_W0: send chip15, S0W\n"
    d = only(errors(src))
    at(d, 3, col_of(src, 3, "chip15"), "C2C_W0 cannot drive link L8, the link to chip 15")
    assert d.hint == "L8 is on the east SXM: issue it from C2C_E0..C2C_E3"
    numeric = only(errors(".topology rack\n.chip 0\n@0 C2C_W0: send L8, S0W\n"))
    assert numeric.message == "C2C_W0 cannot drive link L8"  # the same rule, the same words
    src = ".topology rack\n.chip 0\n@0 C2C_E0: transmit chip1\n"
    d = only(errors(src))
    at(d, 3, col_of(src, 3, "chip1"), "C2C_E0 cannot drive link L0, the link to chip 1")
    assert d.hint == "L0 is on the west SXM: issue it from C2C_W0..C2C_W3"


def test_a_chip_cannot_name_itself_or_be_outside_the_topology():
    src = ".topology pair\n.chip 1\n@0 C2C_W0: send chip1, S0W\n"
    d = only(errors(src))
    at(d, 3, col_of(src, 3, "chip1"), "`chip1` is this chip; a link joins two different chips")
    assert d.hint == "chip 1 is linked to chip 0 (L0)"
    src = ".topology pair\n.chip 5\n@0 C2C_W0: send chip1, S0W\n"
    d = only(errors(src))
    at(d, 3, col_of(src, 3, "chip1"), "chip 5 is not in topology pair (chips 0..1)")


def test_without_a_default_topology_the_first_chip_name_says_so_once():
    src = ".chip 100\n@0 C2C_W0: send chip101, S0W\n@30 C2C_W0: send chip102, S0W\n"
    d = only(errors(src))
    at(d, 2, col_of(src, 2, "chip101"),
       "`send chip101` needs the topology, and there is no default: the program uses chip 100, more than "
       "the 72 chips of the largest default topology (rack)")
    assert "`.topology system:R`" in d.hint and "--topology" in d.hint
    asm = assemble_text(".topology system:2\n" + src)
    assert asm.topology.name == "system:2"
    topo = builtin("system:2")
    for p in asm.placed:
        assert topo.ports(100)[link_of(p)][0] == {0: 101, 30: 102}[p.cycle]


def test_a_transmit_and_a_sync_need_the_topology_even_past_a_rack():
    src = ".chip 0\n@1 VXM0: sync\n@9 VXM1: notify\n.chip 100\n@3 C2C_W0: transmit L0\n"
    d = only(errors(src))
    at(d, 5, 4, "a `transmit` releasing a `sync` needs the topology, and there is no default: the program "
                "uses chip 100, more than the 72 chips of the largest default topology (rack)")
    asm = assemble_text(".topology system:2\n" + src)
    assert _busy_until(asm, 0, "VXM0", 1) == 9 + NL - 1
    # without a transmit, or without a sync, the default is never needed
    assemble_text(src.replace("transmit L0", "send L0, S0W"))
    assemble_text(src.replace("sync", "nop 1"))


def test_a_link_operand_that_is_neither_port_nor_chip():
    src = "@0 C2C_W0: send chips1, S0W\n"
    d = only(errors(src))
    at(d, 1, col_of(src, 1, "chips1"), "operand link of send must be a link L0..L15, got `chips1`")
    assert d.hint == "or name the chip the link goes to: `chip3`"


def test_disassembly_prints_the_port_and_reassembles_identically():
    asm = assemble_text(".topology rack\n.chip 0\n@0 C2C_E1: send chip71, S0E\n@1 C2C_W2: transmit chip3\n"
                        ".chip 71\n@300 C2C_E0: receive chip0, S0W\n")
    text = disassemble(read_bytes(write_bytes(asm.program), ISA), ISA)
    assert "C2C_E1: send L9, S0E" in text and "C2C_W2: transmit L2" in text
    assert "C2C_E0: receive L9, S0W" in text and "chip71" not in text
    again = assemble_text(text, "disasm.tsp")
    assert write_bytes(again.program) == write_bytes(asm.program)


# ---- the .topology directive ---------------------------------------------------------------------

def test_topology_directive_forms(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ring.toml").write_text('chips = 3\nlatency = 100\n[[links]]\na = [0, 8]\nb = [1, 0]\n'
                                   '[[links]]\na = [1, 8]\nb = [2, 0]\n[[links]]\na = [2, 8]\nb = [0, 0]\n')
    src = sub / "p.tsp"
    src.write_text('.topology "ring.toml"   ; relative to this file\n.chip 0\n@0 C2C_E0: send chip1, S0E\n'
                   '@0 C2C_W0: send chip2, S0W\n')
    asm = assemble_file(str(src))
    assert asm.topology.name == "ring"
    assert sorted(link_of(p) for p in asm.placed) == [0, 8]
    for name in ("single", "pair", "node", "rack", "system:3"):
        assert assemble_text(f".topology {name}\n@0 VXM0: nop 1\n").topology.name == name


def test_topology_given_twice():
    src = ".topology pair\n.topology pair\n@0 VXM0: nop 1\n"
    d = only(errors(src))
    at(d, 2, 11, "`.topology` given twice")
    assert d.notes == ("the first is at prog.tsp:1:11",)


@pytest.mark.parametrize("src,first", [
    (".chip 0\n.topology pair\n", "prog.tsp:1:1"),
    ("@0 VXM0: nop 1\n.topology pair\n", "prog.tsp:1:1"),
    (".equ X, 1\n.data MEM_W0 0 i8 [1]\n.topology pair\n", "prog.tsp:2:1"),
])
def test_topology_must_come_before_the_chips(src, first):
    d = only(errors(src))
    at(d, src.count("\n"), 11, "`.topology` must come before the first chip section")
    assert d.notes == (f"the first chip statement is at {first}",)


def test_an_unknown_topology_name():
    src = ".topology ring\n"
    d = only(errors(src))
    at(d, 1, 11, "cannot use topology ring: unknown topology 'ring'; the built-in topologies are single, "
                 "pair, node, rack and system:R with R = 1..145 (or give a FILE.toml)")
    d = only(errors(".topology system:146\n"))
    assert d.message.startswith("cannot use topology system:146: unknown topology 'system:146'")


def test_a_topology_file_that_is_missing_or_wrong(tmp_path):
    d = only(errors('.topology "nope.toml"\n'))
    at(d, 1, 11, 'cannot use topology "nope.toml": nope.toml: cannot read: No such file or directory')
    bad = tmp_path / "bad.toml"
    bad.write_text("chips = 2\n[[links]]\na = [0, 0]\nb = [5, 0]\n")
    d = only(errors(f'.topology "{bad}"\n'))
    assert d.message == f'cannot use topology "{bad}": {bad}:2: links[0].b: chip 5 does not exist (chips are 0..1)'


def test_the_command_line_topology_and_the_directive(tmp_path):
    src = ".topology rack\n.chip 0\n@0 C2C_E0: send chip15, S0E\n"
    d = only(errors(src, topology="pair"))
    at(d, 1, 11, "`.topology rack` conflicts with --topology pair")
    assert assemble_text(src, topology="rack").topology.name == "rack"
    # the same chips and links under another name agree
    same = tmp_path / "mypair.toml"
    same.write_text(f"chips = 2\n[[links]]\na = [0, 0]\nb = [1, 0]\nlatency = {LAT}\n")
    assert assemble_text(".topology pair\n@0 C2C_W0: send chip1, S0W\n", topology=str(same)).topology.name == "mypair"
    # --topology alone replaces the default
    asm = assemble_text(".chip 0\n@0 C2C_E0: send chip15, S0E\n", topology="rack")
    assert (asm.topology.name, link_of(asm.placed[0])) == ("rack", 8)
    with pytest.raises(UsageError, match="unknown topology 'ring'"):
        assemble_text("@0 VXM0: nop 1\n", topology="ring")


@pytest.mark.parametrize("chips", [[0], [1], [0, 1], [0, 5], [7], [0, 8], [71]])
def test_the_default_topology_is_the_runners(chips):
    from tspasm.engine.machine import default_topology as engine_default

    mine, theirs = default_topology(chips, ISA), engine_default(chips, ISA)
    assert (mine.name, mine.links) == (theirs.name, theirs.links)


def test_there_is_no_default_past_a_rack():
    from tspasm.engine.machine import default_topology as engine_default

    with pytest.raises(UsageError):
        engine_default([72], ISA)
    with pytest.raises(UsageError, match="chip 72"):
        default_topology([72], ISA)


# ---- syncs released by a transmit --------------------------------------------------------------

def _busy_until(asm, chip, queue, cycle):
    return placed(asm, chip, queue, cycle).busy_until


def test_a_transmit_releases_the_peers_sync_at_the_next_epoch_boundary():
    b = boundary(LAT)  # transmit at 0 arrives at LAT
    src = f".chip 0\n@0 C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n@{b} VXM0: nop 1\n@7 MEM_W0: sync\n"
    asm = assemble_text(src)
    assert _busy_until(asm, 1, "VXM0", 0) == b - 1 == 255
    assert _busy_until(asm, 1, "MEM_W0", 7) == b - 1
    assert asm.warnings == []
    d = only(errors(src.replace(f"@{b} VXM0", f"@{b - 1} VXM0")))
    at(d, 5, col_of(src, 5, "VXM0"), f"VXM0 is still busy in cycle {b - 1}")
    assert d.notes == (f"`sync` at cycle 0 (prog.tsp:4:4) keeps it busy until cycle {b - 1}",)


def test_a_sync_issued_before_or_after_the_transmit_but_before_the_boundary():
    t = 100
    b = boundary(t + LAT)
    asm = assemble_text(f".chip 0\n@{t} C2C_W0: transmit chip1\n.chip 1\n"
                        f"@3 VXM0: sync\n@{t + LAT - 1} VXM1: sync\n@{b - 1} VXM2: sync\n")
    assert [_busy_until(asm, 1, q, c) for q, c in (("VXM0", 3), ("VXM1", t + LAT - 1), ("VXM2", b - 1))] \
        == [b - 1] * 3 == [511] * 3


def test_a_sync_at_the_boundary_or_later_is_not_released():
    b = boundary(LAT)
    src = f".chip 0\n@0 C2C_W0: transmit chip1\n.chip 1\n@{b} VXM0: sync\n"
    d = only(errors(src))
    at(d, 4, col_of(src, 4, "VXM0"), f"sync at cycle {b} is never released")
    assert d.hint == ("no notify on chip 1 and no transmit to chip 1 releases it; a notify at cycle t releases "
                      f"queues parked before t + {NL}, a transmit arriving at cycle a those parked before the "
                      f"first multiple of {E} at or after a")


def test_a_transmit_releases_only_its_peer():
    src = (".topology node\n.chip 0\n@0 C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n"
           ".chip 2\n@0 VXM0: sync\n")
    d = only(errors(src))
    at(d, 7, col_of(src, 7, "VXM0"), "sync at cycle 0 is never released")


def test_the_links_latency_counts():
    topo = load_toml_text("chips = 2\n[[links]]\na = [0, 3]\nb = [1, 12]\nlatency = 600\n", "slow.toml")
    asm = assemble_text(".chip 0\n@10 C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n", topology=topo)
    assert _busy_until(asm, 1, "VXM0", 0) == boundary(610) - 1 == 767
    assert link_of(placed(asm, 0, "C2C_W0", 10)) == 3


def _with_notify(n: int, s: int = 10, t: int = 0) -> int:
    """Release cycle of a sync at s on chip 1, with a notify at n on chip 1 and a transmit at t from chip 0."""
    asm = assemble_text(f".chip 0\n@{t} C2C_W0: transmit chip1\n.chip 1\n@{s} VXM0: sync\n@{n} VXM1: notify\n")
    return _busy_until(asm, 1, "VXM0", s) + 1


def test_the_first_event_releases_a_parked_sync_as_in_the_engine():
    a, b = LAT, boundary(LAT)
    assert a - 1 < b - NL - 2, "the cases below need an arrival well before its boundary"
    # parked at 10: the transmit is processed at the end of cycle a - 1 and releases at b, even
    # though a notify after it would have released the queue earlier
    assert _with_notify(b - NL - 2) == b
    # a notify issued in cycle a - 1 comes first: queue issues precede arrivals in a cycle
    assert _with_notify(a - 1) == a - 1 + NL
    assert _with_notify(a - 2) == a - 2 + NL
    # a notify before the sync that still releases it, and a transmit that arrived before it
    assert _with_notify(a + 1, s=a + 2) == min(a + 1 + NL, b)
    # arrived before the sync: the sync takes the boundary at once; a later notify does not matter
    assert _with_notify(b - NL - 2, s=a) == b


def test_of_two_transmits_the_first_to_arrive_releases():
    src = (".topology node\n.chip 0\n@300 C2C_W0: transmit chip2\n.chip 1\n@0 C2C_W1: transmit chip2\n"
           ".chip 2\n@0 VXM0: sync\n@600 VXM0: sync\n")
    asm = assemble_text(src)
    assert _busy_until(asm, 2, "VXM0", 0) == boundary(LAT) - 1
    assert _busy_until(asm, 2, "VXM0", 600) == boundary(300 + LAT) - 1 == 767


# ---- link jitter ------------------------------------------------------------------------------------

def test_a_release_that_depends_on_link_jitter_is_a_warning():
    t = E - LAT   # arrives exactly on a boundary: the fastest copies earlier, the slowest later
    assert t + LMIN <= E < t + LMAX
    src = f".chip 0\n@{t} C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n"
    asm = assemble_text(src, PATH)
    assert len(asm.warnings) == 1
    w = asm.warnings[0]
    at(w, 2, col_of(src, 2, "C2C_W0"),
       f"the cycle at which this transmit releases chip 1 depends on link jitter: it arrives at cycle {E} "
       f"(latency {LAT}) and releases at {E}, but with latency {LMIN}..{LMAX} it arrives at "
       f"{t + LMIN}..{t + LMAX}, on both sides of the epoch boundary {E}", severity="warning")
    assert w.hint == (f"issue it at cycle {E - LMAX} or earlier, or at {E - LMIN + 1} or later, to release at "
                      f"one cycle whatever the jitter (c2c.link_latency_min..max = {LMIN}..{LMAX})")
    assert w.message.startswith("the cycle at which this transmit releases chip 1 depends on link jitter: "
                                "it arrives at cycle 256 (latency 217) and releases at 256, but with latency "
                                "209..228 it arrives at 248..267")
    for safe in (E - LMAX, E - LMIN + 1, 0):
        assert assemble_text(f".chip 0\n@{safe} C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n").warnings == []
    # no sync on the peer: nothing to release, nothing to warn about
    assert assemble_text(f".chip 0\n@{t} C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: nop 1\n").warnings == []


def test_jitter_on_a_link_of_another_latency_is_taken_around_that_latency():
    topo = load_toml_text("chips = 2\n[[links]]\na = [0, 0]\nb = [1, 0]\nlatency = 100\n", "short.toml")
    src = ".chip 0\n@{t} C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n"
    lo, hi = 100 + LMIN - LAT, 100 + LMAX - LAT
    assert assemble_text(src.format(t=E - 100), topology=topo).warnings[0].message.endswith(
        f"with latency {lo}..{hi} it arrives at {E - 100 + lo}..{E - 100 + hi}, on both sides of the epoch "
        f"boundary {E}")
    assert assemble_text(src.format(t=E - hi), topology=topo).warnings == []


def test_the_warning_is_right_the_engine_releases_at_different_cycles_under_jitter():
    from tspasm.engine import ClockModel, Machine

    def ends(t):
        program = assemble_text(f".chip 0\n@{t} C2C_W0: transmit L0\n.chip 1\n@0 VXM0: sync\n"
                                f"@{3 * E} VXM0: nop 1\n").program
        out = set()
        for seed in range(12):
            m = Machine(program, clocks=ClockModel(seed=seed, jitter=True))
            m.run()
            out.add(m.cycle)
        return out

    assert len(ends(E - LAT)) == 2   # warned: the release moves by one epoch with the draw
    assert len(ends(0)) == 1         # not warned: one release whatever the draw


# ---- images, disassembly and the command line -------------------------------------------------------

B1 = boundary(LAT)             # chip 1 is released by chip 0's transmit at 0
B2 = boundary(B1 + 10 + LAT)   # chip 0 by chip 1's transmit at B1 + 10
SYNCED = f"""\
.chip 0
@0 C2C_W0: transmit chip1
@2 VXM0: sync
@{B2 + 5} VXM0: nop 3
.chip 1
@1 VXM0: sync
@{B1} VXM0: notify
@{B1 + 10} C2C_W0: transmit chip0
"""


def test_an_image_with_transmit_released_syncs_disassembles_and_reassembles_identically():
    asm = assemble_text(SYNCED, "synced.tsp")
    assert asm.warnings == []
    assert (_busy_until(asm, 0, "VXM0", 2), _busy_until(asm, 1, "VXM0", 1)) == (B2 - 1, B1 - 1) == (511, 255)
    image = read_bytes(write_bytes(asm.program), ISA)
    timeline = program_timeline(ISA, image.code, chips=image.chips)
    cycles = {(p.chip, p.slot, p.row): p.cycle for p in asm.placed}
    for chip, issued in timeline.items():
        for x in issued:
            if (chip, x.slot, x.row) in cycles:
                assert x.cycle == cycles[(chip, x.slot, x.row)]
    text = disassemble(image, ISA)
    assert f"@{B2 + 5} VXM0: nop 3" in text and f"@{B1} VXM0: notify" in text
    assert write_bytes(assemble_text(text, "d.tsp").program) == write_bytes(asm.program)
    compact = assemble_text(disassemble(image, ISA, with_loc=False), "d.tsp").program
    assert all((compact.code[c] == asm.program.code[c]).all() for c in asm.program.code)


def test_disassembly_uses_the_topology_recorded_in_the_image(tmp_path):
    slow = tmp_path / "slow.toml"
    slow.write_text("chips = 2\n[[links]]\na = [0, 0]\nb = [1, 0]\nlatency = 600\n")
    src = f".topology \"{slow}\"\n.chip 0\n@0 C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n@{boundary(600)} VXM0: nop 1\n"
    asm = assemble_text(src)
    image = read_bytes(write_bytes(asm.program), ISA)
    assert image.topology.links == asm.topology.links
    recorded = disassemble(image, ISA)
    assert f"@{boundary(600)} VXM0: nop 1" in recorded
    assert recorded.split("\n")[1] == ("; assembled for the custom topology 'slow' (2 chips, 1 links); "
                                       "reassemble with --topology FILE.toml")
    again = assemble_text(recorded, "d.tsp", topology=str(slow)).program
    assert write_bytes(again) == write_bytes(asm.program)
    text = disassemble(image, ISA, topology=str(slow))
    assert text.split("\n")[1] == f'.topology "{slow}"'
    assert f"@{boundary(600)} VXM0: nop 1" in text
    assert write_bytes(assemble_text(text, "d.tsp").program) == write_bytes(asm.program)
    assert disassemble(image, ISA, topology="pair").split("\n")[1] == ".topology pair"
    image.topology = None  # as in an image of a program that named no topology: the default (pair)
    assert f"@{boundary(LAT)} VXM0: nop 1" in disassemble(image, ISA)


def test_disassembly_without_the_topology_that_releases_a_sync_says_so(tmp_path):
    far = tmp_path / "far.toml"
    far.write_text("chips = 2\n[[links]]\na = [0, 5]\nb = [1, 5]\n")  # pair's port is 0
    asm = assemble_text(f'.topology "{far}"\n.chip 0\n@0 C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n'
                        "@999 VXM0: nop 1\n")
    image = read_bytes(write_bytes(asm.program), ISA)
    assert "@999 VXM0: nop 1" in disassemble(image, ISA)  # the image knows its topology
    image.topology = None
    with pytest.raises(ImageError, match=re.escape(
            "chip 1: VXM0 park in sync and no notify or transmit releases them (in topology pair, the default "
            "for its chips; if the program was assembled for another, give it: tspasm disasm --topology)")):
        disassemble(image, ISA)
    assert "@999 VXM0: nop 1" in disassemble(image, ISA, topology=str(far))


def test_cli_asm_and_check_take_a_topology(capsys, tmp_path):
    src = tmp_path / "p.tsp"
    src.write_text(".chip 0\n@0 MEM_W43: read 0, S0W\n@2 C2C_E0: send chip15, S0W\n")
    code, _, err = run_cli(capsys, "asm", src, "-o", tmp_path / "p.tspo")
    assert code == 1
    assert f"{src}:3:17: error: no link joins chip 0 to chip 15 in topology single (chips 0..0)" in err
    code, out, err = run_cli(capsys, "asm", src, "-o", tmp_path / "p.tspo", "--topology", "rack")
    assert (code, err) == (0, "")
    code, _, err = run_cli(capsys, "check", src)
    assert code == 1 and f"{src}:3:17: error: no link joins chip 0 to chip 15" in err
    src.write_text(".topology node\n" + src.read_text())
    code, _, err = run_cli(capsys, "check", src, "--topology", "rack")
    assert code == 1 and f"{src}:1:11: error: `.topology node` conflicts with --topology rack" in err


def test_cli_check_reports_sync_errors_and_jitter_warnings(capsys, tmp_path):
    src = tmp_path / "s.tsp"
    src.write_text(f".chip 0\n@0 C2C_W0: transmit chip1\n.chip 1\n@{boundary(LAT)} VXM0: sync\n@999 VXM0: nop 1\n")
    code, _, err = run_cli(capsys, "check", src)
    assert code == 1 and f"{src}:4:{len(str(boundary(LAT))) + 3}: error: sync at cycle {boundary(LAT)} " \
                         "is never released" in err
    src.write_text(f".chip 0\n@{E - LAT} C2C_W0: transmit chip1\n.chip 1\n@0 VXM0: sync\n@999 VXM0: nop 1\n")
    code, out, err = run_cli(capsys, "check", src)
    assert code == 0 and "no schedule errors" in out
    assert re.search(rf"^{re.escape(str(src))}:2:{len(str(E - LAT)) + 3}: warning: the cycle at which this "
                     r"transmit releases chip 1 depends on link jitter", err, re.M)
    code, _, err = run_cli(capsys, "asm", src, "-o", tmp_path / "s.tspo")
    assert code == 0 and ": warning: the cycle at which this transmit" in err


def test_run_uses_the_programs_topology(tmp_path):
    from tspasm.runner import load_program, run_program

    src = tmp_path / "r.tsp"
    src.write_text(".topology rack\n.chip 0\n@0 C2C_E0: transmit chip15\n.chip 15\n@0 VXM0: sync\n"
                   f"@{boundary(LAT)} VXM0: nop 1\n")
    result = run_program(load_program(str(src)))
    assert result.topology == "rack"
    assert result.cycles == boundary(LAT) + 1


# ---- the engine agrees, on random programs ----------------------------------------------------------

def _random_program(rng: random.Random) -> tuple[str, object]:
    nchips = rng.randint(2, 3)
    lat = [rng.choice([1, 2, 3, 5, 100, LAT, E - 1, E, E + 1, 300]) for _ in range(3)]
    ends = [(0, 0, 1, 0), (1, 1, 2, 1), (0, 2, 2, 2)][:1 if nchips == 2 else 3]
    topo = load_toml_text(f"chips = {nchips}\n" + "".join(
        f"[[links]]\na = [{a}, {pa}]\nb = [{b}, {pb}]\nlatency = {lat[i]}\n"
        for i, (a, pa, b, pb) in enumerate(ends)), "random.toml")

    def near_boundary():
        return max(rng.choice([rng.randint(0, 3 * E), E * rng.randint(1, 3) + rng.randint(-NL - 2, 2)]), 0)

    lines = []
    for chip in range(nchips):
        lines.append(f".chip {chip}")
        for port in topo.ports(chip):
            t = rng.randint(0, 40)
            for _ in range(rng.randint(0, 2)):
                lines.append(f"@{t} C2C_W{port % 4}: transmit chip{topo.ports(chip)[port][0]}")
                t += rng.randint(24, 400)
        notifies = sorted({near_boundary() for _ in range(rng.randint(0, 3))})
        lines += [f"@{n} VXM{8 + k}: notify" for k, n in enumerate(notifies)]
        for q in range(rng.randint(1, 4)):
            lines.append(f"@{near_boundary()} VXM{q}: sync")
            lines.append(f"@{20 * E} VXM{q}: nop 1")
        lines.append(f"@{6 * E} VXM7: notify")  # every sync is released by then
    return "\n".join(lines) + "\n", topo


def test_release_cycles_match_the_engine_on_random_programs():
    from tspasm.engine import Machine

    rng = random.Random(20261122)
    checked = not_the_earliest = 0
    for _ in range(150):
        src, topo = _random_program(rng)
        asm = assemble_text(src, "random.tsp", topology=topo)
        not_the_earliest += _order_matters(asm, topo)
        timeline = program_timeline(ISA, asm.program.code, topo)
        replay = {(x.chip, x.slot, x.row): x.cycle for lst in timeline.values() for x in lst}
        m = Machine(asm.program, hazards="warn", topology=topo)
        for c in sorted({p.cycle for p in asm.placed}):
            m.run(until=c)
            assert m.cycle == c, src
            for p in (p for p in asm.placed if p.cycle == c):
                q = m.queue_info(p.chip, p.slot)
                assert (q.next_row, q.next_cycle) == (p.row, c), src
                assert replay[(p.chip, p.slot, p.row)] == c, src
                checked += 1
    assert checked > 1000
    assert not_the_earliest > 10  # syncs that the first event, not the earliest release, releases


def _order_matters(asm, topo) -> int:
    """Syncs released later than the earliest notify or transmit release after them."""
    notify = ISA.by_name["notify"]
    transmit = ISA.by_name["transmit"]
    releases: dict[int, list[int]] = {}
    for p in asm.placed:
        if p.spec is notify:
            releases.setdefault(p.chip, []).append(p.cycle + NL)
        elif p.spec is transmit:
            peer, _, latency = topo.ports(p.chip)[link_of(p)]
            releases.setdefault(peer, []).append(boundary(p.cycle + latency))
    n = 0
    for p in asm.placed:
        if p.spec.control == "park":
            earliest = min(r for r in releases.get(p.chip, []) if r > p.cycle)
            n += p.busy_until + 1 != earliest
    return n


def test_an_image_runs_and_checks_on_the_topology_it_was_assembled_for(capsys, tmp_path):
    far = tmp_path / "far.toml"
    far.write_text("chips = 2\n[[links]]\na = [0, 5]\nb = [1, 5]\n")  # the default (pair) wires port 0
    src = tmp_path / "p.tsp"
    src.write_text(f'.topology "{far}"\n.chip 0\n@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send chip1, S0W\n'
                   f".chip 1\n@{2 + LAT_MAX} C2C_W0: receive chip0, S1E\n")
    image = tmp_path / "p.tspo"
    assert run_cli(capsys, "asm", src, "-o", image)[0] == 0
    code, out, err = run_cli(capsys, "run", image, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["topology"] == "far"
    code, _, err = run_cli(capsys, "check", image)
    assert (code, err) == (0, "")
    program = read_file(str(image), ISA)
    assert Machine(program).topology.links == program.topology.links
    # --topology still wins, and a topology without the port is refused as before
    code, _, err = run_cli(capsys, "run", image, "--topology", "pair")
    assert code == 1 and "L5" in err


def test_a_recorded_builtin_topology_round_trips_through_the_disassembler():
    src = (".topology node\n.chip 0\n@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send chip5, S0W\n"
           f".chip 5\n@{2 + LAT_MAX} C2C_W0: receive chip0, S1E\n")
    blob = write_bytes(assemble_text(src, "n.tsp").program)
    text = disassemble(read_bytes(blob, ISA), ISA)
    assert text.split("\n")[1] == ".topology node"
    assert write_bytes(assemble_text(text, "d.tsp").program) == blob
