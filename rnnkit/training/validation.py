"""Checks of what a user passes to ``fit``/``evaluate``/``predict``, run before any weight
changes: each failure is a ``ValueError``/``TypeError`` that names the argument and says
what was expected (the table of cases is ``docs/bad-inputs.md``).

In-memory arrays are checked whole before the first step; batches from a generator,
``Sequence`` or ``DataLoader`` are checked as they arrive (a bad batch in the middle of an
epoch stops training after the batches before it were applied, as in Keras).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from .. import losses as losses_mod

# numpy dtype kinds a model can take: bool, signed/unsigned int, float
_NUMERIC_KINDS = "biuf"


def check_int(value: Any, arg: str, what: str, minimum: int, allow_none: bool = True) -> None:
    """``value`` is an int >= ``minimum`` (bools and floats are refused: Keras's range()s
    and slices need ints)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what}: `{arg}` must be an integer >= {minimum}, got {value!r} "
                         f"({type(value).__name__}).")


def check_fit_args(what: str, batch_size=None, epochs=1, initial_epoch=0,
                   validation_split=0.0, steps=None, validation_steps=None,
                   validation_batch_size=None, validation_freq=1) -> None:
    check_int(batch_size, "batch_size", what, 1)
    check_int(validation_batch_size, "validation_batch_size", what, 1)
    check_int(steps, "steps_per_epoch" if what == "fit" else "steps", what, 1)
    check_int(validation_steps, "validation_steps", what, 1)
    if what != "fit":
        return
    check_int(epochs, "epochs", what, 0, allow_none=False)
    check_int(initial_epoch, "initial_epoch", what, 0, allow_none=False)
    if isinstance(validation_freq, numbers.Integral) and not isinstance(validation_freq, bool):
        check_int(validation_freq, "validation_freq", what, 1)
    elif not isinstance(validation_freq, (list, tuple, set, range)) or not all(
            isinstance(e, numbers.Integral) and e >= 1 for e in validation_freq):
        raise ValueError(f"{what}: `validation_freq` must be a positive int (validate every "
                         "n epochs) or a list of 1-based epoch numbers, got "
                         f"{validation_freq!r}.")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"{what}: `validation_split` must be a float in [0, 1) (the fraction "
                         f"of the samples held out), got {validation_split!r}.")


def as_array(value: Any, arg: str, what: str) -> Any:
    """``value`` as a tensor (or list of tensors for several inputs) of a numeric dtype;
    ragged nested lists and strings/objects fail with the argument's name."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"{what}: `{arg}` has dtype {value.dtype}; expected a real "
                            "(float, int or bool) tensor.")
        return value
    if isinstance(value, (list, tuple)) and value and \
            all(isinstance(v, (np.ndarray, torch.Tensor)) for v in value):
        from .data import to_tensor
        checked = [as_array(v, f"{arg}[{i}]", what) for i, v in enumerate(value)]
        return to_tensor(checked if isinstance(value, list) else tuple(checked))
    if isinstance(value, str) or (not isinstance(value, (np.ndarray, list, tuple))
                                  and not np.isscalar(value)):
        raise TypeError(f"{what}: `{arg}` must be a NumPy array, a torch tensor or a (nested) "
                        f"list of numbers, got {type(value).__name__}.")
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except ValueError as e:
            raise ValueError(f"{what}: `{arg}` is a ragged nested list (rows of different "
                             "lengths); pad the sequences to one length first, e.g. with "
                             "rnnkit.preprocessing.sequence.pad_sequences.") from e
    if value.dtype.kind not in _NUMERIC_KINDS:
        hint = " (a ragged list of sequences?)" if value.dtype == object else ""
        fix = " Convert strings to numbers first, e.g. with a Tokenizer or StringLookup." \
            if value.dtype.kind in "USO" else ""
        raise TypeError(f"{what}: `{arg}` has dtype {value.dtype}{hint}; expected real "
                        f"numbers (float, int or bool).{fix}")
    from .data import to_tensor
    return to_tensor(value)


def _tensors(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_finite(value: Any, arg: str, what: str) -> None:
    """The opt-in ``check_finite=True``: no NaN or inf anywhere in ``value``."""
    for t in _tensors(value):
        if t.is_floating_point():
            bad = ~torch.isfinite(t)
            if bool(bad.any()):
                index = tuple(int(i) for i in bad.nonzero()[0])
                raise ValueError(f"{what}: `{arg}` contains {int(bad.sum())} non-finite "
                                 f"value(s) (NaN or inf); the first is {float(t[index])} at "
                                 f"index {index}.")


def check_lengths(x, y, sw, what: str, prefix: str = "") -> None:
    sizes = {prefix + "x": [int(t.shape[0]) if t.dim() else 0 for t in _tensors(x)]}
    if y is not None:
        sizes[prefix + "y"] = [int(t.shape[0]) if t.dim() else 0 for t in _tensors(y)]
    if sw is not None:
        sizes[prefix + "sample_weight"] = [int(t.shape[0]) if t.dim() else 0
                                           for t in _tensors(sw)]
    if len({n for ns in sizes.values() for n in ns}) > 1:
        detail = ", ".join(f"{k} sizes: {', '.join(map(str, v))}" for k, v in sizes.items())
        raise ValueError(f"{what}: Data cardinality is ambiguous: {detail}. Make sure all "
                         "arrays contain the same number of samples.")
    # predict on 0 samples returns 0 outputs (a shape probe), as before; nothing to fit on
    if what != "predict" and sizes[prefix + "x"] and sizes[prefix + "x"][0] == 0:
        raise ValueError(f"{what}: `{prefix}x` is empty (0 samples); there is nothing to "
                         f"{'train on' if what == 'fit' else what}.")


def sparse_loss_kwargs(loss: Any) -> dict | None:
    """The sparse-categorical loss's keyword arguments, or None for other losses."""
    if getattr(loss, "fn", None) is losses_mod.sparse_categorical_crossentropy:
        return dict(getattr(loss, "fn_kwargs", {}))
    return None


def check_sparse_labels(y: torch.Tensor, num_classes: int | None, arg: str, what: str,
                        ignore_class: int | None = None) -> None:
    """Integer labels in ``[0, num_classes)`` (``ignore_class`` allowed), as tf.keras's
    "Received a label value of 5 which is outside the valid range of [0, 3)"."""
    labels = y
    if ignore_class is not None:
        labels = labels[labels != ignore_class]
    if labels.numel() == 0:
        return
    if labels.is_floating_point() and not bool((labels == labels.round()).all()):
        raise ValueError(f"{what}: `{arg}` for a sparse categorical loss must hold integer "
                         "class indices, got non-integer values such as "
                         f"{float(labels[labels != labels.round()][0])}.")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        bad = low if low < 0 else high
        valid = f"[0, {num_classes})" if num_classes is not None else "[0, classes)"
        raise ValueError(f"{what}: `{arg}`: received a label value of {bad} which is outside "
                         f"the valid range of {valid} for the sparse categorical loss."
                         + (f" The model's last layer has {num_classes} units: for labels 0 to "
                            f"{high}, use Dense({high + 1}, ...) as its last layer."
                            if num_classes is not None and high >= num_classes else ""))


def output_classes(model: Any, x: Any) -> int | None:
    """The size of the model's last output axis, from its shapes (no forward pass)."""
    if not getattr(model, "built", False) or not hasattr(model, "compute_output_shape") \
            or getattr(model, "_is_graph_network", True) is False:
        return None  # a subclassed model has no graph to read its output shape from
    try:
        shapes = [tuple(t.shape) for t in _tensors(x)]
        shape = model.compute_output_shape((None,) + shapes[0][1:] if len(shapes) == 1 else
                                           [(None,) + s[1:] for s in shapes])
    except Exception:  # a model that cannot tell its output shape: checked per batch
        return None
    if isinstance(shape, list) or not shape or shape[-1] is None:
        return None
    return int(shape[-1])


def _per_tensor(value: Any, tensors: Any, arg: str, what: str) -> Any:
    """A list of one array per model input (or output) stays a list, even when the arrays
    share a shape: ``fit([a, b], [y1, y2])`` for two (None, 1) outputs, as tf.keras 2.12
    reads it, rather than one stacked (2, samples) array."""
    if isinstance(value, (list, tuple)) and isinstance(tensors, (list, tuple)) and \
            len(tensors) > 1 and len(value) == len(tensors) and \
            all(isinstance(v, (np.ndarray, torch.Tensor)) for v in value):
        from .data import PerTensor, to_tensor
        return PerTensor(to_tensor(as_array(v, f"{arg}[{i}]", what)) for i, v in enumerate(value))
    return as_array(value, arg, what)


def check_arrays(model: Any, compiled: Any, x, y, sw, what: str, finite: bool,
                 prefix: str = "") -> tuple:
    """Convert and check in-memory ``x``/``y``/``sample_weight`` for ``what``."""
    x = _per_tensor(x, getattr(model, "inputs", None), prefix + "x", what)
    y = _per_tensor(y, getattr(model, "outputs", None), prefix + "y", what)
    sw = as_array(sw, prefix + "sample_weight", what)
    check_lengths(x, y, sw, what, prefix)
    if sw is not None and (sw.dim() < 1 or sw.dim() > 2):
        raise ValueError(f"{what}: `{prefix}sample_weight` must have shape (samples,) or "
                         f"(samples, timesteps), got {tuple(sw.shape)}.")
    if finite:
        for arg, v in ((prefix + "x", x), (prefix + "y", y), (prefix + "sample_weight", sw)):
            check_finite(v, arg, what)
    if compiled is not None and y is not None and isinstance(y, torch.Tensor):
        kwargs = sparse_loss_kwargs(compiled.loss)
        if kwargs is not None:
            check_sparse_labels(y, output_classes(model, x), prefix + "y", what,
                                kwargs.get("ignore_class"))
    return x, y, sw


def check_validation_data(validation_data: Any) -> Any:
    """``validation_data`` as fit uses it, refused before any training step when malformed:
    a list ``[x_val, y_val]`` counts as a tuple (tf.keras 2.12 unpacks both alike); in-memory
    data must be ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``."""
    if validation_data is None:
        return None
    if isinstance(validation_data, list) and len(validation_data) in (2, 3) and all(
            v is None or isinstance(v, (np.ndarray, torch.Tensor, list)) for v in validation_data):
        validation_data = tuple(validation_data)
    if isinstance(validation_data, tuple):
        if len(validation_data) not in (2, 3):
            raise ValueError("fit: when passing a `validation_data` argument, it must contain "
                             "either 2 items (x_val, y_val), or 3 items (x_val, y_val, "
                             f"val_sample_weights); found {len(validation_data)} item(s). "
                             "Nothing was trained.")
        if validation_data[1] is None:
            raise ValueError("fit: `validation_data` has no targets (y_val is None); pass "
                             "(x_val, y_val). Nothing was trained.")
    elif isinstance(validation_data, (np.ndarray, torch.Tensor)):
        raise ValueError("fit: `validation_data` is a single array; pass (x_val, y_val). "
                         "Nothing was trained.")
    return validation_data
