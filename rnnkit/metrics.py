"""Keras 2 (tf.keras 2.12) metrics: stateful objects averaged over an epoch.

A metric accumulates over the batches of an epoch and ``result()`` gives the value so far:
the mean-style metrics keep ``total = sum(value * weight)`` and ``count = sum(weight)`` over
every sample seen (so the epoch value is the mean over samples, not the mean of batch
means); ``RootMeanSquaredError``, ``Precision``, ``Recall``, ``AUC`` and the counts
(``TruePositives`` ... ``FalseNegatives``) keep sums or confusion counts. Totals stay on the
metric's device until ``result()`` is read, so a GPU loop does not synchronise each batch.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from . import backend
from . import losses as losses_mod
from .losses import _align, _expand_to, _tensor

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "Accuracy", "MeanSquaredError",
           "MeanAbsoluteError", "MeanAbsolutePercentageError", "RootMeanSquaredError", "AUC",
           "Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives",
           "FalseNegatives", "get", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "top_k_categorical_accuracy"]


# ---------------------------------------------------------------------- functions
def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    y_true, y_pred = _align(y_true, y_pred)
    return torch.mean((y_true == (y_pred > threshold).to(y_pred.dtype)).to(y_pred.dtype), dim=-1)


def categorical_accuracy(y_true, y_pred):
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, like=y_pred)
    return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).to(y_pred.dtype)


def _sparse_labels(y_true, y_pred):
    y_true = _tensor(y_true).to(y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true.to(torch.long)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = _tensor(y_pred)
    return (_sparse_labels(y_true, y_pred) == torch.argmax(y_pred, dim=-1)).to(y_pred.dtype)


def _in_top_k(labels, y_pred, k):
    # tf.math.in_top_k: the target's score is among the k largest (ties count as in).
    target = torch.gather(y_pred, -1, labels.unsqueeze(-1))
    return ((y_pred > target).sum(dim=-1) < k).to(y_pred.dtype)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_pred = _tensor(y_pred)
    return _in_top_k(torch.argmax(_tensor(y_true, like=y_pred), dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_pred = _tensor(y_pred)
    return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)


def accuracy(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return (y_true == y_pred).to(y_pred.dtype)


# ---------------------------------------------------------------------- objects
class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``; calling updates and returns."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or _snake(type(self).__name__)
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def reset_states(self) -> None:  # Keras 2 spelling
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out


def _drawn_name(name: str | None, cls: type) -> str:
    """tf.keras 2.12's name for the metrics whose constructor has ``name=None`` (AUC,
    Precision, Recall, the counts): each one made without a name takes the next free name,
    ``auc``, ``auc_1``, ... (``clear_session`` starts again), as Keras layers do, so a second
    model's metric logs ``val_auc_1``."""
    return name if name is not None else backend.unique_object_name(
        backend.to_snake_case(cls.__name__))


class Mean(Metric):
    """Weighted mean of every value passed to ``update_state(values, sample_weight)``."""

    def reset_state(self):
        self._total = 0.0
        self._count = 0.0

    def update_state(self, values, sample_weight=None):
        values = _tensor(values).detach()
        if sample_weight is None:
            self._total = self._total + values.sum()
            self._count = self._count + values.numel()
            return
        weight = _tensor(sample_weight, like=values).detach()
        weight = _expand_to(weight, values).expand_as(values) if values.dim() else weight
        self._total = self._total + (values * weight).sum()
        self._count = self._count + weight.sum()

    def result(self) -> float:
        total, count = float(self._total), float(self._count)
        return total / count if count else 0.0


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred)`` per sample."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            mask = _expand_to(mask.to(values.device, values.dtype), values)
            sample_weight = mask if sample_weight is None else \
                _expand_to(_tensor(sample_weight, like=values), values) * mask
        super().update_state(values, sample_weight)

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


def _wrapper_class(class_name: str, fn: Callable, default_name: str, **defaults: Any) -> type:
    def __init__(self, name=default_name, dtype=None, **kwargs):
        params = {**defaults, **kwargs}
        unknown = set(params) - set(defaults)
        if unknown:
            raise TypeError(f"{class_name}: unexpected keyword argument(s) {sorted(unknown)}.")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **params)

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__})


BinaryAccuracy = _wrapper_class("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                                threshold=0.5)
CategoricalAccuracy = _wrapper_class("CategoricalAccuracy", categorical_accuracy,
                                     "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper_class("SparseCategoricalAccuracy",
                                           sparse_categorical_accuracy,
                                           "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                         "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _wrapper_class("SparseTopKCategoricalAccuracy",
                                               sparse_top_k_categorical_accuracy,
                                               "sparse_top_k_categorical_accuracy", k=5)
Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy")
MeanSquaredError = _wrapper_class("MeanSquaredError", losses_mod.mean_squared_error,
                                  "mean_squared_error")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", losses_mod.mean_absolute_error,
                                   "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper_class("MeanAbsolutePercentageError",
                                             losses_mod.mean_absolute_percentage_error,
                                             "mean_absolute_percentage_error")


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_pred - y_true)²))`` over every element seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        y_true, y_pred = _align(y_true, y_pred)
        if mask is not None:
            mask = _expand_to(mask.to(y_pred.device, y_pred.dtype), y_pred)
            sample_weight = mask if sample_weight is None else \
                _expand_to(_tensor(sample_weight, like=y_pred), y_pred) * mask
        super().update_state(torch.square(y_pred - y_true), sample_weight)

    def result(self):
        return super().result() ** 0.5


class _Confusion(Metric):
    """Counts of true/false positives/negatives at one or more thresholds (``pred > t``)."""

    def __init__(self, thresholds, name=None, dtype=None):
        # float32, as tf.keras compares them: a prediction of 0.2 is not above 0.2
        self.thresholds = torch.as_tensor(thresholds, dtype=torch.float32)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        n = self.thresholds.numel()
        self.tp, self.fp, self.tn, self.fn = (torch.zeros(n, dtype=torch.float64)
                                              for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        y_true, y_pred = _align(y_true, y_pred)
        weight = torch.ones_like(y_pred)
        if sample_weight is not None:
            weight = weight * _expand_to(_tensor(sample_weight, like=y_pred), y_pred)
        if mask is not None:
            weight = weight * _expand_to(mask.to(y_pred.device, y_pred.dtype), y_pred)
        weight = weight.detach().to(torch.float64).cpu().reshape(-1)
        y_pred = torch.clamp(y_pred.detach(), 0.0, 1.0).to(torch.float32).cpu().reshape(-1)
        y_true = y_true.detach().to(torch.float64).cpu().reshape(-1) > 0.5
        above = y_pred.unsqueeze(0) > self.thresholds.unsqueeze(1)   # (thresholds, n)
        pos, neg = y_true.to(torch.float64) * weight, (~y_true).to(torch.float64) * weight
        self.tp += (above * pos).sum(1)
        self.fp += (above * neg).sum(1)
        self.fn += (~above * pos).sum(1)
        self.tn += (~above * neg).sum(1)


class _AtThresholds(_Confusion):
    """A confusion metric at the user's ``thresholds`` (default 0.5): one number for one
    threshold and a list for several, as tf.keras 2.12's Precision, Recall and
    TruePositives ... FalseNegatives."""

    def __init__(self, thresholds: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        self.init_thresholds = thresholds
        values = [0.5] if thresholds is None else (
            list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds])
        for value in values:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0.0 <= value <= 1.0:
                raise ValueError(f"{type(self).__name__}: `thresholds` must be numbers in "
                                 f"[0, 1] (one, or a list); got {thresholds!r}.")
        super().__init__([float(v) for v in values], name=_drawn_name(name, type(self)),
                         dtype=dtype)

    def _shown(self, values: torch.Tensor) -> Any:
        return float(values[0]) if values.numel() == 1 else [float(v) for v in values]

    def get_config(self) -> dict:
        return {"name": self.name, "thresholds": self.init_thresholds}


class _Count(_AtThresholds):
    """One confusion count (``_COUNT``: tp, fp, tn or fn): the weighted number of such
    predictions."""

    _COUNT = ""

    def result(self):
        return self._shown(getattr(self, self._COUNT))


class TruePositives(_Count):
    _COUNT = "tp"


class FalsePositives(_Count):
    _COUNT = "fp"


class TrueNegatives(_Count):
    _COUNT = "tn"


class FalseNegatives(_Count):
    _COUNT = "fn"


def _div(a, b):
    return torch.where(b > 0, a / torch.where(b > 0, b, torch.ones_like(b)), torch.zeros_like(a))


class Precision(_AtThresholds):
    """``tp / (tp + fp)`` at ``thresholds`` (default 0.5)."""

    def result(self):
        return self._shown(_div(self.tp, self.tp + self.fp))


class Recall(_AtThresholds):
    """``tp / (tp + fn)`` at ``thresholds`` (default 0.5)."""

    def result(self):
        return self._shown(_div(self.tp, self.tp + self.fn))


class AUC(_Confusion):
    """Area under the ROC (or PR) curve from ``num_thresholds`` (200) confusion counts,
    with Keras's thresholds ``[-eps, 1/(n-1), ..., 1 + eps]`` and its interpolation."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None) -> None:
        if num_thresholds <= 1:
            raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}.")
        curve = curve.upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             "['ROC', 'PR']")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             "Expected values are ['interpolation', 'majoring', 'minoring']")
        self.curve, self.summation_method = curve, summation_method
        if thresholds is None:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [0.0 - 1e-7] + inner + [1.0 + 1e-7]
        else:
            thresholds = [0.0 - 1e-7] + sorted(thresholds) + [1.0 + 1e-7]
        super().__init__(thresholds, name=_drawn_name(name, type(self)), dtype=dtype)

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "PR" and self.summation_method == "interpolation":
            # Davis & Goadrich interpolation, as Keras's interpolate_pr_auc.
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = _div(dtp, torch.clamp(dp, min=0))
            intercept = tp[1:] - slope * p[1:]
            ratio = torch.where((p[:-1] > 0) & (p[1:] > 0),
                                _div(p[:-1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:]))
            increment = slope * (dtp + intercept * torch.log(ratio))
            return float(torch.sum(_div(increment, torch.clamp(tp[1:] + fn[1:], min=0))))
        recall = _div(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _div(fp, fp + tn), recall
        else:
            x, y = recall, _div(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return float(torch.sum((x[:-1] - x[1:]) * heights))


_FUNCTIONS = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
}
_CLASSES = {cls.__name__: cls for cls in (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, Accuracy, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, RootMeanSquaredError, AUC, Precision, Recall, Mean,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives)}
_CLASS_ALIASES = {"rmse": RootMeanSquaredError, "auc": AUC, "precision": Precision,
                  "recall": Recall}


def get(identifier: Any, y_true: Any = None, y_pred: Any = None) -> Metric:
    """A metric object from a Keras name, a class, an instance or a function.

    ``"accuracy"``/``"acc"`` are resolved from the shapes, as tf.keras 2 compile does: a
    one-unit output is binary, integer targets of lower rank (or last axis 1 against several
    classes) are sparse categorical, otherwise categorical. The metric keeps the name the
    user wrote (``"acc"`` logs ``acc``).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            if y_pred is None:
                raise ValueError("'accuracy' is resolved from the targets' and outputs' shapes; "
                                 "pass y_true and y_pred.")
            fn = _resolve_accuracy(y_true, y_pred)
            return MeanMetricWrapper(fn, name=identifier)
        if identifier in _FUNCTIONS:
            metric = _FUNCTIONS[identifier]()
            metric.name = identifier  # Keras logs the string the user gave
            return metric
        # a name given as a string is the metric's name, drawn from no counter (compile's
        # "AUC" logs `auc` however many AUCs exist)
        cls = _CLASSES.get(identifier) or _CLASS_ALIASES.get(identifier)
        if cls is not None:
            return cls(name=backend.to_snake_case(cls.__name__))
        known = sorted(set(_FUNCTIONS) | set(_CLASSES) | set(_CLASS_ALIASES) |
                       {"accuracy", "acc"})
        raise ValueError(f"Unknown metric function: {identifier!r}. Known metrics: {known}.")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _resolve_accuracy(y_true, y_pred) -> Callable:
    t_shape, p_shape = tuple(y_true.shape), tuple(y_pred.shape)
    if p_shape[-1:] == (1,):
        return binary_accuracy
    if len(t_shape) < len(p_shape) or (t_shape[-1:] == (1,) and p_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


# ---------------------------------------------------------------------- keras.metrics names
# tf.keras 2.12 re-exports the loss functions as metric functions and wraps them in metric
# classes (the mean of the per-sample loss); a program that writes `metrics=[keras.metrics.
# BinaryCrossentropy()]` or `keras.metrics.mse` finds them here.
mean_squared_error = mse = MSE = losses_mod.mean_squared_error
mean_absolute_error = mae = MAE = losses_mod.mean_absolute_error
mean_absolute_percentage_error = mape = MAPE = losses_mod.mean_absolute_percentage_error
mean_squared_logarithmic_error = msle = MSLE = losses_mod.mean_squared_logarithmic_error
kl_divergence = kld = KLD = kullback_leibler_divergence = losses_mod.kl_divergence
log_cosh = logcosh = losses_mod.log_cosh
binary_crossentropy = losses_mod.binary_crossentropy
categorical_crossentropy = losses_mod.categorical_crossentropy
sparse_categorical_crossentropy = losses_mod.sparse_categorical_crossentropy
hinge, squared_hinge = losses_mod.hinge, losses_mod.squared_hinge
poisson = losses_mod.poisson


def _cosine(y_true, y_pred, axis=-1):
    return -losses_mod.cosine_similarity(y_true, y_pred, axis=axis)  # the metric is +cos


BinaryCrossentropy = _wrapper_class("BinaryCrossentropy", binary_crossentropy,
                                    "binary_crossentropy", from_logits=False,
                                    label_smoothing=0.0)
CategoricalCrossentropy = _wrapper_class("CategoricalCrossentropy", categorical_crossentropy,
                                         "categorical_crossentropy", from_logits=False,
                                         label_smoothing=0.0)
SparseCategoricalCrossentropy = _wrapper_class("SparseCategoricalCrossentropy",
                                               sparse_categorical_crossentropy,
                                               "sparse_categorical_crossentropy",
                                               from_logits=False)
MeanSquaredLogarithmicError = _wrapper_class("MeanSquaredLogarithmicError",
                                             mean_squared_logarithmic_error,
                                             "mean_squared_logarithmic_error")
KLDivergence = _wrapper_class("KLDivergence", kl_divergence, "kullback_leibler_divergence")
Poisson = _wrapper_class("Poisson", poisson, "poisson")
Hinge = _wrapper_class("Hinge", hinge, "hinge")
SquaredHinge = _wrapper_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper_class("CategoricalHinge", losses_mod.categorical_hinge,
                                  "categorical_hinge")
LogCoshError = _wrapper_class("LogCoshError", log_cosh, "logcosh")
CosineSimilarity = _wrapper_class("CosineSimilarity", _cosine, "cosine_similarity", axis=-1)


class Sum(Metric):
    """The (weighted) sum of every value seen."""

    def reset_state(self):
        self._total = 0.0

    def update_state(self, values, sample_weight=None):
        values = _tensor(values).detach()
        if sample_weight is not None:
            values = values * _expand_to(_tensor(sample_weight, like=values), values)
        self._total = self._total + values.sum()

    def result(self) -> float:
        return float(self._total)


for _cls in (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
             MeanSquaredLogarithmicError, KLDivergence, Poisson, Hinge, SquaredHinge,
             CategoricalHinge, LogCoshError, CosineSimilarity, Sum):
    _CLASSES[_cls.__name__] = _cls
for _name, _cls in (("binary_crossentropy", BinaryCrossentropy),
                    ("categorical_crossentropy", CategoricalCrossentropy),
                    ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
                    ("msle", MeanSquaredLogarithmicError),
                    ("mean_squared_logarithmic_error", MeanSquaredLogarithmicError),
                    ("kld", KLDivergence), ("kl_divergence", KLDivergence),
                    ("poisson", Poisson), ("hinge", Hinge), ("squared_hinge", SquaredHinge),
                    ("logcosh", LogCoshError), ("cosine_similarity", CosineSimilarity)):
    _FUNCTIONS.setdefault(_name, _cls)


def serialize(metric: Any) -> Any:
    """A metric as Keras writes it: a function's name, or ``{"class_name", "config"}``."""
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    return getattr(metric, "__name__", metric)


def deserialize(config: Any) -> Metric:
    if isinstance(config, dict):
        cls = _CLASSES.get(config.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown metric class {config.get('class_name')!r}.")
        return cls(**config.get("config", {}))
    return get(config)
