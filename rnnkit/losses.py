"""Keras 2 (tf.keras 2.12) losses: functions by name and classes with reductions.

A loss function maps ``(y_true, y_pred)`` to one value per sample (the mean over the last
axis, as Keras's functions do). A ``Loss`` object then weights those values by
``sample_weight`` and reduces them: ``"sum_over_batch_size"`` (the default, ``"auto"``) is
``sum(loss * weight) / number of values`` — Keras divides by the count, not by the sum of
the weights. Probabilities are clipped to ``[eps, 1 - eps]`` with ``eps = 1e-7`` before a
logarithm, exactly where Keras clips, so values match Keras near 0 and 1.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import torch
import torch.nn.functional as F

from . import eager

EPSILON = 1e-7

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
           "CosineSimilarity", "get", "serialize", "deserialize"]


def _tensor(x: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    if getattr(type(x), "_keras_symbolic", False):
        from .backend_ops import symbolic_refusal
        raise TypeError(symbolic_refusal("a keras.losses function", x))
    if not isinstance(x, torch.Tensor):
        import numpy as np
        x = torch.as_tensor(np.asarray(x))
    if like is not None:
        if x.device != like.device:
            x = x.to(like.device)
        if x.dtype != like.dtype and (x.is_floating_point() or like.is_floating_point()):
            x = x.to(like.dtype)
    elif not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    return x


def _align(y_true, y_pred):
    """Float tensors on one device, with a size-1 last axis squeezed where the ranks differ
    by one (Keras's ``squeeze_or_expand_dimensions``): ``y (N,)`` against ``pred (N, 1)``."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, like=y_pred)
    if y_true.dim() == y_pred.dim() - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.unsqueeze(-1)
        if y_pred.dim() == 3 and y_true.shape[1] == 1 and y_pred.shape[1] > 1:
            # Keras broadcasts silently; this is nearly always return_sequences=True by mistake.
            warnings.warn(
                f"The loss compares targets of shape {tuple(y_true.shape[:-1])} with predictions "
                f"of shape {tuple(y_pred.shape)}, one per time step: each target is repeated "
                "over the steps. To predict once per sequence, set return_sequences=False on "
                "the last recurrent layer.", stacklevel=4)
    elif y_pred.dim() == y_true.dim() - 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true, y_pred


# ---------------------------------------------------------------------- functions
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return torch.mean(torch.square(y_pred - y_true), dim=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return torch.mean(torch.abs(y_pred - y_true), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first - second), dim=-1)


def huber(y_true, y_pred, delta: float = 1.0):
    y_true, y_pred = _align(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta ** 2
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def _smooth_binary(y_true, label_smoothing):
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1):
    y_true, y_pred = _align(y_true, y_pred)
    y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * torch.log(p + EPSILON) + (1.0 - y_true) * torch.log(1.0 - p + EPSILON))
    return torch.mean(bce, dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1):
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, like=y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"categorical_crossentropy: y_true and y_pred must have the same shape "
                         f"(one-hot targets); got {tuple(y_true.shape)} and "
                         f"{tuple(y_pred.shape)}. For integer targets use "
                         "sparse_categorical_crossentropy." + _categorical_hint(y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        return -torch.sum(y_true * F.log_softmax(y_pred, dim=axis), dim=axis)
    p = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    p = torch.clamp(p, EPSILON, 1.0 - EPSILON)
    return -torch.sum(y_true * torch.log(p), dim=axis)


def _categorical_hint(y_true: torch.Tensor, y_pred: torch.Tensor) -> str:
    if y_true.dim() < y_pred.dim() or (y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1):
        return (' Integer labels: compile with loss="sparse_categorical_crossentropy", or '
                "one-hot encode them with rnnkit.utils.to_categorical.")
    if y_true.dim() == y_pred.dim() and y_true.shape[:-1] == y_pred.shape[:-1]:
        return (f" The last layer has {y_pred.shape[-1]} units for {y_true.shape[-1]} classes: "
                f'use Dense({y_true.shape[-1]}, activation="softmax").')
    return ""


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1,
                                    ignore_class: int | None = None):
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    labels = y_true.to(device=y_pred.device, dtype=torch.long)
    if tuple(labels.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"sparse_categorical_crossentropy: expected integer targets of shape "
                         f"{tuple(y_pred.shape[:-1])} for predictions of shape "
                         f"{tuple(y_pred.shape)}, got {tuple(y_true.shape)}."
                         + (" These look like one-hot targets: use "
                            'loss="categorical_crossentropy", or pass the class indices '
                            "y.argmax(-1)." if y_true.shape == y_pred.shape else ""))
    # Keras turns probabilities into logits as log(clip(p)), then takes the softmax cross
    # entropy of those logits (which renormalises them).
    logits = y_pred if from_logits else torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON))
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    log_probs = F.log_softmax(logits, dim=-1)
    loss = -torch.gather(log_probs, -1, labels.unsqueeze(-1)).squeeze(-1)
    if valid is not None:
        loss = loss * valid.to(loss.dtype)
    return loss


def kl_divergence(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


def _signed_labels(y_true):
    # Keras converts {0, 1} labels to {-1, 1} for the hinge losses.
    if bool(torch.all((y_true == 0) | (y_true == 1))):
        return 2.0 * y_true - 1.0
    return y_true


def hinge(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return torch.mean(torch.clamp(1.0 - _signed_labels(y_true) * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return torch.mean(torch.square(torch.clamp(1.0 - _signed_labels(y_true) * y_pred, min=0.0)),
                      dim=-1)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def _l2_normalize(x, axis):
    return x * torch.rsqrt(torch.clamp(torch.sum(x * x, dim=axis, keepdim=True), min=1e-12))


def cosine_similarity(y_true, y_pred, axis: int = -1):
    y_true, y_pred = _align(y_true, y_pred)
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


# Keras's short names are aliases of the same functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber


# ---------------------------------------------------------------------- classes
_REDUCTIONS = ("auto", "sum_over_batch_size", "sum", "none")


class Loss:
    """Base class: ``__call__(y_true, y_pred, sample_weight=None)`` -> reduced loss."""

    def __init__(self, reduction: str = "auto", name: str | None = None) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid Reduction Key: {reduction}. Expected keys are "
                             f"{list(_REDUCTIONS)}")
        self.reduction, self.name = reduction, name

    def call(self, y_true, y_pred) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None) -> torch.Tensor:
        losses = self.call(y_true, y_pred)
        loss = reduce_weighted(losses, sample_weight, mask, self.reduction)
        # on a model's outputs for NumPy data (a tutorial's `loss(y, model(x))`): a value
        # that prints and reads as TensorFlow's; in fit (plain tensors): the plain tensor
        return eager.keras_outputs((y_true, y_pred, sample_weight), loss)

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


def _expand_to(weight: torch.Tensor, losses: torch.Tensor) -> torch.Tensor:
    # (N,) weights against (N, T) per-step losses: one weight per sample, as Keras expands.
    while weight.dim() > losses.dim() and weight.shape[-1] == 1:
        weight = weight.squeeze(-1)
    while weight.dim() < losses.dim():
        weight = weight.unsqueeze(-1)
    return weight


def reduce_weighted(losses: torch.Tensor, sample_weight=None, mask=None,
                    reduction: str = "auto") -> torch.Tensor:
    """Weight per-sample losses and reduce them as Keras 2 does.

    A mask (from a masking layer, on the model output) counts only the valid entries: the
    mean is ``sum(loss * weight * mask) / sum(mask)`` (Keras's ``apply_valid_mask``).
    """
    count = float(losses.numel())
    if sample_weight is not None:
        losses = losses * _expand_to(_tensor(sample_weight, like=losses), losses)
    if mask is not None:
        mask = _expand_to(mask.to(device=losses.device, dtype=losses.dtype), losses)
        losses = losses * mask
        count = mask.expand_as(losses).sum()
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    if isinstance(count, torch.Tensor):
        return torch.where(count > 0, total / torch.clamp(count, min=1e-30), total * 0)
    return total / count if count else total * 0


class LossFunctionWrapper(Loss):
    """A loss class around one of the functions above, with its keyword arguments."""

    def __init__(self, fn: Callable, reduction: str = "auto", name: str | None = None,
                 **fn_kwargs: Any) -> None:
        super().__init__(reduction=reduction, name=name)
        self.fn, self.fn_kwargs = fn, fn_kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _loss_class(class_name: str, fn: Callable, default_name: str, **defaults: Any) -> type:
    def __init__(self, *args, reduction="auto", name=default_name, **kwargs):
        params = dict(defaults)
        keys = list(defaults)
        if len(args) > len(keys):
            raise TypeError(f"{class_name} takes at most {len(keys)} positional arguments.")
        params.update(zip(keys, args))
        for key, value in kwargs.items():
            if key not in defaults:
                raise TypeError(f"{class_name}: unexpected keyword argument {key!r}; expected "
                                f"one of {keys + ['reduction', 'name']}.")
            params[key] = value
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, **params)

    return type(class_name, (LossFunctionWrapper,), {
        "__init__": __init__, "__doc__": f"Keras ``{class_name}``: ``{fn.__name__}`` reduced.",
        "from_config": classmethod(lambda cls, config: cls(**config))})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError",
                                          mean_absolute_percentage_error,
                                          "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError",
                                          mean_squared_logarithmic_error,
                                          "mean_squared_logarithmic_error")
Huber = _loss_class("Huber", huber, "huber_loss", delta=1.0)
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh")
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy,
                                 "binary_crossentropy", from_logits=False, label_smoothing=0.0,
                                 axis=-1)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      "categorical_crossentropy", from_logits=False,
                                      label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy",
                                            sparse_categorical_crossentropy,
                                            "sparse_categorical_crossentropy", from_logits=False,
                                            ignore_class=None)
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _loss_class("Poisson", poisson, "poisson")
Hinge = _loss_class("Hinge", hinge, "hinge")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge")
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity",
                               axis=-1)

_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "huber": huber, "huber_loss": huber, "log_cosh": log_cosh, "logcosh": log_cosh,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kl_divergence": kl_divergence, "kld": kl_divergence, "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "poisson": poisson, "hinge": hinge, "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge, "cosine_similarity": cosine_similarity,
}
_CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, CosineSimilarity)}


def get(identifier: Any) -> Callable | None:
    """A loss function or object from a Keras name, a class name, a config dict or a callable."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        from .layers.mistakes import did_you_mean
        raise ValueError(f"Unknown loss function: {identifier!r}."
                         f"{did_you_mean(identifier, set(_FUNCTIONS) | set(_CLASSES))} Known losses: "
                         f"{sorted(set(_FUNCTIONS) | set(_CLASSES))}.")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


def deserialize(config: dict) -> Loss:
    name = config.get("class_name")
    if name not in _CLASSES:
        raise ValueError(f"Unknown loss class: {name!r}. Known: {sorted(_CLASSES)}.")
    return _CLASSES[name].from_config(config.get("config", {}))


def serialize(loss: Any) -> Any:
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return getattr(loss, "__name__", str(loss))
