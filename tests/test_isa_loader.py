"""The isa/ loader: what it accepts, and that each mistake is named where it is.

Every negative test corrupts one thing in a scratch copy of isa/ and expects an
IsaError whose message names the file and the instruction, field or queue.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tspasm.errors import IsaError
from tspasm.isa import load_isa

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def isa_dir(tmp_path):
    shutil.copytree(REPO / "isa", tmp_path / "isa")
    return tmp_path / "isa"


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence, so a test cannot pass by corrupting nothing."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new))


def load_error(isa_dir: Path) -> str:
    with pytest.raises(IsaError) as info:
        load_isa(isa_dir)
    return str(info.value)


# ---- what the real isa/ gives ----------------------------------------------

@pytest.fixture(scope="module")
def isa():
    return load_isa(REPO / "isa")


def test_queue_counts(isa):
    assert len(isa.queues) == 144 == isa.param("geometry.queues")
    assert [q.slot for q in isa.queues] == list(range(144))
    assert len(isa.queues_of("MEM")) == 88
    assert len({q.name for q in isa.queues}) == 144


def test_every_unit_has_its_own_instructions(isa):
    for unit in isa.units:
        own = [i for i in isa.by_unit[unit] if "*" not in i.units]
        assert own, unit


def test_icu_instructions_are_legal_on_every_unit(isa):
    nop = isa.by_name["nop"]
    assert all(nop in isa.by_unit[u] for u in isa.units)


def test_latency_given_as_machine_key_is_resolved(isa):
    assert isa.by_name["send"].latency == isa.param("c2c.link_latency") == 217
    assert isa.by_name["notify"].latency == isa.param("sync.notify_latency")


def test_fingerprint_is_stable_across_loads(isa, isa_dir):
    assert load_isa(REPO / "isa").fingerprint == isa.fingerprint
    assert load_isa(isa_dir).fingerprint == isa.fingerprint  # independent of location


def test_fingerprint_changes_with_a_latency(isa, isa_dir):
    edit(isa_dir / "instructions" / "mxm.toml", "latency = 20\n", "latency = 21\n")
    changed = load_isa(isa_dir)
    assert changed.by_name["abc"].latency == 21
    assert changed.fingerprint != isa.fingerprint


def test_comments_do_not_change_the_fingerprint(isa, isa_dir):
    edit(isa_dir / "machine.toml", "# [paper] see queues.toml", "# [paper] see the queue list")
    assert load_isa(isa_dir).fingerprint == isa.fingerprint


def test_same_opcode_on_different_units_is_allowed(isa_dir):
    # send (C2C) takes read's opcode (MEM): no queue can issue both.
    edit(isa_dir / "instructions" / "c2c.toml", "opcode = 0x60", "opcode = 0x10")
    isa = load_isa(isa_dir)
    assert isa.by_name["send"].opcode == isa.by_name["read"].opcode


# ---- what it rejects -------------------------------------------------------

def test_overlapping_bits_within_an_instruction(isa_dir):
    edit(isa_dir / "fields.toml", "[field.step]\nbits = [80, 92]", "[field.step]\nbits = [70, 82]")
    msg = load_error(isa_dir)
    assert "mem.toml" in msg and "instruction 'read'" in msg
    assert "'addr'" in msg and "'step'" in msg


def test_two_instructions_with_one_opcode_on_a_unit(isa_dir):
    edit(isa_dir / "instructions" / "vxm.toml", "opcode = 0x31", "opcode = 0x30")
    msg = load_error(isa_dir)
    assert "vxm.toml" in msg and "'sub'" in msg and "'add'" in msg and "VXM" in msg


def test_unit_instruction_clashing_with_an_icu_opcode(isa_dir):
    edit(isa_dir / "instructions" / "mem.toml", "opcode = 0x10", "opcode = 0x01")
    msg = load_error(isa_dir)
    assert "'read'" in msg and "'nop'" in msg and "MEM" in msg


def test_default_that_does_not_fit_its_field(isa_dir):
    edit(isa_dir / "instructions" / "mem.toml",
         'name = "read"\nunits = ["MEM"]\nopcode = 0x10\nsyntax = "read {addr}, {dst}[, {step}]"\n'
         'defaults = { step = 1 }',
         'name = "read"\nunits = ["MEM"]\nopcode = 0x10\nsyntax = "read {addr}, {dst}[, {step}]"\n'
         'defaults = { step = 5000 }')
    msg = load_error(isa_dir)
    assert "mem.toml" in msg and "'read'" in msg and "5000 outside -4096..4095" in msg


def test_field_limit_that_does_not_fit_its_bits(isa_dir):
    edit(isa_dir / "fields.toml", 'limit = "geometry.lanes"', "limit = 1000")
    msg = load_error(isa_dir)
    assert "fields.toml" in msg and "field 'lanes'" in msg and "9 bits" in msg


def test_enum_with_more_values_than_bits(isa_dir):
    edit(isa_dir / "fields.toml", 'values = ["set", "add"]', 'values = ["set", "add", "max"]')
    msg = load_error(isa_dir)
    assert "fields.toml" in msg and "field 'mode'" in msg and "do not fit in 1 bits" in msg


def test_allow_list_value_not_of_the_field(isa_dir):
    edit(isa_dir / "instructions" / "mxm.toml", 'allow = { dtype = ["i8", "f16"] }',
         'allow = { dtype = ["i8", "f64"] }')
    msg = load_error(isa_dir)
    assert "mxm.toml" in msg and "'abc'" in msg and "'f64'" in msg


def test_unknown_field_in_syntax(isa_dir):
    edit(isa_dir / "instructions" / "vxm.toml", 'syntax = "xor.{dtype} {a}, {b} -> {dst}"',
         'syntax = "xor.{dtype} {a}, {bogus} -> {dst}"')
    msg = load_error(isa_dir)
    assert "vxm.toml" in msg and "'xor'" in msg and "'bogus'" in msg


def test_optional_operand_without_default(isa_dir):
    edit(isa_dir / "instructions" / "mxm.toml", "defaults = { slot = 0 }\n", "")
    msg = load_error(isa_dir)
    assert "mxm.toml" in msg and "'acc'" in msg and "optional operand 'slot' needs a default" in msg


def test_wrong_queue_count(isa_dir):
    edit(isa_dir / "queues.toml",
         '  { name = "ROT_E", unit = "ROT", pos = 50, hemi = "E", index = 0 },\n', "")
    msg = load_error(isa_dir)
    assert "queues.toml" in msg and "143 queues listed, machine.toml says 144" in msg


def test_queue_listed_twice(isa_dir):
    edit(isa_dir / "queues.toml", 'name = "MEM_E43"', 'name = "MEM_E42"')
    msg = load_error(isa_dir)
    assert "queues.toml" in msg and "'MEM_E42'" in msg and "twice" in msg


def test_unit_without_instructions(isa_dir):
    edit(isa_dir / "instructions" / "sxm.toml", 'units = ["ROT"]', 'units = ["SHF"]')
    msg = load_error(isa_dir)
    assert "queues.toml" in msg and "'ROT' has no instructions" in msg


def test_instruction_on_an_unknown_unit(isa_dir):
    edit(isa_dir / "instructions" / "sxm.toml", 'units = ["TRN"]', 'units = ["TRX"]')
    msg = load_error(isa_dir)
    assert "sxm.toml" in msg and "'transpose'" in msg and "'TRX'" in msg


def test_bad_toml(isa_dir):
    path = isa_dir / "instructions" / "vxm.toml"
    path.write_text(path.read_text() + "\n[[instruction]\nname = \n")
    msg = load_error(isa_dir)
    assert "vxm.toml" in msg and "not valid TOML" in msg


def test_missing_file(isa_dir):
    (isa_dir / "fields.toml").unlink()
    msg = load_error(isa_dir)
    assert "fields.toml" in msg and "file not found" in msg
