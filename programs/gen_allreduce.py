"""Generate the all-reduce golden programs and their inputs (deterministic: fixed seeds).

    python programs/gen_allreduce.py node [--out DIR]   # allreduce_node.tsp + allreduce_node/
    python programs/gen_allreduce.py rack [--out DIR]   # allreduce_rack.tsp + allreduce_rack/
    python programs/gen_allreduce.py all  [--out DIR]   # both

DIR defaults to this script's directory (programs/).  The generated files are checked
in; tests/test_program_generators.py regenerates them into a temporary directory and
asserts they are byte for byte what is committed (so edit this script, not the .tsp).

Every chip runs the same schedule; only its peers (asserted against tspasm.topology, the
wiring the engine uses) and its input data differ.  The header written into each .tsp
explains the algorithm and the cycle arithmetic; its numbers come from the same
variables that place the instructions.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from tspasm.isa import default_isa
from tspasm.topology import builtin

HERE = os.path.dirname(os.path.abspath(__file__))
ISA = default_isa()
LANES = ISA.param("geometry.lanes")
LAT_MAX = ISA.param("c2c.link_latency_max")      # 228: every receive is at >= send + LAT_MAX
LAT_MIN = ISA.param("c2c.link_latency_min")      # 209
FLIT = ISA.param("c2c.link_cycles_per_vector")   # 24: one vector per link per direction
DEPTH = ISA.param("c2c.rx_fifo_depth")           # 4
CPN = ISA.param("topology.chips_per_node")       # 8
LOCAL = ISA.param("topology.local_links")        # 7: ports 0..6 (west)
NODES = ISA.param("topology.nodes_per_rack")     # 9
GLOBAL_PORT = 8                                  # copy 0 of the node-pair links (east)
C2C_W, C2C_E, VXM = 1, 50, 24                    # positions of the west/east C2C and VXM rank 0
PLANES = 4                                       # int32 = 4 byte planes on 4 streams
SEED = {"node": 808, "rack": 7272}

assert LOCAL == CPN - 1


def pos(j: int) -> int:
    """Position of MEM_Wj, the slice holding byte plane j of every vector here."""
    return 23 - j // 2


P = [pos(j) for j in range(PLANES)]   # 23, 23, 22, 22


class Chip:
    """The instructions of one chip, placed at absolute cycles; one per queue per cycle
    (a MEM slice's read and write share its queue, so this also rules out a read and
    a write of one slice in one cycle)."""

    def __init__(self, n: int):
        self.n = n
        self.ins: list[tuple[int, int, str, str]] = []
        self.busy: dict[tuple[str, int], str] = {}

    def at(self, cycle: int, queue: str, text: str) -> None:
        assert cycle >= 0, (self.n, cycle, queue, text)
        key = (queue, cycle)
        assert key not in self.busy, f"chip {self.n}: {queue} twice at {cycle}: {self.busy[key]} / {text}"
        self.busy[key] = text
        self.ins.append((cycle, len(self.ins), queue, text))

    def repeat(self, cycle: int, queue: str, n: int, d: int) -> None:
        """`repeat n, d` at `cycle`: the queue is busy until the last re-issue."""
        self.at(cycle, queue, f"repeat {n}, {d}")
        for c in range(cycle + 1, cycle + n * d):   # the instruction was at cycle - 1
            self.at(c, queue, "(busy: repeat)")
        self.ins = [i for i in self.ins if i[3] != "(busy: repeat)"]

    def bundles(self) -> list[str]:
        by: dict[int, list[str]] = {}
        for c, _, q, t in sorted(self.ins):
            by.setdefault(c, []).append(f"{q}: {t}")
        return [f"@{c} {{ " + " | ".join(items) + " }" for c, items in sorted(by.items())]


# ---- the building blocks (common() in the header describes each) -----------------------------------

def local_sends(chip: Chip, s: int, addr: int) -> None:
    """Plane j of the vector at `addr` leaves on ports 0..3 at s + 24j and on 4..6 at
    s + 24j + 1.  MEM_Wj reads it at s + 24j - P (and again, step 0) onto S28W."""
    for j in range(PLANES):
        t = s + FLIT * j
        chip.at(t - P[j], f"MEM_W{j}", f"read {addr}, S28W, 0")   # t - P + 1 + (P - 1) = t at position 1
        chip.at(t - P[j] + 1, f"MEM_W{j}", "repeat 1, 1")
        for p in range(LOCAL):
            chip.at(t + p // 4, f"C2C_W{p % 4}", f"send L{p}, S28W")


def local_recv_cycle(s: int, j: int, p: int) -> int:
    # the peer sent plane j to us at s + 24j + (its port div 4) <= s + 24j + 1
    return s + FLIT * j + 1 + LAT_MAX + p


def local_receives(chip: Chip, s: int, base: int) -> dict[int, dict[int, int]]:
    """Planes 0..2: plane j from port p is received at local_recv_cycle() onto S16E and
    written to MEM_Wj address base + 1 + p (plane 3 waits for the chain: last_plane_receives).
    Returns {addr: {plane: write cycle}}."""
    written: dict[int, dict[int, int]] = {}
    for j in range(PLANES - 1):
        for p in range(LOCAL):
            r = local_recv_cycle(s, j, p)
            chip.at(r, f"C2C_W{p % 4}", f"receive L{p}, S16E")
            written.setdefault(base + 1 + p, {})[j] = r + 1 + (P[j] - C2C_W)
        # the 7 writes are on consecutive cycles at consecutive addresses: one write + repeat
        w = written[base + 1][j]
        assert [written[base + 1 + p][j] for p in range(LOCAL)] == list(range(w, w + LOCAL))
        chip.at(w, f"MEM_W{j}", f"write {base + 1}, S16E")
        chip.repeat(w + 1, f"MEM_W{j}", LOCAL - 1, 1)
    return written


J3 = PLANES - 1   # the last plane


def chain_read(t: int, k: int, r: int, j: int) -> int:
    """Cycle at which MEM_Wj reads chain operand k (op at t + 4k on rank r)."""
    return t + 4 * k - 1 - (VXM + r - P[j])


def last_plane_start(s: int, elems: list[int], base: int) -> int:
    """Smallest chain start T at which every port's plane 3 can be received (at >= the
    peer's send + LAT_MAX) and written one cycle before the chain reads it."""
    ranks = chain_ranks(len(elems))
    t = 0
    for p in range(LOCAL):
        k = elems.index(base + 1 + p)
        # recv = read - 1 - 1 - (P - 1) >= s + 24 * 3 + 1 + LAT_MAX
        need = s + FLIT * J3 + 1 + LAT_MAX + 1 + P[J3]
        t = max(t, need - chain_read(0, k, ranks[k], J3))
    return t


def last_plane_receives(chip: Chip, t: int, elems: list[int], base: int, s: int) -> dict[int, int]:
    """Receive plane 3 of port p just in time: MEM_W3 writes it at read - 1."""
    ranks = chain_ranks(len(elems))
    out = {}
    for p in range(LOCAL):
        k = elems.index(base + 1 + p)
        w = chain_read(t, k, ranks[k], J3) - 1
        r = w - 1 - (P[J3] - C2C_W)
        assert r >= s + FLIT * J3 + 1 + LAT_MAX
        chip.at(r, f"C2C_W{p % 4}", f"receive L{p}, S16E")
        chip.at(w, f"MEM_W{J3}", f"write {base + 1 + p}, S16E")
        out[p] = r
    return out


def chain_ranks(n: int) -> list[int]:
    """Ranks of the n chain ops: 0, 1, 2, 3, 2, 1, 0, 1, ... (bouncing across the VXM)."""
    r, d, out = 0, 1, []
    for _ in range(n):
        out.append(r)
        if not 0 <= r + d <= 3:
            d = -d
        r += d
    return out


def chain_offsets(n: int) -> list[int]:
    """Cycle - rank of each op: when (relative to T) its operand passes position 24."""
    return [4 * k - r for k, r in enumerate(chain_ranks(n))]


def chain_start(elems: list[int], written: dict[int, dict[int, int]]) -> int:
    """Smallest T at which every operand read comes after the write of its word."""
    t = 0
    for k, (addr, off) in enumerate(zip(elems, chain_offsets(len(elems)))):
        for j in range(PLANES):
            w = written.get(addr, {}).get(j)
            if w is not None:
                # read at T + 4k - 1 - (24 + r - P) >= w + 1
                t = max(t, w + 1 + 1 + 24 - P[j] - off)
    return t


def chain_slots(t: int, elems: list[int]) -> list[tuple[int, str]]:
    ranks = chain_ranks(len(elems))
    out = [(t + 4 * k - 1 - (VXM + r - P[j]), f"MEM_W{j}") for k, r in enumerate(ranks) for j in range(PLANES)]
    out += [(t + 4 * k, f"VXM{r}") for k, r in enumerate(ranks)]
    tl, rl = t + 4 * (len(elems) - 1), ranks[-1]
    return out + [(tl + 3 + (VXM + rl - P[j]), f"MEM_W{j}") for j in range(PLANES)]


def chain_fit(chip: Chip, t: int, elems: list[int]) -> int:
    """The first T >= t at which the chain's queues are all free (in_node_allreduce asserts
    that the T it picks needs no shift: no read of the chain meets a receive's write)."""
    while any((q, c) in chip.busy for c, q in chain_slots(t, elems)):
        t += 1
    return t


def chain(chip: Chip, t: int, elems: list[int], out: int) -> dict[int, int]:
    """Sum the vectors at `elems` (MEM_W0..W3 addresses) with a chain of VXM ops, one
    every 4 cycles, bouncing between ranks 0 and 3: op 0 (rank 0, at t) is a mov of
    elems[0]; op k (at t + 4k, rank r_k) adds elems[k], read from MEM_Wj onto S0E..S3E
    at t + 4k - 1 - (24 + r_k - P), to the running sum arriving on S4E (from the west)
    or S4W (from the east).  The last op sends the sum west onto S4W..S7W and MEM_Wj
    writes it to `out` at t_last + 3 + (24 + r - P).  Returns {plane: write cycle}."""
    ranks = chain_ranks(len(elems))
    acc = None
    for k, (addr, r) in enumerate(zip(elems, ranks)):
        tk = t + 4 * k
        for j in range(PLANES):
            chip.at(tk - 1 - (VXM + r - P[j]), f"MEM_W{j}", f"read {addr}, S{j}E")
        last = k == len(elems) - 1
        dst = "S4W" if last or ranks[k + 1] < r else "S4E"
        if acc is None:
            chip.at(tk, f"VXM{r}", f"mov.i32 S0E -> {dst}")
        else:
            chip.at(tk, f"VXM{r}", f"add.i32 {acc}, S0E -> {dst}")
        acc = dst
    done = {}
    for j in range(PLANES):
        w = tk + 3 + (VXM + r - P[j])
        chip.at(w, f"MEM_W{j}", f"write {out}, S{4 + j}W")
        done[j] = w
    return done


def in_node_allreduce(chip: Chip, s: int, base: int, elems: list[int], out: int,
                      ready: dict[int, dict[int, int]] | None = None) -> dict:
    """The in-node all-reduce of the vector at `base` (sends from base, port p's vector to
    base + 1 + p), summing the vectors at `elems` in chain order into `out`.  `ready`:
    write cycles of other chain operands (plane -> cycle)."""
    local_sends(chip, s, base)
    written = local_receives(chip, s, base)
    written.update(ready or {})
    t_mem = chain_start(elems, written)
    t_last = last_plane_start(s, elems, base)
    t = max(t_mem, t_last)
    recv3 = last_plane_receives(chip, t, elems, base, s)
    assert chain_fit(chip, t, elems) == t, "the chain collides with a receive's write"
    done = chain(chip, t, elems, out)
    return dict(T=t, t_mem=t_mem, t_last=t_last, written=written, recv3=recv3, done=done)


def check_local_ports(topo, chip: int) -> None:
    ports = topo.ports(chip)
    for p in range(LOCAL):
        peer, pp, _ = ports[p]
        k, m = chip % CPN, peer % CPN
        assert peer // CPN == chip // CPN and m == (p if p < k else p + 1), (chip, p, peer)
        assert pp == (k if k < m else k - 1), (chip, p, peer, pp)


# ---- the programs --------------------------------------------------------------------------------

S1 = max(P)   # first local send: MEM_W0 (position 23) reads at 0, 0 + 1 + 22 = 23 at position 1
NODE_ELEMS, NODE_OUT = [0] + [1 + p for p in range(LOCAL)], 8
# rack: phase 1 as the node (N at 8); phase 3 sums N, the vector received on port 8 (16) and
# the 7 local partials (17..23) into 24
RACK_N, RACK_R, RACK_OUT = 8, 16, 24
RACK_ELEMS3 = [RACK_N, RACK_R] + [RACK_R + 1 + p for p in range(LOCAL)]


def gen_node() -> tuple[str, dict[str, np.ndarray]]:
    topo = builtin("node")
    g = np.random.default_rng(SEED["node"])
    xs = g.integers(-2**31, 2**31 - 1, (CPN, LANES), endpoint=True).astype(np.int32)
    chips = []
    for c in range(CPN):
        check_local_ports(topo, c)
        ch = Chip(c)
        ph = in_node_allreduce(ch, S1, 0, NODE_ELEMS, NODE_OUT)
        chips.append(ch)
    end = max(ph['done'].values())
    nums = dict(ph, end=end)
    text = node_header(nums) + body(chips, "allreduce_node", lambda c: f"x_c{c}", NODE_OUT)
    return text, {f"x_c{c}.npy": xs[c] for c in range(CPN)}


def gen_rack() -> tuple[str, dict[str, np.ndarray]]:
    topo = builtin("rack")
    g = np.random.default_rng(SEED["rack"])
    xs = g.integers(-2**31, 2**31 - 1, (topo.chips, LANES), endpoint=True).astype(np.int32)
    chips = []
    for c in range(topo.chips):
        check_local_ports(topo, c)
        peer, pp, _ = topo.ports(c)[GLOBAL_PORT]
        node, k = divmod(c, CPN)
        assert pp == GLOBAL_PORT and peer == CPN * ((node + k + 1) % NODES) + (CPN - 1 - k), (c, peer, pp)
        ch = Chip(c)
        # phase 1: in-node all-reduce of x (address 0) -> node sum N (address 8)
        ph1 = in_node_allreduce(ch, S1, 0, NODE_ELEMS, RACK_N)
        n_done = ph1["done"]
        # phase 2: N over L8 (east C2C, position 50): plane j read onto S8E at
        # s2 + 24j - 1 - (50 - P), sent at s2 + 24j; the peer's N received at + 228 onto
        # S8W and written to address 16 at + 1 + (50 - P)
        s2 = max(n_done[j] + 1 + 1 + (C2C_E - P[j]) - FLIT * j for j in range(PLANES))
        r_done = {}
        for j in range(PLANES):
            t = s2 + FLIT * j
            ch.at(t - 1 - (C2C_E - P[j]), f"MEM_W{j}", f"read {RACK_N}, S8E")
            ch.at(t, "C2C_E0", f"send L{GLOBAL_PORT}, S8E")
            ch.at(t + LAT_MAX, "C2C_E1", f"receive L{GLOBAL_PORT}, S8W")
            r_done[j] = t + LAT_MAX + 1 + (C2C_E - P[j])
            ch.at(r_done[j], f"MEM_W{j}", f"write {RACK_R}, S8W")
        # phase 3: in-node all-reduce of the received sums (address 16), plus N
        s3 = max(r_done[j] + 1 + P[j] - FLIT * j for j in range(PLANES))
        ph3 = in_node_allreduce(ch, s3, RACK_R, RACK_ELEMS3, RACK_OUT, {RACK_N: n_done, RACK_R: r_done})
        chips.append(ch)
    end = max(ph3["done"].values())
    nums = dict(ph1=ph1, S2=s2, r_done=r_done, S3=s3, ph3=ph3, end=end)
    text = rack_header(nums) + body(chips, "allreduce_rack", lambda c: f"x_c{c:02d}", RACK_OUT)
    return text, {f"x_c{c:02d}.npy": xs[c] for c in range(topo.chips)}


def body(chips: list[Chip], name: str, stem, out: int) -> str:
    lines = []
    for ch in chips:
        tag = stem(ch.n)[2:]
        lines += ["", f".chip {ch.n}", f'.data MEM_W0 0 i32 "{name}/{stem(ch.n)}.npy"']
        lines += ch.bundles()
        lines.append(f".output sum_{tag} = MEM_W0 {out} i32")
    return "\n".join(lines) + "\n"


# ---- headers -----------------------------------------------------------------------------------

def common(n_elems: int) -> str:
    ranks, offs = chain_ranks(n_elems), chain_offsets(n_elems)
    return f"""\
; Link rules (isa/machine.toml [c2c], docs/engine.md "Chip-to-chip links"): a vector sent
; at t is receivable on the peer from t + L.  L is 217 in the built-in topologies but may
; vary per vector in {LAT_MIN}..{LAT_MAX} (latency jitter), so every receive here is at
; >= send + {LAT_MAX}, never earlier.  A link carries one vector per {FLIT} cycles in each
; direction; an int32 vector is 4 byte planes = 4 sends, {FLIT} cycles apart.  No receive
; FIFO ({DEPTH} deep) ever holds more than 2 vectors here, and nothing depends on the order
; in which vectors on different links arrive.
;
; Memory: every vector lives in MEM_W0..W3 (byte plane j in MEM_Wj, positions P = 23, 23,
; 22, 22), one address per vector, so a chip touches only 4 MEM slices.
;
; In-node all-reduce (the same schedule on every chip; base cycle S, own vector at A):
;   send   plane j leaves on ports 0..3 at S + 24j (queues C2C_W0..W3) and on ports 4..6
;          at S + 24j + 1 (C2C_W0..W2): 4 west C2C queues, 7 links.  MEM_Wj reads it at
;          S + 24j - P, and again one cycle later (step 0), onto S28W: seen at position 1
;          at S + 24j - P + 1 + (P - 1) = S + 24j.
;   recv   planes 0..2 from port p at S + 24j + 1 + {LAT_MAX} + p, on C2C_W(p mod 4), onto
;          S16E (>= the peer's send + {LAT_MAX}: it sent at S + 24j or S + 24j + 1); the ports
;          take turns so that MEM_Wj writes one plane per cycle (`write A + 1` and
;          `repeat 6, 1`), port p's at address A + 1 + p, at recv + 1 + (P - 1).
;          Plane 3 is received just in time for the sum (below).
;   sum    a chain of VXM ops, one every 4 cycles (d_func 3 + 1 hop), bouncing between
;          rank 0 (position 24) and rank 3 (27): op k issues at T + 4k on rank r_k =
;          {', '.join(map(str, ranks))} (VXM0..VXM3).  Op 0 is `mov.i32` of
;          the first vector, op k >= 1 `add.i32` of the running sum (on S4E from the west,
;          S4W from the east) and vector k, which MEM_Wj reads onto S0E..S3E at
;          T + 4k - 1 - (24 + r_k - P) = T + c_k - 25 + P, with c_k = 4k - r_k =
;          {', '.join(map(str, offs))}: distinct cycles, so 4 slices feed the
;          whole chain.  Plane 3 of the vector from port p (chain op k) is received at
;          T + c_k - 26 and written by MEM_W3 (position 22) at T + c_k - 4, one cycle before
;          its read; T is the first cycle at which all of that holds (port 0's plane 3 at
;          >= S + 72 + 1 + {LAT_MAX}) and every other read follows its write.  The last op
;          sends the sum west on S4W..S7W; MEM_Wj writes it at T_last + 3 + (24 + r - P).
;   int32 adds wrap (no .sat), as numpy's int32 sum does.
"""


def node_header(n: dict) -> str:
    t, done, end, rc = n["T"], n["done"], n["end"], n["recv3"]
    k_last, r_last = len(NODE_ELEMS) - 1, chain_ranks(len(NODE_ELEMS))[-1]
    offs = chain_offsets(len(NODE_ELEMS))
    assert t == n["t_last"] == S1 + 72 + 1 + LAT_MAX + 26 - offs[1] > n["t_mem"]
    return f"""\
; allreduce_node.tsp -- GENERATED by `python programs/gen_allreduce.py node`; do not edit
; (edit the generator; tests/test_program_generators.py checks this file is up to date).
;
; All-reduce (sum) of int32 vectors across the 8 chips of a GroqNode: chip k holds one
; 320-lane int32 vector x_k (allreduce_node/x_c<k>.npy, MEM_W0..W3 address 0) and ends
; with sum_k x_k (wrapping int32) at MEM_W0..W3 address {NODE_OUT} (.output sum_c<k>).
; Topology: `node` (8 fully connected chips; the runner's default for chips 0..7).  Local
; port p of chip k goes to chip p if p < k, else p + 1 (docs/topology.md).
;
; Algorithm: one round of direct exchange.  Every chip sends its vector to all 7
; node-mates at once (7 links in parallel, 4 planes each; one crossing of the link
; latency, the dominant cost), then sums the 8 vectors (its own at address 0, the one
; from port p at address 1 + p) with a chain of VXM adds.
;
{common(len(NODE_ELEMS))};
; Numbers (S = {S1}: MEM_W0, position 23, reads plane 0 at 0, 0 + 1 + 22 = 23 at position 1):
;   sends     at {S1}, {S1 + 24}, {S1 + 48}, {S1 + 72} (ports 0..3), one cycle later on ports 4..6
;   receives  planes 0..2 from port p at {S1} + 24j + 1 + {LAT_MAX} + p: {local_recv_cycle(S1, 0, 0)}..{local_recv_cycle(S1, 0, 6)}, {local_recv_cycle(S1, 1, 0)}..{local_recv_cycle(S1, 1, 6)},
;             {local_recv_cycle(S1, 2, 0)}..{local_recv_cycle(S1, 2, 6)}
;   chain     port 0's plane 3 is received at {S1} + 72 + 1 + {LAT_MAX} = {rc[0]} = T + {offs[1]} - 26, so T = {t};
;             plane 3 of ports 0..6 at {', '.join(str(rc[p]) for p in range(LOCAL))}
;   result    op {k_last} on rank {r_last} at {t + 4 * k_last}; MEM_W0/W1 write at {t + 4 * k_last} + 3 + {VXM + r_last - 23} = {done[0]}, MEM_W2/W3 at {done[2]}
; Last instruction at {end}: {end + 1} cycles on the superlane-0 timeline (one link crossing of
; at most {LAT_MAX} of them), plus the 19-cycle skew tail reported separately.
"""


def rack_header(n: dict) -> str:
    ph1, ph3, s2, s3, rd, end = n["ph1"], n["ph3"], n["S2"], n["S3"], n["r_done"], n["end"]
    t1, t3, nd, done = ph1["T"], ph3["T"], ph1["done"], ph3["done"]
    k1, r1 = len(NODE_ELEMS) - 1, chain_ranks(len(NODE_ELEMS))[-1]
    k3, r3 = len(RACK_ELEMS3) - 1, chain_ranks(len(RACK_ELEMS3))[-1]
    offs3 = chain_offsets(len(RACK_ELEMS3))
    assert s2 == nd[0] + 1 + 1 + (C2C_E - 23)
    assert s3 == s2 + LAT_MAX + 1 + C2C_E + 1
    assert t3 == ph3["t_last"] == s3 + 72 + 1 + LAT_MAX + 26 - offs3[2] > ph3["t_mem"]
    return f"""\
; allreduce_rack.tsp -- GENERATED by `python programs/gen_allreduce.py rack`; do not edit
; (edit the generator; tests/test_program_generators.py checks this file is up to date).
;
; All-reduce (sum) of int32 vectors across the 72 chips of a GroqRack: chip c holds one
; 320-lane int32 vector x_c (allreduce_rack/x_c<cc>.npy, MEM_W0..W3 address 0) and ends
; with sum_c x_c (wrapping int32) at MEM_W0..W3 address {RACK_OUT} (.output sum_c<cc>).
; Topology: `rack` (9 nodes of 8 fully connected chips; the runner's default for chips
; 0..71).  Chip = 8 * node + k.  Local ports 0..6 as in a node; port 8 of chip k of node n
; is copy 0 of the node-pair link to node n + k + 1 (mod 9), whose other end is port 8 of
; chip 7 - k of that node (docs/topology.md: copy 0 joins chip d-1 of n to chip 8-d of m).
; Port 9 (copy 1) is not used.
;
; Algorithm (three phases, the same schedule on every chip):
;   1. in-node all-reduce of x (address 0): every chip gets its node's sum N_n (address {RACK_N}).
;   2. global exchange over one link per node pair (port 8): chip k of node n sends N_n to
;      chip 7 - k of node n + k + 1 and receives N_(n+k+1) from it (address {RACK_R}).  The
;      8 chips of node n now hold the sums of the 8 other nodes, one each.
;   3. in-node all-reduce of those received sums (own at {RACK_R}, port p's at {RACK_R + 1} + p), with N_n as
;      a ninth term of the chain: total = N_n + the 8 other nodes' sums = the sum of all
;      72 vectors (address {RACK_OUT}).
;   Three link crossings in all, one per phase, each waited for at {LAT_MAX} cycles.
;
{common(len(NODE_ELEMS))};
; Numbers:
;   phase 1  as allreduce_node.tsp: S = {S1}, T1 = {t1}, chain over addresses 0..7; op {k1} (rank {r1}) at
;            {t1 + 4 * k1}; N written by MEM_W0/W1 at {nd[0]}, MEM_W2/W3 at {nd[2]} (address {RACK_N}).
;   phase 2  plane j of N is read from MEM_Wj onto S8E at S2 + 24j - 1 - (50 - P) to reach
;            C2C_E0 (position 50) at S2 + 24j; MEM_W0 reads at S2 - 28 >= {nd[0]} + 1, so S2 = {s2}:
;            sends on L8 at {s2}, {s2 + 24}, {s2 + 48}, {s2 + 72}.  C2C_E1 receives at send + {LAT_MAX} = {s2 + LAT_MAX}, {s2 + LAT_MAX + 24},
;            {s2 + LAT_MAX + 48}, {s2 + LAT_MAX + 72} onto S8W (westward); MEM_Wj writes plane j at recv + 1 + (50 - P),
;            address {RACK_R}: {rd[0]}, {rd[1]}, {rd[2]}, {rd[3]}.
;   phase 3  S3 = {s3}: plane j is sent from MEM_Wj address {RACK_R}, read at S3 + 24j - P >= its
;            write + 1 (S3 = S2 + {LAT_MAX} + 1 + 50 + 1).  Local receives of planes 0..2 at
;            {s3} + 24j + 1 + {LAT_MAX} + p.  The chain sums 9 vectors: N (op 0, the mov: it has been
;            ready longest), the port-8 vector (op 1), ports 0..6 (ops 2..8), c_k = {', '.join(map(str, offs3))}.
;            Port 0's plane 3 is received at {s3} + 72 + 1 + {LAT_MAX} = {ph3['recv3'][0]} = T3 + {offs3[2]} - 26, so
;            T3 = {t3}; plane 3 of ports 0..6 at {', '.join(str(ph3['recv3'][p]) for p in range(LOCAL))}.
;            Op {k3} (rank {r3}) at {t3 + 4 * k3}; MEM_W0/W1 write the total at {t3 + 4 * k3} + 3 + {VXM + r3 - 23} = {done[0]},
;            MEM_W2/W3 at {done[2]} (address {RACK_OUT}).
; Last instruction at {end}: {end + 1} cycles on the superlane-0 timeline (three link crossings
; of at most {LAT_MAX} cycles each), plus the 19-cycle skew tail reported separately.
"""


# ---- main --------------------------------------------------------------------------------------------

def write(out: str, name: str, text: str, data: dict[str, np.ndarray]) -> None:
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for fname, arr in data.items():
        np.save(os.path.join(d, fname), np.ascontiguousarray(arr))
    with open(os.path.join(out, name + ".tsp"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", choices=("node", "rack", "all"))
    ap.add_argument("--out", default=HERE, help="directory for <name>.tsp and <name>/ (default: programs/)")
    a = ap.parse_args(argv)
    if a.which in ("node", "all"):
        write(a.out, "allreduce_node", *gen_node())
    if a.which in ("rack", "all"):
        write(a.out, "allreduce_rack", *gen_rack())
    return 0


if __name__ == "__main__":
    sys.exit(main())
