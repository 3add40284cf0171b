"""Which progress ``fit``, ``evaluate`` and ``predict`` print; the bar itself is
``rnnkit.utils.Progbar`` (tf.keras 2.12's, byte for byte).

``verbose=1`` draws the bar (redrawn in place with ``\\b``/``\\r``, in a log too, as tf.keras
2.12 does on Linux and macOS); ``verbose=2`` prints one line when the epoch (or the whole
evaluation / prediction) ends::

    32/32 [==============================] - 1s 3ms/step - loss: 0.1100 - val_loss: 0.1300
    32/32 - 1s - loss: 0.1100 - val_loss: 0.1300 - 1s/epoch - 3ms/step

``verbose="auto"`` is 1 for ``evaluate`` and ``predict``, as in tf.keras 2.12. For ``fit`` it
is 1 on a terminal or in a Jupyter kernel and 2 otherwise (logs, CI, pipes): rnnkit's choice
(docs/known-differences.md), where tf.keras 2.12 draws the bar into logs as well.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from ..utils.progbar import Progbar

__all__ = ["Progbar", "resolve_verbose", "interactive"]


def resolve_verbose(verbose: Any, stream: Any = None, auto: int | None = None) -> int:
    """``verbose`` as 0, 1 or 2. ``"auto"`` is ``auto`` when given (``evaluate``/``predict``
    pass 1), else fit's rule: 1 on an interactive display, 2 otherwise."""
    if verbose != "auto":
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}.")
        return int(verbose)
    if auto is not None:
        return auto
    return 1 if interactive(stream) else 2


def interactive(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False
