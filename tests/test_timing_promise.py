"""The timing promise, generated from isa/: a value an instruction issued at cycle t at
position i writes is seen by a consumer at position j exactly at t + d_func + |j - i|, and
reading it one cycle earlier is a "no value there" schedule error.

Every instruction of isa/ that writes a stream is checked here in every allowed type, its
queue positions from isa/queues.toml and its d_func from the loaded spec; a new one that this
file cannot drive fails test_every_stream_producer_is_covered.  Inputs are put on the streams
with Machine.write_stream at the issue cycle, so no instruction needs a hand-timed feeder."""
from __future__ import annotations

import re

import numpy as np
import pytest

from tspasm import assemble_text, default_isa
from tspasm.engine import EngineError, Machine

ISA = default_isa()
T = 4                         # issue cycle of the producer
DST = 16                      # first stream of the producer's output group
CONSUMER = "VXM3"
# No exclusions: every stream producer is modelled.
NOT_MODELLED: set[str] = set()
# acc needs a whole lw/iw/abc pipeline in front of it; its timing is pinned there.
COVERED_ELSEWHERE = {"acc": "tests/test_engine_mxm.py (acc results land at issue + d_func)"}
# receive pops a vector that chip 1 sent over the pair topology's link (L0 to L0) exactly one
# link latency before the receive issues, so it issues that much later than T.
LINK_LATENCY = ISA.param("c2c.link_latency")
# The queue each unit's producer issues from: west of the consumer, so values flow east to it.
QUEUE_OF_UNIT = {"C2C": "C2C_W0", "MEM": "MEM_W5", "VXM": "VXM0", "SHF": "SHF_W0", "PRM": "PRM_W", "DST": "DST_W0",
                 "TRN": "TRN_W0", "ROT": "ROT_W"}


def producers():
    return [i for i in ISA.instructions if i.writes]


def variants(ins):
    """(dtype name or None, operand values) for every allowed type of the instruction."""
    allowed = ins.allow.get("dtype")
    fields = {f.name: f for f in ins.fields}
    if "dtype" not in fields:
        return [None]
    return [name for code, name in enumerate(fields["dtype"].values)
            if allowed is None or code in allowed]


def width(spec, dtype: str | None, n: int) -> int:
    if isinstance(spec, int):
        return spec
    return {"dtype": ISA.dtype_bytes[dtype] if dtype else 1, "to": ISA.dtype_bytes[dtype] if dtype else 1,
            "n": n, "n^2": n * n}[spec]


def producer_text(ins, dtype: str | None) -> tuple[str, dict[str, tuple[int, int]]]:
    """The instruction's source line and its input groups {field: (base stream, width)}."""
    fields = {f.name: f for f in ins.fields}
    n = int(fields["n"].values[0]) if "n" in fields else 1
    text = re.sub(r"\[[^\]]*\]", "", ins.syntax)  # optional operands take their defaults
    inputs, base = {}, 0
    for name, f in fields.items():
        if f.kind == "stream":
            if name in ins.writes:
                val = f"S{DST}E"
            else:
                w = width(ins.reads[name], dtype, n)
                base = -(-base // (1 << (w - 1).bit_length())) * (1 << (w - 1).bit_length())  # aligned group
                inputs[name] = (base, w)
                val = f"S{base}E"
                base += inputs[name][1]
        elif f.kind == "dtype":
            val = dtype
        elif f.kind == "link":
            val = "L0"
        elif name == "waddr":  # rw writes in the other bank than it reads (the bank-port rule)
            val = str(1 << ISA.param("mem.bank_address_bit"))
        elif f.values:
            val = str(f.values[0])
        else:
            val = "0"
        text = text.replace("{" + name + "}", val)
    return text, inputs


def input_values(ins, name: str, w: int) -> np.ndarray:
    lanes = np.arange(ISA.param("geometry.lanes"))
    if ins.name == "permute" and name == "map":  # a bijection: the identity
        return lanes.astype("<u2").view(np.uint8).reshape(-1, 2).T
    if name == "map":  # distribute / gather: lane within the superlane, address 0
        return np.stack([lanes % 16 if ins.name == "distribute" else lanes * 0] * w).astype(np.uint8)
    return np.ones((w, len(lanes)), np.uint8)


def issue_cycle(ins) -> int:
    return T + LINK_LATENCY + 2 if ins.name == "receive" else T


def run_case(ins, dtype, consumer_cycle: int) -> Machine:
    queue = QUEUE_OF_UNIT[ins.units[0]]
    text, inputs = producer_text(ins, dtype)
    t = issue_cycle(ins)
    src = f".chip 0\n@{t} {queue}: {text}\n@{consumer_cycle} {CONSUMER}: mov.i8 S{DST}E -> S0W\n"
    if ins.name == "receive":
        send = t - LINK_LATENCY
        src += (f".chip 1\n.data MEM_W43 0 i8 [1]\n@{send - 2} MEM_W43: read 0, S0W\n"
                f"@{send} C2C_W0: send L0, S0W\n")
    m = Machine(assemble_text(src).program)
    m.run(until=t)
    pos = ISA.queue_by_name[queue].pos
    for name, (base, w) in inputs.items():
        for j, plane in enumerate(input_values(ins, name, w)):
            m.write_stream(0, f"S{base + j}E", pos, plane)
    m.run()
    return m


def cases():
    out = []
    for ins in producers():
        if ins.name in NOT_MODELLED or ins.name in COVERED_ELSEWHERE:
            continue
        for dtype in variants(ins):
            out.append(pytest.param(ins, dtype, id=f"{ins.name}.{dtype}" if dtype else ins.name))
    return out


def test_every_stream_producer_is_covered():
    units = {i.name: set(i.units) for i in producers()}
    missing = [n for n, u in units.items() if n not in NOT_MODELLED and n not in COVERED_ELSEWHERE
               and not any(x in QUEUE_OF_UNIT for x in u)]
    assert not missing, f"stream-writing instructions the timing promise does not drive: {missing}"
    assert NOT_MODELLED <= {i.name for i in ISA.instructions if set(i.units) == {"C2C"}}
    for name in COVERED_ELSEWHERE:
        assert name in units


@pytest.mark.parametrize("ins,dtype", cases())
def test_value_arrives_exactly_at_t_plus_dfunc_plus_distance(ins, dtype):
    queue = QUEUE_OF_UNIT[ins.units[0]]
    i, j = ISA.queue_by_name[queue].pos, ISA.queue_by_name[CONSUMER].pos
    assert i < j
    arrival = issue_cycle(ins) + ins.latency + (j - i)
    m = run_case(ins, dtype, arrival)
    assert m.queue_info(0, CONSUMER).state == "done"  # it read the value: no schedule error
    with pytest.raises(EngineError) as err:
        run_case(ins, dtype, arrival - 1)
    assert err.value.code == "TSP_E_SCHEDULE" and "no value there" in str(err.value)
    assert err.value.queue == CONSUMER and err.value.cycle == arrival - 1
