"""What to change, for the mistakes Keras RNN users make most often.

Each error keeps tf.keras 2's own words (recorded in tests/fixtures/keras2_common_mistakes)
and these functions add one sentence saying what to change; ``docs/common-mistakes.md``
lists every case. Only the standard library here: any layer may import it.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable, Sequence


def ndim_hint(expected: int, shape: Sequence) -> str:
    """For 'expected ndim=3, found ndim=N': the usual causes of a wrong rank, and the fix."""
    shape = tuple(shape)
    if expected == 3 and len(shape) == 2:
        return (" A recurrent layer reads (batch, timesteps, features): if this input is the "
                "output of another recurrent layer, create that layer with "
                "return_sequences=True; for data of shape (samples, timesteps), add a feature "
                "axis: x[..., None].")
    if expected == 3 and len(shape) == 4:
        inner = tuple(shape[2:])
        return (f" `input_shape` leaves out the batch size: write input_shape={inner}; to fix "
                f"the batch size too, use batch_input_shape={tuple(shape[1:])} (or "
                f"Input(shape={inner}, batch_size={shape[1]})).")
    if expected == 3 and len(shape) == 1:
        return " Pass a batch of sequences, shape (batch, timesteps, features)."
    return ""


def features_hint(expected_features: int, shape: Sequence) -> str:
    """For data with another number of features than the layer was built for."""
    steps = shape[1] if len(shape) == 3 else None
    return (f" The layer was built for {expected_features} feature(s) a step and the data has "
            f"{shape[-1]}: build the model with input_shape=({steps}, {shape[-1]}) "
            "(timesteps, features), or pass the features it was built for.")


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """' Did you mean 'x'?' for a near miss among ``known`` (case-insensitive), else ''."""
    if not isinstance(name, str):
        return ""
    known = list(known)
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.75)
    return f" Did you mean {lowered[close[0]]!r}?" if close else ""
