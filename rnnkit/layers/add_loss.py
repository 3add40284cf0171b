"""``AddLoss`` and ``AddMetric``: what ``model.add_loss(t)`` / ``model.add_metric(t, name)``
put into a functional model when ``t`` is a symbolic tensor (tf.keras 2.12's
``base_layer.AddLoss`` / ``AddMetric``).

``vae.add_loss(K.mean(kl))`` cannot keep a number: ``kl`` is computed anew by every call.
So, as tf.keras 2.12 does, the model gets one more layer, called on ``t``, that adds its
input as a loss (or a metric) each time the model runs; it passes its input through, shows
as a summary row (``add_loss (AddLoss)``) and is saved in the config like any layer.
"""
from __future__ import annotations

from typing import Any

from .base import Layer


class AddLoss(Layer):
    """Adds its input to the losses of the call (``fit`` adds them to the compiled loss)."""

    _config_keys = ("unconditional",)

    def __init__(self, unconditional: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.unconditional = bool(unconditional)

    def call(self, inputs: Any) -> Any:
        self.add_loss(inputs)
        return inputs


class AddMetric(Layer):
    """Reports the mean of its input over an epoch as the metric ``metric_name``."""

    _config_keys = ("aggregation", "metric_name")

    def __init__(self, aggregation: str | None = None, metric_name: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.aggregation = aggregation
        self.metric_name = metric_name

    def call(self, inputs: Any) -> Any:
        self.add_metric(inputs, name=self.metric_name, aggregation=self.aggregation)
        return inputs
