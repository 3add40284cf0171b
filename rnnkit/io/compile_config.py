"""A model's compile settings and optimizer state in Keras files, both ways.

tf.keras 2 ``.h5`` files carry ``training_config`` (``optimizer_config``, ``loss``,
``metrics``) and the ``optimizer_weights`` group; Keras 3 ``.keras`` archives carry
``compile_config`` in ``config.json`` and the optimizer's variables at ``optimizer/vars`` of
``model.weights.h5``. ``load_model`` compiles the model from the config and then restores the
optimizer's state (step count, slots, Keras 3's learning rate; see
``rnnkit.optimizers.state``; the legacy optimizers' state of TF <= 2.10 files is read by
its names), so ``fit`` continues where the saved training stopped. A training config rnnkit
cannot apply (a custom loss, an unknown optimizer) leaves the model uncompiled with a
warning; optimizer state that does not fit (other counts, shapes or slot names) is skipped
with a warning naming the file and what did not fit, and training resumes with fresh
optimizer state. Neither ever stops the model from loading.

``model.save`` writes both back in the form each Keras writes (verified by loading rnnkit's
files in tf.keras 2.12 and Keras 3.15.1 and resuming training there:
``tests/fixtures/keras*_optimizer_state/``).
"""
from __future__ import annotations

import warnings
from typing import Any

from .configs import screen_config
from .errors import FileFormatError

# Keys Keras optimizers write that have no rnnkit meaning.
_KERAS_ONLY = {"is_legacy_optimizer", "jit_compile", "use_ema", "ema_momentum",
               "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"}
# What each Keras adds to an optimizer's config (values of an optimizer without EMA etc.).
_KERAS2_EXTRA = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                 "jit_compile": False, "is_legacy_optimizer": False}
_KERAS3_EXTRA = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                 "loss_scale_factor": None, "gradient_accumulation_steps": None}


# ---------------------------------------------------------------------- reading
def _optimizer(config: Any) -> Any:
    if not isinstance(config, dict):
        return config if config is not None else "rmsprop"
    from .. import optimizers

    name = str(config.get("class_name", ""))
    name = name.split(">")[-1]  # tf.keras 2.11+ writes "Custom>Adam"
    params = {k: v for k, v in dict(config.get("config") or {}).items()
              if k not in _KERAS_ONLY and v is not None}
    return optimizers.deserialize({"class_name": name, "config": params})


def _user_object(name: Any, custom_objects: dict | None) -> Any:
    """The user's loss or metric function a file names (``"my_loss"``, as tf.keras 2.12 writes
    a plain function), from ``custom_objects`` or the registered objects; else ``None``."""
    if not isinstance(name, str):
        return None
    from ..layers.serialization import CUSTOM_OBJECTS

    for table in (custom_objects or {}, CUSTOM_OBJECTS):
        if callable(table.get(name)):
            return table[name]
    return None


def _loss(spec: Any, custom_objects: dict | None = None) -> Any:
    """A loss name, or a loss object rebuilt with its config (``from_logits`` matters)."""
    if isinstance(spec, list):
        return [_loss(item, custom_objects) for item in spec]
    if isinstance(spec, dict) and "class_name" not in spec:  # per output name
        return {key: _loss(item, custom_objects) for key, item in spec.items()}
    if not isinstance(spec, dict):
        return _user_object(spec, custom_objects) or spec
    user = _user_object(spec["class_name"], custom_objects)
    if isinstance(user, type):
        return user(**{k: v for k, v in dict(spec.get("config") or {}).items()
                       if k not in ("dtype",)})
    from .. import losses

    inner = spec.get("config") or {}
    cls = losses._CLASSES.get(spec["class_name"])
    if cls is not None and isinstance(inner, dict):
        params = {k: v for k, v in inner.items() if k != "dtype"}  # Keras 3's, no meaning here
        if params.get("reduction") not in losses._REDUCTIONS:
            params.pop("reduction", None)  # Keras 3's "mean" etc.: rnnkit's default
        try:
            return cls(**params)
        except (TypeError, ValueError):
            pass
    return (inner.get("name") if isinstance(inner, dict) else None) or spec["class_name"]


def _metric_names(metrics: Any, custom_objects: dict | None = None) -> list:
    """Metric names, or the user's functions the file names (by ``fn`` or ``name``)."""
    found: list = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for sub in item:
                walk(sub)
        elif isinstance(item, dict):
            inner = item.get("config") or {}
            user = _user_object(inner.get("fn"), custom_objects) or \
                _user_object(inner.get("name"), custom_objects)
            found.append(user or inner.get("name") or inner.get("fn") or item.get("class_name"))
        elif item is not None:
            found.append(_user_object(item, custom_objects) or item)

    walk(metrics)
    return found


def compile_from_file(model: Any, training_config: Any, label: str,
                      custom_objects: dict | None = None) -> None:
    if not training_config or not hasattr(model, "compile"):
        return
    try:
        config = screen_config(training_config, label)
        optimizer = config.get("optimizer_config", config.get("optimizer"))
        loss = config.get("loss")
        if loss is None:
            return
        model.compile(optimizer=_optimizer(optimizer), loss=_loss(loss, custom_objects),
                      metrics=_metric_names(config.get("metrics"), custom_objects) or None,
                      weighted_metrics=_metric_names(config.get("weighted_metrics"),
                                                     custom_objects) or None)
    except (FileFormatError, ValueError, TypeError, KeyError, AttributeError) as error:
        warnings.warn(f"{label}: the model was loaded uncompiled; its training config could not "
                      f"be applied ({type(error).__name__}: {error}). Call model.compile(...).",
                      stacklevel=3)


def restore_optimizer(model: Any, saved: tuple[list[str] | None, list] | None, fmt: str,
                      label: str) -> None:
    """Set the compiled model's optimizer from the file's ``(names, arrays)``, or warn."""
    from ..optimizers import Optimizer
    from ..optimizers import state

    opt = getattr(model, "optimizer", None)
    if saved is None or not isinstance(opt, Optimizer):
        return
    names, arrays = saved
    try:
        state.import_state(opt, list(model.trainable_weights), arrays, fmt, names)
    except state.OptimizerStateError as error:
        where = "optimizer_weights" if fmt == "keras2" else "optimizer/vars"
        warnings.warn(f"{label}: the optimizer state in the file ({where}) was not restored: "
                      f"{error} Training resumes with fresh {type(opt).__name__} state.",
                      stacklevel=3)


# ---------------------------------------------------------------------- writing
class _Unsaveable(Exception):
    pass


def _optimizer_config(opt: Any, fmt: str) -> dict:
    from ..optimizers import Optimizer, schedules

    if not isinstance(opt, Optimizer):
        raise _Unsaveable(f"its optimizer ({type(opt).__module__}.{type(opt).__name__}) has no "
                          "Keras equivalent")
    config = dict(opt.get_config())
    lr = opt._learning_rate
    if isinstance(lr, schedules.LearningRateSchedule):
        config["learning_rate"] = dict(schedules.serialize(lr))
        if fmt == "keras3":
            inner = config["learning_rate"]["config"] = dict(config["learning_rate"]["config"])
            if inner.get("name") is None:  # Keras 3 needs a name for its name scope
                inner["name"] = config["learning_rate"]["class_name"]
            config["learning_rate"].update(module="keras.optimizers.schedules",
                                           registered_name=None)
    elif callable(lr):
        raise _Unsaveable("its learning rate is a Python callable")
    if fmt == "keras2":
        config.update(_KERAS2_EXTRA)
        return {"class_name": f"Custom>{type(opt).__name__}", "config": config}
    config.pop("is_legacy_optimizer", None)
    config.update(_KERAS3_EXTRA)
    return {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": config,
            "registered_name": None}


def _object_spec(obj: Any, module: str, fmt: str) -> dict:
    config = dict(obj.get_config())
    if fmt == "keras3" and config.get("reduction") == "auto":
        config["reduction"] = "sum_over_batch_size"  # Keras 3 has no "auto"
    spec = {"class_name": type(obj).__name__, "config": config}
    if fmt == "keras3":
        spec = {"module": module, **spec, "registered_name": None}
    return spec


def _loss_spec(loss: Any, fmt: str) -> Any:
    from .. import losses

    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, (list, tuple)):  # per output, as compile took them
        return [_loss_spec(item, fmt) for item in loss]
    if isinstance(loss, dict):
        return {key: _loss_spec(item, fmt) for key, item in loss.items()}
    if isinstance(loss, losses.Loss) and type(loss).__name__ in losses._CLASSES:
        return _object_spec(loss, "keras.losses", fmt)
    name = getattr(loss, "__name__", None)
    if name and callable(loss) and not isinstance(loss, losses.Loss) and name != "<lambda>":
        # a Keras loss function, or the user's: tf.keras 2.12 writes the function's name,
        # which load_model finds again in custom_objects
        return name
    raise _Unsaveable(f"its loss {loss!r} is not a Keras loss")


def _metric_spec(metric: Any, fmt: str) -> Any:
    from .. import metrics

    if isinstance(metric, str):
        return metric
    if isinstance(metric, metrics.Metric) and type(metric).__name__ in metrics._CLASSES:
        return _object_spec(metric, "keras.metrics", fmt)
    name = getattr(metric, "__name__", None)
    if name and metrics._FUNCTIONS.get(name) is not None:
        return name
    if name and callable(metric) and name != "<lambda>":  # the user's metric function
        spec = {"class_name": "MeanMetricWrapper",
                "config": {"name": name, "dtype": "float32", "fn": name}}
        return {"module": "keras.metrics", **spec, "registered_name": None} \
            if fmt == "keras3" else spec
    raise _Unsaveable(f"its metric {metric!r} is not a Keras metric")


def saved_compile_config(model: Any, fmt: str) -> dict | None:
    """The model's compile settings as tf.keras 2.12 (``fmt="keras2"``, ``training_config``)
    or Keras 3 (``"keras3"``, ``compile_config``) writes them; ``None`` for an uncompiled
    model, or, with a warning, for one compiled with things Keras cannot load (a
    ``torch.optim`` optimizer, a custom loss)."""
    compiled = getattr(model, "_compiled", None)
    if compiled is None or not getattr(model, "_is_compiled", False):
        return None
    try:
        optimizer = _optimizer_config(model.optimizer, fmt)
        loss = _loss_spec(model.loss, fmt)
        metrics = [_metric_spec(m, fmt) for m in compiled.metric_specs] or None
        weighted = [_metric_spec(m, fmt) for m in compiled.weighted_specs] or None
    except _Unsaveable as reason:
        warnings.warn(f"Model {model.name!r} is saved without its compile config and optimizer "
                      f"state: {reason}. load_model will return it uncompiled.", stacklevel=4)
        return None
    loss_weights = None if compiled.loss_weight == 1.0 else compiled.loss_weight
    if fmt == "keras2":
        return {"loss": loss, "metrics": metrics, "weighted_metrics": weighted,
                "loss_weights": loss_weights, "optimizer_config": optimizer}
    return {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
            "metrics": metrics, "weighted_metrics": weighted, "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def saved_optimizer_state(model: Any, fmt: str) -> tuple[list[str], list] | None:
    """``(names, arrays)`` of the model's optimizer state as ``fmt``'s Keras stores it."""
    from ..optimizers import Optimizer
    from ..optimizers import state

    opt = getattr(model, "optimizer", None)
    if not isinstance(opt, Optimizer):
        return None
    params = list(model.trainable_weights)
    names = state.keras_names(opt, model_trainable_names(model), fmt)
    return names, state.export_state(opt, params, fmt)


def model_trainable_names(model: Any) -> list[str]:
    names = dict(zip(map(id, model.weights), model.weight_names()))
    return [names.get(id(p), f"weight_{i}:0") for i, p in enumerate(model.trainable_weights)]
