"""Every instruction of the ISA round-trips: values -> encode -> decode ->
format_instruction -> parse + bind (assemble_text) -> the same 128-bit word.

Operand values are drawn by hypothesis within what the ISA makes legal: field
ranges, allow lists, enum/choice values, `.sat` only with saturating types,
stream groups as wide (and, for fixed widths, as aligned) as reads/writes say,
and C2C links on the hemisphere of the issuing queue (L0-7 west, L8-15 east).
The decoder must reject reserved bits, unknown opcodes and illegal field values.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tspasm import AssemblyError, assemble_text, default_isa
from tspasm.asm.encoding import DecodeError, decode, encode
from tspasm.asm.printer import format_instruction

ISA = default_isa()
WORD_BITS = 128
SLOT_BYTES = ISA.param("geometry.slot_bytes")
STREAMS = ISA.param("geometry.streams_per_direction")
LINKS_PER_HEMI = ISA.param("c2c.links") // 2
OPCODE = ISA.fields["opcode"]
SPECS = ISA.instructions
IDS = [s.name for s in SPECS]

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- drawing legal values ---------------------------------------------------------

class _Hyp:
    """Choices made by hypothesis."""

    def __init__(self, draw):
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def one(self, seq):
        return self.draw(st.sampled_from(list(seq)))


class _First:
    """Deterministic choices: the smallest legal value everywhere."""

    def int(self, lo: int, hi: int) -> int:
        return lo

    def one(self, seq):
        return list(seq)[0]


def _width(spec, width_spec, values) -> int:
    """Streams a stream operand covers (written independently of the binder)."""
    if isinstance(width_spec, int):
        return width_spec
    square = width_spec.endswith("^2")
    name = width_spec[:-2] if square else width_spec
    i = spec.field_index[name]
    f, v = spec.fields[i], values[i]
    if f.kind == "dtype":
        w = ISA.dtype_bytes[f.values[v]]
    elif f.kind == "choice":
        w = f.values[v]
    else:
        w = v
    return w * w if square else w


def link_range(queue) -> range:
    lo = 0 if queue.hemi == "W" else LINKS_PER_HEMI
    return range(lo, lo + LINKS_PER_HEMI)


def legal_values(spec, queue, pick) -> list[int]:
    """One legal value per field of `spec`, issued on `queue`."""
    values: list = [None] * len(spec.fields)
    # Type-like fields first: stream widths and .sat depend on them.
    for i, f in enumerate(spec.fields):
        if f.kind in ("dtype", "enum", "choice"):
            allowed = spec.allow.get(f.name, range(len(f.values)))
            values[i] = pick.one(sorted(allowed))
        elif f.kind == "link":
            values[i] = pick.one(link_range(queue))
        elif f.kind in ("uint", "int"):
            lo, hi = f.value_range()
            values[i] = pick.int(lo, hi)
    for i, f in enumerate(spec.fields):
        if f.kind == "flag":
            if f.name == "sat":
                t = values[spec.field_index[spec.saturating_field]]
                values[i] = pick.one([0, 1]) if t in spec.saturating else 0
            else:
                values[i] = pick.one([0, 1])
    for i, f in enumerate(spec.fields):
        if f.kind != "stream":
            continue
        width, align = 1, 1
        for role in (spec.reads, spec.writes):
            if f.name in role:
                ws = role[f.name]
                width = max(width, _width(spec, ws, values))
                if isinstance(ws, int) and ws > 1:
                    align = math.lcm(align, ws)
        bases = [b for b in range(0, STREAMS - width + 1) if b % align == 0]
        assert bases, f"{spec.name}.{f.name}: no legal group base"
        values[i] = pick.one(bases) | pick.one([0, 32])
    assert None not in values
    return values


def legal_queues(spec):
    return [q for q in ISA.queues if spec.legal_on(q.unit)]


def _repeatable(unit):
    """An instruction of the unit that a repeat of any count keeps in range once its
    step operands are 0 (None if every one steps by a constant, like acc's slot)."""
    for s in ISA.by_unit[unit]:
        if "*" not in s.units and s.control is None and all(isinstance(x, str) for x in s.steps.values()):
            return s
    return None


def _unit_example(queue) -> str:
    """A simple instruction of the queue's own unit (what `repeat` repeats); fields a
    repeat steps do not move (step 0), so any repeat count stays in range."""
    own = _repeatable(queue.unit) or next(
        s for s in ISA.by_unit[queue.unit] if "*" not in s.units and s.control is None)
    values = legal_values(own, queue, _First())
    for step in own.steps.values():
        if isinstance(step, str):
            values[own.field_index[step]] = 0
    return format_instruction(ISA, own, values)


def issue_queues(spec):
    """Queues to try spec on; a repeat of any count needs a repeatable instruction before it."""
    qs = legal_queues(spec)
    return [q for q in qs if _repeatable(q.unit)] if spec.control == "repeat" else qs


def program_for(spec, queue, text: str) -> tuple[str, int]:
    """A program that issues `text` on `queue` legally; returns (source, row of the word)."""
    if spec.control == "repeat":
        return f"@0 {queue.name}: {_unit_example(queue)}\n@1 {queue.name}: {text}\n", 1
    if spec.control == "park":
        other = next(q for q in ISA.queues if q.slot != queue.slot)
        return f"@0 {queue.name}: {text}\n@0 {other.name}: notify\n", 0
    return f"@0 {queue.name}: {text}\n", 0


def word_in_image(assembly, queue, row: int) -> int:
    code = assembly.program.code[0]
    return int.from_bytes(bytes(code[row, queue.slot, :]), "little")


# ---- the round trip ------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_encode_decode_print_assemble_roundtrip(spec, data):
    pick = _Hyp(data.draw)
    queue = pick.one(issue_queues(spec))
    values = tuple(legal_values(spec, queue, pick))

    word = encode(spec, values)
    assert 0 < word < 1 << WORD_BITS
    assert (word >> OPCODE.lo) & ((1 << OPCODE.width) - 1) == spec.opcode

    got_spec, got_values = decode(ISA, queue.unit, word)
    assert got_spec is spec
    assert got_values == values

    text = format_instruction(ISA, spec, values)
    assert text.split(" ")[0].split(".")[0] == spec.name
    source, row = program_for(spec, queue, text)
    try:
        assembly = assemble_text(source, "roundtrip.tsp")
    except AssemblyError as exc:  # pragma: no cover - only on failure
        pytest.fail(f"{text!r} on {queue.name} does not reassemble:\n{exc}")
    assert word_in_image(assembly, queue, row) == word, text
    # Printing again from the image gives the same text.
    spec2, values2 = decode(ISA, queue.unit, word_in_image(assembly, queue, row))
    assert format_instruction(ISA, spec2, values2) == text


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_smallest_values_roundtrip_on_every_legal_queue(spec):
    """Deterministic companion: the minimal encoding on every queue that may issue it."""
    for queue in legal_queues(spec):
        values = tuple(legal_values(spec, queue, _First()))
        word = encode(spec, values)
        assert decode(ISA, queue.unit, word) == (spec, values)
        source, row = program_for(spec, queue, format_instruction(ISA, spec, values))
        assert word_in_image(assemble_text(source), queue, row) == word, (spec.name, queue.name)


def test_repeat_is_tried_on_most_units():
    units = {q.unit for q in issue_queues(ISA.by_name["repeat"])}
    assert len(units) >= len({q.unit for q in ISA.queues}) - 1


def test_every_unit_and_every_control_kind_is_covered():
    units = {q.unit for q in ISA.queues}
    covered = {u for s in SPECS for u in (units if "*" in s.units else s.units)}
    assert covered == units
    assert {s.control for s in SPECS} >= {None, "wait", "repeat", "park", "epoch", "delay", "release"}


# ---- what decode rejects -----------------------------------------------------------------

def _used_mask(spec) -> int:
    mask = OPCODE.mask
    for f in spec.fields:
        mask |= f.mask
    return mask


def _some_queue(spec):
    return legal_queues(spec)[0]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_decode_rejects_every_reserved_bit(spec):
    queue = _some_queue(spec)
    good = encode(spec, legal_values(spec, queue, _First()))
    used = _used_mask(spec)
    reserved = [b for b in range(WORD_BITS + 8) if not used >> b & 1]
    assert reserved, spec.name
    for bit in reserved:
        with pytest.raises(DecodeError, match="reserved"):
            decode(ISA, queue.unit, good | (1 << bit))


@pytest.mark.parametrize("unit", sorted({q.unit for q in ISA.queues}))
def test_decode_rejects_unknown_opcodes(unit):
    known = {s.opcode for s in ISA.by_unit[unit]}
    assert 0 not in known  # the all-zero word is the row filler
    for op in range(1 << OPCODE.width):
        if op in known:
            continue
        with pytest.raises(DecodeError):
            decode(ISA, unit, op << OPCODE.lo)


@pytest.mark.parametrize("spec", [s for s in SPECS if "*" not in s.units], ids=lambda s: s.name)
def test_decode_on_a_foreign_unit_does_not_give_this_instruction(spec):
    word = encode(spec, legal_values(spec, _some_queue(spec), _First()))
    for unit in {q.unit for q in ISA.queues} - set(spec.units):
        try:
            other, _ = decode(ISA, unit, word)
        except DecodeError:
            continue
        assert other is not spec and other.legal_on(unit)


def _illegal_raw_values(spec, f):
    """Raw bit patterns of field f that no legal instruction has."""
    n = 1 << f.width
    if f.kind in ("dtype", "enum", "choice"):
        allowed = spec.allow.get(f.name, range(len(f.values)))
        return [v for v in range(n) if v not in allowed]
    if f.kind in ("uint", "link"):
        lo, hi = f.value_range()
        return [v for v in (0, lo - 1, hi + 1, n - 1) if 0 <= v < n and not lo <= v <= hi]
    return []


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_decode_rejects_illegal_field_values(spec):
    queue = _some_queue(spec)
    values = legal_values(spec, queue, _First())
    good = encode(spec, values)
    checked = 0
    for f in spec.fields:
        for raw in sorted(set(_illegal_raw_values(spec, f))):
            word = (good & ~f.mask) | (raw << f.lo)
            with pytest.raises(DecodeError):
                decode(ISA, queue.unit, word)
            checked += 1
    has_gaps = any(_illegal_raw_values(spec, f) for f in spec.fields)
    assert bool(checked) == has_gaps


def _non_saturating_types(spec) -> list[int]:
    tfield = spec.field(spec.saturating_field)
    return [t for t in sorted(spec.allow.get(tfield.name, range(len(tfield.values))))
            if t not in spec.saturating]


SAT_SPECS = [s for s in SPECS if "sat" in s.field_index and _non_saturating_types(s)]


def test_some_saturating_instruction_also_takes_non_saturating_types():
    assert SAT_SPECS  # otherwise the test below checks nothing


@pytest.mark.parametrize("spec", SAT_SPECS, ids=lambda s: s.name)
def test_decode_rejects_sat_on_a_type_that_does_not_saturate(spec):
    queue = _some_queue(spec)
    tfield = spec.field(spec.saturating_field)
    non_sat = _non_saturating_types(spec)
    for t in non_sat:
        values = legal_values(spec, queue, _First())
        values[spec.field_index[tfield.name]] = t
        values[spec.field_index["sat"]] = 1
        with pytest.raises(DecodeError, match="sat"):
            decode(ISA, queue.unit, encode(spec, values))
        # ... and the assembler refuses to write it.
        values[spec.field_index["sat"]] = 0
        text = format_instruction(ISA, spec, values)
        base, _, rest = text.partition(" ")
        with pytest.raises(AssemblyError, match="sat"):
            assemble_text(f"{queue.name}: {base}.sat {rest}\n")


# ---- decode accepts only what the assembler can write ----------------------------------------

def _queue_for(spec, values):
    """A queue of a unit that may issue spec and, for a link operand, drive that link."""
    for q in issue_queues(spec):
        if all(values[i] in link_range(q) for i, f in enumerate(spec.fields) if f.kind == "link"):
            return q
    return None


def _widest_values(spec, queue) -> list[int]:
    """Minimal values, but every type field set to its widest legal type (widest groups)."""
    values = legal_values(spec, queue, _First())
    for i, f in enumerate(spec.fields):
        if f.kind == "dtype":
            allowed = sorted(spec.allow.get(f.name, range(len(f.values))))
            values[i] = max(allowed, key=lambda t: ISA.dtype_bytes[f.values[t]])
        elif f.kind == "choice":
            values[i] = max(range(len(f.values)), key=lambda k: f.values[k])
    if "sat" in spec.field_index:
        values[spec.field_index["sat"]] = 0
    return values


def _sweep(f) -> list[int]:
    """Raw values of a field to try: all of them for narrow fields, the edges otherwise."""
    n = 1 << f.width
    if f.width <= 6:
        return list(range(n))
    lo, hi = f.value_range()
    return sorted({v & (n - 1) for v in (0, 1, lo, lo - 1, hi, hi + 1, n - 1)})


def _decodable_words_that_do_not_reassemble(spec) -> list[str]:
    queue = legal_queues(spec)[0]
    good = encode(spec, _widest_values(spec, queue))
    failures = []
    for f in spec.fields:
        for raw in _sweep(f):
            word = (good & ~f.mask) | (raw << f.lo)
            try:
                got, values = decode(ISA, queue.unit, word)
            except DecodeError:
                continue
            assert got is spec
            q = _queue_for(spec, values)
            assert q is not None
            text = format_instruction(ISA, spec, values)
            source, row = program_for(spec, q, text)
            try:
                assembly = assemble_text(source)
            except AssemblyError as exc:
                failures.append(f"{word:#034x} decodes as `{text}`, but on {q.name}: "
                                f"{exc.diagnostics[0].message}")
                continue
            assert word_in_image(assembly, q, row) == word, text
    return failures


def test_every_word_decode_accepts_reassembles():
    """decode() "rejects any word the ISA does not define" (encoding.py), so every word it
    accepts must print as text the assembler turns back into the same word.  A stream
    group that is misaligned or runs past S31 is a word the ISA does not define (the
    binder rejects it), so decode must reject it too.

    Sweeps each field of each instruction over its raw values (all 64 stream codes) with
    the other fields legal and the element type as wide as allowed."""
    bad = {}
    for spec in SPECS:
        failures = _decodable_words_that_do_not_reassemble(spec)
        if failures:
            bad[spec.name] = failures
    assert not bad, (
        f"decode() accepts words of {len(bad)} instructions that do not reassemble: "
        f"{', '.join(bad)}; e.g.\n  " + "\n  ".join(f[0] for f in list(bad.values())[:8]))
