"""Machine: a program image loaded into the C engine, run, and read back.

The Python side never simulates a cycle; it loads words and data, calls
tsp_run, and turns every status into an EngineError that carries the C
message plus the source line of the instruction (from the program's line table).
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UsageError
from ..image.program import DataSegment, Program
from ..isa import default_isa
from ..isa.model import Isa
from ._native import ffi, lib
from .clocks import ClockModel
from .errors import EngineError
from .planes import PlaneMap

if TYPE_CHECKING:
    from ..topology import Topology

_UINT64_MAX = (1 << 64) - 1
_CODES = {getattr(lib, n): n for n in dir(lib) if n.startswith("TSP_E_") or n == "TSP_OK"}
_QUEUE_STATES = ("empty", "ready", "repeating", "parked", "done")


class StopReason(enum.Enum):
    HALTED = "halted"            # every queue finished, nothing in flight
    CYCLE_LIMIT = "cycle_limit"  # the cycle budget ran out first


_STOPS = {lib.TSP_STOP_HALTED: StopReason.HALTED, lib.TSP_STOP_CYCLE_LIMIT: StopReason.CYCLE_LIMIT}


@dataclass(frozen=True)
class Hazard:
    """A schedule error recorded in hazards="warn" mode."""

    message: str
    chip: int
    cycle: int
    queue: str | None
    location: str | None


@dataclass(frozen=True)
class QueueInfo:
    state: str
    next_row: int
    rows: int
    next_cycle: int | None
    busy_until: int
    issued: int
    executed: int
    # While repeating: the word being re-issued, and (k, n): next_cycle brings re-issue k of n.
    repeat_row: int | None = None
    repeat: tuple[int, int] | None = None


@dataclass(frozen=True)
class Snapshot:
    """The whole state of a Machine at one cycle (Machine.snapshot / Machine.restore).

    Plain bytes, so it pickles and can be stored; restoring it and running on is
    bit-identical to never having saved.  It restores only into a Machine of the
    same program and chip count, on an engine built from the same sources and isa/."""

    data: bytes = field(repr=False)
    cycle: int
    program: str          # digest of the program's code, so a snapshot of another program is refused
    topology: str = ""    # "chips:digest of the links", so one of another topology is refused

    @property
    def nbytes(self) -> int:
        return len(self.data)


def default_topology(chips, isa: Isa | None = None) -> Topology:
    """The smallest built-in topology holding chips 0..max(chips): single, pair, node, rack."""
    from ..topology import builtin

    isa = isa or default_isa()
    top = max(chips, default=0)
    for name in ("single", "pair", "node", "rack"):
        t = builtin(name, isa)
        if top < t.chips:
            return t
    raise UsageError(f"the program uses chip {top}, more than the {t.chips} chips of the largest default "
                     "topology (rack); give one: --topology system:R or FILE.toml "
                     "(Machine(..., topology=...))")


def check_program_chips(chips, topology: Topology) -> None:
    missing = sorted(c for c in chips if not 0 <= c < topology.chips)
    if missing:
        raise UsageError(f"the program uses chip {missing[0]} but topology {topology.name} has only chips "
                         f"0..{topology.chips - 1}")


class Machine:
    """One TSP-1 system running one program.

    hazards="stop" (default) stops at the first schedule error with EngineError;
    hazards="warn" records it (see `hazards`) and carries on, reading a missing
    value as zeros.  Address faults and unimplemented instructions always stop.

    `clocks` (a ClockModel) switches on seeded clock drift and link jitter (off by default).

    `topology` (a tspasm.topology Topology) gives the chips and the C2C links between
    them; by default the smallest built-in that holds the program's chips (and, with
    `chips`, chips 0..chips-1): single, pair, node or rack.  The machine has
    topology.chips chips; the links touching the program's chips are wired in the
    engine, and a program using a chip or a link port the topology lacks is refused.
    """

    def __init__(self, program: Program, *, hazards: str = "stop", chips: int | None = None,
                 isa: Isa | None = None, topology: Topology | None = None,
                 clocks: ClockModel | None = None):
        if hazards not in ("stop", "warn"):
            raise UsageError(f"hazards must be 'stop' or 'warn', not {hazards!r}")
        self.isa = isa or default_isa()
        self.program = program
        self._planes = PlaneMap(self.isa)
        self._names = [q.name for q in self.isa.queues]
        self._lines: dict | None = None
        self._program_key: str | None = None
        self.stop_reason: StopReason | None = None   # how the last run/step ended
        self._steady_runs = True
        used = set(program.chips) | set(program.code)
        if chips is not None:
            used |= set(range(chips))
        if topology is None:  # the one the program was assembled for, else the default for its chips
            topology = program.topology if program.topology is not None else default_topology(used, self.isa)
        self.topology = topology
        check_program_chips(used, self.topology)
        nchips = self.topology.chips
        out = ffi.new("tsp_machine **")
        rc = lib.tsp_create(nchips, out)
        if rc != lib.TSP_OK:
            raise EngineError(f"cannot create a {nchips}-chip machine: "
                              f"{ffi.string(lib.tsp_strerror(rc)).decode()}", _CODES.get(rc, str(rc)))
        self._m = ffi.gc(out[0], lib.tsp_destroy)
        self._check(lib.tsp_check_fingerprint(self._h, program.isa_fingerprint.encode("ascii")))
        mode = lib.TSP_HAZARDS_WARN if hazards == "warn" else lib.TSP_HAZARDS_STOP
        self._check(lib.tsp_set_hazard_mode(self._h, mode))
        for link in self.topology.links:
            if link.chip_a in used or link.chip_b in used:  # the rest can never carry a flit
                self._check(lib.tsp_link_set(self._h, *link),
                            f"wiring link {link} of topology {self.topology.name}")
        self.clocks = clocks or ClockModel()
        self._set_clocks(used)
        for chip in sorted(program.code):
            self._load_code(chip, program.code[chip])
        self._check(lib.tsp_links_check(self._h))
        for seg in program.data:
            self._load_data(seg)

    # ---- loading -------------------------------------------------------------

    def _set_clocks(self, used) -> None:
        drifts = self.clocks.drift_ppb(self.topology.chips)
        for chip in sorted(used):  # an idle chip's clock cannot matter
            if drifts[chip]:
                self._check(lib.tsp_chip_drift_set(self._h, chip, drifts[chip]), f"drift of chip {chip}")
        self._check(lib.tsp_jitter_set(self._h, self.clocks.jitter_seed()), "link jitter")

    def _load_code(self, chip: int, code: np.ndarray) -> None:
        if code.ndim != 3 or code.shape[1:] != (len(self.isa.queues), self.isa.param("geometry.slot_bytes")):
            raise UsageError(f"chip {chip}: code of shape {code.shape} is not (rows, queues, slot bytes)")
        used = code.any(axis=2)  # (rows, queues): which words are not the filler
        for slot in np.flatnonzero(used.any(axis=0)):
            n = int(np.flatnonzero(used[:, slot])[-1]) + 1
            words = np.ascontiguousarray(code[:n, slot, :], dtype=np.uint8)
            self._check(lib.tsp_load_queue(self._h, chip, int(slot), ffi.from_buffer("uint8_t[]", words), n))

    def _load_data(self, seg: DataSegment) -> None:
        dtype = self._planes.dtype(seg.dtype)
        values = np.frombuffer(seg.data, dtype=dtype).reshape(seg.shape)
        self.write_mem(seg.chip, seg.slot, seg.addr, values, seg.dtype)

    # ---- running ---------------------------------------------------------------

    def run(self, max_cycles: int | None = None, *, until: int | None = None) -> StopReason:
        """Run until the program ends, at most max_cycles more cycles, and (with
        `until`) no further than cycle `until`: the machine then sits at that cycle
        with everything before it done.  An `until` at or before the current cycle
        runs nothing."""
        budget = _UINT64_MAX if max_cycles is None else max_cycles
        if budget < 0:
            raise UsageError(f"max_cycles must be >= 0, not {max_cycles}")
        if until is not None:
            if until < 0:
                raise UsageError(f"until must be a cycle >= 0, not {until}")
            budget = min(budget, max(until - self.cycle, 0))
        stop = ffi.new("int *")
        self._check(lib.tsp_run(self._h, min(budget, _UINT64_MAX), stop))
        self.stop_reason = _STOPS[stop[0]]
        return self.stop_reason

    def step(self, n: int = 1) -> StopReason:
        """Advance n cycles (fewer if the program ends first)."""
        if n < 1:
            raise UsageError(f"step takes a positive number of cycles, not {n}")
        return self.run(n)

    @property
    def steady_runs(self) -> bool:
        """Whether queues re-issuing under `repeat n, 1` run outside the event loop, with
        the other events merged in between (native/engine/steady.c; on by default).  The
        machine state is the same either way: switching it off is for checking exactly that."""
        return self._steady_runs

    @steady_runs.setter
    def steady_runs(self, on: bool) -> None:
        self._check(lib.tsp_set_steady_runs(self._h, 1 if on else 0))
        self._steady_runs = bool(on)

    def steady_reissues(self) -> int:
        """Re-issues run as steady runs since this machine was made or last restored."""
        out = ffi.new("uint64_t *")
        self._check(lib.tsp_steady_reissues(self._h, out))
        return int(out[0])

    @property
    def cycle(self) -> int:
        """Every event before this cycle has happened; after a complete run, the
        program's length in cycles on the superlane-0 timeline."""
        out = ffi.new("uint64_t *")
        self._check(lib.tsp_cycle(self._h, out))
        return int(out[0])

    @property
    def skew_tail(self) -> int:
        """Cycles superlane 19 finishes after superlane 0 (reported separately)."""
        return int(self.isa.param("geometry.skew_tail"))

    # ---- memory ----------------------------------------------------------------

    def read_mem(self, chip: int, slice_name: str | int, addr: int, rows: int = 1,
                 dtype: str = "i8") -> np.ndarray:
        """rows x 320 elements of `dtype` starting at (slice, addr); byte plane j
        comes from slice index + j of the same hemisphere."""
        dt = self._planes.dtype(dtype)
        planes = []
        for slot in self._planes.plane_slots(slice_name, dt.itemsize):
            buf = np.empty((rows, self._planes.lanes), np.uint8)
            self._check(lib.tsp_mem_read(self._h, chip, slot, addr, rows, ffi.from_buffer("uint8_t[]", buf)),
                        f"read_mem({chip}, {slice_name!r}, {addr}, {rows})")
            planes.append(buf)
        return self._planes.from_planes(planes, dt)

    def write_mem(self, chip: int, slice_name: str | int, addr: int, values, dtype: str = "i8") -> None:
        """Store rows of up to 320 elements (the rest of each vector is zero)."""
        dt = self._planes.dtype(dtype)
        planes = self._planes.to_planes(values, dt)
        for slot, plane in zip(self._planes.plane_slots(slice_name, dt.itemsize), planes):
            self._check(lib.tsp_mem_write(self._h, chip, slot, addr, plane.shape[0],
                                          ffi.from_buffer("uint8_t[]", plane)),
                        f"write_mem({chip}, {slice_name!r}, {addr}, {plane.shape[0]} rows)")

    def outputs(self) -> dict[str, np.ndarray]:
        """Every `.output` region: shape (lanes,) for one vector, else (rows, lanes)."""
        out = {}
        for o in self.program.outputs:
            arr = self.read_mem(o.chip, o.slot, o.addr, max(o.rows, 1), o.dtype)
            out[o.name] = arr[0] if o.rows == 0 else arr
        return out

    # ---- inspection ------------------------------------------------------------

    def _sid(self, name: str, offset: int = 0) -> int:
        try:
            number, west = int(name[1:-1]), {"E": 0, "W": 1}[name[-1].upper()]
            if name[0].upper() != "S":
                raise ValueError
        except (ValueError, KeyError, IndexError):
            raise UsageError(f"{name!r} is not a stream name like S3E or S12W") from None
        streams = self.isa.param("geometry.streams_per_direction")
        if not 0 <= number + offset < streams:
            raise UsageError(f"stream {name} + {offset} is outside S0..S{streams - 1}")
        return number + offset + streams * west

    def stream(self, chip: int, name: str, pos: int) -> np.ndarray | None:
        """The 320 bytes of stream `name` (e.g. "S3E") arriving at `pos` this cycle, or None."""
        buf = np.empty(self._planes.lanes, np.uint8)
        present = ffi.new("int *")
        self._check(lib.tsp_stream_peek(self._h, chip, self._sid(name), pos,
                                        ffi.from_buffer("uint8_t[]", buf), present),
                    f"stream({chip}, {name!r}, {pos})")
        return buf if present[0] else None

    def read_stream(self, chip: int, name: str, pos: int, dtype: str = "i8") -> np.ndarray | None:
        """The 320 elements of `dtype` arriving at `pos` this cycle on stream `name` and, for a
        type of T bytes, the T-1 streams after it (byte j on stream number + j, same direction).
        None when no byte plane holds a value; a plane with nothing on it reads as zeros."""
        dt = self._planes.dtype(dtype)
        planes = [self.stream(chip, name, pos) if j == 0 else self._stream_plane(chip, name, j, pos)
                  for j in range(dt.itemsize)]
        if all(p is None for p in planes):
            return None
        zero = np.zeros(self._planes.lanes, np.uint8)
        return self._planes.from_planes([(zero if p is None else p)[None, :] for p in planes], dt)[0]

    def _stream_plane(self, chip: int, name: str, j: int, pos: int) -> np.ndarray | None:
        sid = self._sid(name, j)
        buf = np.empty(self._planes.lanes, np.uint8)
        present = ffi.new("int *")
        self._check(lib.tsp_stream_peek(self._h, chip, sid, pos, ffi.from_buffer("uint8_t[]", buf), present),
                    f"read_stream({chip}, {name!r}, {pos})")
        return buf if present[0] else None

    def write_stream(self, chip: int, name: str, pos: int, values, dtype: str = "i8") -> None:
        """Make `values` (up to 320 elements of `dtype`) the value arriving at `pos` this cycle on
        stream `name` (and the next T-1 streams for a T-byte type); it flows on from there like a
        value an instruction wrote.  Nothing arrives at the upstream edge (position 0 of an
        eastward stream, the last position of a westward one), so those are refused."""
        dt = self._planes.dtype(dtype)
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise UsageError(f"a stream holds one vector: give up to {self._planes.lanes} values, "
                             f"not shape {arr.shape}")
        planes = self._planes.to_planes(arr, dt)
        sids = [self._sid(name, j) for j in range(dt.itemsize)]
        for sid, plane in zip(sids, planes):
            buf = np.ascontiguousarray(plane[0])
            self._check(lib.tsp_stream_poke(self._h, chip, sid, pos, ffi.from_buffer("uint8_t[]", buf)),
                        f"write_stream({chip}, {name!r}, {pos}) (no value arrives at a stream's upstream "
                        "edge, and chip and position must exist)")

    def queue_info(self, chip: int, queue: str | int) -> QueueInfo:
        slot = queue if isinstance(queue, int) else self.isa.queue_by_name[queue].slot
        info = ffi.new("tsp_queue_info *")
        self._check(lib.tsp_queue_info_get(self._h, chip, slot, info), f"queue_info({chip}, {queue!r})")
        state = _QUEUE_STATES[info.state]
        repeating = state == "repeating"
        return QueueInfo(state, info.next_row, info.rows,
                         None if info.next_cycle == _UINT64_MAX else int(info.next_cycle),
                         int(info.busy_until), int(info.issued), int(info.executed),
                         int(info.repeat_row) if repeating else None,
                         (int(info.repeat_k), int(info.repeat_n)) if repeating else None)

    def chip_info(self, chip: int) -> dict[str, int]:
        info = ffi.new("tsp_chip_info *")
        self._check(lib.tsp_chip_info_get(self._h, chip, info), f"chip_info({chip})")
        return {k: int(getattr(info, k)) for k in ("config_mask", "ifetch_words", "notifies", "mem_slices",
                                                     "mxm_planes", "transmits", "hacs", "sacs", "sac_offset",
                                                     "drift_ppb", "skew")}

    def link_info(self, chip: int, port: int) -> dict[str, int] | None:
        """State of C2C port `port` (L<port>) of `chip`, or None when no link is wired there:
        peer_chip, peer_port, latency, tx_free (first cycle the link takes another flit),
        fifo (vectors waiting), in_flight (flits on their way here), sent, received."""
        info = ffi.new("tsp_link_info *")
        self._check(lib.tsp_link_info_get(self._h, chip, port, info), f"link_info({chip}, {port})")
        if info.peer_chip < 0:
            return None
        return {k: int(getattr(info, k)) for k in ("peer_chip", "peer_port", "latency", "tx_free", "fifo",
                                                     "in_flight", "sent", "received")}

    def memory_bytes(self) -> int:
        """Host bytes the engine holds for this machine now (chips, MEM, streams, MXM, links, events)."""
        out = ffi.new("uint64_t *")
        self._check(lib.tsp_memory_bytes(self._h, out))
        return int(out[0])

    def mxm_weights(self, chip: int, plane: int) -> np.ndarray:
        """The int8 weights installed in MXM `plane` as of the current cycle (rows x cols;
        row k multiplies activation element k).  Zeros before the plane's first iw."""
        rows, cols = self.isa.param("mxm.plane_rows"), self.isa.param("mxm.plane_cols")
        out = np.empty((rows, cols), np.int8)
        self._check(lib.tsp_mxm_weights_read(self._h, chip, plane, ffi.from_buffer("int8_t[]", out)),
                    f"mxm_weights({chip}, {plane})")
        return out

    def stats(self) -> dict[str, int]:
        s = ffi.new("tsp_stats *")
        self._check(lib.tsp_stats_get(self._h, s))
        return {k: int(getattr(s, k)) for k in ("events", "issued", "executed", "stream_writes")}

    def state_hash(self) -> int:
        out = ffi.new("uint64_t *")
        self._check(lib.tsp_state_hash(self._h, out))
        return int(out[0])

    # ---- snapshots -------------------------------------------------------------

    def _topology_digest(self) -> str:
        links = hashlib.sha256(repr(self.topology.links).encode()).hexdigest()
        return f"{self.topology.chips}:{links}"

    def _program_digest(self) -> str:
        if self._program_key is None:
            h = hashlib.sha256(self.program.isa_fingerprint.encode())
            for chip in sorted(self.program.code):
                code = np.ascontiguousarray(self.program.code[chip])
                h.update(f"{chip}:{code.shape}".encode())
                h.update(code.tobytes())
            self._program_key = h.hexdigest()
        return self._program_key

    def snapshot(self) -> Snapshot:
        """The whole machine now: every chip's queues, MEM, values in flight, MXM planes,
        pending writes, counters and hazard log.  Costs about the data the program touched."""
        size = ffi.new("uint64_t *")
        self._check(lib.tsp_snapshot_size(self._h, size))
        buf = bytearray(int(size[0]))
        self._check(lib.tsp_snapshot_save(self._h, ffi.from_buffer("uint8_t[]", buf), len(buf)))
        return Snapshot(bytes(buf), self.cycle, self._program_digest(), self._topology_digest())

    def restore(self, snap: Snapshot) -> None:
        """Put the machine back in the state of `snap` (taken from this machine or another
        Machine of the same program).  A corrupt or foreign snapshot raises EngineError
        (code TSP_E_SNAPSHOT) and leaves the machine as it was."""
        if not isinstance(snap, Snapshot):
            raise UsageError(f"restore takes a Snapshot from Machine.snapshot(), not {type(snap).__name__}")
        if snap.program != self._program_digest():
            raise EngineError("cannot restore the snapshot: it was taken from a machine running another "
                              "program", "TSP_E_SNAPSHOT")
        mine = self._topology_digest()
        # another chip count: the engine refuses it and says so
        if snap.topology and snap.topology != mine and snap.topology.split(":")[0] == mine.split(":")[0]:
            raise EngineError("cannot restore the snapshot: it was taken on another topology with the same "
                              "number of chips (other links)", "TSP_E_SNAPSHOT")
        data = snap.data if isinstance(snap.data, (bytes, bytearray)) else bytes(snap.data)
        self._check(lib.tsp_snapshot_load(self._h, ffi.from_buffer("uint8_t[]", data), len(data)))
        self.stop_reason = None

    @property
    def hazards(self) -> list[Hazard]:
        """Schedule errors recorded so far in hazards="warn" mode (the first 4096 keep their text)."""
        count = ffi.new("uint64_t *")
        self._check(lib.tsp_hazard_count(self._h, count))
        buf = ffi.new("char[]", 1024)
        info = ffi.new("tsp_error_info *")
        out = []
        for i in range(int(count[0])):
            if lib.tsp_hazard_get(self._h, i, buf, len(buf), info) != lib.TSP_OK:
                break
            loc = self._location(info.chip, info.slot, info.row)
            out.append(Hazard(ffi.string(buf).decode(), info.chip, int(info.cycle),
                              self._queue(info.slot), loc))
        return out

    @property
    def hazard_count(self) -> int:
        count = ffi.new("uint64_t *")
        self._check(lib.tsp_hazard_count(self._h, count))
        return int(count[0])

    def close(self) -> None:
        """Free the engine now instead of at garbage collection."""
        if self._m is not None:
            ffi.release(self._m)
            self._m = None

    def __enter__(self) -> Machine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- errors ----------------------------------------------------------------

    @property
    def _h(self):
        if self._m is None:
            raise EngineError("the machine is closed", "TSP_E_STATE")
        return self._m

    def _queue(self, slot: int) -> str | None:
        return self._names[slot] if 0 <= slot < len(self._names) else None

    def _location(self, chip: int, slot: int, row: int) -> str | None:
        if row < 0 or slot < 0:
            return None
        if self._lines is None:
            lines = self.program.lines
            self._lines = {(int(c), int(s), int(r)): (int(f), int(ln), int(col)) for c, s, r, f, ln, col in
                           zip(lines["chip"], lines["slot"], lines["row"], lines["file"], lines["line"],
                               lines["col"])}
        hit = self._lines.get((chip, slot, row))
        if hit is None:
            return None
        f, ln, col = hit
        path = self.program.files[f] if f < len(self.program.files) else "?"
        return f"{path}:{ln}:{col}"

    def _check(self, rc: int, what: str | None = None) -> None:
        if rc == lib.TSP_OK:
            return
        code = _CODES.get(rc, str(rc))
        info = ffi.new("tsp_error_info *")
        lib.tsp_last_error_info(self._m, info)
        if rc == lib.TSP_E_ARG and what is not None:
            raise EngineError(f"{what}: {ffi.string(lib.tsp_strerror(rc)).decode()}", code)
        message = ffi.string(lib.tsp_last_error(self._m)).decode(errors="replace")
        if info.code != rc or not message:
            message = ffi.string(lib.tsp_strerror(rc)).decode()
            raise EngineError(message, code)
        loc = self._location(info.chip, info.slot, info.row)
        other = self._location(info.chip, info.slot2, info.row2)
        text = message + (f"\n  at {loc}" if loc else "") + (f"\n  other instruction at {other}" if other else "")
        raise EngineError(text, code, chip=info.chip if info.chip >= 0 else None, cycle=int(info.cycle),
                          queue=self._queue(info.slot), row=info.row if info.row >= 0 else None,
                          location=loc, other_queue=self._queue(info.slot2), other_location=other)
