"""An optimizer's state as Keras files hold it: the step count and the slots, in Keras's order.

Both Keras formats store the state as a flat, positional list, and both Keras versions load
it by position (tf.keras 2.12 ``optimizer.set_weights``, Keras 3 ``load_own_variables``):

- tf.keras 2.12 ``.h5`` (``optimizer_weights``): ``iteration``, then the slots;
- Keras 3 ``.keras`` (``optimizer/vars/0..n``): ``iteration``, ``learning_rate`` (absent when
  the learning rate is a schedule), the slots, and for ``Nadam`` its running ``u_product``.

The slots follow each optimizer's ``build``: some interleave them per variable (Adam: ``m``
and ``v`` of the first variable, then of the second, ...), some store one slot for every
variable before the next (RMSprop: every ``velocity``, then every ``momentum``, then every
``average_gradient``). The variables are the model's ``trainable_weights`` in Keras order.
rnnkit's slot names are tf.keras 2's; Keras 3 renamed a few (``m`` -> ``momentum``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from . import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, Optimizer, RMSprop
from .schedules import LearningRateSchedule

_KERAS3_SLOT = {"m": "momentum", "v": "velocity", "vhat": "velocity_hat", "u": "norm"}


class OptimizerStateError(ValueError):
    """A file's optimizer state does not fit the optimizer and model it was loaded into."""


def _blocks(opt: Optimizer, fmt: str) -> list[tuple[str, list[str]]]:
    """``[(mode, slot names)]``: ``interleaved`` (per variable) or ``blocked`` (per slot)."""
    if isinstance(opt, Adam):  # AdamW too
        return [("interleaved", ["m", "v"])] + ([("blocked", ["vhat"])] if opt.amsgrad else [])
    if isinstance(opt, SGD):
        # tf.keras 2.12 builds the momentum slots even at momentum=0; Keras 3 does not.
        return [("blocked", ["m"])] if opt.momentum or fmt == "keras2" else []
    if isinstance(opt, RMSprop):
        return [("blocked", ["velocity"])] + ([("blocked", ["momentum"])] if opt.momentum
                                              else []) \
            + ([("blocked", ["average_gradient"])] if opt.centered else [])
    if isinstance(opt, Nadam):
        return [("interleaved", ["m", "v"])]
    if isinstance(opt, Adamax):
        return [("interleaved", ["m", "u"])]
    if isinstance(opt, Adagrad):
        return [("blocked", ["accumulator"])]
    if isinstance(opt, Adadelta):
        return [("interleaved", ["accumulated_grad", "accumulated_delta_var"])]
    raise OptimizerStateError(f"rnnkit does not know the Keras layout of {type(opt).__name__}'s "
                              "state.")


def slot_order(opt: Optimizer, n_vars: int, fmt: str) -> list[tuple[str, int]]:
    """``(slot name, variable index)`` in the order Keras stores the slots."""
    order = []
    for mode, slots in _blocks(opt, fmt):
        if mode == "interleaved":
            order += [(slot, i) for i in range(n_vars) for slot in slots]
        else:
            order += [(slot, i) for slot in slots for i in range(n_vars)]
    return order


def _has_lr_variable(opt: Optimizer) -> bool:
    # Keras 3 keeps a float learning rate in a variable; a schedule (or callable) has none.
    return not (isinstance(opt._learning_rate, LearningRateSchedule)
                or callable(opt._learning_rate))


def nadam_u_product(beta_1: float, iterations: int) -> float:
    """Nadam's running product of ``u_t`` after ``iterations`` steps, multiplied in the order
    ``Nadam._update`` multiplies it (so a restored optimizer continues bit for bit)."""
    product = 1.0
    for t in range(1, iterations + 1):
        product *= beta_1 * (1.0 - 0.5 * 0.96 ** t)
    return product


def keras_names(opt: Optimizer, var_names: list[str], fmt: str) -> list[str]:
    """The names Keras gives the entries of :func:`export_state`'s list (for messages and
    tf.keras 2's ``weight_names``)."""
    names = ["iteration:0" if fmt == "keras2" else "iteration"]
    if fmt == "keras3" and _has_lr_variable(opt):
        names.append("learning_rate")
    for slot, i in slot_order(opt, len(var_names), fmt):
        if fmt == "keras2":
            names.append(f"{opt.name}/{slot}/{var_names[i]}")
        else:
            var = var_names[i].rsplit(":", 1)[0].replace("/", "_")
            names.append(f"{var}_{_KERAS3_SLOT.get(slot, slot)}")
    if fmt == "keras3" and isinstance(opt, Nadam):
        names.append("u_product")
    return names


def export_state(opt: Optimizer, params: list[torch.Tensor], fmt: str) -> list[np.ndarray]:
    """The state of ``opt`` for the variables ``params`` (Keras order) as Keras stores it.

    A variable the optimizer has not stepped yet gets its slots' initial values, so the list
    is always complete (Keras builds every slot before its first step)."""
    arrays = [np.asarray(opt._iterations, dtype=np.int64)]
    if fmt == "keras3" and _has_lr_variable(opt):
        # The base rate (Keras 3's variable), not one scaled by the legacy `decay`.
        arrays.append(np.asarray(opt._learning_rate, dtype=np.float32))
    for slot, i in slot_order(opt, len(params), fmt):
        param = params[i]
        slots = opt._slots.get(id(param))
        if slots is None or slot not in slots:
            slots = opt._create_slots(param)
        value = slots.get(slot)
        if value is None:  # tf.keras 2.12's SGD momentum slot at momentum=0: always zeros
            value = torch.zeros_like(param)
        arrays.append(value.detach().cpu().numpy())
    if fmt == "keras3" and isinstance(opt, Nadam):
        arrays.append(np.asarray(opt._u_product if opt.iterations else 1.0, dtype=np.float32))
    return arrays


def import_state(opt: Optimizer, params: list[torch.Tensor], arrays: list[np.ndarray],
                 fmt: str, names: list[str] | None = None) -> None:
    """Set ``opt``'s step count and slots from :func:`export_state`'s list, or raise
    :class:`OptimizerStateError` saying what does not fit; ``opt`` is changed only when all
    of it fits. ``names`` (tf.keras 2's ``weight_names``) are checked against the slot order;
    a legacy optimizer's names (``Adam/iter:0``, slots in another order) are read by name."""
    labels = names
    if fmt == "keras2" and names and names[0].rsplit("/", 1)[-1] == "iter:0":
        order = _legacy_order(opt, names, len(params))
        expected = names  # checked entry by entry by _legacy_order
        names = None
    else:
        order = slot_order(opt, len(params), fmt)
        expected = keras_names(opt, [f"<{i}>" for i in range(len(params))], fmt)
    has_lr = fmt == "keras3" and _has_lr_variable(opt)
    first = 2 if has_lr else 1
    if len(arrays) == first and len(expected) > first and _is_zero_count(arrays[0]):
        return  # saved before its first step (Keras has not built the slots): fresh state
    if len(arrays) != len(expected):
        raise OptimizerStateError(
            f"{type(opt).__name__} with these settings over {len(params)} trainable weights "
            f"has {len(expected)} state variables, the file has {len(arrays)}.")
    iterations = np.asarray(arrays[0])
    if iterations.shape != () or iterations.dtype.kind not in "iuf" or iterations < 0 \
            or float(iterations) != int(iterations):
        raise OptimizerStateError(f"the iteration count should be a non-negative integer "
                                  f"scalar, the file has {iterations!r}.")
    if names is not None:
        _check_names(opt, names, order, fmt)
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for (slot, i), array, index in zip(order, arrays[first:], range(first, len(arrays))):
        param = params[i]
        array = np.asarray(array)
        if tuple(array.shape) != tuple(param.shape):
            label = repr(labels[index]) if labels is not None else f"variable {index}"
            raise OptimizerStateError(f"{label} ({slot!r} of trainable weight {i}) has shape "
                                      f"{tuple(array.shape)}, the weight has "
                                      f"{tuple(param.shape)}.")
        slots.setdefault(id(param), {})[slot] = torch.as_tensor(
            array, dtype=param.dtype).to(param.device).clone()
    fresh = {id(p): opt._create_slots(p) for p in params}
    for key, own in fresh.items():  # keep only the slots this optimizer uses
        slots[key] = {name: slots.get(key, {}).get(name, value) for name, value in own.items()}
    learning_rate = None
    if has_lr:
        lr = np.asarray(arrays[1])
        if lr.shape != () or lr.dtype.kind != "f" or not math.isfinite(float(lr)):
            raise OptimizerStateError(f"the learning rate should be a finite float scalar, "
                                      f"the file has {lr!r}.")
        # The config's float64 value is kept where the stored float32 is its rounding.
        if np.float32(opt._learning_rate) != np.float32(lr):
            learning_rate = float(lr)
    opt._slots = slots
    opt.iterations = int(iterations)
    if learning_rate is not None:
        opt.learning_rate = learning_rate
    if isinstance(opt, Nadam):
        # Recomputed from the step count: tf.keras 2.12's .h5 has no u_product (its own
        # reload restarts it at 1.0, a Keras bug rnnkit does not copy), and Keras 3's is float32.
        opt._u_product = nadam_u_product(opt.beta_1, opt._iterations)
        opt._u_product_step = opt._iterations - 1


# tf.keras's legacy optimizers (all of TF <= 2.10's, ``keras.optimizers.legacy`` later) store
# ``<name>/iter:0`` and then one slot for every variable before the next slot, named
# ``<name>/<variable>/<slot>:0``. Their updates are the new optimizers' for these classes;
# legacy Nadam's schedule is not (0.96 ** (0.004 t)), so its state is not taken.
_LEGACY_SLOTS = [(Adam, {"m": "m", "v": "v", "vhat": "vhat"}),
                 (Adamax, {"m": "m", "v": "u"}),
                 (RMSprop, {"rms": "velocity", "momentum": "momentum", "mg": "average_gradient"}),
                 (SGD, {"momentum": "m"}),
                 (Adagrad, {"accumulator": "accumulator"}),
                 (Adadelta, {"accum_grad": "accumulated_grad", "accum_var": "accumulated_delta_var"})]


def _legacy_order(opt: Optimizer, names: list[str], n_vars: int) -> list[tuple[str, int]]:
    """``(rnnkit slot, variable index)`` for a legacy optimizer's ``weight_names``."""
    mapping = next((m for cls, m in _LEGACY_SLOTS if isinstance(opt, cls)), None)
    if mapping is None:
        raise OptimizerStateError(f"the file holds a tf.keras legacy optimizer's state (first "
                                  f"entry {names[0]!r}), which rnnkit reads only for "
                                  f"{', '.join(c.__name__ for c, _ in _LEGACY_SLOTS)}, not "
                                  f"{type(opt).__name__}.")
    suffixes = [name.rsplit("/", 1)[-1].split(":")[0] for name in names[1:]]
    blocks = list(dict.fromkeys(suffixes))
    order = [(slot, i) for slot in blocks for i in range(n_vars)]
    if len(suffixes) != len(order) or any(s != slot for s, (slot, _) in zip(suffixes, order)):
        raise OptimizerStateError(f"the legacy optimizer's {len(suffixes)} slots "
                                  f"({', '.join(blocks)}) are not one of each for the "
                                  f"{n_vars} trainable weights.")
    unknown = [slot for slot in blocks if slot not in mapping]
    if unknown:
        raise OptimizerStateError(f"the legacy {type(opt).__name__} slots {unknown} have no "
                                  f"rnnkit counterpart (known: {sorted(mapping)}).")
    return [(mapping[slot], i) for slot, i in order]


def _is_zero_count(array: Any) -> bool:
    array = np.asarray(array)
    return array.shape == () and array.dtype.kind in "iuf" and float(array) == 0


def _check_names(opt: Optimizer, names: list[str], order: list, fmt: str) -> None:
    if fmt != "keras2":
        return
    if names[0].rsplit("/", 1)[-1] != "iteration:0":
        raise OptimizerStateError(f"the first entry should be 'iteration:0', the file has "
                                  f"{names[0]!r}.")
    for name, (slot, i) in zip(names[1:], order):
        parts = name.split("/")
        if slot not in parts[:2]:
            raise OptimizerStateError(f"entry {name!r} should be the {slot!r} slot of trainable "
                                      f"weight {i} (tf.keras 2.11+ order).")
