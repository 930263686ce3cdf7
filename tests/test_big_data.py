"""Long `.data` lists take a faster route (json reads the numbers); it must agree with
the Lark route value for value and report bad values with the element's index."""
from __future__ import annotations

import numpy as np
import pytest

from tspasm import AssemblyError, assemble_text


def _data(src: str) -> tuple[bytes, tuple]:
    seg = assemble_text(src, "big.tsp").program.data[0]
    return seg.data, seg.shape


def _rows(values: np.ndarray, fmt) -> str:
    return "[\n" + ",\n".join("  [" + ", ".join(fmt(v) for v in row) + "]" for row in values) + "\n]"


@pytest.mark.parametrize("dtype", ["i8", "i16", "i32"])
def test_big_integer_list_equals_the_lark_route(dtype):
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype.replace("i", "int"))
    values = rng.integers(info.min, info.max, size=(24, 320), endpoint=True)
    fast = f".data MEM_W0 0 {dtype} " + _rows(values, str)
    # one hexadecimal literal sends the whole list through Lark
    slow = fast.replace(f"[{values[0, 0]},", f"[{hex(values[0, 0])},", 1) if values[0, 0] >= 0 else \
        fast.replace(f"[{values[0, 0]},", f"[-{hex(-values[0, 0])},", 1)
    assert slow != fast
    got_fast, shape = _data(fast)
    got_slow, _ = _data(slow)
    assert shape == (24, 320)
    little = {"i8": "<i1", "i16": "<i2", "i32": "<i4"}[dtype]
    assert got_fast == got_slow == values.astype(little).tobytes()


@pytest.mark.parametrize("dtype,np_type", [("f16", np.float16), ("f32", np.float32)])
def test_big_float_list_equals_the_lark_route(dtype, np_type):
    rng = np.random.default_rng(11)
    values = (rng.standard_normal((20, 300)) * 100).astype(np_type)
    text = _rows(values, lambda v: repr(float(v)))
    fast = f".data MEM_E4 8 {dtype} {text}"
    slow = fast.replace("[", "[+", 2).replace("[+\n", "[\n", 1)  # a leading `+`: not JSON, so Lark
    assert slow != fast
    got_fast, _ = _data(fast)
    got_slow, _ = _data(slow)
    assert got_fast == got_slow == values.astype(np_type).tobytes()


def _error(src: str) -> str:
    with pytest.raises(AssemblyError) as info:
        assemble_text(src, "big.tsp")
    return info.value.diagnostics[0].message


def test_big_list_value_out_of_range_names_the_element():
    src = ".data MEM_W0 0 i8 [" + ", ".join(["1"] * 2000) + ", 300]"
    assert _error(src) == "element [2000] = 300 does not fit in int8"


def test_big_list_float_in_integer_data_names_the_element():
    src = ".data MEM_W0 0 i16 [" + ", ".join(["1"] * 2000) + ", 2.5]"
    assert _error(src) == "`2.5` (element [2000]) is not an integer"


def test_big_list_ragged_rows_are_an_error():
    src = ".data MEM_W0 0 i8 [[" + ", ".join(["1"] * 2000) + "], [1]]"
    assert _error(src) == "rows of a .data list must all have the same length"


def test_big_list_f16_overflow_names_the_element():
    src = ".data MEM_W0 0 f16 [" + ", ".join(["1.5"] * 2000) + ", 1e10]"
    assert _error(src) == "element [2000] overflows float16"
