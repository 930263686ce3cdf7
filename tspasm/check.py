"""`tspasm check`: find schedule errors without looking at results.

TSP-1 timing never depends on data (reference-model.md 2) except the addresses
of gather and scatter, so the static check *is* a run of the cycle engine in
hazards="warn" mode: the same C code that times a real run finds every read of
a value that is not there, every two writers of one stream register, every
oversubscribed bank port, and every sync that nothing releases.  Only the
hazards are kept; outputs are ignored.

Data-dependent faults are not schedule errors: if a gather or scatter address in
the program's own data is out of range, the schedule is checked again with all
of MEM zero (every address 0, always in range) and a warning says so.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .asm.diagnostics import SHOWN, Diagnostic
from .errors import TspError
from .runner import (Loaded, diagnostic, engine_error_diagnostics, hazard_diagnostics, hazard_records,
                     make_machine)


@dataclass
class CheckResult:
    path: str
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    cycles: int = 0
    hazard_count: int = 0      # every schedule error, also those past the first 4096 kept with text
    complete: bool = True      # False when the engine could not check to the end
    limited: bool = False      # True when --max-cycles ended the check before the program did


class ScheduleError(TspError):
    """`tspasm check` found schedule errors (or could not finish); all diagnostics rendered."""

    def __init__(self, result: CheckResult):
        self.result = result
        shown = result.errors[:SHOWN]
        n = result.hazard_count
        lines = [d.render() for d in result.warnings] + [d.render() for d in shown]
        summary = f"{n} schedule error{'s' if n != 1 else ''}"
        summary += "." if result.complete else f" up to cycle {result.cycles}; the check could not go further."
        if len(result.errors) > len(shown):
            summary += f" (the first {len(shown)} are shown)"
        super().__init__("\n".join(lines + [summary]))


def _run_warn(loaded: Loaded, max_cycles: int | None, topology=None, clocks=None):
    """(machine, EngineError or None, stopped by the cycle limit) after a hazards="warn" run."""
    from .engine import EngineError, StopReason

    machine = make_machine(loaded.program, "warn", topology, loaded, clocks)
    try:
        stop = machine.run(max_cycles)
    except EngineError as exc:
        return machine, exc, False
    return machine, None, stop is StopReason.CYCLE_LIMIT


def check_schedule(loaded: Loaded, max_cycles: int | None = None, topology=None, clocks=None) -> CheckResult:
    """Every schedule error of a hazards="warn" run on `topology` (name, FILE.toml, Topology or
    None for the default), with `clocks` (ClockModel: drift and jitter) if given; a program
    the topology cannot hold raises RunError / UsageError."""
    result = CheckResult(loaded.path)
    result.warnings.extend(getattr(loaded.assembly, "warnings", None) or [])  # the assembler's
    machine, err, limited = _run_warn(loaded, max_cycles, topology, clocks)
    if err is not None and err.code == "TSP_E_FAULT":
        fault = engine_error_diagnostics(err, loaded)[0]
        result.warnings.append(dataclasses.replace(
            fault, severity="warning",
            message=f"{fault.message} -- an address taken from the program's data, not a schedule "
                    "error; the schedule was checked again with all of MEM zero",
            hint=""))
        zero = Loaded(loaded.path, dataclasses.replace(loaded.program, data=[]), loaded.assembly)
        machine, err, limited = _run_warn(zero, max_cycles, topology, clocks)
    records = hazard_records(machine)
    result.errors = hazard_diagnostics(records, loaded)
    result.hazard_count = machine.hazard_count
    result.cycles = machine.cycle
    result.limited = limited
    if err is not None:
        result.errors += engine_error_diagnostics(err, loaded)
        if err.code == "TSP_E_DEADLOCK":
            result.hazard_count += 1  # a sync nothing releases is a schedule error
        else:
            result.complete = False
        if err.cycle is not None:
            result.cycles = err.cycle
    return result


__all__ = ["CheckResult", "ScheduleError", "check_schedule", "diagnostic"]
