"""When ``select_kernel`` prefers the persistent kernel to cuDNN: only where it was measured
faster, on the same GPU model, for the same cell, dtype and a covering shape.

The table is ``routing.json`` beside this file, written from the timings of
``benchmarks/gpu_persistent.py`` (a list of ``{"gpu", "mode", "cell", "dtype", "batch",
"units", "persistent_ms", "cudnn_ms"}`` rows; ``mode`` is ``forward`` (inference) or
``train`` (forward and backward)). A call routes to the persistent kernel when a row for
this GPU, mode, cell and dtype with the same batch and the nearest measured unit count at
or above it shows the kernel faster. No row, no routing: an unmeasured guess must not
replace cuDNN.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch

TABLE = Path(__file__).with_name("routing.json")


@lru_cache(maxsize=None)
def _rows(path: str = str(TABLE)) -> tuple[dict, ...]:
    try:
        return tuple(json.loads(Path(path).read_text()))
    except FileNotFoundError:
        return ()


def decide(gpu: str, cell: str, dtype: torch.dtype, batch: int, units: int,
           mode: str = "forward", rows: tuple[dict, ...] | None = None) -> tuple[bool, str]:
    """``(use the persistent kernel, why)`` for this configuration on ``gpu``."""
    rows = _rows() if rows is None else rows
    dtype_name = str(dtype).removeprefix("torch.")
    found = [r for r in rows if r["gpu"] == gpu and r.get("mode", "forward") == mode
             and r["cell"] == cell and r["dtype"] == dtype_name and r["batch"] == batch
             and r["units"] >= units]
    if not found:
        return False, (f"no {mode} timing of the persistent kernel for {cell} {dtype_name} "
                       f"batch {batch} on {gpu} (benchmarks/gpu_persistent.py measures it)")
    row = min(found, key=lambda r: r["units"])
    ratio = row["cudnn_ms"] / row["persistent_ms"]
    where = f"{mode}, {cell} {dtype_name} B={batch} H={row['units']} on {gpu}"
    if ratio > 1:
        return True, f"measured {ratio:.1f}x faster than cuDNN ({where})"
    return False, f"cuDNN measured {1 / ratio:.1f}x faster ({where})"
