"""Models: ``Sequential`` and the functional ``Model(inputs, outputs)``."""
from .functional import Model
from ..layers.keras_tensor import KerasTensor
from .sequential import Sequential
from ..io.saving import load_model
from .config_api import clone_model, model_from_config, model_from_json, save_model
from . import backend_function as _backend_function  # noqa: F401 - registers K.function

__all__ = ["Sequential", "Model", "KerasTensor", "load_model", "clone_model",
           "model_from_config", "model_from_json", "save_model"]
