"""``serialize`` / ``deserialize``: layers to and from Keras configs (tf.keras 2 and Keras 3).

Only the classes registered here (rnnkit's own, or ones a user registers explicitly with
``register``) can be built from a config: a config never names code to run. The model
classes (``Sequential``, ``Model``) register themselves with ``register_model`` when
``rnnkit.models`` loads; io, which sits below the models, builds them through
``model_class`` instead of importing them.

Keras 3 writes a few keys that tf.keras 2 never had and that change nothing here
(``quantization_config``, ``use_cudnn``, ``seed`` of the dropout masks, ...); they are
dropped in one place, ``_KERAS3_ONLY_KEYS``. Its ``InputLayer`` says ``batch_shape`` where
tf.keras 2 said ``batch_input_shape``.
"""
from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, type] = {}
_BUILTINS_REGISTERED = False
# "Sequential" and "Functional": the model classes, which register themselves here when
# rnnkit.models is imported (models sit above layers, io and training, which reach them
# through this registry instead of importing them).
_MODEL_CLASSES: dict[str, type] = {}
# Classes a program made known by name: `rnnkit.utils.custom_object_scope`,
# `get_custom_objects()`, `register_keras_serializable` (consulted after `custom_objects`).
CUSTOM_OBJECTS: dict[str, Any] = {}

# Keras 3 config keys without a tf.keras 2 meaning; dropping them keeps the numbers the same.
_KERAS3_ONLY_KEYS = {"quantization_config", "use_cudnn", "seed", "lora_rank", "lora_alpha",
                     "optional", "sparse", "ragged", "input_axes", "output_axes"}
# Layers whose `seed` means something in rnnkit too (their random masks or noise).
_SEEDED_LAYERS = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                  "GaussianNoise", "GaussianDropout", "AlphaDropout"}
_LEGACY_NAMES = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU", "LSTMV1": "LSTM", "GRUV1": "GRU",
                 "LSTMV2": "LSTM", "GRUV2": "GRU"}


def register(cls: type, name: str | None = None) -> type:
    """Allow ``cls`` to be built from configs whose ``class_name`` is ``name`` (default: its name)."""
    _REGISTRY[name or cls.__name__] = cls
    return cls


def register_model(cls: type, kind: str) -> type:
    """Called by ``Sequential`` (``kind="Sequential"``) and ``Model`` (``kind="Functional"``)
    as their modules load: configs name them by class (``Sequential``, ``Model``) and by
    kind (tf.keras 2 calls ``Model(inputs, outputs)`` "Functional")."""
    _MODEL_CLASSES[kind] = cls
    for name in (cls.__name__, kind):
        _REGISTRY.setdefault(name, cls)
    return cls


def model_class(kind: str) -> type:
    """The registered model class of ``kind``: ``"Sequential"`` or ``"Functional"``."""
    try:
        return _MODEL_CLASSES[kind]
    except KeyError:
        raise LookupError(f"No {kind} model class is registered: import rnnkit.models "
                          "(importing rnnkit does) before building models from configs.") from None


def _registry() -> dict[str, type]:
    global _BUILTINS_REGISTERED
    if not _BUILTINS_REGISTERED:
        _BUILTINS_REGISTERED = True
        from . import __all_layer_classes__
        for cls in __all_layer_classes__:
            _REGISTRY.setdefault(cls.__name__, cls)  # a class the user registered wins
        from .beside import ALIAS_CLASSES  # MaxPool1D, Convolution1D, ... name the same classes
        for name, cls in ALIAS_CLASSES.items():
            _REGISTRY.setdefault(name, cls)
    return _REGISTRY


def get_registered(class_name: str) -> type:
    registry = _registry()
    class_name = _LEGACY_NAMES.get(class_name, class_name)
    if class_name not in registry:
        raise ValueError(f"Unknown layer class {class_name!r}: rnnkit builds only known layers "
                         f"({', '.join(sorted(registry))}) or ones registered with "
                         "rnnkit.layers.serialization.register.")
    return registry[class_name]


def normalize_config(class_name: str, config: dict) -> dict:
    """A tf.keras 2 or Keras 3 layer config as rnnkit's constructor arguments."""
    seeded = class_name in _SEEDED_LAYERS
    config = {k: v for k, v in config.items()
              if not (k in _KERAS3_ONLY_KEYS and not (seeded and k == "seed")
                      or k == "build_config")}
    if seeded and config.get("seed") is None:
        config.pop("seed", None)
    if class_name == "InputLayer" and "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    return config


def deserialize(config: dict, custom_objects: dict | None = None) -> Any:
    """Build a layer from ``{"class_name": ..., "config": {...}}`` (Keras 2 or Keras 3 form)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize expects a dict with 'class_name' and 'config'; got {config!r}.")
    class_name = config["class_name"]
    if custom_objects:  # nested configs (an RNN's custom cell) see them too
        saved = dict(CUSTOM_OBJECTS)
        CUSTOM_OBJECTS.update(custom_objects)
        try:
            return deserialize(config)
        finally:
            CUSTOM_OBJECTS.clear()
            CUSTOM_OBJECTS.update(saved)
    if custom_objects and class_name in custom_objects:
        cls = custom_objects[class_name]
    elif class_name in CUSTOM_OBJECTS:
        cls = CUSTOM_OBJECTS[class_name]
    else:
        cls = get_registered(class_name)
    return cls.from_config(normalize_config(class_name, dict(config.get("config", {}))))


def serialize(layer: Any) -> dict:
    """A layer as ``{"class_name": ..., "config": ...}`` (the tf.keras 2 form)."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
