"""Multi-chip topologies: built-ins, port budget, custom TOML files, hop metrics, `tspasm topo`."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tspasm.cli.main import main
from tspasm.errors import TopologyError, UsageError
from tspasm.isa import default_isa
from tspasm.topology import (Link, Topology, builtin, load_toml_text, load_topology, metrics,
                             port_hemisphere, system)

ISA = default_isa()
PORTS = ISA.param("c2c.links")
LATENCY = ISA.param("c2c.link_latency")
LOCAL = ISA.param("topology.local_links")
GLOBAL = ISA.param("topology.global_links")
MAX_RACKS = ISA.param("topology.max_racks")


@pytest.fixture(scope="module")
def big():
    t0 = time.perf_counter()
    topo = system(MAX_RACKS)
    m = metrics(topo)
    return topo, m, time.perf_counter() - t0


# ---- counts and diameters ------------------------------------------------------------------

@pytest.mark.parametrize("name, chips, links, diameter, chip_diameter, node_diameter", [
    ("single", 1, 0, 0, 0, None),
    ("pair", 2, 1, 1, 1, None),
    ("node", 8, 28, 1, 1, 0),
    ("rack", 72, 9 * 28 + 36 * 2, 3, 3, 1),
    ("system:1", 72, 324, 3, 3, 1),
    ("system:2", 144, 2 * 324 + 1, 5, 7, 3),
    ("system:3", 216, 3 * 324 + 3, 5, 7, 3),
])
def test_builtin_counts_and_diameters(name, chips, links, diameter, chip_diameter, node_diameter):
    m = metrics(builtin(name))
    assert (m.chips, m.links, m.diameter, m.chip_diameter, m.node_diameter) == \
        (chips, links, diameter, chip_diameter, node_diameter)
    assert sum(m.hops.values()) == chips * (chips - 1) // 2 and m.unreachable == 0
    assert max(m.hops, default=0) == m.chip_diameter  # the chip-level count is the histogram's reach


def test_largest_system(big):
    topo, m, seconds = big
    assert m.chips == ISA.param("system.max_chips") == 10_440
    assert m.links == 145 * 324 + 145 * 144 // 2
    # The paper's "at most 5 hops" = 3 node-to-node hops + one local hop at each end.
    assert m.node_diameter == 3 and m.diameter == 5
    # Chip to chip the same wiring needs 7 (docs/topology.md, "Diameter").
    assert m.chip_diameter == 7
    assert sum(m.hops.values()) == m.chips * (m.chips - 1) // 2
    assert m.classes == 72
    assert seconds < 20


def test_rack_diameter_cannot_be_2():
    """Why a chip-level system diameter of 5 is out of reach: within 2 hops a chip sees at most
    1 + 9 + 7*2 + 2*7 + 2*1 = 40 of the 72 chips of its rack, so every inter-rack link end is
    3 hops from some chip of its rack, and system:2 (one link) needs 3 + 1 + 3 = 7."""
    assert metrics(builtin("rack")).chip_diameter == 3
    assert 1 + 9 + 7 * 2 + 2 * 7 + 2 < 72


@pytest.mark.parametrize("name", ["node", "rack", "system:2", "system:5"])
def test_symmetry_shortcut_matches_a_search_from_every_chip(name):
    topo = builtin(name)
    fast, slow = metrics(topo), metrics(topo, use_symmetry=False)
    assert fast.hops == slow.hops and fast.node_diameter == slow.node_diameter
    assert fast.classes < slow.classes == topo.chips


def test_a_false_symmetry_claim_is_caught():
    good = builtin("rack")
    bad = Topology("bad", good.chips, good.links, (tuple(range(1, 72)) + (0,),), ISA, 8)
    with pytest.raises(AssertionError, match="breaks"):
        metrics(bad)


def test_unknown_names_list_the_legal_ones():
    for name in ("bogus", "system", "system:0", f"system:{MAX_RACKS + 1}", "system:x"):
        with pytest.raises(UsageError, match="single, pair, node, rack and system:R"):
            builtin(name)


# ---- port budget -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["single", "pair", "node", "rack", "system:2", "system:145"])
def test_port_budget(name):
    topo = builtin(name)
    ports = Counter()
    for a, pa, b, pb, lat in topo.links:
        assert lat == LATENCY
        assert 0 <= pa < PORTS and 0 <= pb < PORTS and a != b
        ports[(a, pa)] += 1
        ports[(b, pb)] += 1
    assert max(ports.values(), default=1) == 1  # no port used twice
    deg = topo.degrees()
    assert max(deg) <= LOCAL + GLOBAL <= PORTS


def test_port_roles():
    """Local links on west ports 0..6, global links on east ports 8..11."""
    topo = builtin("system:145")
    for a, pa, b, pb, _ in topo.links:
        local = a // 8 == b // 8
        for p in (pa, pb):
            assert (p < LOCAL) if local else (8 <= p < 8 + GLOBAL)
            assert port_hemisphere(p) == ("W" if local else "E")
    assert all(d == LOCAL + GLOBAL for d in topo.degrees())  # full at 145 racks


def test_node_and_rack_wiring():
    node = builtin("node")
    assert node.ports(3) == {0: (0, 2, LATENCY), 1: (1, 2, LATENCY), 2: (2, 2, LATENCY),
                             3: (4, 3, LATENCY), 4: (5, 3, LATENCY), 5: (6, 3, LATENCY),
                             6: (7, 3, LATENCY)}
    rack = builtin("rack")
    between = Counter()
    for a, _, b, _, _ in rack.links:
        if a // 8 != b // 8:
            between[frozenset((a // 8, b // 8))] += 1
    assert len(between) == 36 and set(between.values()) == {2}
    # node 0 - node 1 (offset 1): chip 0 of node 0 to chip 7 of node 1, and chip 7 to chip 0
    assert rack.ports(0)[8] == (15, 8, LATENCY) and rack.ports(7)[9] == (8, 9, LATENCY)


def test_port_hemisphere():
    assert [port_hemisphere(p) for p in (0, 7, 8, 15)] == ["W", "W", "E", "E"]
    with pytest.raises(TopologyError):
        port_hemisphere(16)


# ---- custom TOML -------------------------------------------------------------------------------

RING = """\
name = "ring3"
chips = 3

[[links]]
a = [0, 8]
b = [1, 0]

[[links]]
a = [1, 8]
b = [2, 0]
latency = 220

[[links]]
a = [2, 8]
b = [0, 0]
"""


def test_custom_topology():
    topo = load_toml_text(RING, "ring.toml")
    assert topo.name == "ring3" and topo.chips == 3
    assert topo.links == (Link(0, 8, 1, 0, LATENCY), Link(1, 8, 2, 0, 220),
                          Link(2, 8, 0, 0, LATENCY))
    m = metrics(topo)
    assert (m.diameter, m.hops, m.node_diameter) == (1, {1: 3}, None)


def test_custom_default_latency_and_inline_links():
    topo = load_toml_text('chips = 2\nlatency = 209\nlinks = [{a = [0, 1], b = [1, 1]}]\n')
    assert topo.links == (Link(0, 1, 1, 1, 209),) and topo.name == "<topology>"


def test_custom_disconnected():
    m = metrics(load_toml_text("chips = 3\n[[links]]\na = [0, 0]\nb = [1, 0]\n"))
    assert m.diameter is None and m.hops == {1: 1} and m.unreachable == 2


@pytest.mark.parametrize("text, message", [
    ("chips = [\n", "t.toml: not valid TOML: Invalid value (at end of document)"),
    ("chips = 3\nchips = 4\n", "t.toml:2:10: not valid TOML: Cannot overwrite a value"),
    ("links = []\n", "t.toml: chips: missing"),
    ("chips = 0\n", "t.toml: chips: 0 is not a chip count (1..10440)"),
    ("chips = 10441\n", "t.toml: chips: 10441 is not a chip count"),
    ("chips = true\n", "t.toml: chips: True is not a chip count"),
    ("chips = 2\nlinkz = []\n", "t.toml: linkz: unknown key"),
    ("chips = 2\nlatency = 0\n", "t.toml: latency: 0 is not a positive number of cycles"),
    ("chips = 2\nlinks = 3\n", "t.toml: links: expected an array of tables"),
    ("chips = 2\nname = 5\n", "t.toml: name: 5 is not a name"),
    (RING.replace("b = [2, 0]", "b = [9, 0]"), "t.toml:8: links[1].b: chip 9 does not exist "
                                               "(chips are 0..2)"),
    (RING.replace("b = [2, 0]", "b = [2, 16]"), "t.toml:8: links[1].b: port 16 is not a link of "
                                                "the chip (ports are 0..15)"),
    (RING.replace("b = [2, 0]", "b = [2, -1]"), "t.toml:8: links[1].b: port -1 is not a link"),
    (RING.replace("a = [2, 8]", "a = [2, 0]"), "t.toml:13: links[2].a: chip 2 port 0 is already "
                                               "used by t.toml:8: links[1]"),
    (RING.replace("b = [2, 0]", "b = [1, 0]"), "t.toml:8: links[1].b: chip 1 port 0 is already "
                                               "used by t.toml:4: links[0]"),
    (RING.replace("b = [2, 0]", "b = [1, 3]"), "t.toml:8: links[1]: joins chip 1 to itself"),
    (RING.replace("latency = 220", "latency = -4"), "t.toml:8: links[1].latency: -4 is not a "
                                                    "positive number"),
    (RING.replace("latency = 220", "latency = 2.5"), "t.toml:8: links[1].latency: 2.5"),
    (RING.replace("latency = 220", "cost = 1"), "t.toml:8: links[1].cost: unknown key"),
    (RING.replace("b = [2, 0]\n", ""), "t.toml:8: links[1].b: missing"),
    (RING.replace("b = [2, 0]", "b = 2"), "t.toml:8: links[1].b: 2 is not [chip, port]"),
    (RING.replace("b = [2, 0]", 'b = [2, "L0"]'), "t.toml:8: links[1].b: [2, 'L0'] is not"),
    ("chips = 2\nlinks = [{a = [0, 0], b = [5, 0]}]\n", "t.toml: links[0].b: chip 5 does not"),
    ("chips = 2\nlinks = [3]\n", "t.toml: links[0]: expected a table"),
])
def test_custom_errors(text, message):
    with pytest.raises(TopologyError) as info:
        load_toml_text(text, "t.toml")
    assert str(info.value).startswith(message), str(info.value)


def test_custom_file(tmp_path):
    path = tmp_path / "ring.toml"
    path.write_text(RING)
    assert load_topology(path).chips == 3
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "missing.toml")


# ---- CLI -------------------------------------------------------------------------------------

def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, chips, diameter", [("node", 8, 1), ("rack", 72, 3),
                                                   ("system:2", 144, 5)])
def test_cli_json(capsys, name, chips, diameter):
    code, out, err = run(capsys, "topo", name, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["chips"] == chips and data["diameter"] == diameter
    assert data["links"] == metrics(builtin(name)).links
    assert sum(data["hops"].values()) == chips * (chips - 1) // 2
    assert all(k.isdigit() for k in data["hops"])


def test_cli_text(capsys):
    code, out, err = run(capsys, "topo", "rack")
    assert code == 0 and err == ""
    assert "chips     72" in out and "links     324" in out and "diameter  3 hops" in out
    assert "    3    1242" in out


def test_cli_file(capsys, tmp_path):
    path = tmp_path / "ring.toml"
    path.write_text(RING)
    code, out, _ = run(capsys, "topo", path, "--json")
    assert code == 0 and json.loads(out)["hops"] == {"1": 3}


def test_cli_bad_name_exit_2(capsys):
    code, out, err = run(capsys, "topo", "sytem:4")
    assert code == 2 and out == ""
    assert "single, pair, node, rack and system:R with R = 1..145" in err


def test_cli_bad_toml_exit_1(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(RING.replace("b = [2, 0]", "b = [9, 0]"))
    code, out, err = run(capsys, "topo", path)
    assert code == 1 and out == ""
    assert err == f"{path}:8: links[1].b: chip 9 does not exist (chips are 0..2)\n"
    code, _, err = run(capsys, "topo", tmp_path / "missing.toml")
    assert code == 1 and "cannot read" in err
