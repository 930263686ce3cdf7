"""Engine throughput: streaming vector ops per second, an int8 GEMM next to numpy, idle cycles per second.

    python benchmarks/engine_throughput.py [--cycles N] [--rows M] [--repeats R] [--idle N] [--seed S]

Three generated programs, each assembled once, then run on the C engine (the
assembly is not timed; loading, running and reading results back are):

1. Streaming.  20 MEM_W slices stream int8 vectors east (one `read` per slice per
   cycle, addresses stepped by `repeat`), through 4 chains of 4 VXM ALUs (all 16
   ALUs busy every cycle: add, max, xor, sub.sat, each ALU combining the value of
   the ALU before it with a fresh MEM stream), into 4 MEM_E slices (one `write`
   per slice per cycle).  A *vector op* is one issue of a MEM or VXM instruction,
   repeat re-issues included, each of which moves or computes one 320-lane
   vector: 40 per cycle here.  The result is checked against numpy.
2. GEMM.  [M x 320] . [320 x 320] int8 -> int32 on MXM plane 0: 20 `lw` (16
   streams each) and an `iw` load the weights, M `abc.i8` (one `abc` + `repeat`)
   feed the activation rows, `acc.set.i32` (+ `repeat`, in blocks of the 1024
   accumulator slots) emits SG4 int32 rows that 4 MEM_E slices write back with
   `write` + `repeat`.  The result must equal numpy's
   x.astype(np.int32) @ w.astype(np.int32) exactly; numpy's matmul of the same
   shape is timed in the same run.
3. Idle.  A few queues `nop` a billion cycles each around a handful of reads and
   writes: simulated cycles per host second when almost nothing happens.

Times are the best of --repeats runs (default 3) for ours and for numpy alike.
The last three lines are `vector_ops_per_s <n>`, `gemm_vs_numpy_ratio <r>`
(our time / numpy's: below 1 we are faster) and `idle_cycles_per_s <n>`.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tspasm.asm.assembler import Assembler  # noqa: E402
from tspasm.engine.machine import Machine  # noqa: E402

LANES = 320
MEM_WORDS = 8192       # addresses per MEM slice: a read/write run of `repeat` is at most this long
ACC_SLOTS = 1024       # accumulator slots per MXM plane: acc steps its slot on repeat
LAT = {"read": 1, "vxm": 3, "abc": 20, "acc": 1}   # d_func, isa/instructions/*.toml


def mem_w_pos(i: int) -> int:
    """Position of MEM_Wi: pos 2 holds MEM_W43 + MEM_W42, ..., pos 23 MEM_W1 + MEM_W0."""
    return 23 - i // 2


def mem_e_pos(i: int) -> int:
    """Position of MEM_Ei: pos 28 holds MEM_E0 + MEM_E1, ..., pos 49 MEM_E42 + MEM_E43."""
    return 28 + i // 2


def mem_run(lines: list[str], queue: str, start: int, n: int, insn: str) -> None:
    """`insn` (a read or write at address 0, step 1) issued n times from cycle `start`,
    one per cycle: blocks of one word + `repeat`, each walking addresses 0..MEM_WORDS-1."""
    done = 0
    while done < n:
        k = min(MEM_WORDS, n - done)
        lines.append(f"@{start + done} {queue}: {insn}")
        if k > 1:
            lines.append(f"@{start + done + 1} {queue}: repeat {k - 1}, 1")
        done += k


# ---- 1. streaming ---------------------------------------------------------------

CHAINS = 4             # one per VXM row; rank r of a chain sits at position 24 + r
RANK_OPS = ["add.i8", "max.i8", "xor.i8", "sub.i8.sat"]


def _rank_op(c: int, r: int) -> str:
    return RANK_OPS[(r + c) % len(RANK_OPS)]


def streaming_program(cycles: int) -> tuple[str, int]:
    """The program text and the number of vector ops it issues.

    Chain c: stream A = S(5c)E from MEM_W(5c) meets B_r = S(5c+1+r)E from
    MEM_W(5c+1+r) at VXM(4c+r) (position 24+r) at cycle T0 + 4r; each ALU writes
    its result back onto A, which the next rank reads 4 cycles later (d_func 3 +
    one position).  MEM_Ec writes A as it arrives."""
    t0 = 16
    lines = [".chip 0"]
    ops = 0
    for c in range(CHAINS):
        a = 5 * c
        # A must reach position 24 at t0: a slice at p reads at t with t + 1 + (24 - p) = t0
        mem_run(lines, f"MEM_W{a}", t0 - 25 + mem_w_pos(a), cycles, f"read 0, S{a}E, 1")
        ops += cycles
        for r in range(4):
            b = a + 1 + r
            # B_r must reach position 24 + r at t0 + 4r
            mem_run(lines, f"MEM_W{b}", t0 + 4 * r - 1 - (24 + r - mem_w_pos(b)), cycles, f"read 0, S{b}E, 1")
            alu = 4 * c + r
            lines.append(f"@{t0 + 4 * r} VXM{alu}: {_rank_op(c, r)} S{a}E, S{b}E -> S{a}E")
            if cycles > 1:
                lines.append(f"@{t0 + 4 * r + 1} VXM{alu}: repeat {cycles - 1}, 1")
            ops += 2 * cycles
        # the rank-3 result leaves position 27 at t0 + 12 + 3 and moves one position a cycle
        mem_run(lines, f"MEM_E{c}", t0 + 12 + LAT["vxm"] + mem_e_pos(c) - 27, cycles, f"write 0, S{a}E, 1")
        ops += cycles
    return "\n".join(lines) + "\n", ops


def _i8_op(op: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x16, y16 = x.astype(np.int16), y.astype(np.int16)
    if op == "add.i8":
        return (x16 + y16).astype(np.int8)  # wraps
    if op == "max.i8":
        return np.maximum(x, y)
    if op == "xor.i8":
        return x ^ y
    if op == "sub.i8.sat":
        return np.clip(x16 - y16, -128, 127).astype(np.int8)
    raise ValueError(op)


def run_streaming(program, cycles: int, rng: np.random.Generator):
    rows = min(cycles, MEM_WORDS)
    data = {i: rng.integers(-128, 128, (rows, LANES), dtype=np.int8) for i in range(5 * CHAINS)}
    m = Machine(program)
    for i, d in data.items():
        m.write_mem(0, f"MEM_W{i}", 0, d)
    t = time.perf_counter()
    m.run()
    elapsed = time.perf_counter() - t
    # every block walks addresses 0..rows-1 again, so MEM_Ec ends up holding f(data)
    for c in range(CHAINS):
        want = data[5 * c]
        for r in range(4):
            want = _i8_op(_rank_op(c, r), want, data[5 * c + 1 + r])
        got = m.read_mem(0, f"MEM_E{c}", 0, rows)
        if not np.array_equal(got, want):
            raise SystemExit(f"streaming: MEM_E{c} differs from numpy in {int((got != want).sum())} lanes")
    stats = m.stats()
    return elapsed, m.cycle, stats


# ---- 2. GEMM ----------------------------------------------------------------------

WSLICES = [f"MEM_W{43 - s}" for s in range(16)]   # S{s}W: weight rows s, s+16, ..., s+304
XSLICE = "MEM_W27"                                # S16W: the activation rows (position 10)


def gemm_program(rows: int) -> str:
    """Scheduled as programs/matmul_i8.tsp, with `rows` activation rows instead of 8."""
    if not 1 <= rows <= MEM_WORDS:
        raise SystemExit(f"--rows must be 1..{MEM_WORDS}")
    lines = [".chip 0"]
    t_lw = 10                            # lw number c at t_lw + c takes rows 16c..16c+15
    for s, q in enumerate(WSLICES):
        # stream S{s}W reaches position 0 at t_lw: read at t with t + 1 + p = t_lw
        mem_run(lines, q, t_lw - 1 - mem_w_pos(43 - s), 20, f"read 0, S{s}W, 1")
    lines.append(f"@{t_lw} MXM0_W: lw S0W")
    lines.append(f"@{t_lw + 1} MXM0_W: repeat 19, 1")
    t_iw = t_lw + 20
    lines.append(f"@{t_iw} MXM0_W: iw")  # the array changes at t_iw + 1
    t_abc = t_iw + 1
    mem_run(lines, XSLICE, t_abc - 1 - mem_w_pos(27), rows, "read 0, S16W, 1")
    lines.append(f"@{t_abc} MXM0_A: abc.i8 S16W")
    if rows > 1:
        lines.append(f"@{t_abc + 1} MXM0_A: repeat {rows - 1}, 1")
    t_acc = t_abc + LAT["abc"]
    done = 0
    while done < rows:                   # acc steps its slot: one block per 1024 rows
        k = min(ACC_SLOTS, rows - done)
        lines.append(f"@{t_acc + done} MXM0_C: acc.set.i32 SG4_0E, 0")
        if k > 1:
            lines.append(f"@{t_acc + done + 1} MXM0_C: repeat {k - 1}, 1")
        done += k
    for j in range(4):                   # byte plane j on S{j}E, written by MEM_Ej
        mem_run(lines, f"MEM_E{j}", t_acc + LAT["acc"] + mem_e_pos(j), rows, f"write 0, S{j}E, 1")
    lines.append(f".output y = MEM_E0 0 i32 {rows}")
    return "\n".join(lines) + "\n"


def run_gemm(program, x: np.ndarray, w: np.ndarray):
    """Load, run, read back: (seconds end to end, seconds in tsp_run, y, cycles)."""
    t = time.perf_counter()
    m = Machine(program)
    for s, q in enumerate(WSLICES):
        m.write_mem(0, q, 0, w[s::16])
    m.write_mem(0, XSLICE, 0, x)
    t_run = time.perf_counter()
    m.run()
    run = time.perf_counter() - t_run
    y = m.read_mem(0, "MEM_E0", 0, x.shape[0], "i32")
    total = time.perf_counter() - t
    return total, run, y, m.cycle


def numpy_gemm(x: np.ndarray, w: np.ndarray):
    t = time.perf_counter()
    y = x.astype(np.int32) @ w.astype(np.int32)
    return time.perf_counter() - t, y


# ---- 3. idle ------------------------------------------------------------------------

def idle_program(idle: int) -> str:
    """Eight queues: a read, a nop of `idle` cycles, another read; two writes at the end."""
    lines = [".chip 0"]
    for i in range(4):
        q = f"MEM_W{i}"
        lines.append(f"@0 {q}: read {i}, S{i}E")
        lines.append(f"@1 {q}: nop {idle}")
        lines.append(f"@{idle + 1} {q}: read {i}, S{i}E")
    for i in range(4):
        lines.append(f"@0 VXM{i}: nop {idle}")
        lines.append(f"@{idle} VXM{i}: nop 3")
    for i in range(2):
        # S{i}E leaves MEM_W{i} (position 23) at idle + 2 and reaches position 28 at idle + 7
        lines.append(f"@{idle + 7} MEM_E{i}: write 0, S{i}E")
    return "\n".join(lines) + "\n"


def run_idle(program):
    m = Machine(program)
    t = time.perf_counter()
    m.run()
    elapsed = time.perf_counter() - t
    return elapsed, m.cycle, m.stats()


# ---- main ---------------------------------------------------------------------------

def assemble(text: str, name: str):
    return Assembler().assemble_text(text, f"<{name}>").program


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=98_304, help="streaming cycles (default 12 x 8192)")
    ap.add_argument("--rows", type=int, default=4096, help="GEMM activation rows (at most 8192)")
    ap.add_argument("--idle", type=int, default=1_000_000_000, help="nop length of the idle program")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each timing; the best is kept")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.cycles < 1 or args.repeats < 1 or args.idle < 1:
        ap.error("--cycles, --idle and --repeats must be at least 1")
    rng = np.random.default_rng(args.seed)
    print(f"host {platform.machine()}  python {platform.python_version()}  numpy {np.__version__}")

    # 1. streaming
    text, ops = streaming_program(args.cycles)
    prog = assemble(text, "streaming")
    best = None
    for _ in range(args.repeats):
        elapsed, cycles, stats = run_streaming(prog, args.cycles, rng)
        best = elapsed if best is None else min(best, elapsed)
    print(f"streaming: {CHAINS} chains x 4 VXM ALUs (16 busy every cycle), 20 MEM reads + 16 VXM ops + "
          f"4 MEM writes per cycle, {args.cycles} cycles; result checked against numpy")
    print(f"  vector op = one issue of a MEM or VXM instruction (repeat re-issues included), each "
          f"moving or computing one {LANES}-lane vector")
    print(f"  simulated cycles {cycles}  vector ops {ops}  engine executed {stats['executed']} "
          f"(the same plus the nop that delays each of the 40 queues to its first issue)  "
          f"stream writes {stats['stream_writes']}  events {stats['events']}")
    print(f"  run seconds {best:.3f} (best of {args.repeats})  "
          f"= {cycles / best:,.0f} simulated cycles/s")

    # 2. GEMM
    x = rng.integers(-128, 128, (args.rows, LANES), dtype=np.int8)
    w = rng.integers(-128, 128, (LANES, LANES), dtype=np.int8)
    gprog = assemble(gemm_program(args.rows), "gemm")
    ours = run = np_t = None
    for _ in range(args.repeats):
        total, r, y, gcycles = run_gemm(gprog, x, w)
        t_np, y_np = numpy_gemm(x, w)
        if not np.array_equal(y, y_np):
            raise SystemExit(f"GEMM: the engine's result differs from numpy's in {int((y != y_np).sum())} lanes")
        ours = total if ours is None else min(ours, total)
        run = r if run is None else min(run, r)
        np_t = t_np if np_t is None else min(np_t, t_np)
    macs = args.rows * LANES * LANES
    print(f"gemm: [{args.rows} x {LANES}] . [{LANES} x {LANES}] int8 -> int32 on MXM plane 0, "
          f"{gcycles} simulated cycles; result equals numpy's exactly")
    print(f"  ours  seconds {ours:.4f} (load + run + read back; run alone {run:.4f})  "
          f"{macs / ours / 1e9:.2f} GMAC/s")
    print(f"  numpy seconds {np_t:.4f} (x.astype(int32) @ w.astype(int32))  {macs / np_t / 1e9:.2f} GMAC/s")

    # 3. idle
    iprog = assemble(idle_program(args.idle), "idle")
    ibest = None
    for _ in range(args.repeats):
        elapsed, icycles, istats = run_idle(iprog)
        ibest = elapsed if ibest is None else min(ibest, elapsed)
    print(f"idle: 8 queues nop {args.idle} cycles around 6 MEM instructions; {icycles} simulated cycles, "
          f"{istats['events']} events, run seconds {ibest:.6f}")

    print(f"vector_ops_per_s {ops / best:.0f}")
    print(f"gemm_vs_numpy_ratio {ours / np_t:.3f}")
    print(f"idle_cycles_per_s {icycles / ibest:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
