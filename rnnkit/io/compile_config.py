"""Compile a loaded model from the training config Keras saved with it (best effort).

tf.keras 2 ``.h5`` files carry ``training_config`` (``optimizer_config``, ``loss``,
``metrics``); Keras 3 ``.keras`` archives carry ``compile_config``. The optimizer's saved
state (slots, iteration count) is not restored: training resumes with fresh moments. A
training config rnnkit cannot apply (a custom loss, an unknown optimizer) leaves the model
uncompiled with a warning; it never stops the model from loading.
"""
from __future__ import annotations

import warnings
from typing import Any

from .configs import screen_config
from .errors import FileFormatError

# Keys Keras optimizers write that have no rnnkit meaning.
_KERAS_ONLY = {"is_legacy_optimizer", "jit_compile", "use_ema", "ema_momentum",
               "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"}


def _optimizer(config: Any) -> Any:
    if not isinstance(config, dict):
        return config if config is not None else "rmsprop"
    from .. import optimizers

    name = str(config.get("class_name", ""))
    name = name.split(">")[-1]  # tf.keras 2.11+ writes "Custom>Adam"
    params = {k: v for k, v in dict(config.get("config") or {}).items()
              if k not in _KERAS_ONLY and v is not None}
    return optimizers.deserialize({"class_name": name, "config": params})


def _metric_names(metrics: Any) -> list:
    found: list = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for sub in item:
                walk(sub)
        elif isinstance(item, dict):
            inner = item.get("config") or {}
            found.append(inner.get("name") or inner.get("fn") or item.get("class_name"))
        elif item is not None:
            found.append(item)

    walk(metrics)
    return found


def compile_from_file(model: Any, training_config: Any, label: str) -> None:
    if not training_config or not hasattr(model, "compile"):
        return
    try:
        config = screen_config(training_config, label)
        optimizer = config.get("optimizer_config", config.get("optimizer"))
        loss = config.get("loss")
        if loss is None:
            return
        if isinstance(loss, dict) and "class_name" in loss:
            loss = loss.get("config", {}).get("name") or loss["class_name"]
        model.compile(optimizer=_optimizer(optimizer), loss=loss,
                      metrics=_metric_names(config.get("metrics")) or None)
    except (FileFormatError, ValueError, TypeError, KeyError, AttributeError) as error:
        warnings.warn(f"{label}: the model was loaded uncompiled; its training config could not "
                      f"be applied ({type(error).__name__}: {error}). Call model.compile(...).",
                      stacklevel=3)
