"""``serialize`` / ``deserialize``: layers to and from Keras configs (tf.keras 2 and Keras 3).

Only the classes registered here (rnnkit's own, or ones a user registers explicitly with
``register``) can be built from a config: a config never names code to run.

Keras 3 writes a few keys that tf.keras 2 never had and that change nothing here
(``quantization_config``, ``use_cudnn``, ``seed`` of the dropout masks, ...); they are
dropped in one place, ``_KERAS3_ONLY_KEYS``. Its ``InputLayer`` says ``batch_shape`` where
tf.keras 2 said ``batch_input_shape``.
"""
from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, type] = {}

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


def _registry() -> dict[str, type]:
    if not _REGISTRY:
        from . import __all_layer_classes__
        for cls in __all_layer_classes__:
            register(cls)
        from .beside import ALIAS_CLASSES  # MaxPool1D, Convolution1D, ... name the same classes
        for name, cls in ALIAS_CLASSES.items():
            register(cls, name)
        # Models are layers too (a Sequential inside a functional model); tf.keras 2 calls
        # `Model(inputs, outputs)` "Functional" in configs.
        from ..models import Model, Sequential
        for cls, name in ((Sequential, None), (Model, None), (Model, "Functional")):
            _REGISTRY.setdefault(name or cls.__name__, cls)
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
    if custom_objects and class_name in custom_objects:
        cls = custom_objects[class_name]
    else:
        cls = get_registered(class_name)
    return cls.from_config(normalize_config(class_name, dict(config.get("config", {}))))


def serialize(layer: Any) -> dict:
    """A layer as ``{"class_name": ..., "config": ...}`` (the tf.keras 2 form)."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
