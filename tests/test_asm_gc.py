"""The assembler and Python's cyclic garbage collector.

Assembling runs with the collector off (millions of small acyclic objects), and
a big program's objects are then frozen out of future collections, so that the
next allocation-heavy step (writing the image) or the interpreter's exit does
not walk them all.  Small programs leave the collector as it was."""
from __future__ import annotations

import gc

import pytest

import tspasm.asm.assembler as assembler_mod
from tspasm import AssemblyError, assemble_text
from tspasm.image import read_bytes, write_bytes

SOURCE = "".join(f"@{i} MEM_W{i % 40}: read {i}, S{i % 32}E\n" for i in range(200))


@pytest.fixture
def thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_big_program_is_frozen_out_of_collections(thawed, monkeypatch):
    monkeypatch.setattr(assembler_mod, "FREEZE_AT", 100)
    was_enabled = gc.isenabled()
    asm = assemble_text(".chip 0\n" + SOURCE, "big.tsp")
    assert gc.get_freeze_count() > 0
    assert gc.isenabled() == was_enabled
    assert read_bytes(write_bytes(asm.program)).code[0].tobytes() == asm.program.code[0].tobytes()


def test_a_small_program_leaves_the_collector_alone(thawed):
    was_enabled = gc.isenabled()
    assemble_text(".chip 0\n" + SOURCE, "small.tsp")
    assert gc.get_freeze_count() == 0
    assert gc.isenabled() == was_enabled


def test_a_failed_assembly_restores_the_collector(thawed, monkeypatch):
    monkeypatch.setattr(assembler_mod, "FREEZE_AT", 1)
    was_enabled = gc.isenabled()
    with pytest.raises(AssemblyError):
        assemble_text(".chip 0\n@0 MEM_W0: bogus 1\n", "bad.tsp")
    assert gc.isenabled() == was_enabled
