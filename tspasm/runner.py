"""Run a program on the engine and report it; turn engine errors and hazards into
diagnostics.  Shared by `tspasm run`, `tspasm check` and the golden harness.

    >>> loaded = load_program("programs/relu_i8.tsp")
    >>> result = run_program(loaded)          # raises RunError on a schedule error
    >>> result.cycles, result.skew_tail, result.outputs["y"].shape
    (13, 19, (4, 320))

Timing (reference-model.md 2): `cycles` is the program's length on the
superlane-0 timeline; superlane 19 finishes `skew_tail` (19) cycles later, and
`total_cycles` = cycles + skew_tail.  Nothing here simulates a cycle: the C
engine does, and this module only reads its results back.
"""
from __future__ import annotations

import math
import os
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .asm.diagnostics import Diagnostic
from .errors import TspError, UsageError
from .image.program import Program

# Stop reasons of a run.  "halted" and "cycle_limit" come from the engine's
# StopReason; the others name the error that stopped the run.
STOP_HALTED = "halted"
STOP_CYCLE_LIMIT = "cycle_limit"
ERROR_STOPS = {
    "TSP_E_SCHEDULE": "schedule_error",
    "TSP_E_FAULT": "address_fault",
    "TSP_E_UNIMPLEMENTED": "unimplemented",
    "TSP_E_DEADLOCK": "deadlock",
}


class RunError(TspError):
    """The engine stopped a run with an error; `diagnostics` render it llvm-mc style."""

    def __init__(self, diagnostics: list[Diagnostic], stop_reason: str, cycle: int | None,
                 engine_error=None):
        self.diagnostics = diagnostics
        self.stop_reason = stop_reason
        self.cycle = cycle
        self.engine_error = engine_error
        super().__init__("\n".join(d.render() for d in diagnostics))


@dataclass
class Loaded:
    """A program ready to run, with where it came from."""

    path: str
    program: Program
    assembly: object | None = None  # tspasm.Assembly when loaded from source


@dataclass
class HazardRecord:
    """One schedule error, with both instructions of a two-writer conflict."""

    message: str
    chip: int
    cycle: int
    queue: str | None
    row: int | None
    location: str | None            # "path:line:col" of the instruction at fault
    other_queue: str | None = None  # the other writer of a conflict
    other_row: int | None = None
    other_location: str | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("message", "chip", "cycle", "queue", "row", "location",
                                              "other_queue", "other_row", "other_location")}


@dataclass
class RunResult:
    cycles: int
    skew_tail: int
    host_seconds: float
    stop_reason: str
    outputs: dict[str, np.ndarray]
    hazards: list[HazardRecord] = field(default_factory=list)
    hazard_count: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    machine: object | None = None
    topology: str = "single"          # name of the topology the program ran on
    chips_used: list[int] = field(default_factory=list)   # chips with code or data
    memory_bytes: int = 0             # host bytes the engine held at the end

    @property
    def total_cycles(self) -> int:
        return self.cycles + self.skew_tail

    @property
    def sim_cycles_per_s(self) -> float:
        return self.cycles / self.host_seconds if self.host_seconds > 0 else 0.0


# ---- loading ---------------------------------------------------------------------------------------

def load_program(path: str, topology=None) -> Loaded:
    """A .tspo image is read; anything else is assembled as TSP source, for `topology`
    (--topology: a name, FILE.toml or Topology; None: the program's `.topology` or the default)."""
    from .asm.assembler import assemble_file
    from .image.tspo import read_file

    if not os.path.exists(path):
        raise TspError(f"{path}: error: cannot read `{path}`: No such file or directory")
    if os.path.isdir(path):
        raise TspError(f"{path}: error: cannot read `{path}`: Is a directory")
    if path.endswith(".tspo"):
        return Loaded(path, read_file(path))
    assembly = assemble_file(path, topology=topology)
    return Loaded(path, assembly.program, assembly)


# ---- running ---------------------------------------------------------------------------------------

def resolve_topology(spec):
    """A Topology from a built-in name (single, pair, node, rack, system:R), a FILE.toml path,
    or None (the Machine then picks the smallest built-in holding the program's chips)."""
    if spec is None or not isinstance(spec, str):
        return spec
    from .topology import builtin, load_topology

    if spec.endswith(".toml") or os.path.sep in spec or os.path.exists(spec):
        return load_topology(spec)
    return builtin(spec)


def make_machine(program: Program, hazards: str = "stop", topology=None, loaded: Loaded | None = None,
                 clocks=None):
    """A Machine on `topology` (name, FILE.toml, Topology or None for the default).  With
    `loaded`, a program the topology cannot hold (a C2C port without a link) raises RunError
    with a diagnostic at the instruction; a chip the topology lacks raises UsageError."""
    from .engine import EngineError, Machine

    if topology is None and loaded is not None:
        topology = getattr(loaded.assembly, "topology", None)  # the source's `.topology`
    if topology is None:
        topology = program.topology  # recorded in the image (None: the default for its chips)
    try:
        return Machine(program, hazards=hazards, topology=resolve_topology(topology), clocks=clocks)
    except EngineError as exc:
        if loaded is None:
            raise
        raise RunError(engine_error_diagnostics(exc, loaded), ERROR_STOPS.get(exc.code, "error"), None,
                       exc) from None


def run_program(loaded: Loaded, *, hazards: str = "stop", max_cycles: int | None = None,
                topology=None, clocks=None) -> RunResult:
    """Run to the end (or max_cycles).  An engine error raises RunError with diagnostics.
    `clocks` (tspasm.engine.ClockModel) switches on seeded clock drift and link jitter."""
    from .engine import EngineError

    if max_cycles is not None and max_cycles < 0:
        raise UsageError(f"--max-cycles must be >= 0, not {max_cycles}")
    machine = make_machine(loaded.program, hazards, topology, loaded, clocks)
    t0 = time.perf_counter()
    try:
        stop = machine.run(max_cycles)
    except EngineError as exc:
        raise RunError(engine_error_diagnostics(exc, loaded), ERROR_STOPS.get(exc.code, "error"),
                       exc.cycle if exc.cycle is not None else _safe_cycle(machine), exc) from None
    seconds = time.perf_counter() - t0
    recorded = hazard_records(machine)
    return RunResult(cycles=machine.cycle, skew_tail=machine.skew_tail, host_seconds=seconds,
                     stop_reason=stop.value, outputs=machine.outputs(), hazards=recorded,
                     hazard_count=machine.hazard_count, stats=machine.stats(), machine=machine,
                     topology=machine.topology.name,
                     chips_used=sorted(set(loaded.program.chips) | set(loaded.program.code)),
                     memory_bytes=machine.memory_bytes())


def _safe_cycle(machine) -> int | None:
    try:
        return machine.cycle
    except TspError:
        return None


def hazard_records(machine) -> list[HazardRecord]:
    """The recorded hazards of a hazards="warn" run, with the second instruction.

    Machine.hazards drops the other writer of a conflict (tsp_error_info.slot2 /
    row2); until it carries it, read the records here through the same C call."""
    from .engine._native import ffi, lib

    n = machine.hazard_count
    if not n:
        return []
    buf = ffi.new("char[]", 1024)
    info = ffi.new("tsp_error_info *")
    out: list[HazardRecord] = []
    for i in range(n):
        if lib.tsp_hazard_get(machine._h, i, buf, len(buf), info) != lib.TSP_OK:
            break  # only the first ones keep their text
        two = info.slot2 >= 0 and info.row2 >= 0
        out.append(HazardRecord(
            ffi.string(buf).decode(errors="replace"), int(info.chip), int(info.cycle),
            machine._queue(info.slot), int(info.row) if info.row >= 0 else None,
            machine._location(info.chip, info.slot, info.row),
            machine._queue(info.slot2) if two else None, int(info.row2) if two else None,
            machine._location(info.chip, info.slot2, info.row2) if two else None))
    return out


# ---- diagnostics ---------------------------------------------------------------------------------

def _split_location(loc: str | None) -> tuple[str, int, int] | None:
    if not loc:
        return None
    try:
        path, line, col = loc.rsplit(":", 2)
        return path, int(line), int(col)
    except ValueError:
        return None


_LINES: dict[str, list[str]] = {}


def source_line(path: str, line: int) -> str:
    if path not in _LINES:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                _LINES[path] = fh.read().splitlines()
        except OSError:
            _LINES[path] = []
    lines = _LINES[path]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def instruction_text(loaded: Loaded, chip: int, queue: str | None, row: int | None) -> str | None:
    """`QUEUE: mnemonic operands` of the word at (chip, queue, row), decoded from the image."""
    if queue is None or row is None:
        return None
    from .asm.encoding import DecodeError, decode
    from .asm.printer import format_instruction
    from .isa import default_isa

    isa = default_isa()
    code = loaded.program.code.get(chip)
    q = isa.queue_by_name.get(queue)
    if code is None or q is None or not 0 <= row < code.shape[0]:
        return None
    word = int.from_bytes(code[row, q.slot].tobytes(), "little")
    try:
        spec, values = decode(isa, q.unit, word, q)
    except DecodeError:
        return None
    return f"{queue}: {format_instruction(isa, spec, values)}"


def _strip_where(message: str) -> str:
    """The C message ends with "[chip 0, cycle 5, VXM0 `add` row 1]"; keep it (it names
    chip, cycle, queue and instruction) but drop Python's appended location lines."""
    return message.split("\n", 1)[0]


def diagnostic(loaded: Loaded, message: str, chip: int | None, cycle: int | None, queue: str | None,
               row: int | None, location: str | None, other_queue: str | None = None,
               other_row: int | None = None, other_location: str | None = None,
               severity: str = "error", hint: str = "") -> Diagnostic:
    notes = []
    text = instruction_text(loaded, chip, queue, row) if chip is not None else None
    if text:
        notes.append(f"instruction: `{text}` (chip {chip}, word {row} of its queue)")
    if other_queue is not None:
        other = instruction_text(loaded, chip, other_queue, other_row) if chip is not None else None
        where = _split_location(other_location)
        desc = f"`{other}`" if other else (other_queue if other_row is None else f"{other_queue} word {other_row}")
        note = f"other instruction: {desc}"
        if where:
            path, line, col = where
            note += f" at {path}:{line}:{col}"
            src = source_line(path, line)
            if src:
                note += "\n    " + src.replace("\t", " ") + "\n    " + " " * max(col - 1, 0) + "^"
        notes.append(note)
    where = _split_location(location)
    if where:
        path, line, col = where
        return Diagnostic(path, line, col, message, source_line(path, line), hint, severity, tuple(notes))
    return Diagnostic(loaded.path, 0, 0, message, "", hint, severity, tuple(notes))


def engine_error_diagnostics(exc, loaded: Loaded) -> list[Diagnostic]:
    hint = ""
    if exc.code == "TSP_E_SCHEDULE":
        hint = "`tspasm check` lists every schedule error; `--hazards warn` runs past them"
    elif exc.code == "TSP_E_UNIMPLEMENTED":
        hint = "this engine does not model that instruction yet"
    return [diagnostic(loaded, _strip_where(str(exc)), exc.chip, exc.cycle, exc.queue, exc.row,
                       exc.location, exc.other_queue, None, exc.other_location, hint=hint)]


def hazard_diagnostics(records: list[HazardRecord], loaded: Loaded, severity: str = "error") -> list[Diagnostic]:
    diags = [diagnostic(loaded, h.message, h.chip, h.cycle, h.queue, h.row, h.location, h.other_queue,
                        h.other_row, h.other_location, severity) for h in records]
    return sorted(set(diags), key=Diagnostic.sort_key)


# ---- output ----------------------------------------------------------------------------------------

def jsonable(arr: np.ndarray):
    """Nested lists; non-finite floats become the strings "nan", "inf", "-inf" (strict JSON)."""
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        def conv(x):
            if isinstance(x, list):
                return [conv(v) for v in x]
            return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))
        return conv(arr.tolist())
    return arr.tolist()


def write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez, but any output name works (np.savez reserves `file`) and the
    path is used as given."""
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for name, arr in arrays.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


__all__ = ["HazardRecord", "Loaded", "RunError", "RunResult", "engine_error_diagnostics",
           "hazard_diagnostics", "hazard_records", "jsonable", "load_program", "make_machine",
           "resolve_topology", "run_program", "write_npz"]
