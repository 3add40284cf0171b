"""How the layers beside the RNNs differ between tf.keras 2 configs and Keras 3's.

rnnkit writes tf.keras 2 configs; a ``.keras`` archive needs Keras 3's form, which drops a
few arguments Keras 3 no longer takes (``groups`` of the separable, depthwise and
transposed convolutions, ``noise_shape`` of the spatial dropouts, ``time_major`` of the
convolutional LSTMs), takes ``BatchNormalization``'s ``axis`` as one int and builds
``MultiHeadAttention`` from a ``shapes_dict`` instead of ``query_shape``/... entries.
Keras 3 configs read into rnnkit need nothing here: the constructors accept Keras 3's extra
arguments (``rms_scaling``, ``use_gate``, ``zero_output_for_mask``, ...).
"""
from __future__ import annotations

from typing import Any

_DROP = {
    "SeparableConv1D": ("groups", "kernel_initializer", "kernel_regularizer",
                        "kernel_constraint"),
    "DepthwiseConv1D": ("groups",),
    "Conv1DTranspose": ("groups",),
    "SpatialDropout1D": ("noise_shape", "trainable"),  # Keras 3 takes neither
    "SpatialDropout2D": ("noise_shape", "trainable"),
    "SpatialDropout3D": ("noise_shape", "trainable"),
    "ConvLSTM1D": ("time_major",),
    "ConvLSTM2D": ("time_major",),
    "ConvLSTM3D": ("time_major",),
}


def to_keras3(class_name: str, config: dict) -> tuple[dict, dict | None]:
    """``(config in Keras 3's form, build_config to write instead of the default or None)``."""
    for key in _DROP.get(class_name, ()):
        config.pop(key, None)
    if class_name == "BatchNormalization" and isinstance(config.get("axis"), list) \
            and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]
    if class_name == "MultiHeadAttention":
        shapes: dict[str, Any] = {}
        for key in ("query_shape", "value_shape", "key_shape"):
            value = config.pop(key, None)
            if value is not None:
                shapes[key] = list(value)
        if shapes.get("key_shape") == shapes.get("value_shape"):  # the key is the value
            shapes.pop("key_shape", None)
        return config, ({"shapes_dict": shapes} if shapes else None)
    return config, None
