"""`.data` values (inline or .npy) -> typed numpy arrays, never silently changed."""
from __future__ import annotations

import math
import os

import numpy as np

from .parser import parse_int


class DataError(ValueError):
    def __init__(self, message: str, tok: int = -1, hint: str = ""):
        super().__init__(message)
        self.tok = tok
        self.hint = hint


_FLOAT_NAMES = {"inf": math.inf, "nan": math.nan}


def _scalar(text: str, tok: int, dtype: np.dtype):
    neg = text.startswith("-")
    body = text[1:] if neg else text
    is_float_type = dtype.kind == "f"
    if body in _FLOAT_NAMES:
        if not is_float_type:
            raise DataError(f"`{text}` is not an integer", tok)
        v = _FLOAT_NAMES[body]
        return -v if neg else v
    if body[:1].isalpha() or body[:1] == "_":
        raise DataError(f"`{text}` is not a number", tok, "data values are numbers, inf or nan")
    is_int_text = not any(c in body for c in ".eE") or body[:2].lower() in ("0x", "0b")
    if is_int_text:
        v = parse_int(body)
        v = -v if neg else v
        if not is_float_type:
            info = np.iinfo(dtype)
            if not info.min <= v <= info.max:
                shown = str(v) if len(body) < 40 else f"{text[:20]}…"
                raise DataError(f"{shown} does not fit in {dtype.name}", tok,
                                f"{dtype.name} holds {info.min}..{info.max}")
            return v
        try:
            f = float(v)
        except OverflowError:
            raise DataError(f"{text[:20]}… overflows {dtype.name}", tok) from None
    else:
        if not is_float_type:
            raise DataError(f"`{text}` is not an integer", tok, f"{dtype.name} data takes integers")
        f = float(body)
        f = -f if neg else f
    with np.errstate(over="ignore"):
        cast = dtype.type(f)
    if math.isinf(float(cast)) and not math.isinf(f):
        raise DataError(f"{text} overflows {dtype.name}", tok,
                        f"largest finite {dtype.name} is {np.finfo(dtype).max}")
    return cast


def _shape(values) -> tuple[int, ...]:
    if not isinstance(values, list):
        return ()
    if not values:
        return (0,)
    inner = _shape(values[0])
    for v in values[1:]:
        if _shape(v) != inner:
            raise DataError("rows of a .data list must all have the same length",
                            _first_tok(v))
    return (len(values),) + inner


def _first_tok(v) -> int:
    while isinstance(v, list):
        if not v:
            return -1
        v = v[0]
    return v[1]


def _flatten(values, out: list) -> None:
    for v in values:
        if isinstance(v, list):
            _flatten(v, out)
        else:
            out.append(v)


def inline_array(values: list, dtype: np.dtype, bits: bool = False) -> np.ndarray:
    """Nested lists of literal tokens -> array; with `bits`, the values are raw bit patterns."""
    shape = _shape(values)
    flat: list = []
    _flatten(values, flat)
    if bits:
        raw = np.dtype(f"<u{dtype.itemsize}")
        arr = np.array([_scalar(text, tok, raw) for text, tok in flat], dtype=raw)
        return arr.view(dtype).reshape(shape)
    arr = np.array([_scalar(text, tok, dtype) for text, tok in flat], dtype=dtype)
    return arr.reshape(shape)


def number_array(numbers: list, dtype: np.dtype, bits: bool = False) -> np.ndarray:
    """Nested lists of Python numbers (from the big-list route) -> array, with the same
    rules as inline_array; errors name the element's index instead of its column."""
    try:
        raw = np.array(numbers, dtype=object)
    except ValueError:
        raise DataError("rows of a .data list must all have the same length") from None
    if raw.dtype != object or any(isinstance(v, list) for v in raw.flat):
        raise DataError("rows of a .data list must all have the same length")
    target = np.dtype(f"<u{dtype.itemsize}") if bits else dtype
    for index, v in np.ndenumerate(raw):
        where = "[" + "][".join(map(str, index)) + "]"
        if isinstance(v, float) and target.kind != "f":
            raise DataError(f"`{v!r}` (element {where}) is not an integer", hint=f"{target.name} data takes integers")
        if target.kind != "f":
            info = np.iinfo(target)
            if not info.min <= v <= info.max:
                shown = str(v) if abs(v) < 10 ** 30 else "a very large number"
                raise DataError(f"element {where} = {shown} does not fit in {target.name}",
                                hint=f"{target.name} holds {info.min}..{info.max}")
    if target.kind != "f":
        arr = raw.astype(target)
        return arr.view(dtype) if bits else arr
    try:
        wide = raw.astype(np.float64)
    except OverflowError:
        raise DataError(f"a value overflows {dtype.name}") from None
    with np.errstate(over="ignore"):
        arr = wide.astype(dtype)
    bad = np.isinf(arr) & ~np.isinf(wide)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(f"element [{']['.join(map(str, index))}] overflows {dtype.name}",
                        hint=f"largest finite {dtype.name} is {np.finfo(dtype).max}")
    return arr


def npy_array(path: str, dtype: np.dtype) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"cannot open `{path}`: no such file") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"`{path}` is not a readable .npy file: {exc}") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"`{path}` holds an archive, not one array", hint="use a .npy file")
    if arr.dtype == dtype:
        return arr
    if arr.dtype.kind not in "iufb":
        raise DataError(f"`{path}` holds {arr.dtype} data, not numbers")
    with np.errstate(all="ignore"):
        cast = arr.astype(dtype)
        back = cast.astype(arr.dtype)
    same = (back == arr) | (np.isnan(back) & np.isnan(arr)) if arr.dtype.kind == "f" else back == arr
    if not np.all(same):
        raise DataError(f"`{path}` holds {arr.dtype} values that {dtype.name} cannot represent exactly",
                        hint=f"convert the file to {dtype.name} or declare the data as {arr.dtype}")
    return cast


def resolve_npy(path: str, including_file: str) -> str:
    if os.path.isabs(path):
        return path
    return os.path.join(os.path.dirname(including_file), path)
