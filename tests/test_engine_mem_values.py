"""A value read from MEM is the row as it was at the read, whatever happens to the row later.

The stream store keeps a read's value as a reference to the MEM row until the row
changes (native/engine/streams.c); these pin that a later write to the row - by an
instruction, in the same cycle, by `rw` itself, by `scatter`, or by the host between
two runs - never changes a value already in flight."""
from __future__ import annotations

import numpy as np

from tspasm import assemble_text, default_isa
from tspasm.engine import Machine

ISA = default_isa()
LANES = ISA.param("geometry.lanes")
RNG = np.random.default_rng(7)


def machine(src: str, **kw) -> Machine:
    return Machine(assemble_text(".chip 0\n" + src).program, **kw)


def rows(n: int) -> np.ndarray:
    return RNG.integers(-128, 128, (n, LANES), dtype=np.int8)


def test_a_row_overwritten_while_its_value_is_in_flight():
    # MEM_W2 (22) reads row 0 at 0; MEM_W4 (21) reads row 1 at 0, on S2E at 22 at cycle 2,
    # where MEM_W2 writes it over row 0.  The first value reaches MEM_E0 (28) at 7.
    m = machine("@0 MEM_W2: read 0, S1E\n@0 MEM_W4: read 1, S2E\n@2 MEM_W2: write 0, S2E\n"
                "@7 MEM_E0: write 1, S1E\n")
    old, new = rows(1), rows(2)
    m.write_mem(0, "MEM_W2", 0, old)
    m.write_mem(0, "MEM_W4", 0, new)
    m.run()
    assert np.array_equal(m.read_mem(0, "MEM_W2", 0, 1), new[1:2])
    assert np.array_equal(m.read_mem(0, "MEM_E0", 1, 1), old)


def test_rw_reads_the_row_before_writing_it():
    # MEM_W2 (22) reads row 0 onto S1E at 0, at 23 at cycle 2, where MEM_W1 `rw` reads its
    # row 0 onto S2E and writes the S1E value over that same row (one bank: a schedule
    # error, recorded in warn mode).  S2E carries the old row to MEM_E0 (28) at 8.
    m = machine("@0 MEM_W2: read 0, S1E\n@2 MEM_W1: rw 0, S2E, 0, S1E\n@8 MEM_E0: write 0, S2E\n", hazards="warn")
    a, b = rows(1), rows(1)
    m.write_mem(0, "MEM_W2", 0, a)
    m.write_mem(0, "MEM_W1", 0, b)
    m.run()
    assert m.hazard_count == 1
    assert np.array_equal(m.read_mem(0, "MEM_W1", 0, 1), a)
    assert np.array_equal(m.read_mem(0, "MEM_E0", 0, 1), b)


def test_a_host_write_between_runs_leaves_values_in_flight_alone():
    m = machine("@0 MEM_W2: read 0, S1E\n@7 MEM_E0: write 1, S1E\n")
    old = rows(1)
    m.write_mem(0, "MEM_W2", 0, old)
    m.run(max_cycles=3)
    in_flight = m.stream(0, "S1E", 24)
    h = m.state_hash()
    m.write_mem(0, "MEM_W2", 0, rows(1))
    assert m.state_hash() != h  # MEM changed ...
    assert np.array_equal(m.stream(0, "S1E", 24), in_flight)  # ... the value on the stream did not
    m.run()
    assert np.array_equal(m.read_mem(0, "MEM_E0", 1, 1), old)


def test_values_from_mem_hash_and_snapshot_like_copies():
    # six rows read at 0..5, written by MEM_E0 (28) as they arrive at 7..12
    src = "@0 MEM_W2: read 0, S1E, 1\n@1 MEM_W2: repeat 5, 1\n@7 MEM_E0: write 0, S1E, 1\n@8 MEM_E0: repeat 5, 1\n"
    data = rows(6)
    m = machine(src)
    m.write_mem(0, "MEM_W2", 0, data)
    m.run(max_cycles=7)
    snap, h = m.snapshot(), m.state_hash()
    m.run()
    assert np.array_equal(m.read_mem(0, "MEM_E0", 0, 6), data)
    m.restore(snap)
    assert m.state_hash() == h
    m.write_mem(0, "MEM_W2", 0, rows(6))  # the restored values in flight keep the old rows
    m.run()
    assert np.array_equal(m.read_mem(0, "MEM_E0", 0, 6), data)
