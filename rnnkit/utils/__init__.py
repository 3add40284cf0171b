"""Small helpers that Keras keeps in ``keras.utils``.

``set_random_seed``, ``to_categorical``, ``pad_sequences``, ``timeseries_dataset_from_array``,
the ``Sequence`` base class for batch generators that ``fit`` accepts, and ``Progbar``.
"""
from __future__ import annotations

import random

import numpy as np
import torch

from .sequences import Sequence, pad_sequences, to_categorical
from .timeseries import TimeseriesDataset, timeseries_dataset_from_array
from .custom_objects import (CustomObjectScope, custom_object_scope, deserialize_keras_object,
                             get_custom_objects, get_registered_name, get_registered_object,
                             register_keras_serializable, serialize_keras_object)
from .data_tuples import normalize, pack_x_y_sample_weight, unpack_x_y_sample_weight
from . import data_utils, generic_utils, np_utils, vis_utils  # Keras 2 module paths
from .vis_utils import model_to_dot, plot_model
from .progbar import Progbar
from .downloads import get_file

__all__ = ["set_random_seed", "Sequence", "pad_sequences", "to_categorical",
           "timeseries_dataset_from_array", "TimeseriesDataset", "CustomObjectScope",
           "custom_object_scope", "deserialize_keras_object", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable",
           "serialize_keras_object", "normalize", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "plot_model", "model_to_dot",
           "Progbar", "get_file"]


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and torch at once, as ``keras.utils.set_random_seed`` does."""
    if not isinstance(seed, int):
        raise ValueError(f"set_random_seed: expected an int seed, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
