"""What Sequential and the functional Model share beyond ``Layer``."""
from __future__ import annotations

from typing import Sequence

from ..layers.base import Layer


def find_layer(layers: Sequence[Layer], name: str | None = None,
               index: int | None = None) -> Layer:
    """``model.get_layer``: by index (checked) or by name, with Keras's messages."""
    if index is not None:
        if index >= len(layers):
            raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                             f"has {len(layers)} layers.")
        return layers[index]
    for layer in layers:
        if layer.name == name:
            return layer
    raise ValueError(f"No such layer: {name}. Existing layers are: "
                     f"{[layer.name for layer in layers]}.")
