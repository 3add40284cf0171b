"""``rnnkit.backend.function`` (``K.function``): read a model's intermediate outputs.

Keras 2 programs write ``get_3rd_layer_output = K.function([model.layers[0].input],
[model.layers[3].output])`` and call it on ``[x]``. tf.keras 2.12 in eager mode builds
``Model(inputs, outputs)`` and returns its outputs as NumPy: a list when ``outputs`` is a
list, one array when it is one tensor. This module does the same with rnnkit's functional
``Model`` and registers itself with ``rnnkit.backend`` (which sits below models and cannot
import them).
"""
from __future__ import annotations

from typing import Any

import torch

from .. import backend_ops
from ..layers.keras_tensor import map_structure
from .functional import Model


def function(inputs: Any, outputs: Any, updates: Any = None, name: str | None = None,
             **kwargs: Any) -> Any:
    if kwargs:  # tf.keras 2.12's messages
        raise ValueError("Session keyword arguments are not supported during eager execution. "
                         f"You passed: {kwargs}")
    if updates:
        raise ValueError("`updates` argument is not supported during eager execution. "
                         f"You passed: {updates}")
    model = Model(inputs=inputs, outputs=outputs)
    wrap_outputs = isinstance(outputs, list) and len(outputs) == 1

    def run(model_inputs: Any) -> Any:
        with torch.no_grad():
            outs = model(model_inputs, training=False)  # Keras's learning phase 0
        if wrap_outputs:
            outs = [outs]
        return map_structure(_to_numpy, outs)

    run.model = model  # the sub-model, for a look at its summary
    return run


def _to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().numpy()
        return array.item() if array.ndim == 0 else array  # sync_to_numpy_or_python_type
    return value


backend_ops._register_function_builder(function)
