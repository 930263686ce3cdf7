"""Optional realism for multi-chip runs: seeded per-chip clock drift and link jitter.

reference-model.md §4: off by default; when on, a program that synchronizes correctly
(HAC / DESKEW / TRANSMIT / RUNTIME_DESKEW, receives with margin for the link latency range)
gives bit-identical outputs under every seed, and one that does not is caught as a schedule
error.  The engine side (native/engine/clock.c) says exactly what drift and jitter do; this
module only turns a seed into the per-chip numbers, deterministically (numpy's PCG64), so a
seed means the same machine on every host.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

# The engine's bound (TSP_DRIFT_PPB_MAX in native/engine/engine.h): an implementation limit
# that keeps its integer arithmetic exact, far beyond any real oscillator.
DRIFT_PPM_MAX = 1000.0


@dataclass(frozen=True)
class ClockModel:
    """`drift_ppm`: each chip's oscillator is off by a value drawn uniformly from
    [-drift_ppm, +drift_ppm] parts per million; `jitter`: every flit's link latency is drawn
    from c2c.link_latency_min..max around its link's latency; `seed` picks both."""

    seed: int = 0
    drift_ppm: float = 0.0
    jitter: bool = False

    def __post_init__(self):
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise UsageError(f"the clock seed must be an integer >= 0, not {self.seed!r}")
        if not 0.0 <= float(self.drift_ppm) <= DRIFT_PPM_MAX:
            raise UsageError(f"drift must be between 0 and {DRIFT_PPM_MAX:g} ppm, not {self.drift_ppm!r}")

    @property
    def active(self) -> bool:
        return self.drift_ppm > 0 or self.jitter

    def _rng(self) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.seed))

    def drift_ppb(self, chips: int) -> list[int]:
        """Drift of chips 0..chips-1 in parts per billion (the engine's unit)."""
        if not self.drift_ppm:
            return [0] * chips
        ppm = self._rng().uniform(-self.drift_ppm, self.drift_ppm, size=chips)
        return [int(round(x * 1000.0)) for x in ppm]

    def jitter_seed(self) -> int:
        """The engine's nonzero 64-bit jitter seed (0 = no jitter); independent of the drift draws."""
        if not self.jitter:
            return 0
        rng = np.random.Generator(np.random.PCG64([self.seed, 0x6A17]))
        return int(rng.integers(1, 1 << 63))

    def describe(self, isa=None, seed: bool = True) -> str:
        parts = [f"seed {self.seed}"] if seed else []
        if self.drift_ppm:
            parts.append(f"drift within ±{self.drift_ppm:g} ppm")
        if self.jitter:
            lo = hi = None
            if isa is not None:
                lo, hi = isa.param("c2c.link_latency_min"), isa.param("c2c.link_latency_max")
            parts.append(f"link jitter {lo}..{hi} cycles" if lo is not None else "link jitter")
        return ", ".join(parts)
