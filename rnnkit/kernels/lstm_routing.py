"""Where rnnkit's LSTM loop in C beats torch's oneDNN LSTM on the CPU, from measurements.

``lstm_routing.json`` (beside this file) holds measured rows: batch, units, mode
(``train``: autograd on, forward and backward; ``forward``: autograd off), the sequence
length and the median
ratio of the C loop's time to oneDNN's, interleaved in one run (``benchmarks/lstm_route.py``
writes them). A call goes to the C loop only where the measured row nearest to its shape
(distance in log2 batch, log2 units and half log2 steps, same mode: per-call costs weigh
most in short calls) is within ``_NEAR`` and says the C loop
was faster; everywhere else it stays on oneDNN, which has no shape where it is badly slow.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

_TABLE = Path(__file__).with_name("lstm_routing.json")
_NEAR = 1.5   # log2 units: a row speaks for shapes within about 2.8x of its batch and units


@lru_cache(maxsize=1)
def _rows() -> tuple[dict, ...]:
    try:
        return tuple(json.loads(_TABLE.read_text())["rows"])
    except (OSError, ValueError, KeyError):
        return ()


@lru_cache(maxsize=256)
def decide(batch: int, units: int, mode: str, steps: int = 100) -> tuple[bool, str]:
    """``(True, why)`` when the C loop measured faster than oneDNN near this shape, else
    ``(False, why not)``. ``mode``: ``"train"`` (autograd on) or ``"forward"``."""
    best, distance = None, math.inf
    for row in _rows():
        if row["mode"] != mode:
            continue
        d = math.hypot(math.log2(max(batch, 1) / row["batch"]), math.log2(units / row["units"]),
                       0.5 * math.log2(max(steps, 1) / row.get("steps", 100)))
        if d < distance:
            best, distance = row, d
    if best is None or distance > _NEAR:
        return False, f"no {mode} measurement near batch {batch}, {units} units"
    where = f"batch {best['batch']}, {best['units']} units, {best.get('steps', '?')} steps, {mode}"
    if best["ratio"] < 1.0:
        return True, f"measured {best['ratio']:.2f}x oneDNN's time at {where}"
    return False, f"the C loop measured {best['ratio']:.2f}x oneDNN's time at {where}"
