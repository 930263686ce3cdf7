"""Assembler throughput: source lines per second on a generated program, next to GNU as.

    python benchmarks/asm_throughput.py [--lines N] [--seed S] [--keep DIR]

Generates N lines (default 1,000,000) of realistic TSP-1 assembly — streaming
kernels as a compiler emits them: MEM reads and writes walking tensors, VXM
arithmetic on stream groups, SXM shifts and distributes, MXM weight loads and
activations, repeats, nops, sync/notify — assembles it once on one core, then
times GNU `as` on an equal number of x86-64 instructions in the same run.
The last two lines are `asm_lines_per_s <number>` and `gnu_as_ratio <number>`
(our time / as's time).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tspasm.asm.assembler import Assembler  # noqa: E402
from tspasm.image.tspo import write_bytes  # noqa: E402

VXM_OPS = ["add.i8", "add.i32", "mul.f32", "mul.f16", "max.i16", "sub.i32", "add.f32", "min.i8",
           "add.i8.sat", "xor.i32"]
VXM_UNARY = ["relu.i8", "exp.f32", "rsqrt.f16", "neg.i32", "convert.i32.f32", "mov.i8"]
WIDTH = {"i8": 1, "i16": 2, "i32": 4, "f16": 2, "f32": 4}


def _stream(r: random.Random, width: int, d: str) -> str:
    return f"S{r.randrange(0, 33 - width)}{d}"


def generate(lines: int, seed: int) -> str:
    """A program of `lines` source lines, one chip section per 100k lines."""
    r = random.Random(seed)
    out: list[str] = []
    mem_w = [f"MEM_W{i}" for i in range(44)]
    mem_e = [f"MEM_E{i}" for i in range(44)]
    chip = -1
    cycle = 0
    block = 0
    while len(out) < lines:
        if len(out) // 100_000 != chip:
            chip = len(out) // 100_000
            out.append(f".chip {chip}")
            out.append(f".equ BASE{chip}, {r.randrange(0, 4096)}")
            cycle = 0
        block += 1
        base = r.randrange(0, 4000)
        # one "tile" of a streaming kernel: reads, compute, writes, a little control
        out.append(f"tile{block}:")
        q1, q2 = r.sample(mem_w, 2)
        out.append(f"@{cycle} {{ {q1}: read 0x{base:04x}, {_stream(r, 1, 'E')} | "
                   f"{q2}: read BASE{chip}+{r.randrange(64)}, {_stream(r, 1, 'E')} }}")
        out.append(f"  {q1}: repeat {r.randrange(1, 8)}, 1")
        for _ in range(4):
            op = r.choice(VXM_OPS)
            w = WIDTH[op.split(".")[1]]
            out.append(f"@+1 VXM{r.randrange(16)}: {op} {_stream(r, w, 'E')}, {_stream(r, w, 'E')} -> "
                       f"{_stream(r, w, r.choice('EW'))}")
        op = r.choice(VXM_UNARY)
        w = max(WIDTH[t] for t in op.split(".")[1:] if t in WIDTH)
        out.append(f"@+1 VXM{r.randrange(16)}: {op} {_stream(r, w, 'E')} -> {_stream(r, w, 'E')}")
        out.append(f"@+2 {{ SHF_E{r.randrange(2)}: shift.up.i8 {_stream(r, 1, 'E')}, {r.randrange(320)} -> "
                   f"{_stream(r, 1, 'W')} | DST_E{r.randrange(4)}: distribute.i8 {_stream(r, 1, 'E')}, "
                   f"{_stream(r, 1, 'E')} -> {_stream(r, 1, 'W')} }}")
        out.append(f"@+1 {{ MXM2_W: lw S{r.choice((0, 16))}E | MXM0_A: abc.i8 {_stream(r, 1, 'W')} }}")
        out.append(f"@+20 MXM0_C: acc.set.i32 S{4 * r.randrange(8)}E, {r.randrange(1024)}")
        for _ in range(3):
            addr = r.randrange(0, 8000)
            qa, qb = r.sample(mem_e, 2)
            out.append(f"@+1 {{ {qa}: write 0x{addr:04x}, {_stream(r, 1, 'E')} | "
                       f"{qb}: read 0x{addr + 1:04x}, {_stream(r, 1, 'W')}, 2 }}")
        out.append(f"@+1 {r.choice(mem_e)}: nop {r.randrange(1, 4)}")
        out.append(f"@+4 {{ VXM{r.randrange(16)}: sync | {r.choice(mem_w)}: notify }}")
        cycle += 40 + r.randrange(0, 8)
    return "\n".join(out[:lines]) + "\n"


def x86_source(n: int) -> str:
    ops = ["addq %rax, %rbx", "movq 8(%rsp), %rcx", "imulq %rdx, %rsi", "xorl %eax, %eax",
           "leaq 16(%rdi,%rcx,4), %r8", "vaddps %ymm1, %ymm2, %ymm3", "cmpq $42, %r9", "shlq $3, %r10"]
    return "\n".join(ops[i % len(ops)] for i in range(n)) + "\n"


def time_gnu_as(n: int, workdir: str) -> float | None:
    gas = shutil.which("as")
    if gas is None:
        return None
    src = os.path.join(workdir, "x86.s")
    with open(src, "w") as fh:
        fh.write(x86_source(n))
    t = time.perf_counter()
    subprocess.run([gas, "--64", "-o", os.path.join(workdir, "x86.o"), src], check=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", metavar="DIR", help="keep the generated program here")
    args = ap.parse_args()
    if args.lines < 1:
        ap.error("--lines must be at least 1")
    text = generate(args.lines, args.seed)
    workdir = args.keep or tempfile.mkdtemp(prefix="tspasm-bench-")
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "bench.tsp")
    with open(path, "w") as fh:
        fh.write(text)
    t = time.perf_counter()
    cpu = time.process_time()
    assembly = Assembler().assemble_text(text, path)
    image = write_bytes(assembly.program)
    ours = time.perf_counter() - t
    ours_cpu = time.process_time() - cpu
    gas = time_gnu_as(args.lines, workdir)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = sum(a.shape[0] for a in assembly.program.code.values())
    print(f"lines {args.lines}  instructions {len(assembly.placed)}  chips {len(assembly.program.code)}  "
          f"rows {rows}  image_bytes {len(image)}")
    print(f"tspasm_seconds {ours:.3f}  (cpu {ours_cpu:.3f})")
    print(f"gnu_as_seconds {gas:.3f}" if gas is not None else "gnu_as_seconds unavailable (no `as`)")
    print(f"asm_lines_per_s {args.lines / ours:.0f}")
    print(f"gnu_as_ratio {ours / gas:.2f}" if gas else "gnu_as_ratio nan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
