"""Multi-chip throughput and memory: simulated chip-cycles per second on node (8 chips) and rack (72 chips).

    python benchmarks/multichip_throughput.py [--node-cycles N] [--rack-cycles N] [--rows W]
                                              [--repeats R] [--quick] [--seed S] [--keep DIR]

One generated program per topology (deterministic), in which every chip is busy every cycle:

* MEM + VXM.  Two eastward chains (as in engine_throughput.py's streaming program): MEM_W0..W9
  read int8 vectors every cycle into VXM0..VXM7 (add, max, xor, sub.sat, each ALU combining the
  previous ALU's result with a fresh MEM stream) and MEM_E10/E11 write the results.  Two westward
  chains mirror them: MEM_E0..E9 read onto westward streams, VXM8..VXM15 combine them from rank 3
  down to rank 0, MEM_W10/W11 write the results.  20 reads, 16 VXM ops and 4 writes per cycle,
  addresses walking rows 0..W-1 (`repeat`), W = --rows (MEM preloaded with seeded data).
* C2C.  Every wired link carries one vector per c2c.link_cycles_per_vector (24) cycles in each
  direction for the whole run: a west port sends the westward chain result (at the C2C queues'
  position 1), an east port the eastward one (position 50).  Links are edge-coloured per chip
  hemisphere; a link of colour c sends, in both directions, at base + 24k + c, and the peer
  receives at send + c2c.link_latency_max (228: the largest link latency, so the schedule stays
  legal once latency jitter is modelled); the receive FIFO (depth 4) then holds at most
  1 + (228 - 209) // 24 vectors.  Each port's received vectors go onto their own stream and are
  written to their own MEM slice (`write` + `repeat n, 24`).  Sends and receives are explicit
  instructions, packed so each C2C queue issues a run of consecutive cycles per period.

The program is assembled once (timed, not part of the engine figure) and written as a .tspo;
each engine run happens in a fresh subprocess that loads the image, builds the Machine, loads
MEM, frees the image, resets the kernel's peak-RSS mark (/proc/self/clear_refs) and runs to the
end.  The run is then checked: every link sent and received the same number of vectors, and for
the first and last chip the chain results and the received vectors in MEM equal numpy's.

chip_cycles_per_s = chips x simulated cycles / wall seconds of Machine.run (the median over
--repeats subprocesses).  peak RSS is the kernel's high-water mark (VmHWM) of that subprocess
during the run; ru_maxrss (whole subprocess, image loading included) is printed too.  The last
three lines are `node_chip_cycles_per_s <n>`, `rack_chip_cycles_per_s <n>` and
`rack_peak_rss_mib <n>`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tspasm.isa import default_isa  # noqa: E402

LANES = 320
MEM_WORDS = 8192
VXM_LAT = 3          # d_func of the VXM ops used (isa/instructions/vxm.toml)
READ_LAT = 1         # d_func of MEM read
RECV_LAT = 1         # d_func of receive
C2C_QUEUES = 4       # C2C_W0..3 / C2C_E0..3 (isa/queues.toml)
WEST_C2C_POS, EAST_C2C_POS = 1, 50
VXM_POS = 24         # rank r at 24 + r
RANK_OPS = ["add.i8", "max.i8", "xor.i8", "sub.i8.sat"]
CHAINS = 2           # per direction; chain c uses 5 streams and 5 MEM slices from 5c
RESULT_SLICE = 10    # + c: MEM_E10/E11 write the eastward results, MEM_W10/W11 the westward ones
RECV_SLICE = 12      # + port % 8: MEM_W12.. (west ports) / MEM_E12.. (east ports) write received vectors
RECV_STREAM = 10     # + port % 8: S10E.. (west ports receive eastward) / S10W.. (east ports)
T0 = 8               # first VXM issue of every chain (the earliest MEM read issues at T0 - 5)


def mem_w_pos(i: int) -> int:
    return 23 - i // 2


def mem_e_pos(i: int) -> int:
    return 28 + i // 2


def _east_op(c: int, r: int) -> str:
    return RANK_OPS[(r + c) % 4]


def _west_op(w: int, j: int) -> str:
    return RANK_OPS[(j + w + 2) % 4]


def c2c_params(isa=None) -> dict[str, int]:
    isa = isa or default_isa()
    return {"period": isa.param("c2c.link_cycles_per_vector"), "lat_max": isa.param("c2c.link_latency_max"),
            "lat_min": isa.param("c2c.link_latency_min"), "depth": isa.param("c2c.rx_fifo_depth"),
            "links": isa.param("c2c.links")}


# ---- the schedule ---------------------------------------------------------------------------------

def link_colours(topology, period: int, lat_max: int, half: int) -> dict[int, int]:
    """Colour of each link (index into topology.links): the offset within the period at which both
    of its ends send; both receive lat_max later, at offset colour + lat_max mod period.

    Among the links of one chip hemisphere (ports 0..half-1 or half..), all send and receive
    offsets are distinct, so every C2C instruction of a hemisphere has its own cycle of the
    period.  Greedy edge colouring, west links first, then by chip (7 colours on node and rack)."""
    shift = lat_max % period
    used: dict[tuple[int, int], set[int]] = {}    # (chip, hemisphere) -> offsets taken
    out = {}
    order = sorted(range(len(topology.links)), key=lambda i: (topology.links[i].port_a // half,
                                                             topology.links[i].chip_a, i))
    for i in order:
        a, pa, b, pb, _ = topology.links[i]
        ends = [used.setdefault((a, pa // half), set()), used.setdefault((b, pb // half), set())]
        for c in range(period):
            offs = {c, (c + shift) % period}
            if len(offs) == 2 and not any(offs & e for e in ends):
                out[i] = c
                for e in ends:
                    e |= offs
                break
        else:
            raise SystemExit(f"no free send/receive offset for link {topology.links[i]} "
                             f"within a {period}-cycle period")
    return out


def mem_run(lines: list[str], queue: str, start: int, n: int, insn: str, rows: int, every: int = 1) -> None:
    """`insn` (a read or write at address 0, step 1) issued n times, `every` cycles apart from
    `start`, in blocks of `rows` (`insn` + `repeat`), each walking addresses 0..rows-1."""
    done = 0
    while done < n:
        k = min(rows, n - done)
        t = start + done * every
        lines.append(f"@{t} {queue}: {insn}")
        if k > 1:
            lines.append(f"@{t + 1} {queue}: repeat {k - 1}, {every}")
        done += k


def chip_core(lines: list[str], cycles: int, rows: int) -> None:
    """The MEM + VXM chains of one chip, their first VXM issues at T0 (every read at cycle >= 0)."""
    t0 = T0
    for c in range(CHAINS):                 # eastward: rank r at 24 + r at t0 + 4r
        a = 5 * c
        mem_run(lines, f"MEM_W{a}", t0 - 1 - (VXM_POS - mem_w_pos(a)), cycles, f"read 0, S{a}E, 1", rows)
        for r in range(4):
            b = a + 1 + r
            mem_run(lines, f"MEM_W{b}", t0 + 4 * r - 1 - (VXM_POS + r - mem_w_pos(b)), cycles,
                    f"read 0, S{b}E, 1", rows)
            lines.append(f"@{t0 + 4 * r} VXM{4 * c + r}: {_east_op(c, r)} S{a}E, S{b}E -> S{a}E")
            lines.append(f"@{t0 + 4 * r + 1} VXM{4 * c + r}: repeat {cycles - 1}, 1")
        out = mem_e_pos(RESULT_SLICE + c)   # the rank-3 result leaves position 27 at t0 + 12
        mem_run(lines, f"MEM_E{RESULT_SLICE + c}", t0 + 12 + VXM_LAT + out - (VXM_POS + 3), cycles,
                f"write 0, S{a}E, 1", rows)
    for w in range(CHAINS):                 # westward: step j on rank 3 - j (position 27 - j) at t0 + 4j
        a = 5 * w
        mem_run(lines, f"MEM_E{a}", t0 - 1 - (mem_e_pos(a) - (VXM_POS + 3)), cycles, f"read 0, S{a}W, 1", rows)
        for j in range(4):
            b = a + 1 + j
            pos = VXM_POS + 3 - j
            mem_run(lines, f"MEM_E{b}", t0 + 4 * j - 1 - (mem_e_pos(b) - pos), cycles,
                    f"read 0, S{b}W, 1", rows)
            alu = 8 + 4 * w + (3 - j)
            lines.append(f"@{t0 + 4 * j} VXM{alu}: {_west_op(w, j)} S{a}W, S{b}W -> S{a}W")
            lines.append(f"@{t0 + 4 * j + 1} VXM{alu}: repeat {cycles - 1}, 1")
        out = mem_w_pos(RESULT_SLICE + w)   # the rank-0 result leaves position 24 at t0 + 12
        mem_run(lines, f"MEM_W{RESULT_SLICE + w}", t0 + 12 + VXM_LAT + VXM_POS - out, cycles,
                f"write 0, S{a}W, 1", rows)


def send_stream(port: int, half: int) -> str:
    """West ports send a westward chain result, east ports an eastward one (chain = port % 2)."""
    return f"S{5 * (port % 2)}{'W' if port < half else 'E'}"


def generate(topology, cycles: int, rows: int, isa=None) -> tuple[str, dict]:
    """The program text for every chip of `topology`, and facts about it (for the run's checks)."""
    p = c2c_params(isa)
    period, lat_max, half = p["period"], p["lat_max"], p["links"] // 2
    for link in topology.links:
        if not p["lat_min"] <= link.latency <= lat_max:
            raise SystemExit(f"link {link}: latency outside {p['lat_min']}..{lat_max}")
    if (lat_max - p["lat_min"]) // period + 1 > p["depth"]:
        raise SystemExit("receives at send + latency_max could overflow the receive FIFO")
    if not 1 <= rows <= MEM_WORDS or cycles < 1:
        raise SystemExit(f"--rows must be 1..{MEM_WORDS} and cycles >= 1")
    colours = link_colours(topology, period, lat_max, half)
    t0 = T0
    base = t0 + 12 + VXM_LAT + (VXM_POS - WEST_C2C_POS)      # chain results reach position 1 ...
    assert base == t0 + 12 + VXM_LAT + (EAST_C2C_POS - VXM_POS - 3)  # ... and position 50 together
    sends = {c: len(range(c, cycles, period)) for c in range(period)}   # per period offset
    # per chip: (kind, port, peer chip, peer port, colour)
    ends: dict[int, list[tuple[str, int, int, int, int]]] = {k: [] for k in range(topology.chips)}
    for i, (a, pa, b, pb, _) in enumerate(topology.links):
        c = colours[i]
        ends[a] += [("send", pa, b, pb, c), ("receive", pa, b, pb, c)]
        ends[b] += [("send", pb, a, pa, c), ("receive", pb, a, pa, c)]
    out = [f"; generated by benchmarks/multichip_throughput.py: topology {topology.name}, "
           f"{cycles} streaming cycles, {rows} MEM rows"]
    c2c_words = 0
    for chip in range(topology.chips):
        lines = [f".chip {chip}"]
        chip_core(lines, cycles, rows)
        for hemi, name in ((0, "W"), (1, "E")):
            evs = []
            for kind, port, _peer, _pp, c in ends[chip]:
                if port // half != hemi:
                    continue
                off = c if kind == "send" else (c + lat_max) % period
                evs.append((off, kind, port, c))
            evs.sort()
            # consecutive offsets on one queue: at most ceil(n / 4) instructions a queue a period
            per_q = -(-len(evs) // C2C_QUEUES) if evs else 0
            for k, (_off, kind, port, c) in enumerate(evs):
                q = f"C2C_{name}{k // per_q}"
                first = base + c + (lat_max if kind == "receive" else 0)
                n = sends[c]
                if kind == "send":
                    insn = f"send L{port}, {send_stream(port, half)}"
                    lines += [f"@{first + period * m} {q}: {insn}" for m in range(n)]
                else:
                    j = port % half
                    if hemi == 0:    # eastward from position 1: seen at q at t + RECV_LAT + q - 1
                        sid, sl = f"S{RECV_STREAM + j}E", f"MEM_W{RECV_SLICE + j}"
                        delay = RECV_LAT + mem_w_pos(RECV_SLICE + j) - WEST_C2C_POS
                    else:            # westward from position 50
                        sid, sl = f"S{RECV_STREAM + j}W", f"MEM_E{RECV_SLICE + j}"
                        delay = RECV_LAT + EAST_C2C_POS - mem_e_pos(RECV_SLICE + j)
                    lines += [f"@{first + period * m} {q}: receive L{port}, {sid}" for m in range(n)]
                    mem_run(lines, sl, first + delay, n, f"write 0, {sid}, 1", rows, every=period)
                c2c_words += n
        out.append("\n".join(lines))
    facts = {"base": base, "t0": t0, "colours": colours, "sends": sends, "c2c_instructions": c2c_words,
             "period": period, "lat_max": lat_max}
    return "\n".join(out) + "\n", facts


# ---- data and checks (in the run subprocess) ---------------------------------------------------------

def base_data(seed: int, rows: int) -> dict[tuple[str, int], np.ndarray]:
    rng = np.random.default_rng(seed)
    return {(h, s): rng.integers(-128, 128, (rows, LANES), dtype=np.int8)
            for h in ("W", "E") for s in range(5 * CHAINS)}


def chip_data(base: dict, chip: int, hemi: str, s: int) -> np.ndarray:
    return base[(hemi, s)] ^ np.int8(chip % 128)


def _i8_op(op: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x16, y16 = x.astype(np.int16), y.astype(np.int16)
    if op == "add.i8":
        return (x16 + y16).astype(np.int8)
    if op == "max.i8":
        return np.maximum(x, y)
    if op == "xor.i8":
        return x ^ y
    if op == "sub.i8.sat":
        return np.clip(x16 - y16, -128, 127).astype(np.int8)
    raise ValueError(op)


def chain_results(base: dict, chip: int) -> dict[str, list[np.ndarray]]:
    """numpy's rows of every chain result of `chip`: {"E": [chain 0, chain 1], "W": [...]}."""
    out = {"E": [], "W": []}
    for c in range(CHAINS):
        v = chip_data(base, chip, "W", 5 * c)           # eastward chains read MEM_W
        for r in range(4):
            v = _i8_op(_east_op(c, r), v, chip_data(base, chip, "W", 5 * c + 1 + r))
        out["E"].append(v)
        v = chip_data(base, chip, "E", 5 * c)           # westward chains read MEM_E
        for j in range(4):
            v = _i8_op(_west_op(c, j), v, chip_data(base, chip, "E", 5 * c + 1 + j))
        out["W"].append(v)
    return out


def check_run(m, topology, facts: dict, base: dict, rows: int, cycles: int) -> int:
    """Raise SystemExit unless the links balanced and the checked chips hold numpy's results."""
    half = c2c_params()["links"] // 2
    period = facts["period"]
    sent = received = 0
    for chip in range(topology.chips):
        for port in topology.ports(chip):
            info = m.link_info(chip, port)
            if info["sent"] != info["received"] or info["fifo"] or info["in_flight"]:
                raise SystemExit(f"chip {chip} L{port}: sent {info['sent']}, received {info['received']}, "
                                 f"{info['fifo']} left in the FIFO, {info['in_flight']} in flight")
            sent += info["sent"]
            received += info["received"]
    if sent != facts["c2c_instructions"] // 2:
        raise SystemExit(f"{sent} vectors sent, the program has {facts['c2c_instructions'] // 2} sends")
    n = min(cycles, rows)
    colour_of = {}
    for i, (a, pa, b, pb, _) in enumerate(topology.links):
        colour_of[(a, pa)] = colour_of[(b, pb)] = facts["colours"][i]
    for chip in sorted({0, topology.chips - 1}):
        res = chain_results(base, chip)
        for c in range(CHAINS):
            got_e = m.read_mem(chip, f"MEM_E{RESULT_SLICE + c}", 0, n)
            got_w = m.read_mem(chip, f"MEM_W{RESULT_SLICE + c}", 0, n)
            if not (np.array_equal(got_e, res["E"][c][:n]) and np.array_equal(got_w, res["W"][c][:n])):
                raise SystemExit(f"chip {chip}: chain {c} results differ from numpy")
        for port, (peer, pport, _lat) in topology.ports(chip).items():
            # the k-th vector received on `port` is the peer's chain result that reached its C2C
            # position at base + colour + period * k: row (colour + period * k) mod rows of it
            colour = colour_of[(chip, port)]
            k = np.arange(facts["sends"][colour])
            sent_rows = (colour + period * k) % rows
            want = np.empty((min(len(k), rows), LANES), np.int8)
            peer_res = chain_results(base, peer)["W" if pport < half else "E"][pport % 2]
            last = k[max(0, len(k) - rows):]                # later blocks overwrite earlier rows
            want[last % rows] = peer_res[sent_rows[last]]
            j = port % half
            slice_name = f"MEM_{'W' if port < half else 'E'}{RECV_SLICE + j}"
            got = m.read_mem(chip, slice_name, 0, want.shape[0])
            if not np.array_equal(got, want):
                raise SystemExit(f"chip {chip} L{port}: received vectors differ from chip {peer} L{pport}'s")
    return sent


def _rss_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_image(args) -> int:
    """Subprocess: load the image, run it once, print one JSON line."""
    import gc

    from tspasm.engine.machine import Machine
    from tspasm.image.tspo import read_file
    from tspasm.topology import builtin

    with open(args.facts) as fh:
        facts = json.load(fh)
    facts["colours"] = {int(k): v for k, v in facts["colours"].items()}
    facts["sends"] = {int(k): v for k, v in facts["sends"].items()}
    topology = builtin(args.run_topology)
    t = time.perf_counter()
    program = read_file(args.run_image)
    extra = {}
    if args.jitter:
        from tspasm.engine.clocks import ClockModel
        extra["clocks"] = ClockModel(seed=args.seed, jitter=True)
    m = Machine(program, topology=topology, **extra)
    del program
    base = base_data(args.seed, args.rows)
    for chip in range(topology.chips):
        for hemi in ("W", "E"):
            for s in range(5 * CHAINS):
                m.write_mem(chip, f"MEM_{hemi}{s}", 0, chip_data(base, chip, hemi, s))
    load_s = time.perf_counter() - t
    gc.collect()
    rss_before = _rss_kib("VmRSS")
    reset = False
    try:
        with open("/proc/self/clear_refs", "w") as fh:   # "5": reset the peak-RSS mark (Linux >= 4.0)
            fh.write("5")
        reset = True
    except OSError:
        pass
    mem_before = m.memory_bytes()
    t, cpu = time.perf_counter(), time.process_time()
    stop = m.run()
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    hwm = _rss_kib("VmHWM") if reset else None
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"stop": stop.value, "cycles": m.cycle, "seconds": seconds, "cpu_seconds": cpu,
              "load_seconds": load_s,
              "memory_bytes_before": mem_before, "memory_bytes": m.memory_bytes(), "stats": m.stats(),
              "rss_before_run_kib": rss_before, "peak_rss_run_kib": hwm if hwm is not None else maxrss,
              "peak_rss_source": "VmHWM after clear_refs" if hwm is not None else "ru_maxrss",
              "ru_maxrss_kib": maxrss}
    result["vectors_sent"] = check_run(m, topology, facts, base, args.rows, args.cycles)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


# ---- main ------------------------------------------------------------------------------------------

def bench_topology(name: str, cycles: int, args, workdir: str) -> dict:
    from tspasm.asm.assembler import Assembler
    from tspasm.image.tspo import write_file
    from tspasm.topology import builtin

    topology = builtin(name)
    text, facts = generate(topology, cycles, args.rows)
    lines = text.count("\n")
    t = time.perf_counter()
    program = Assembler().assemble_text(text, f"<multichip {name}>").program
    asm_s = time.perf_counter() - t
    image = os.path.join(workdir, f"{name}.tspo")
    write_file(program, image)
    rows_code = max(a.shape[0] for a in program.code.values())
    del program
    if args.keep:
        with open(os.path.join(workdir, f"{name}.tsp"), "w") as fh:
            fh.write(text)
    factfile = os.path.join(workdir, f"{name}.json")
    with open(factfile, "w") as fh:
        json.dump(facts, fh)
    runs = []
    for _ in range(args.repeats):
        cmd = [sys.executable, os.path.abspath(__file__), "--run-image", image, "--run-topology", name,
               "--facts", factfile, "--rows", str(args.rows), "--seed", str(args.seed),
               "--cycles", str(cycles)] + (["--jitter"] if args.jitter else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{name} run failed:\n{proc.stdout}{proc.stderr}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    chips = topology.chips
    for r in runs:
        r["chip_cycles_per_s"] = chips * r["cycles"] / r["seconds"]
    med = statistics.median(r["chip_cycles_per_s"] for r in runs)
    r0 = runs[0]
    links = len(topology.links)
    ops_per_chip_cycle = 5 * CHAINS * 2 + 4 * CHAINS * 2 + 2 * CHAINS   # reads + VXM + writes
    print(f"{name}: {chips} chips, {links} links, {cycles} streaming cycles, MEM rows {args.rows}"
          f"{', link latency jitter on' if args.jitter else ''}")
    print(f"  program: {lines} source lines, {facts['c2c_instructions']} C2C instructions "
          f"({r0['vectors_sent']} vectors over {2 * links} link directions), {rows_code} code rows on the "
          f"longest chip, image {os.path.getsize(image):,} bytes")
    print(f"  per chip and cycle: {ops_per_chip_cycle} MEM/VXM vector ops; every link busy "
          f"1 vector / {facts['period']} cycles each way, received at send + {facts['lat_max']}")
    print(f"  assembly seconds {asm_s:.2f} (not in the figure below)")
    print(f"  simulated cycles {r0['cycles']}  stop {r0['stop']}  events {r0['stats'].get('events')}  "
          f"executed {r0['stats'].get('executed')}")
    print(f"  engine memory_bytes {r0['memory_bytes']:,} ({r0['memory_bytes'] / 2**20:,.1f} MiB; "
          f"{r0['memory_bytes_before']:,} before the run)")
    print(f"  RSS before run {r0['rss_before_run_kib'] / 1024:,.1f} MiB, peak during run "
          f"{r0['peak_rss_run_kib'] / 1024:,.1f} MiB ({r0['peak_rss_source']}), "
          f"subprocess ru_maxrss {r0['ru_maxrss_kib'] / 1024:,.1f} MiB")
    for i, r in enumerate(runs):
        print(f"  run {i + 1}: {r['seconds']:.3f} s ({r.get('cpu_seconds', float('nan')):.3f} s CPU)  "
              f"{r['chip_cycles_per_s']:,.0f} chip-cycles/s  peak RSS {r['peak_rss_run_kib'] / 1024:,.1f} MiB")
    return {"chip_cycles_per_s": med,
            "peak_rss_mib": statistics.median(r["peak_rss_run_kib"] for r in runs) / 1024,
            "memory_bytes": r0["memory_bytes"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--node-cycles", type=int, default=49_152,
                    help="streaming cycles on node (default 2048 x 24)")
    ap.add_argument("--rack-cycles", type=int, default=6_144,
                    help="streaming cycles on rack (default 256 x 24)")
    ap.add_argument("--rows", type=int, default=1024, help="MEM rows the reads and writes walk (1..8192)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="engine runs (subprocesses) per topology; the median is reported")
    ap.add_argument("--quick", action="store_true", help="an eighth of the cycles, one run")
    ap.add_argument("--seed", type=int, default=1, help="MEM data (and, with --jitter, the clock model)")
    ap.add_argument("--jitter", action="store_true",
                    help="draw every flit's latency from c2c.link_latency_min..max (ClockModel(jitter=True))")
    ap.add_argument("--keep", metavar="DIR", help="keep the generated .tsp/.tspo here")
    # internal: one engine run in a subprocess
    ap.add_argument("--run-image", help=argparse.SUPPRESS)
    ap.add_argument("--run-topology", help=argparse.SUPPRESS)
    ap.add_argument("--facts", help=argparse.SUPPRESS)
    ap.add_argument("--cycles", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_image:
        return run_image(args)
    if args.quick:
        args.node_cycles = max(args.node_cycles // 8, 24)
        args.rack_cycles = max(args.rack_cycles // 8, 24)
        args.repeats = 1
    if min(args.node_cycles, args.rack_cycles, args.repeats) < 1:
        ap.error("--node-cycles, --rack-cycles and --repeats must be at least 1")
    print(f"host {platform.machine()}  python {platform.python_version()}  numpy {np.__version__}  "
          f"cpus {os.cpu_count()}")
    workdir = args.keep or tempfile.mkdtemp(prefix="tspasm-multichip-")
    os.makedirs(workdir, exist_ok=True)
    try:
        node = bench_topology("node", args.node_cycles, args, workdir)
        rack = bench_topology("rack", args.rack_cycles, args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"node_memory_bytes {node['memory_bytes']}")
    print(f"rack_memory_bytes {rack['memory_bytes']}")
    print(f"node_chip_cycles_per_s {node['chip_cycles_per_s']:.0f}")
    print(f"rack_chip_cycles_per_s {rack['chip_cycles_per_s']:.0f}")
    print(f"rack_peak_rss_mib {rack['peak_rss_mib']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
