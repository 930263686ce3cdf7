"""`--seed`, `--drift-ppm`, `--jitter`: the optional clock realism of multi-chip runs, shared by
`run`, `check` and `debug` (tspasm.engine.clocks says what they mean)."""
from __future__ import annotations

import argparse


def _ppm(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid drift {text!r} (a number of ppm, e.g. 50)") from None
    from ..engine.clocks import DRIFT_PPM_MAX

    if not 0.0 <= v <= DRIFT_PPM_MAX:
        raise argparse.ArgumentTypeError(f"drift must be between 0 and {DRIFT_PPM_MAX:g} ppm, not {text}")
    return v


def nonneg_int(what: str):
    """An argparse type: an integer >= 0 (any base int() accepts), errors naming `what`."""
    def parse(text: str) -> int:
        try:
            v = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}") from None
        if v < 0:
            raise argparse.ArgumentTypeError(f"{what} must be >= 0, not {v}")
        return v
    return parse


_seed = nonneg_int("seed")


def add_clock_args(p) -> None:
    g = p.add_argument_group("clock realism (multi-chip; off by default)")
    g.add_argument("--drift-ppm", type=_ppm, metavar="PPM", default=0.0,
                   help="give each chip a clock drift drawn from [-PPM, +PPM] parts per million")
    g.add_argument("--jitter", action="store_true",
                   help="draw every C2C flit's latency from the measured 209..228 cycle range")
    g.add_argument("--seed", type=_seed, metavar="N", default=0,
                   help="seed of the drift and jitter draws (default 0); same seed, same machine")


def clock_model(args):
    """The ClockModel the arguments ask for, or None when realism is off."""
    from ..engine.clocks import ClockModel

    model = ClockModel(seed=args.seed, drift_ppm=args.drift_ppm, jitter=args.jitter)
    return model if model.active else None
