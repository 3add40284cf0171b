"""A model as JSON and back, and copies of a model: tf.keras 2.12's ``to_json``,
``model_from_json``, ``model_from_config`` and ``clone_model``.

The JSON is what tf.keras 2.12 writes: ``{"class_name": "Sequential" | "Functional",
"config": ..., "keras_version": "2.12.0", "backend": "tensorflow"}`` (the config is the one
``.h5`` files carry), so tf.keras reads rnnkit's and rnnkit reads tf.keras's. Building from
a config runs no code from it: only known or explicitly passed (``custom_objects``,
``rnnkit.utils.custom_object_scope``) classes are built.
"""
from __future__ import annotations

import json
from typing import Any

from ..io.keras_h5 import KERAS_VERSION

_MODEL_CLASS_NAMES = ("Sequential", "Functional", "Model")


def model_config(model: Any) -> dict:
    """``{"class_name", "config"}`` as tf.keras 2.12 names a model's class in files."""
    from .functional import Model
    from .sequential import Sequential
    if isinstance(model, Sequential):
        class_name = "Sequential"
    elif isinstance(model, Model) and model._is_graph_network and type(model) is Model:
        class_name = "Functional"
    else:
        class_name = type(model).__name__
    return {"class_name": class_name, "config": model.get_config()}


class JsonMixin:
    """``to_json`` for Sequential and functional models."""

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as tf.keras 2.12's JSON (``json.dumps`` keywords such as
        ``indent`` are passed on); no weights."""
        config = dict(model_config(self), keras_version=KERAS_VERSION, backend="tensorflow")
        return json.dumps(config, default=_json_default, **kwargs)

    def to_yaml(self, **kwargs: Any) -> None:
        raise RuntimeError("Method `model.to_yaml()` has been removed due to security risk of "
                           "arbitrary code execution. Please use `model.to_json()` instead.")


def _json_default(value: Any) -> Any:
    import numpy as np
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Not JSON Serializable: {value!r}")


def model_from_config(config: dict, custom_objects: dict | None = None) -> Any:
    """A model (or layer) from ``{"class_name", "config"}``: Sequential, functional
    (``"Functional"``/``"Model"``) or any layer rnnkit or ``custom_objects`` knows."""
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Received: "
                        f"config={config!r}. Did you meant to use `Sequential.from_config"
                        "(config)`?")
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"model_from_config expects a {{'class_name', 'config'}} dict; got "
                         f"{type(config).__name__}.")
    if config["class_name"] in _MODEL_CLASS_NAMES and not (
            custom_objects and config["class_name"] in custom_objects):
        from ..io.configs import model_from_config as build
        return build(config, "model config", custom_objects)
    from ..layers.serialization import deserialize
    return deserialize(config, custom_objects)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """The model ``to_json`` (rnnkit's or tf.keras 2's) described, with fresh weights."""
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as error:
        raise ValueError(f"model_from_json: the string is not JSON ({error}).") from None
    return model_from_config(config, custom_objects)


def clone_model(model: Any, input_tensors: Any = None, clone_function: Any = None) -> Any:
    """A new model with the same architecture (layer names included) and freshly
    initialised weights, as ``keras.models.clone_model``. ``clone_function(layer)`` makes
    each new layer (default: ``layer.__class__.from_config(layer.get_config())``)."""
    from ..layers.core import InputLayer
    from .functional import Model
    from .sequential import Sequential
    if clone_function is not None and not callable(clone_function):
        raise ValueError("Expected `clone_function` argument to be a callable. Received: "
                         f"clone_function={clone_function!r}")
    if isinstance(model, Sequential):
        clone = clone_function or _clone_layer
        layers = [clone(layer) for layer in model.layers]
        copy = Sequential(name=model.name)
        if input_tensors is not None:
            tensor = _one_input_tensor(input_tensors)
            copy.add(tensor._keras_history.layer)
        elif model._input_layer is not None:
            copy.add(InputLayer(batch_input_shape=model._input_layer._batch_input_shape,
                                dtype=model._input_layer.dtype,
                                name=model._input_layer.name))
        for layer in layers:
            copy.add(layer)
        if not copy.built and model.built and model._batch_input_shape is not None:
            copy.build(model._batch_input_shape)
        elif not copy.built and model.built:
            copy.build(model._build_input_shape)
        return copy
    if isinstance(model, Model) and model._is_graph_network:
        return _clone_functional(model, input_tensors, clone_function or _clone_layer)
    raise ValueError("Expected `model` argument to be a functional `Model` instance, but got "
                     f"a subclassed model instead: {model!r}.")


def _clone_layer(layer: Any) -> Any:
    return type(layer).from_config(layer.get_config())


def _one_input_tensor(input_tensors: Any) -> Any:
    """The one ``rnnkit.Input`` tensor a Sequential clone is built on (tf.keras 2.12's
    checks and words)."""
    from ..layers.core import InputLayer
    from ..layers.keras_tensor import KerasTensor, flatten
    tensors = flatten(input_tensors)
    if len(tensors) != 1:
        raise ValueError("To clone a `Sequential` model, we expect at most one tensor as part "
                         f"of `input_tensors`. Received: input_tensors={input_tensors!r}")
    tensor = tensors[0]
    if not isinstance(tensor, KerasTensor) or not isinstance(tensor._keras_history.layer,
                                                              InputLayer):
        raise ValueError("Cannot clone a `Sequential` model on top of a tensor that comes "
                         "from a Keras layer other than an `InputLayer`; pass an "
                         f"`rnnkit.Input` tensor. Received: input_tensors={input_tensors!r}")
    return tensor


def _clone_functional(model: Any, input_tensors: Any, clone_layer: Any) -> Any:
    """Call a copy of every layer (``clone_layer(layer)``, once per layer: shared layers
    stay shared) on new input tensors, node by node in the model's order, as tf.keras
    2.12's ``_clone_functional_model``. The inputs are new ``Input`` layers with the old
    ones' configs, or ``input_tensors`` (``rnnkit.Input`` tensors, in the model's order)."""
    from ..layers.core import InputLayer
    from ..layers.keras_tensor import KerasTensor, flatten, input_tensor, map_structure
    from .functional import Model
    old_inputs = model.inputs
    if input_tensors is None:
        new_inputs = [input_tensor(InputLayer.from_config(t._keras_history.layer.get_config()))
                      for t in old_inputs]
    else:
        new_inputs = flatten(input_tensors)
        if len(new_inputs) != len(old_inputs):
            raise ValueError(f"clone_model: the model has {len(old_inputs)} input(s) but "
                             f"`input_tensors` holds {len(new_inputs)}.")
        for tensor in new_inputs:
            if not isinstance(tensor, KerasTensor) or not isinstance(
                    tensor._keras_history.layer, InputLayer):
                raise ValueError("clone_model: `input_tensors` must be `rnnkit.Input` tensors "
                                 f"(rnnkit builds no input from data). Received: {tensor!r}")
    computed = {id(old): new for old, new in zip(old_inputs, new_inputs)}
    clones: dict[int, Any] = {}

    def fetch(t: Any) -> Any:
        return computed[id(t)] if isinstance(t, KerasTensor) else t

    for node in model._nodes_in_order:
        layer = clones.get(id(node.layer))
        if layer is None:
            layer = clones[id(node.layer)] = clone_layer(node.layer)
        outputs = layer(map_structure(fetch, node.inputs), **map_structure(fetch, node.kwargs))
        for old, new in zip(node.flat_outputs, flatten(outputs)):
            computed[id(old)] = new
    inputs = map_structure(lambda t: computed[id(t)], model._nested_inputs)
    outputs = map_structure(lambda t: computed[id(t)], model._nested_outputs)
    return Model(inputs, outputs, name=model.name)


def save_model(model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True,
               save_format: str | None = None, **kwargs: Any) -> None:
    """``keras.models.save_model(model, path)``: the same as ``model.save(path)``."""
    model.save(filepath, overwrite=overwrite, include_optimizer=include_optimizer,
               save_format=save_format)
