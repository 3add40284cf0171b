"""The input shapes tf.keras 2.12's traced ``fit``/``evaluate``/``predict`` functions see.

tf.keras 2.12 runs those through a function traced for the data set's batch shape, so a
model that learns its input shape from its calls (a ``Sequential`` without a declared input)
learns that shape there: the batch size when every batch is full (8 samples in batches of
4), ``None`` when the last batch is partial, and only the rank for a generator or a
``Sequence``. A direct ``model(x)`` on two samples shows ``(2, ...)``. Its summary shows
which. The training engine (above the layers) marks its loops with ``traced_calls``; the
models (above it) read the shapes with ``traced_shape``.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

# None: direct calls; else (batch size or None, whether only the rank is known)
_TRACED: contextvars.ContextVar = contextvars.ContextVar("rnnkit_traced_calls", default=None)


@contextlib.contextmanager
def traced_calls(batch_size: int | None = None, ranks_only: bool = False) -> Iterator[None]:
    """Inside: calls count as tf.keras 2.12's traced calls with this batch size (``None``:
    unknown), or with every size unknown (``ranks_only``)."""
    token = _TRACED.set((batch_size, ranks_only))
    try:
        yield
    finally:
        _TRACED.reset(token)


def traced_shape(shape: tuple) -> tuple:
    """``shape`` (a call's input) as tf.keras 2.12's traced function would see it here."""
    spec = _TRACED.get()
    if spec is None or not shape:
        return shape
    batch_size, ranks_only = spec
    if ranks_only:
        return (None,) * len(shape)
    return (batch_size,) + tuple(shape[1:])
