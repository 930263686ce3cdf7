"""`tspasm run` and `tspasm check`, called in-process through tspasm.cli.main.main."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tspasm import assemble_file, write_file
from cli_helpers import run_cli
from tspasm.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ADD = ROOT / "programs" / "vector_add_i8.tsp"
ADDMUL = ROOT / "programs" / "vector_addmul_i16.tsp"

# Line 5: VXM0 and VXM4 are both at position 24 and write S3E in the same cycle.
# Line 6: VXM8 reads S5E, which nobody wrote, and S2E, which passed position 24 at cycle 3.
BAD = """\
.chip 0
.data MEM_W2 0x0010 i8 [1, 2, 3]
.data MEM_W3 0x0010 i8 [10, 20, 30]
@0  { MEM_W2: read 0x0010, S1E | MEM_W3: read 0x0010, S2E }
@3  { VXM0: add.i8 S1E, S2E -> S3E | VXM4: mul.i8 S1E, S2E -> S3E }
@4  VXM8: add.i8 S5E, S2E -> S6E
@10 MEM_E0: write 0x0040, S3E
.output c = MEM_E0 0x0040 i8
"""


@pytest.fixture(autouse=True)
def no_debug(monkeypatch):
    monkeypatch.delenv("TSPASM_DEBUG", raising=False)


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.tsp"
    path.write_text(BAD)
    return path


def run(capsys, *argv):
    code, out, err = run_cli(capsys, *argv)
    assert "Traceback" not in out + err and 'File "' not in out + err
    return code, out, err


# ---- run ----------------------------------------------------------------------------------------

def test_run_prints_outputs_cycles_skew_and_speed(capsys):
    code, out, err = run(capsys, "run", ADD)
    assert code == 0 and err == ""
    assert out.startswith("c: i8[320] = [  11   22   33 -128 ")
    assert "stop: halted" in out
    assert "cycles: 11 on the superlane-0 timeline (+ 19 skew tail = 30)" in out
    assert "simulated cycles/s" in out


def test_run_an_image(capsys, tmp_path):
    image = tmp_path / "add.tspo"
    write_file(assemble_file(str(ADD)).program, str(image))
    code, out, _ = run(capsys, "run", image)
    assert code == 0 and "cycles: 11 " in out and out.startswith("c: i8[320]")


def test_run_json_is_one_object_with_the_keys(capsys):
    code, out, err = run(capsys, "run", ADDMUL, "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)  # exactly one object: json.loads rejects trailing data
    for key in ("cycles", "skew_tail", "host_seconds", "sim_cycles_per_s", "outputs", "stop_reason", "hazards"):
        assert key in obj
    assert obj["cycles"] == 15 and obj["skew_tail"] == 19 and obj["total_cycles"] == 34
    assert obj["stop_reason"] == "halted" and obj["hazards"] == []
    a = np.load(ROOT / "programs/vector_addmul_i16/a.npy")
    b = np.load(ROOT / "programs/vector_addmul_i16/b.npy")
    assert np.array_equal(np.array(obj["outputs"]["sum"], np.int16), a + b)
    assert obj["output_dtypes"] == {"sum": "i16", "prod": "i16"}


def test_run_dump_writes_every_output(capsys, tmp_path):
    dump = tmp_path / "out.npz"
    code, out, _ = run(capsys, "run", ADDMUL, "--dump", dump)
    assert code == 0 and f"dump: {dump}" in out
    with np.load(dump) as z:
        assert sorted(z.files) == ["prod", "sum"]
        a = np.load(ROOT / "programs/vector_addmul_i16/a.npy")
        b = np.load(ROOT / "programs/vector_addmul_i16/b.npy")
        assert z["sum"].dtype == np.int16 and np.array_equal(z["sum"], a + b)
        assert np.array_equal(z["prod"], a * b)


def test_dump_of_an_output_named_file(capsys, tmp_path):
    src = tmp_path / "p.tsp"
    src.write_text(ADD.read_text().replace(".output c =", ".output file ="))
    dump = tmp_path / "o.npz"
    assert run(capsys, "run", src, "--dump", dump)[0] == 0
    with np.load(dump) as z:
        assert z.files == ["file"] and z["file"][0] == 11


def test_run_stops_at_a_schedule_error_with_a_diagnostic(capsys, bad):
    code, out, err = run(capsys, "run", bad)
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"{bad}:6:5: error: read of S5E at position 24, cycle 4: no value there")
    assert "[chip 0, cycle 4, VXM8 `add` row 1]" in first
    assert "  @4  VXM8: add.i8 S5E, S2E -> S6E" in err
    assert "note: instruction: `VXM8: add.i8 S5E, S2E -> S6E`" in err


def test_run_json_on_a_schedule_error(capsys, bad):
    code, out, err = run(capsys, "run", bad, "--json")
    assert code == 1
    obj = json.loads(out)
    assert obj["stop_reason"] == "schedule_error" and obj["cycles"] == 4
    assert obj["error"]["location"] == f"{bad}:6:5" and obj["error"]["queue"] == "VXM8"
    assert f"{bad}:6:5: error:" in err


def test_run_with_hazards_warn_finishes_and_warns(capsys, bad):
    code, out, err = run(capsys, "run", bad, "--hazards", "warn", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["stop_reason"] == "halted" and obj["hazard_count"] == 3 and len(obj["hazards"]) == 3
    two = [h for h in obj["hazards"] if h["other_queue"]]
    assert len(two) == 1 and {two[0]["queue"], two[0]["other_queue"]} == {"VXM0", "VXM4"}
    assert f"{bad}:5:38: warning: two writes to S3E" in err


def test_max_cycles_stops_with_cycle_limit(capsys):
    code, out, _ = run(capsys, "run", ADD, "--max-cycles", "5", "--json")
    obj = json.loads(out)
    assert code == 0 and obj["stop_reason"] == "cycle_limit" and obj["cycles"] == 5


@pytest.mark.parametrize("argv", [
    ["run"],
    ["run", str(ADD), "--hazards", "never"],
    ["run", str(ADD), "--max-cycles", "-1"],
    ["run", str(ADD), "--max-cycles", "many"],
    ["run", str(ADD), "--bogus"],
    ["check"],
    ["check", str(ADD), "--json"],
])
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert "usage:" in err and "Traceback" not in err


@pytest.mark.parametrize("cmd", ["run", "check"])
@pytest.mark.parametrize("name", ["nope.tsp", "nope.tspo"])
def test_missing_file_exits_1_with_one_line(capsys, tmp_path, cmd, name):
    missing = tmp_path / name
    code, out, err = run(capsys, cmd, missing)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(str(missing)) and "No such file" in err


def test_run_of_a_source_with_assembly_errors(capsys, tmp_path):
    src = tmp_path / "e.tsp"
    src.write_text("@0 MEM_W3: add.i8 S1E, S2E -> S3E\n")
    code, out, err = run(capsys, "run", src)
    assert code == 1 and out == "" and err.startswith(f"{src}:1:")


# ---- check --------------------------------------------------------------------------------------

def test_check_reports_both_writers_and_missing_values(capsys, bad):
    code, out, err = run(capsys, "check", bad)
    assert code == 1 and out == ""
    heads = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(heads) == 3
    # sorted by position: the conflict on line 5, then the two missing values on line 6
    assert heads[0].startswith(f"{bad}:5:38: error: two writes to S3E leaving position 24 at cycle 6: "
                               "VXM0 `add` row 1 (issued at cycle 3) and VXM4 `mul` row 1 (issued at cycle 3)")
    assert f"note: other instruction: `VXM0: add.i8 S1E, S2E -> S3E` at {bad}:5:7" in err
    assert "note: instruction: `VXM4: mul.i8 S1E, S2E -> S3E`" in err
    assert heads[1].startswith(f"{bad}:6:5: error: read of S2E at position 24, cycle 4: no value there")
    assert heads[2].startswith(f"{bad}:6:5: error: read of S5E at position 24, cycle 4: no value there")
    assert err.rstrip().endswith("3 schedule errors.")


def test_check_carets_point_at_both_instructions(capsys, bad):
    _, _, err = run(capsys, "check", bad)
    lines = err.splitlines()
    i = lines.index(next(ln for ln in lines if ln.startswith(f"{bad}:5:38:")))
    assert lines[i + 1] == "  @3  { VXM0: add.i8 S1E, S2E -> S3E | VXM4: mul.i8 S1E, S2E -> S3E }"
    assert lines[i + 2] == "  " + " " * 37 + "^"
    j = next(k for k in range(i, len(lines)) if "other instruction" in lines[k])
    assert lines[j + 2] == "    " + " " * 6 + "^"


def test_check_of_a_good_program(capsys):
    code, out, err = run(capsys, "check", ADD)
    assert code == 0 and err == ""
    assert out == f"{ADD}: no schedule errors (11 cycles on the superlane-0 timeline)\n"


def test_check_of_an_image_uses_the_line_table(capsys, bad, tmp_path):
    image = tmp_path / "bad.tspo"
    write_file(assemble_file(str(bad)).program, str(image))
    code, _, err = run(capsys, "check", image)
    assert code == 1 and f"{bad}:5:38: error: two writes" in err



FAULT = """\
.chip 0
.data MEM_W12 0 i8 [0x40, 0x23]           ; map address 0x2340 = 9024: outside MEM
@0  MEM_W12: read 0, S0E
@2  MEM_W10: gather S1E, S0E
@13 MEM_E0: write 0, S1E
.output y = MEM_E0 0 i8
"""


def test_a_data_dependent_fault_is_not_a_schedule_error(capsys, tmp_path):
    src = tmp_path / "fault.tsp"
    src.write_text(FAULT)
    code, out, err = run(capsys, "check", src)
    assert code == 0 and out.startswith(f"{src}: no schedule errors")
    assert err.startswith(f"{src}:4:5: warning: address 9024 in superlane 0 of the map is outside MEM")
    code, out, err = run(capsys, "run", src, "--json")
    assert code == 1 and json.loads(out)["stop_reason"] == "address_fault"
    assert err.startswith(f"{src}:4:5: error: address 9024")


def test_check_with_a_cycle_limit_says_so(capsys):
    code, out, _ = run(capsys, "check", ADD, "--max-cycles", "5")
    assert code == 0 and out == f"{ADD}: no schedule errors (in the first 5 cycles, --max-cycles)\n"


def test_check_refuses_a_c2c_port_the_topology_lacks(capsys, tmp_path):
    src = tmp_path / "c2c.tsp"
    src.write_text("@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send L0, S0W\n")
    code, out, err = run(capsys, "check", src)
    assert code == 1 and out == ""
    assert err.startswith(f"{src}:2:4: error: chip 0 L0 has no link in this topology (send uses it)")
    code, out, err = run(capsys, "check", src, "--topology", "node")  # L0 of chip 0 goes to chip 1
    assert code == 0 and "no schedule errors" in out
