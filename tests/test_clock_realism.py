"""Seeded clock drift and link jitter (native/engine/clock.c, docs/engine.md "Clock drift and
link jitter"): a correctly synchronized program gives bit-identical outputs under every seed,
one that is not is caught, and the drift arithmetic is exact."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tspasm import assemble_file, assemble_text
from tspasm.cli.main import main
from tspasm.engine import ClockModel, EngineError, Machine, StopReason
from tspasm.errors import UsageError
from tspasm.isa import default_isa
from tspasm.topology import builtin

ISA = default_isa()
LAT = ISA.param("c2c.link_latency")
LAT_MIN, LAT_MAX = ISA.param("c2c.link_latency_min"), ISA.param("c2c.link_latency_max")
EPOCH = ISA.param("sync.hac_epoch")
ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(6)
REALISM = dict(drift_ppm=50.0, jitter=True)


def multichip_goldens() -> list[Path]:
    out = []
    for p in sorted((ROOT / "programs").glob("*.tsp")):
        if "\n.chip 1\n" in p.read_text(encoding="utf-8"):
            out.append(p)
    return out


def pair_machine(src: str, clocks: ClockModel | None = None, **kw) -> Machine:
    return Machine(assemble_text(src).program, topology=builtin("pair"), clocks=clocks, **kw)


# ---- the seed turns into numbers deterministically ---------------------------------------------

def test_clock_model_is_deterministic_and_bounded():
    a, b = ClockModel(seed=7, drift_ppm=50.0), ClockModel(seed=7, drift_ppm=50.0)
    assert a.drift_ppb(72) == b.drift_ppb(72)
    assert a.drift_ppb(72) != ClockModel(seed=8, drift_ppm=50.0).drift_ppb(72)
    assert all(-50_000 <= d <= 50_000 for d in a.drift_ppb(1000))
    assert ClockModel(seed=7, jitter=True).jitter_seed() != 0 and ClockModel(seed=7).jitter_seed() == 0
    assert not ClockModel(seed=3).active and ClockModel(jitter=True).active


@pytest.mark.parametrize("kw, what", [({"seed": -1}, "seed"), ({"drift_ppm": 5000.0}, "drift"),
                                      ({"drift_ppm": -1.0}, "drift")])
def test_clock_model_rejects_bad_values(kw, what):
    with pytest.raises(UsageError, match=what):
        ClockModel(**kw)


# ---- jitter ------------------------------------------------------------------------------------

def arrival(clocks: ClockModel) -> int:
    """The first cycle a vector sent at cycle 2 is in chip 1's FIFO."""
    m = pair_machine(".chip 0\n.data MEM_W43 0 i8 [1]\n@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send L0, S0W\n"
                     ".chip 1\n", clocks)
    m.run(until=2 + LAT_MIN - 1)
    for t in range(2 + LAT_MIN, 2 + LAT_MAX + 2):
        m.run(until=t)
        if m.link_info(1, 0)["fifo"]:
            return t - 2
    raise AssertionError("the vector never arrived")


def test_jitter_latencies_cover_the_measured_range_around_its_mean():
    lat = [arrival(ClockModel(seed=s, jitter=True)) for s in range(60)]
    assert all(LAT_MIN <= x <= LAT_MAX for x in lat)
    assert len(set(lat)) >= 6                       # it really varies
    assert abs(np.mean(lat) - LAT) < 1.5            # binomial with mean c2c.link_latency
    assert arrival(ClockModel(seed=5, jitter=True)) == lat[5]  # same seed, same latency
    assert arrival(ClockModel()) == LAT                             # off: the link's own latency


# ---- drift -------------------------------------------------------------------------------------

def test_skew_is_the_truncated_drift_and_deskew_lands_on_the_global_boundary():
    clocks = ClockModel(seed=11, drift_ppm=200.0)
    ppb = clocks.drift_ppb(2)
    t = 1_000_003
    nxt = (t // EPOCH + 1) * EPOCH
    src = f".chip 0\n@{t} VXM0: deskew\n@{nxt} VXM0: nop 1\n.chip 1\n@{t} VXM0: deskew\n@{nxt} VXM0: nop 1\n"
    m = pair_machine(src, clocks)
    m.run(until=t + 1)
    for chip in (0, 1):
        info = m.chip_info(chip)
        assert info["drift_ppb"] == ppb[chip]
        assert info["skew"] == int(np.trunc((t + 1) * ppb[chip] / 1e9))
        # the local cycle whose global time (l - skew(l)) is the next multiple of the epoch
        glob = t - int(np.trunc(t * ppb[chip] / 1e9))
        boundary = (glob // EPOCH + 1) * EPOCH
        local = next(l for l in range(boundary - 400, boundary + 400)
                     if l - int(np.trunc(l * ppb[chip] / 1e9)) >= boundary)
        assert m.queue_info(chip, "VXM0").next_cycle == local
    assert ppb[0] != ppb[1] and m.queue_info(0, "VXM0").next_cycle != m.queue_info(1, "VXM0").next_cycle


def long_exchange(resync: str, epochs: int = 3906) -> str:
    """Chip 0 sends a vector to chip 1 a million cycles in, after both chips' queues ran
    `resync` (a nop, runtime_deskew or deskew) at cycle T; chip 1 receives with 2 cycles of
    margin beyond the largest link latency.  T is half an epoch past a boundary, so a skew of
    up to 100 cycles either way cannot move a deskew into another epoch."""
    T = epochs * EPOCH + EPOCH // 2
    go = T + 336                      # after a 300-cycle resync: 1_000_400 by default
    lines = [".chip 0", ".data MEM_W43 0 i8 [3, 1, 4, 1, 5]"]
    for chip, body in ((0, [f"@{go} MEM_W43: read 0, S0W", f"@{go + 2} C2C_W0: send L0, S0W"]),
                       (1, [f"@{go + 2 + LAT_MAX + 2} C2C_W0: receive L0, S1E",
                            f"@{go + 2 + LAT_MAX + 4} MEM_W43: write 0x10, S1E",
                            ".output y = MEM_W43 0x10 i8"])):
        if chip:
            lines.append(".chip 1")
        lines += [f"@{T} MEM_W43: {resync}", f"@{T} C2C_W0: {resync}"] + body
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("resync", ["runtime_deskew 300", "deskew"])
def test_resynchronized_long_run_is_identical_under_every_seed(resync):
    src = long_exchange(resync)
    for seed in SEEDS:
        m = pair_machine(src, ClockModel(seed=seed, drift_ppm=100.0, jitter=True))
        assert m.run() is StopReason.HALTED
        assert list(m.outputs()["y"][:5]) == [3, 1, 4, 1, 5] and m.hazard_count == 0


def test_unsynchronized_long_run_is_caught():
    src = long_exchange("nop 300")  # waits, but does not correct the drift
    caught = []
    for seed in SEEDS:
        try:
            pair_machine(src, ClockModel(seed=seed, drift_ppm=100.0, jitter=True)).run()
        except EngineError as exc:
            assert "receive on chip 1 L0: FIFO empty" in str(exc)
            caught.append(seed)
    assert caught, "drift of up to 100 ppm over 10^6 cycles must break an uncorrected exchange"
    assert pair_machine(src).run() is StopReason.HALTED  # without drift it is fine


def test_skew_beyond_the_link_latency_is_a_clear_error():
    src = long_exchange("nop 300", epochs=3 * 3906)  # the exchange at ~3.0e6 cycles
    clocks = next(c for c in (ClockModel(seed=s, drift_ppm=1000.0) for s in range(50))
                  if c.drift_ppb(2)[0] - c.drift_ppb(2)[1] > 300_000)
    with pytest.raises(EngineError, match="exceeds the link latency"):
        pair_machine(src, clocks).run()


# ---- every multi-chip golden program is correctly synchronized -----------------------------------

@pytest.mark.parametrize("tsp", multichip_goldens(), ids=lambda p: p.stem)
def test_multichip_golden_outputs_are_identical_under_every_seed(tsp):
    program = assemble_file(str(tsp)).program
    base = Machine(program)
    assert base.run() is StopReason.HALTED
    want = base.outputs()
    for seed in SEEDS:
        m = Machine(program, clocks=ClockModel(seed=seed, **REALISM))
        assert m.run() is StopReason.HALTED, seed
        got = m.outputs()
        assert sorted(got) == sorted(want)
        for name in want:
            assert np.array_equal(got[name].view(np.uint8), want[name].view(np.uint8)), (seed, name)


def test_receiving_at_the_mean_latency_is_caught_by_check_over_seeds(tmp_path, capsys):
    prog = tmp_path / "eager.tsp"
    prog.write_text(".chip 0\n.data MEM_W43 0 i8 [9]\n@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send L0, S0W\n"
                    f".chip 1\n@{2 + LAT} C2C_W0: receive L0, S1E\n@{2 + LAT + 2} MEM_W43: write 0, S1E\n")
    assert main(["check", str(prog)]) == 0
    capsys.readouterr()
    assert main(["check", str(prog), "--jitter", "--seeds", "16"]) != 0
    _, err = capsys.readouterr()
    assert "FIFO empty" in err and "reproduce with: tspasm run" in err and "--jitter" in err
    seed = int(err.split("--seed ")[1].split()[0])
    assert main(["run", str(prog), "--jitter", "--seed", str(seed)]) != 0


def test_run_reports_the_clock_model(capsys):
    code = main(["run", str(ROOT / "programs" / "pingpong_2chip.tsp"), "--jitter", "--drift-ppm", "20",
                 "--seed", "4"])
    out, _ = capsys.readouterr()
    assert code == 0 and "clocks: seed 4, drift within ±20 ppm, link jitter 209..228 cycles" in out


@pytest.mark.parametrize("args, msg", [(["--drift-ppm", "x"], "invalid drift"),
                                       (["--drift-ppm", "2000"], "between 0 and 1000"),
                                       (["--seed", "-3"], "seed must be >= 0")])
def test_bad_clock_arguments(capsys, args, msg):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(ROOT / "programs" / "pingpong_2chip.tsp"), *args])
    assert exc.value.code == 2 and msg in capsys.readouterr().err


# ---- snapshots keep the clocks ---------------------------------------------------------------------

def test_snapshot_restore_continues_identically_with_drift_and_jitter():
    src = long_exchange("runtime_deskew 300")
    clocks = ClockModel(seed=3, drift_ppm=100.0, jitter=True)
    ref = pair_machine(src, clocks)
    ref.run(until=1_000_250)
    snap = ref.snapshot()
    ref.run()
    end, h = ref.cycle, ref.state_hash()
    other = pair_machine(src)  # no clocks of its own: the snapshot brings them
    other.restore(snap)
    assert other.chip_info(0)["drift_ppb"] == clocks.drift_ppb(2)[0]
    other.run()
    assert (other.cycle, other.state_hash()) == (end, h)
    assert list(other.outputs()["y"][:5]) == [3, 1, 4, 1, 5]


def test_debugger_replays_the_same_clocks_when_going_back(tmp_path, capsys):
    from tspasm.debug.session import Session

    prog = ROOT / "programs" / "pingpong_2chip.tsp"
    clocks = ClockModel(seed=2, drift_ppm=50.0, jitter=True)
    s = Session(assemble_file(str(prog)), clocks=clocks, path=str(prog))
    s.execute("goto 300")
    h300 = s.execute("info hash")
    s.execute("goto 100")
    assert s.execute("goto 300") and s.execute("info hash") == h300
    plain = Session(assemble_file(str(prog)), path=str(prog))
    plain.execute("goto 300")
    assert plain.execute("info hash") != h300   # the clock model is part of the machine state
    cmds = tmp_path / "c.txt"
    cmds.write_text("goto 300\ninfo hash\n")
    assert main(["debug", str(prog), "--jitter", "--drift-ppm", "50", "--seed", "2", "-x", str(cmds)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(h300.strip().splitlines()[-1])
