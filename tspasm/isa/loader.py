"""Load and validate isa/ (TOML) into frozen records.

Every check names the file and the instruction, queue or field at fault, so a
mistake in isa/ is found at load time, not as a wrong encoding later.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import IsaError
from .model import Field, InstrSpec, Isa, Queue
from .paths import isa_root
from .syntax_template import TemplateError, parse_template

FIELD_KINDS = {"opcode", "uint", "int", "stream", "dtype", "enum", "flag", "link", "choice"}
CONTROLS = {None, "wait", "repeat", "park", "epoch", "delay", "release"}
WORD_BITS = 128
_KNOWN_INSTR_KEYS = {
    "name", "units", "opcode", "syntax", "defaults", "allow", "reads", "writes", "steps",
    "latency", "control", "saturating", "saturating_field", "description",
}


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise IsaError(str(path), "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise IsaError(str(path), f"not valid TOML: {exc}") from None


def _resolve_int(machine: dict, value: Any, where: str, path: str) -> int:
    """An integer given literally or as a machine.toml key such as "mem.words"."""
    if isinstance(value, bool):
        raise IsaError(path, f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        node: Any = machine
        for part in value.split("."):
            if not isinstance(node, dict) or part not in node:
                raise IsaError(path, f"{where}: {value!r} is not a key of machine.toml")
            node = node[part]
        if isinstance(node, int) and not isinstance(node, bool):
            return node
        raise IsaError(path, f"{where}: machine.toml {value!r} is not an integer")
    raise IsaError(path, f"{where}: expected an integer or a machine.toml key, got {value!r}")


def _check_machine(path: Path, machine: dict) -> None:
    """Numbers machine.toml states twice must agree."""
    def get(key: str) -> int:
        return _resolve_int(machine, key, "machine.toml", str(path))

    rules = [
        ("geometry.lanes", get("geometry.superlanes") * get("geometry.lanes_per_superlane"),
         "superlanes * lanes_per_superlane"),
        ("geometry.vector_bytes", get("geometry.lanes"), "lanes (one byte per lane)"),
        ("geometry.slot_bytes", WORD_BITS // 8, f"the {WORD_BITS}-bit instruction word"),
        ("topology.local_links", get("topology.chips_per_node") - 1,
         "topology.chips_per_node - 1 (a node is fully connected)"),
        ("system.max_chips", get("topology.max_racks") * get("topology.nodes_per_rack")
         * get("topology.chips_per_node"), "max_racks * nodes_per_rack * chips_per_node"),
    ]
    for key, want, why in rules:
        if get(key) != want:
            raise IsaError(str(path), f"{key} = {get(key)} but {why} gives {want}")
    for key in ("mem.words", "mem.slices_per_hemisphere", "geometry.queues", "geometry.positions",
                "c2c.links", "sync.hac_epoch", "sync.notify_latency", "system.max_chips",
                "system.max_cycle", "mxm.lw_streams", "sxm.transpose_streams",
                "topology.chips_per_node", "topology.nodes_per_rack", "topology.max_racks",
                "topology.links_per_node_pair", "topology.links_per_rack_pair"):
        if get(key) <= 0:
            raise IsaError(str(path), f"{key} must be positive")
    if get("topology.local_links") + get("topology.global_links") > get("c2c.links"):
        raise IsaError(str(path), "topology.local_links + topology.global_links exceed c2c.links")


def _check_consistency(path: str, machine: dict, fields: dict[str, Field], instructions) -> None:
    """Instruction details that restate a machine parameter must agree with it."""
    n = fields.get("n")
    if n is not None and list(n.values) != list(machine["sxm"]["rotate_sizes"]):
        raise IsaError(path, f"field 'n' values {list(n.values)} differ from sxm.rotate_sizes")
    by_name = {i.name: i for i in instructions}
    for name, key in (("lw", "mxm.lw_streams"), ("transpose", "sxm.transpose_streams")):
        spec = by_name.get(name)
        want = _resolve_int(machine, key, key, path)
        if spec is not None:
            for role in (spec.reads, spec.writes):
                for f, w in role.items():
                    if isinstance(w, int) and w != want:
                        raise IsaError(spec.source, f"instruction {name!r}: {f} covers {w} streams, "
                                       f"machine.toml {key} = {want}")


def _load_fields(path: Path, machine: dict, dtypes: tuple[str, ...]) -> dict[str, Field]:
    data = _read_toml(path).get("field", {})
    fields: dict[str, Field] = {}
    for name, spec in data.items():
        where = f"field {name!r}"
        bits = spec.get("bits")
        if not (isinstance(bits, list) and len(bits) == 2 and all(isinstance(b, int) for b in bits)):
            raise IsaError(str(path), f"{where}: bits must be [lo, hi]")
        lo, hi = bits
        if not 0 <= lo <= hi < WORD_BITS:
            raise IsaError(str(path), f"{where}: bits {lo}-{hi} outside the {WORD_BITS}-bit word")
        kind = spec.get("kind")
        if kind not in FIELD_KINDS:
            raise IsaError(str(path), f"{where}: kind {kind!r} is not one of {sorted(FIELD_KINDS)}")
        width = hi - lo + 1
        values: tuple = tuple(spec.get("values", ()))
        if kind == "dtype":
            values = dtypes
        if kind in ("enum", "choice", "dtype"):
            if not values:
                raise IsaError(str(path), f"{where}: a {kind} field needs values")
            if len(values) > (1 << width):
                raise IsaError(str(path), f"{where}: {len(values)} values do not fit in {width} bits")
            if len(set(values)) != len(values):
                raise IsaError(str(path), f"{where}: values repeat")
        if kind == "stream" and width != 6:
            raise IsaError(str(path), f"{where}: a stream field is 6 bits (number + direction)")
        if kind == "flag" and width != 1:
            raise IsaError(str(path), f"{where}: a flag field is 1 bit")
        limit = spec.get("limit")
        if limit is not None:
            limit = _resolve_int(machine, limit, f"{where} limit", str(path))
            if not 0 < limit <= (1 << width):
                raise IsaError(str(path), f"{where}: limit {limit} does not fit in {width} bits")
        if kind == "stream":
            limit = None
        minimum = spec.get("min", 0)
        fields[name] = Field(name, lo, hi, kind, limit, minimum, values, spec.get("doc", ""))
    if "opcode" not in fields or fields["opcode"].kind != "opcode":
        raise IsaError(str(path), "an 'opcode' field of kind 'opcode' is required")
    return fields


def _load_queues(path: Path, machine: dict) -> tuple[Queue, ...]:
    rows = _read_toml(path).get("queue", [])
    want = machine["geometry"]["queues"]
    if len(rows) != want:
        raise IsaError(str(path), f"{len(rows)} queues listed, machine.toml says {want}")
    positions = machine["geometry"]["positions"]
    queues = []
    seen: set[str] = set()
    for slot, row in enumerate(rows):
        name = row.get("name")
        where = f"queue {slot} ({name!r})"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise IsaError(str(path), f"{where}: name must be upper case letters, digits, _")
        if name in seen:
            raise IsaError(str(path), f"{where}: name listed twice")
        seen.add(name)
        pos = row.get("pos")
        if not isinstance(pos, int) or not 0 <= pos < positions:
            raise IsaError(str(path), f"{where}: pos {pos!r} outside 0..{positions - 1}")
        if not isinstance(row.get("unit"), str) or not row["unit"]:
            raise IsaError(str(path), f"{where}: unit is missing")
        if not isinstance(row.get("index", row.get("plane", 0)), int):
            raise IsaError(str(path), f"{where}: index/plane must be an integer")
        if row.get("hemi") not in ("W", "E", "C"):
            raise IsaError(str(path), f"{where}: hemi must be W, E or C")
        number = row.get("index", row.get("plane", 0))
        queues.append(Queue(slot, name, row.get("unit", ""), pos, row["hemi"], number))
    mem = [q for q in queues if q.unit == "MEM"]
    if len(mem) != 2 * machine["mem"]["slices_per_hemisphere"]:
        raise IsaError(str(path), f"{len(mem)} MEM queues, expected one per slice")
    return tuple(queues)


def _width_ok(spec: Any, field_names: dict[str, Field]) -> bool:
    if isinstance(spec, int) and not isinstance(spec, bool):
        return 1 <= spec <= 32
    if isinstance(spec, str):
        base = spec[:-2] if spec.endswith("^2") else spec
        return base in field_names and field_names[base].kind in ("dtype", "choice", "uint")
    return False


def _load_instruction(raw: dict, path: str, fields: dict[str, Field], machine: dict,
                      units: set[str], dtypes: tuple[str, ...]) -> InstrSpec:
    name = raw.get("name", "?")
    where = f"instruction {name!r}"

    def fail(msg: str) -> IsaError:
        return IsaError(path, f"{where}: {msg}")

    unknown = set(raw) - _KNOWN_INSTR_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    for key in ("name", "units", "opcode", "syntax", "latency", "description"):
        if key not in raw:
            raise fail(f"missing {key!r}")
    opcode = raw["opcode"]
    op_field = fields["opcode"]
    if not isinstance(opcode, int) or not 0 < opcode < (1 << op_field.width):
        raise fail(f"opcode {opcode!r} must be 1..{(1 << op_field.width) - 1} (0 is the row filler)")
    inst_units = tuple(raw["units"])
    for u in inst_units:
        if u != "*" and u not in units:
            raise fail(f"unit {u!r} has no queue in queues.toml (units: {sorted(units)})")
    try:
        base, suffixes, operands = parse_template(raw["syntax"])
    except TemplateError as exc:
        raise fail(str(exc)) from None
    if base != name:
        raise fail(f"syntax starts with {base!r}, not the instruction name")
    used = [s.field for s in suffixes] + [o.field for o in operands]
    for f in used:
        if f not in fields:
            raise fail(f"syntax names field {f!r}, which fields.toml does not define")
        if f == "opcode":
            raise fail("the opcode field cannot appear in the syntax")
    if len(set(used)) != len(used):
        raise fail("a field appears twice in the syntax")
    for s in suffixes:
        if fields[s.field].kind not in ("dtype", "enum", "flag"):
            raise fail(f"suffix field {s.field!r} must be a dtype, enum or flag")
        if fields[s.field].kind == "flag" and not s.optional:
            raise fail(f"flag {s.field!r} must be written as an optional suffix [.{{{s.field}}}]")
    for o in operands:
        if fields[o.field].kind in ("dtype", "flag", "opcode"):
            raise fail(f"operand field {o.field!r} of kind {fields[o.field].kind} belongs in the suffix")
    # No bit assigned twice within the instruction.
    owner: dict[int, str] = {b: "opcode" for b in range(op_field.lo, op_field.hi + 1)}
    for f in used:
        fd = fields[f]
        for b in range(fd.lo, fd.hi + 1):
            if b in owner:
                raise fail(f"bit {b} is assigned to both {owner[b]!r} and {f!r}")
            owner[b] = f
    inst_fields = tuple(fields[f] for f in used)
    index = {f.name: i for i, f in enumerate(inst_fields)}

    def encode_name(fd: Field, value: Any, what: str) -> int:
        if fd.kind in ("enum", "dtype", "choice"):
            if value not in fd.values:
                raise fail(f"{what}: {value!r} is not one of {list(fd.values)}")
            return fd.values.index(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"{what}: {value!r} is not an integer")
        lo, hi = fd.value_range()
        if not lo <= value <= hi:
            raise fail(f"{what}: {value} outside {lo}..{hi}")
        return value

    defaults: dict[str, int] = {}
    for f, v in raw.get("defaults", {}).items():
        if f not in index:
            raise fail(f"default for {f!r}, which the syntax does not use")
        defaults[f] = encode_name(fields[f], v, f"default {f}")
    for o in operands:
        if o.optional and o.field not in defaults:
            raise fail(f"optional operand {o.field!r} needs a default")
    for s in suffixes:
        if s.optional:
            defaults.setdefault(s.field, 0)
    allow: dict[str, frozenset[int]] = {}
    for f, vals in raw.get("allow", {}).items():
        if f not in index:
            raise fail(f"allow lists {f!r}, which the syntax does not use")
        allow[f] = frozenset(encode_name(fields[f], v, f"allow {f}") for v in vals)
    for s in suffixes:
        if fields[s.field].kind == "dtype" and s.field not in allow:
            raise fail(f"dtype suffix {s.field!r} needs an allow list")
    for role in ("reads", "writes"):
        for f, w in raw.get(role, {}).items():
            if f not in index or fields[f].kind != "stream":
                raise fail(f"{role} names {f!r}, which is not a stream operand of the syntax")
            if not _width_ok(w, {k: fields[k] for k in index}):
                raise fail(f"{role} width {w!r} of {f!r} must be 1..32 or a dtype/choice field")
    for f in index:
        if fields[f].kind == "stream" and f not in raw.get("reads", {}) and f not in raw.get("writes", {}):
            raise fail(f"stream operand {f!r} is neither in reads nor in writes")
    steps = dict(raw.get("steps", {}))
    for f, s in steps.items():
        if f not in index or fields[f].kind not in ("uint", "int"):
            raise fail(f"steps names {f!r}, which is not an integer operand")
        if isinstance(s, str) and (s not in index or fields[s].kind != "int"):
            raise fail(f"step of {f!r} must be a signed operand field or an integer, not {s!r}")
    sat_names = raw.get("saturating", [])
    sat_field = raw.get("saturating_field", "dtype")
    if sat_names and "sat" not in index:
        raise fail("saturating types listed but the syntax has no [.{sat}] suffix")
    if "sat" in index and not sat_names:
        raise fail("a [.{sat}] suffix needs a 'saturating' list of types")
    saturating = frozenset(dtypes.index(t) for t in sat_names if t in dtypes)
    if len(saturating) != len(sat_names):
        raise fail(f"saturating lists unknown types {sat_names}")
    if sat_names and sat_field not in index:
        raise fail(f"saturating_field {sat_field!r} is not in the syntax")
    latency = _resolve_int(machine, raw["latency"], f"{where} latency", path)
    if latency < 0:
        raise fail("latency must be >= 0")
    control = raw.get("control")
    if control not in CONTROLS:
        raise fail(f"control {control!r} is not one of {sorted(c for c in CONTROLS if c)}")
    mask = op_field.mask
    for f in inst_fields:
        mask |= f.mask
    return InstrSpec(
        name=name, opcode=opcode, units=inst_units, syntax=raw["syntax"], suffixes=suffixes,
        operands=operands, fields=inst_fields, defaults=MappingProxyType(defaults),
        allow=MappingProxyType(allow), reads=MappingProxyType(dict(raw.get("reads", {}))),
        writes=MappingProxyType(dict(raw.get("writes", {}))), steps=MappingProxyType(steps),
        latency=latency, control=control, saturating=saturating, saturating_field=sat_field,
        description=raw["description"], source=path, match=opcode << op_field.lo,
        mask=op_field.mask, field_index=MappingProxyType(index),
        layout=tuple((f.lo, (1 << f.width) - 1) for f in inst_fields),
    )


def _check_overlaps(instructions: list[InstrSpec], units: set[str]) -> None:
    """No two instructions legal on one unit may decode the same word."""
    for unit in sorted(units):
        legal = [i for i in instructions if i.legal_on(unit)]
        for n, a in enumerate(legal):
            for b in legal[n + 1:]:
                if (a.match ^ b.match) & a.mask & b.mask == 0:
                    raise IsaError(b.source, f"instruction {b.name!r}: encoding overlaps "
                                   f"{a.name!r} ({a.source}) on unit {unit}")


def load_isa(root: str | Path | None = None) -> Isa:
    """Load isa/ from `root` (default: the installed or checked-out isa/)."""
    root = Path(root) if root is not None else isa_root()
    machine = _read_toml(root / "machine.toml")
    for section in ("geometry", "mem", "mxm", "sxm", "c2c", "sync", "system", "topology", "dtypes"):
        if section not in machine:
            raise IsaError(str(root / "machine.toml"), f"missing section [{section}]")
    _check_machine(root / "machine.toml", machine)
    dtypes = tuple(machine["dtypes"])
    dtype_bytes = {k: v[0] for k, v in machine["dtypes"].items()}
    dtype_numpy = {k: v[1] for k, v in machine["dtypes"].items()}
    fields = _load_fields(root / "fields.toml", machine, dtypes)
    queues = _load_queues(root / "queues.toml", machine)
    units = {q.unit for q in queues}
    instructions: list[InstrSpec] = []
    names: dict[str, str] = {}
    files = sorted((root / "instructions").glob("*.toml"))
    if not files:
        raise IsaError(str(root / "instructions"), "no instruction files")
    raw_by_file = {}
    for path in files:
        rel = f"isa/instructions/{path.name}"
        raw_list = _read_toml(path).get("instruction", [])
        raw_by_file[path.name] = raw_list
        for raw in raw_list:
            spec = _load_instruction(raw, rel, fields, machine, units, dtypes)
            if spec.name in names:
                raise IsaError(rel, f"instruction {spec.name!r} already defined in {names[spec.name]}")
            names[spec.name] = rel
            instructions.append(spec)
    for unit in sorted(units):
        if not any(unit in i.units for i in instructions):
            raise IsaError(str(root / "queues.toml"), f"unit {unit!r} has no instructions")
    _check_overlaps(instructions, units)
    _check_consistency(str(root / "machine.toml"), machine, fields, instructions)
    content = {
        "machine": machine,
        "fields": _read_toml(root / "fields.toml"),
        "queues": _read_toml(root / "queues.toml"),
        "instructions": raw_by_file,
    }
    fingerprint = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    by_unit = {u: tuple(i for i in instructions if i.legal_on(u)) for u in sorted(units)}
    return Isa(
        machine=MappingProxyType(machine), queues=queues, fields=MappingProxyType(fields),
        instructions=tuple(instructions), dtypes=dtypes,
        dtype_bytes=MappingProxyType(dtype_bytes), dtype_numpy=MappingProxyType(dtype_numpy),
        fingerprint=fingerprint, root=str(root),
        queue_by_name=MappingProxyType({q.name: q for q in queues}),
        by_name=MappingProxyType({i.name: i for i in instructions}),
        by_unit=MappingProxyType(by_unit),
    )


@functools.lru_cache(maxsize=1)
def default_isa() -> Isa:
    """The ISA this installation ships, loaded once per process."""
    return load_isa()
