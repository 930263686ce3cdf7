"""`tspasm run prog.tsp|prog.tspo [--dump out.npz] [--json] [--hazards stop|warn] [--max-cycles N]
[--topology NAME|FILE.toml] [--seed N --drift-ppm PPM --jitter]`."""
from __future__ import annotations

import json
import sys

import numpy as np

from ..runner import RunError, jsonable, load_program, run_program, write_npz
from .clock_args import add_clock_args, clock_model, nonneg_int
from .topology_arg import add_topology_arg


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a program; print its outputs, cycles and speed")
    p.add_argument("program", help="TSP assembly (.tsp, assembled first) or a program image (.tspo)")
    p.add_argument("--dump", metavar="OUT.npz", help="write every .output region to an .npz file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--hazards", choices=("stop", "warn"), default="stop",
                   help="stop at the first schedule error (default) or record it and carry on")
    p.add_argument("--max-cycles", type=_cycles, metavar="N", default=None,
                   help="stop after at most N cycles (stop reason cycle_limit)")
    add_topology_arg(p)
    add_clock_args(p)
    p.set_defaults(func=run)


_cycles = nonneg_int("cycle count")


def _dtype_name(arr: np.ndarray) -> str:
    return {"i": "i", "u": "u", "f": "f"}.get(arr.dtype.kind, arr.dtype.kind) + str(8 * arr.dtype.itemsize)


def format_output(name: str, arr: np.ndarray) -> str:
    head = f"{name}: {_dtype_name(arr)}[{', '.join(map(str, arr.shape))}]"
    body = np.array2string(arr, threshold=64, edgeitems=4, max_line_width=100, separator=" ")
    if "\n" in body or len(head) + 3 + len(body) > 100:
        return head + "\n" + "\n".join("  " + ln for ln in body.split("\n"))
    return f"{head} = {body}"


def _ranges(chips: list[int]) -> str:
    """0, 1, 2, 5 -> "0..2, 5": a rack's 72 chips fit on a line."""
    runs: list[list[int]] = []
    for c in chips:
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ", ".join(str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}..{b}" for a, b in runs)


def _peak_rss_bytes() -> int | None:
    """This process's peak resident set size so far (assembly and loading included); None where
    the platform has no getrusage."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def run(args) -> int:
    loaded = load_program(args.program, args.topology)
    try:
        result = run_program(loaded, hazards=args.hazards, max_cycles=args.max_cycles,
                             topology=args.topology, clocks=clock_model(args))
    except RunError as exc:
        if args.json:
            sys.stdout.write(json.dumps({
                "program": args.program, "stop_reason": exc.stop_reason, "cycles": exc.cycle,
                "error": {"message": exc.diagnostics[0].message if exc.diagnostics else str(exc),
                          "code": getattr(exc.engine_error, "code", None),
                          "chip": getattr(exc.engine_error, "chip", None),
                          "queue": getattr(exc.engine_error, "queue", None),
                          "location": getattr(exc.engine_error, "location", None),
                          "other_location": getattr(exc.engine_error, "other_location", None)},
            }) + "\n")
        raise
    if args.dump:
        write_npz(args.dump, result.outputs)
    warnings = []
    if result.hazards or result.hazard_count:
        from ..runner import hazard_diagnostics
        warnings = hazard_diagnostics(result.hazards, loaded, severity="warning")
    if args.json:
        obj = {
            "program": args.program,
            "stop_reason": result.stop_reason,
            "cycles": result.cycles,
            "skew_tail": result.skew_tail,
            "total_cycles": result.total_cycles,
            "host_seconds": result.host_seconds,
            "sim_cycles_per_s": result.sim_cycles_per_s,
            "outputs": {k: jsonable(v) for k, v in result.outputs.items()},
            "output_dtypes": {k: _dtype_name(v) for k, v in result.outputs.items()},
            "hazards": [h.as_dict() for h in result.hazards],
            "hazard_count": result.hazard_count,
            "stats": result.stats,
            "topology": result.topology,
            "chips_used": result.chips_used,
            "memory_bytes": result.memory_bytes,
            "peak_rss_bytes": _peak_rss_bytes(),
            "clocks": {"seed": result.machine.clocks.seed, "drift_ppm": result.machine.clocks.drift_ppm,
                       "jitter": result.machine.clocks.jitter},
        }
        if args.dump:
            obj["dump"] = args.dump
        sys.stdout.write(json.dumps(obj) + "\n")
    else:
        out = [format_output(k, v) for k, v in result.outputs.items()]
        if not result.outputs:
            out.append("(no .output regions)")
        out.append(f"stop: {result.stop_reason}")
        out.append(f"cycles: {result.cycles} on the superlane-0 timeline "
                   f"(+ {result.skew_tail} skew tail = {result.total_cycles})")
        out.append(f"host: {result.host_seconds:.6f} s, {result.sim_cycles_per_s:,.0f} simulated cycles/s")
        if len(result.chips_used) > 1 or result.machine.topology.chips > 1:
            rss = _peak_rss_bytes()
            out.append(f"chips: {_ranges(result.chips_used)} of topology {result.topology}; "
                       f"engine memory {result.memory_bytes:,} bytes"
                       + (f", process peak RSS {rss / 2**20:,.0f} MiB" if rss else ""))
        if result.machine.clocks.active:
            out.append(f"clocks: {result.machine.clocks.describe(result.machine.isa)}")
        if result.hazard_count:
            out.append(f"hazards: {result.hazard_count} schedule error(s) recorded (--hazards warn)")
        if args.dump:
            out.append(f"dump: {args.dump} ({len(result.outputs)} array(s))")
        sys.stdout.write("\n".join(out) + "\n")
    for d in warnings:
        sys.stderr.write(d.render() + "\n")
    return 0
