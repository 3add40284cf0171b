"""Keras 2 (tf.keras 2.12) activation functions on torch tensors, by their Keras names.

Two things differ from what torch's namesakes would give:

- ``hard_sigmoid`` is Keras 2's ``clip(0.2 * x + 0.5, 0, 1)``, not torch's (and Keras 3's)
  ``clip(x / 6 + 0.5, 0, 1)``; old LSTM/GRU configs use it as ``recurrent_activation``.
- ``gelu`` defaults to the exact erf form (``approximate=False``), as Keras 2 does.

``get(name)`` returns the function for a name and ``serialize(fn)`` the name for a
function, so a layer stores the callable and writes ``"tanh"`` in its config. The names
are the ones tf.keras 2's ``activations.deserialize`` resolves (``silu`` is ``swish``).
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

__all__ = [
    "tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "softmax", "log_softmax", "elu",
    "selu", "softplus", "softsign", "exponential", "swish", "silu", "gelu", "mish",
    "relu6", "leaky_relu", "get", "serialize", "deserialize",
]


def _tensor(x: Any) -> torch.Tensor:
    # Keras activations accept arrays and lists; torch ops need a (floating) tensor.
    if isinstance(x, torch.Tensor):
        return x
    t = torch.as_tensor(x)
    return t if t.is_floating_point() else t.to(torch.get_default_dtype())


def tanh(x):
    """``tanh(x)``."""
    return torch.tanh(_tensor(x))


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_tensor(x))


def hard_sigmoid(x):
    """Keras 2: ``clip(0.2 * x + 0.5, 0, 1)`` (0 below -2.5, 1 above 2.5)."""
    return torch.clamp(_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


def linear(x):
    """The identity (Keras's ``activation=None``)."""
    return x


def relu(x, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """Keras 2 ``relu``: ``max(x, 0)``; below ``threshold`` the slope is ``alpha``; the result
    is capped at ``max_value``. Follows ``keras.backend.relu`` step by step."""
    x = _tensor(x)
    if alpha != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope=alpha)
        negative_part = F.relu(-x + threshold) if threshold != 0 else F.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = x * (x > threshold).to(x.dtype)  # values at or under the threshold become 0
    elif max_value == 6:
        x = F.relu6(x)
        clip_max = False
    else:
        x = F.relu(x)
    if clip_max:
        x = torch.clamp(x, 0.0, max_value)
    if alpha != 0.0:
        x = x - alpha * negative_part
    return x


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (the last by default)."""
    return F.softmax(_tensor(x), dim=axis)


def log_softmax(x, axis: int = -1):
    """``log(softmax(x))`` along ``axis``, computed stably."""
    return F.log_softmax(_tensor(x), dim=axis)


def elu(x, alpha: float = 1.0):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return F.elu(_tensor(x), alpha=alpha)


def selu(x):
    """``scale * elu(x, alpha)`` with the fixed SELU constants (same as TF's)."""
    return F.selu(_tensor(x))


def softplus(x):
    """``log(exp(x) + 1)``."""
    return F.softplus(_tensor(x))


def softsign(x):
    """``x / (|x| + 1)``."""
    return F.softsign(_tensor(x))


def exponential(x):
    """``exp(x)``."""
    return torch.exp(_tensor(x))


def swish(x):
    """``x * sigmoid(x)`` (also known as ``silu``)."""
    return F.silu(_tensor(x))


silu = swish


def gelu(x, approximate: bool = False):
    """``x * Phi(x)``; with ``approximate=True`` the tanh form
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    return F.gelu(_tensor(x), approximate="tanh" if approximate else "none")


def mish(x):
    """``x * tanh(softplus(x))``."""
    return F.mish(_tensor(x))


def relu6(x):
    """``min(max(x, 0), 6)`` (``tf.nn.relu6``, which tf.keras 2 resolves by name)."""
    return F.relu6(_tensor(x))


def leaky_relu(x, alpha: float = 0.2):
    """``x`` if ``x > 0`` else ``alpha * x`` (``tf.nn.leaky_relu``, default alpha 0.2)."""
    return F.leaky_relu(_tensor(x), negative_slope=alpha)


# Keras name -> function. The first name listed for a function is the one serialize() writes.
_ACTIVATIONS: dict[str, Callable] = {
    "linear": linear, "tanh": tanh, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid,
    "relu": relu, "softmax": softmax, "log_softmax": log_softmax, "elu": elu, "selu": selu,
    "softplus": softplus, "softsign": softsign, "exponential": exponential,
    "swish": swish, "silu": swish, "gelu": gelu, "mish": mish, "relu6": relu6,
    "leaky_relu": leaky_relu,
}
_NAMES: dict[Callable, str] = {}
for _name, _fn in _ACTIVATIONS.items():
    _NAMES.setdefault(_fn, _name)
del _name, _fn


def _unknown(name: Any) -> ValueError:
    known = ", ".join(sorted(_ACTIVATIONS))
    import difflib  # a near miss ('tanhh') gets a suggestion
    close = difflib.get_close_matches(str(name).lower(), sorted(_ACTIVATIONS), n=1, cutoff=0.75)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Unknown activation function: {name!r}.{hint} Known activations: {known}.")


def deserialize(name: str | dict) -> Callable:
    """The function for a Keras name, or for a Keras 2 ``{"class_name": "tanh"}`` /
    Keras 3 ``{"class_name": "function", "config": "tanh", ...}`` dict."""
    if isinstance(name, dict):
        class_name, config = name.get("class_name"), name.get("config")
        if class_name == "function" and isinstance(config, str):  # Keras 3 form
            return deserialize(config)
        if config not in (None, {}):
            raise ValueError(f"Could not interpret activation config {name!r}: "
                             "activation functions take no config.")
        return deserialize(class_name)
    if isinstance(name, str) and name in _ACTIVATIONS:
        return _ACTIVATIONS[name]
    raise _unknown(name)


def get(identifier: Any) -> Callable:
    """None -> ``linear``; a name or Keras dict -> its function; any callable as is."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn: Callable) -> str:
    """The Keras name of an activation (``linear`` for the identity); a user function's
    ``__name__`` (so ``torch.tanh`` serialises as ``"tanh"``)."""
    try:
        return _NAMES[fn]
    except (KeyError, TypeError):  # TypeError: an unhashable callable object
        pass
    name = getattr(fn, "__name__", None)
    if not callable(fn) or not isinstance(name, str):
        raise ValueError(f"Unknown activation function {fn!r} cannot be serialized: "
                         "it is not a function with a name.")
    return name
