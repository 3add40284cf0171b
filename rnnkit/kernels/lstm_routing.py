"""Where rnnkit's LSTM loop in C beats torch's oneDNN LSTM on the CPU, from measurements.

``lstm_routing.json`` (beside this file) holds measured rows: the thread count (torch's
intra-op threads), batch, units, mode (``train``: autograd on, forward and backward;
``forward``: autograd off), the sequence length and the median ratio of the C loop's time to
oneDNN's, interleaved in one run (``benchmarks/lstm_route.py`` writes them, one thread
count per run). oneDNN parallelises differently from the C loop, so a call reads the rows of
the nearest measured thread count at or below its own; above every measured count it stays
on oneDNN (unmeasured). Within those rows a call goes to the C loop only where the row
nearest to its shape (distance in log2 batch, log2 units and half log2 steps, same mode:
per-call costs weigh most in short calls) is within ``_NEAR`` and says the C loop was
faster; everywhere else it stays on oneDNN, which has no shape where it is badly slow.

The table is a packaged data file read as JSON only, refused (so everything stays on
oneDNN) when larger than ``_MAX_BYTES`` or when any row lacks a field or has one of the
wrong kind.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

_TABLE = Path(__file__).with_name("lstm_routing.json")
_NEAR = 1.5   # log2 units: a row speaks for shapes within about 2.8x of its batch and units
_MAX_BYTES = 1 << 20
_POSITIVE_INTS = ("threads", "batch", "units", "steps")


def _well_formed(row) -> bool:
    if not isinstance(row, dict) or row.get("mode") not in ("train", "forward"):
        return False
    ints = all(type(row.get(k, 1)) is int and row.get(k, 1) >= 1 for k in _POSITIVE_INTS)
    ratio = row.get("ratio")
    return ints and type(ratio) in (int, float) and 0 < ratio < math.inf


@lru_cache(maxsize=1)
def _rows() -> tuple[dict, ...]:
    """The table's rows (``threads`` defaults to 1, as tables before it was recorded), or
    none when the file is missing, too large or malformed."""
    try:
        if _TABLE.stat().st_size > _MAX_BYTES:
            return ()
        rows = json.loads(_TABLE.read_text())["rows"]
    except (OSError, ValueError, KeyError, TypeError):
        return ()
    if not isinstance(rows, list) or not all(_well_formed(row) for row in rows):
        return ()
    return tuple({"threads": 1, **row} for row in rows)


def _threads_phrase(threads: int) -> str:
    return f"{threads} thread" + ("" if threads == 1 else "s")


@lru_cache(maxsize=256)
def decide(batch: int, units: int, mode: str, steps: int = 100,
           threads: int = 1) -> tuple[bool, str]:
    """``(True, why)`` when the C loop measured faster than oneDNN near this shape at this
    thread count, else ``(False, why not)``. ``mode``: ``"train"`` (autograd on) or
    ``"forward"``; ``threads``: ``torch.get_num_threads()`` for the call."""
    rows = _rows()
    counts = sorted({row.get("threads", 1) for row in rows})
    measured = [count for count in counts if count <= threads]
    if not measured or threads > counts[-1]:
        return False, (f"no measurement at {_threads_phrase(threads)} (measured at "
                       f"{', '.join(map(str, counts)) or 'none'})")
    table = measured[-1]
    best, distance = None, math.inf
    for row in rows:
        if row["mode"] != mode or row.get("threads", 1) != table:
            continue
        d = math.hypot(math.log2(max(batch, 1) / row["batch"]), math.log2(units / row["units"]),
                       0.5 * math.log2(max(steps, 1) / row.get("steps", 100)))
        if d < distance:
            best, distance = row, d
    if best is None or distance > _NEAR:
        return False, (f"no {mode} measurement near batch {batch}, {units} units at "
                       f"{_threads_phrase(table)}")
    where = (f"batch {best['batch']}, {best['units']} units, {best.get('steps', '?')} steps, "
             f"{mode}, {_threads_phrase(table)}")
    if best["ratio"] < 1.0:
        return True, f"measured {best['ratio']:.2f}x oneDNN's time at {where}"
    return False, f"the C loop measured {best['ratio']:.2f}x oneDNN's time at {where}"
