"""Typed tensors <-> MEM byte planes.

A tensor of a type T bytes wide occupies T slices of one hemisphere: byte j of
every element lives in slice index + j, at the same address (reference-model 1,
`.data` in the assembler).  A row is one 320-lane vector."""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..isa.model import Isa, Queue


class PlaneMap:
    """Which queue slot holds byte plane j of a tensor that starts at a MEM slice."""

    def __init__(self, isa: Isa):
        self.isa = isa
        self.lanes = isa.param("geometry.lanes")
        self._mem = {(q.hemi, q.index): q for q in isa.queues if q.unit == "MEM"}

    def dtype(self, name: str) -> np.dtype:
        if name not in self.isa.dtype_numpy:
            raise UsageError(f"unknown element type {name!r}; types are {', '.join(self.isa.dtypes)}")
        return np.dtype(self.isa.dtype_numpy[name]).newbyteorder("<")

    def slice_queue(self, slice_: str | int) -> Queue:
        if isinstance(slice_, str):
            q = self.isa.queue_by_name.get(slice_)
        elif 0 <= slice_ < len(self.isa.queues):
            q = self.isa.queues[slice_]
        else:
            q = None
        if q is None or q.unit != "MEM":
            raise UsageError(f"{slice_!r} is not a MEM slice (MEM_W0..MEM_W43, MEM_E0..MEM_E43)")
        return q

    def plane_slots(self, slice_: str | int, nbytes: int) -> list[int]:
        q = self.slice_queue(slice_)
        slots = []
        for j in range(nbytes):
            plane = self._mem.get((q.hemi, q.index + j))
            if plane is None:
                raise UsageError(f"a {nbytes}-byte type at {q.name} needs slices {q.name}.."
                                 f"MEM_{q.hemi}{q.index + nbytes - 1}, which do not all exist")
            slots.append(plane.slot)
        return slots

    def to_planes(self, values, dtype: np.dtype) -> list[np.ndarray]:
        """(rows, <= lanes) or (<= lanes,) values -> one (rows, lanes) uint8 array per byte."""
        arr = np.asarray(values, dtype=dtype)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] > self.lanes:
            raise UsageError(f"values of shape {np.shape(values)} do not fit: give rows of up to "
                             f"{self.lanes} elements")
        full = np.zeros((arr.shape[0], self.lanes), dtype)
        full[:, :arr.shape[1]] = arr
        raw = full.view(np.uint8).reshape(arr.shape[0], self.lanes, dtype.itemsize)
        return [np.ascontiguousarray(raw[:, :, j]) for j in range(dtype.itemsize)]

    def from_planes(self, planes: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
        rows = planes[0].shape[0]
        raw = np.stack(planes, axis=-1).reshape(rows, self.lanes * dtype.itemsize)
        return np.ascontiguousarray(raw).view(dtype).reshape(rows, self.lanes)
