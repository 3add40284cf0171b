"""Models: ``Sequential`` and the functional ``Model(inputs, outputs)``."""
from .functional import Model
from ..layers.keras_tensor import KerasTensor
from .sequential import Sequential
from ..io.saving import load_model

__all__ = ["Sequential", "Model", "KerasTensor", "load_model"]
