"""Keras 2 (tf.keras 2.12) progress output: ``Progbar`` and the verbosity rule.

``verbose=1`` redraws one line with ``\\b``/``\\r`` on a terminal::

    12/32 [=========>....................] - ETA: 0s - loss: 0.1234
    32/32 [==============================] - 1s 3ms/step - loss: 0.1100 - val_loss: 0.1300

``verbose=2`` prints one plain line when the epoch ends (no control characters)::

    32/32 - 1s - loss: 0.1100 - val_loss: 0.1300 - 1s/epoch - 3ms/step

``verbose="auto"`` is 1 on a terminal or in a Jupyter kernel and 2 otherwise (logs, CI,
pipes): tf.keras 2 printed the bar into logs too, one ``\\n``-separated redraw per update.
"""
from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, Iterable



def resolve_verbose(verbose: Any, stream: Any = None) -> int:
    """``"auto"`` -> 1 on an interactive display, 2 otherwise; ints pass through."""
    if verbose != "auto":
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}.")
        return int(verbose)
    return 1 if interactive(stream) else 2


def interactive(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _format_value(value: float) -> str:
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


def _format_time(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Keras's progress bar. ``update(current, values)``; values are shown as given
    (the model's metrics are already running epoch means)."""

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1,
                 interval: float = 0.05, unit_name: str = "step", stream: Any = None,
                 dynamic: bool | None = None) -> None:
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stream = stream
        self._dynamic = interactive(self._out()) if dynamic is None else dynamic
        self._total_width = 0
        self._values: dict[str, float] = {}
        self._start = time.time()
        self._last_update = 0.0
        self._seen = 0

    def _out(self):
        return self.stream or sys.stdout

    def _write(self, text: str) -> None:
        out = self._out()
        out.write(text)
        out.flush()

    def update(self, current: int, values: Iterable[tuple[str, float]] | None = None,
               finalize: bool | None = None) -> None:
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for key, value in values or []:
            self._values[key] = float(value)
        self._seen = current
        now = time.time()
        info = f" - {now - self._start:.0f}s"
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            prev_width = self._total_width
            message = ("\b" * prev_width + "\r") if self._dynamic else "\n"
            if self.target is not None:
                digits = int(math.log10(self.target)) + 1 if self.target > 0 else 1
                bar = f"{current:{digits}d}/{self.target} ["
                prog_width = int(self.width * current / self.target) if self.target else self.width
                if prog_width > 0:
                    bar += "=" * (prog_width - 1) + (">" if current < self.target else "=")
                bar += "." * (self.width - prog_width) + "]"
            else:
                bar = f"{current:7d}/Unknown"
            self._total_width = len(bar)
            message += bar
            per_step = (now - self._start) / current if current else 0.0
            if self.target is None or finalize:
                info += _format_time(per_step, self.unit_name)
            else:
                eta = per_step * (self.target - current)
                if eta > 3600:
                    eta_text = f"{eta // 3600:.0f}:{(eta % 3600) // 60:02.0f}:{eta % 60:02.0f}"
                elif eta > 60:
                    eta_text = f"{eta // 60:.0f}:{eta % 60:02.0f}"
                else:
                    eta_text = f"{eta:.0f}s"
                info = f" - ETA: {eta_text}"
            for key, value in self._values.items():
                info += f" - {key}:" + _format_value(value)
            self._total_width += len(info)
            if prev_width > self._total_width:
                info += " " * (prev_width - self._total_width)
            if finalize:
                info += "\n"
            self._write(message + info)
        elif self.verbose == 2 and finalize:
            target = self.target if self.target is not None else current
            digits = int(math.log10(target)) + 1 if target > 0 else 1
            line = f"{current:{digits}d}/{target}{info}"
            for key, value in self._values.items():
                line += f" - {key}:" + _format_value(value)
            elapsed = now - self._start
            line += " -" + _format_time(elapsed, "epoch")
            line += " -" + _format_time(elapsed / max(target, 1), self.unit_name)
            self._write(line + "\n")
        self._last_update = now
