"""``Progbar``: tf.keras 2.12's ``keras.utils.Progbar``, byte for byte.

``fit``, ``evaluate`` and ``predict`` draw their progress with it, and custom training loops
use it directly::

    bar = rnnkit.utils.Progbar(len(batches), stateful_metrics=["acc"])
    for step, (x, y) in enumerate(batches, 1):
        ...
        bar.update(step, values=[("loss", loss), ("acc", acc)])

``verbose=1`` redraws one line; it is erased with ``\\b`` and restarted with ``\\r`` (on
Linux and macOS on a terminal or not, as Keras does: it also tests ``"posix" in
sys.modules``; elsewhere off a terminal each draw starts a new line)::

    3/5 [=================>............] - ETA: 0s - loss: 0.7000 - acc: 0.7000
    5/5 [==============================] - 1s 322ms/step - loss: 0.5000 - acc: 0.9000

Draws closer together than ``interval`` seconds are skipped, except the final one.
``verbose=2`` prints only the final line, with the epoch's times::

    5/5 - 2s - loss: 0.4200 - acc: 0.9000 - 2s/epoch - 400ms/step

A metric in ``stateful_metrics`` is shown as given; any other is averaged over the steps
(each value weighted by the steps since the previous update).
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable

import numpy as np

__all__ = ["Progbar"]


def _as_number(value: Any) -> Any:
    """A metric value as NumPy sees it (a torch tensor is read off its device)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return value


def format_time(seconds: float, unit_name: str) -> str:
    """``" 3s/epoch"``, ``" 12ms/step"``, ``" 850us/step"`` (Keras's ``_format_time``)."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1000.0:.0f}ms/{unit_name}"
    return f" {seconds * 1000000.0:.0f}us/{unit_name}"


def _eta_text(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


def _redraws_in_place(stream: Any) -> bool:
    """Keras 2.12's ``_dynamic_display``: a terminal, Jupyter, PyCharm, or any POSIX system."""
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return (tty or "ipykernel" in sys.modules or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ)


class Progbar:
    """Displays a progress bar (tf.keras 2.12's ``keras.utils.Progbar``).

    Args:
        target: total number of steps expected, ``None`` if unknown.
        width: the bar's width in characters.
        verbose: 0 (silent), 1 (the bar), 2 (one line when finalised).
        interval: the least time in seconds between two draws.
        stateful_metrics: names of metrics shown as given rather than averaged.
        unit_name: what a step is called in the times (``"step"``, ``"sample"``).
        stream: where to write (rnnkit's; ``sys.stdout`` at each write by default).
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 unit_name: str = "step", stream: Any = None) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._dynamic_display = _redraws_in_place(self._out())
        self._total_width = 0
        self._seen_so_far = 0
        self._values: dict[str, list] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_at_epoch_start = self._start
        self._time_at_epoch_end: float | None = None
        self._time_after_first_step: float | None = None

    def _out(self) -> Any:
        return self.stream or sys.stdout

    def _write(self, text: str) -> None:
        out = self._out()
        out.write(text)
        out.flush()

    def _update_stateful_metrics(self, stateful_metrics: Iterable[str]) -> None:
        self.stateful_metrics = self.stateful_metrics.union(stateful_metrics)

    def update(self, current: int, values: Iterable[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Move to step ``current`` with ``(name, value)`` pairs for the last step.

        ``finalize`` (default: ``current >= target``) draws the final line."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            value = _as_number(value)
            if name not in self._values_order:
                self._values_order.append(name)
            if name not in self.stateful_metrics:
                # weighted by the steps since the last update (at least 1, as Keras does
                # when fit's first epoch finalises at the step it last updated)
                base = max(current - self._seen_so_far, 1)
                if name not in self._values:
                    self._values[name] = [value * base, base]
                else:
                    self._values[name][0] += value * base
                    self._values[name][1] += base
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        info = f" - {now - self._start:.0f}s"
        if current == self.target:
            self._time_at_epoch_end = now
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_bar(current, now, info, finalize)
        elif self.verbose == 2 and finalize:
            self._write(self._final_line(current, now, info))
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """``update(current + n, values)``."""
        self.update(self._seen_so_far + n, values)

    # ------------------------------------------------------------------ drawing
    def _average(self, name: str) -> Any:
        total, count = self._values[name]
        return np.mean(total / max(1, count))

    def _draw_bar(self, current: int, now: float, info: str, finalize: bool) -> None:
        prev_total_width = self._total_width
        message = ("\b" * prev_total_width + "\r") if self._dynamic_display else "\n"
        if self.target is not None:
            digits = int(np.log10(self.target)) + 1 if self.target > 0 else 1
            bar = ("%" + str(digits) + "d/%d [") % (current, self.target)
            prog_width = int(self.width * (float(current) / self.target)) if self.target \
                else self.width
            if prog_width > 0:
                bar += "=" * (prog_width - 1) + (">" if current < self.target else "=")
            bar += "." * (self.width - prog_width) + "]"
        else:
            bar = "%7d/Unknown" % current
        self._total_width = len(bar)
        message += bar

        time_per_unit = self._estimate_step_duration(current, now)
        if self.target is None or finalize:
            info += format_time(time_per_unit, self.unit_name)
        else:
            info = f" - ETA: {_eta_text(time_per_unit * (self.target - current))}"
        for name in self._values_order:
            avg = self._average(name)
            info += f" - {name}:" + (f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}")

        self._total_width += len(info)
        if prev_total_width > self._total_width:
            info += " " * (prev_total_width - self._total_width)
        if finalize:
            info += "\n"
        self._write(message + info)

    def _final_line(self, current: int, now: float, info: str) -> str:
        target = self.target
        if target is None:
            # tf.keras 2.12 fails here (log10 of None); the count is known by now
            target = current
            self._time_at_epoch_end = now
        digits = int(np.log10(target)) + 1 if target > 0 else 1
        line = ("%" + str(digits) + "d/%d") % (current, target) + info
        for name in self._values_order:
            avg = self._average(name)
            # Keras tests `avg > 1e-3` here (not abs): negative averages print as 1e-notation
            line += f" - {name}:" + (f" {avg:.4f}" if avg > 1e-3 else f" {avg:.4e}")
        if self._time_at_epoch_end:
            time_per_epoch = self._time_at_epoch_end - self._time_at_epoch_start
            avg_time_per_step = time_per_epoch / target
            self._time_at_epoch_start = now
            self._time_at_epoch_end = None
            line += " -" + format_time(time_per_epoch, "epoch")
            line += " -" + format_time(avg_time_per_step, self.unit_name) + "\n"
        return line

    def _estimate_step_duration(self, current: int, now: float) -> float:
        """Seconds per step; after the first step, the first (slow, tracing in Keras) step is
        left out of the estimate."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
