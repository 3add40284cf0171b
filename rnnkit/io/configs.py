"""Model configs from files: safety screening, building, and the Keras 2 ⇄ Keras 3 forms.

A config from a file is data. Before anything is built from it, :func:`screen_config` walks
it and refuses whatever would need code: ``Lambda`` layers (their ``function`` is marshalled
Python bytecode), Keras 3 references to Python functions or classes outside Keras
(``{"module": "__main__", "class_name": "function", ...}``), and anything else whose class
rnnkit does not know is refused by the layer registry when it is built.
"""
from __future__ import annotations

import copy
from typing import Any

from .errors import FileFormatError, UnsafeConfigError

_CODE_CLASSES = {"Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda"}
_FUNCTION_CLASSES = {"function", "__function__"}


def screen_config(config: Any, label: str) -> Any:
    """A cleaned copy of ``config``; raises UnsafeConfigError for code-carrying entries.

    Keras 3 writes a built-in activation either as ``"tanh"`` or as
    ``{"module": "keras.activations", "class_name": "function", "config": "tanh", ...}``;
    the second form becomes the plain name.
    """
    def walk(value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        class_name = value.get("class_name")
        module = value.get("module")
        name = _name_of(value)
        if class_name in _CODE_CLASSES:
            raise UnsafeConfigError(
                f"{label}: layer {name!r} is a {class_name}, which carries Python code; "
                "rnnkit never runs code from a file. Rebuild that part of the model in code "
                "and load the weights with model.load_weights.")
        if class_name in _FUNCTION_CLASSES:
            inner = value.get("config")
            if isinstance(module, str) and module.split(".")[0] == "keras" and isinstance(inner, str):
                return inner
            raise UnsafeConfigError(
                f"{label}: {where} refers to the Python function {inner!r} in module "
                f"{module!r}; rnnkit never imports or runs code named by a file. Pass the "
                "function through custom_objects or rebuild the model in code.")
        if isinstance(module, str) and module.split(".")[0] not in ("keras", "tf_keras", "rnnkit") \
                and class_name is not None:
            raise UnsafeConfigError(
                f"{label}: {where} ({class_name!r}) comes from module {module!r}; rnnkit builds "
                "only Keras classes it knows or ones registered with "
                "rnnkit.layers.serialization.register.")
        return {k: walk(v, f"{where}.{k}") for k, v in value.items()}

    return walk(config, "config")


def _name_of(value: dict) -> Any:
    inner = value.get("config")
    return inner.get("name") if isinstance(inner, dict) else None


_MODEL_CLASSES = {"Sequential", "Functional", "Model"}


def model_from_config(config: Any, label: str, custom_objects: dict | None = None,
                      meta: bool = False) -> Any:
    """Build a model from a tf.keras 2 or Keras 3 top-level config (Sequential or functional).

    ``meta=True`` creates the weights on torch's ``meta`` device (shapes, no memory): the
    loaders use it to check a config's sizes against the file before allocating anything.
    Only the weights go there; the layers' constructors (regularisers, ...) run as usual.
    """
    from ..models.sequential import Sequential

    if meta:
        Sequential = _meta_sequential()  # noqa: N806

    if not isinstance(config, dict) or "class_name" not in config:
        raise FileFormatError(f"{label}: the model config is not a {{'class_name', 'config'}} "
                              "object.")
    config = screen_config(config, label)
    class_name = config["class_name"]
    if class_name not in _MODEL_CLASSES:
        raise FileFormatError(f"{label}: the model is a {class_name!r}; rnnkit loads "
                              "Sequential and functional (Model) models.")
    inner = config.get("config")
    if class_name != "Sequential":
        return _functional_from_config(inner, label, custom_objects, meta)
    if isinstance(inner, list):
        inner = {"layers": inner}
    if not isinstance(inner, dict) or not isinstance(inner.get("layers", []), list):
        raise FileFormatError(f"{label}: the Sequential config has no list of layers.")
    for index, layer in enumerate(inner.get("layers", [])):
        if not isinstance(layer, dict) or "class_name" not in layer:
            raise FileFormatError(f"{label}: layer #{index} of the config is not a "
                                  "{'class_name', 'config'} object.")
    try:
        model = Sequential.from_config(inner, custom_objects)
        build_shape = (config.get("build_config") or {}).get("input_shape") \
            or inner.get("build_input_shape")
        if not model.built and build_shape is not None and model.layers:
            model.build(build_shape)
    except FileFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
            RuntimeError) as error:
        raise FileFormatError(f"{label}: cannot build the model from its config: "
                              f"{type(error).__name__}: {error}") from None
    return model


def _functional_from_config(inner: Any, label: str, custom_objects: dict | None,
                            meta: bool) -> Any:
    from ..models.functional import Model

    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise FileFormatError(f"{label}: the functional model config has no list of layers.")
    try:
        return Model.from_config(inner, custom_objects, build_device="meta" if meta else None)
    except FileFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
            RuntimeError) as error:
        raise FileFormatError(f"{label}: cannot build the functional model from its config: "
                              f"{type(error).__name__}: {error}") from None


def _meta_sequential() -> type:
    import torch

    from ..models.sequential import Sequential

    class MetaBuiltSequential(Sequential):
        def _build_layers(self, batch_input_shape: Any) -> None:
            with torch.device("meta"):
                super()._build_layers(batch_input_shape)

    return MetaBuiltSequential


# ---------------------------------------------------------------------- Keras 3 form
_K3_DROP = {"time_major", "implementation", "batch_input_shape", "input_length", "input_dim",
            "input_shape", "batch_size"}
_K3_MODULES = {"initializer": "keras.initializers", "regularizer": "keras.regularizers",
               "constraint": "keras.constraints"}


def to_keras3_layer(layer_config: dict, build_shape: Any = None) -> dict:
    """A tf.keras 2 layer config (``{"class_name", "config"}``) in Keras 3's ``.keras`` form."""
    class_name = layer_config["class_name"]
    config = copy.deepcopy(layer_config["config"])
    if class_name == "InputLayer":
        config["batch_shape"] = config.pop("batch_input_shape")
        config.pop("ragged", None)
        config.setdefault("sparse", False)
        config["ragged"] = False
    else:
        for key in _K3_DROP & set(config):
            if not (key == "input_dim" and class_name == "Embedding"):  # the vocabulary size
                config.pop(key)
    for key, value in list(config.items()):
        if key in ("layer", "backward_layer") and isinstance(value, dict):
            config[key] = to_keras3_layer(value)
        elif isinstance(value, dict) and "class_name" in value:
            kind = next((k for k in _K3_MODULES if key.endswith(k)), None)
            if kind is not None:
                config[key] = {"module": _K3_MODULES[kind], "class_name": value["class_name"],
                               "config": value.get("config", {}), "registered_name": None}
    if class_name == "Bidirectional" and "backward_layer" not in config:
        # Keras 3 names the copies forward_<name> / backward_<name>, with go_backwards set.
        forward = config["layer"]
        backward = copy.deepcopy(forward)
        inner = backward["config"]
        inner["go_backwards"] = not inner.get("go_backwards", False)
        inner["name"] = "backward_" + inner["name"]
        forward["config"]["name"] = "forward_" + forward["config"]["name"]
        config["backward_layer"] = backward
    result = {"module": "keras.layers", "class_name": class_name, "config": config,
              "registered_name": None}
    if build_shape is not None and class_name != "InputLayer":
        result["build_config"] = {"input_shape": list(build_shape)}
    return result


def keras3_model_config(model: Any) -> dict:
    """The ``config.json`` of a ``.keras`` archive for an rnnkit Sequential."""
    config = model.get_config()
    layers = []
    entries = config["layers"]
    offset = 1 if entries and entries[0]["class_name"] == "InputLayer" else 0
    if offset:
        layers.append(to_keras3_layer(entries[0]))
    for layer, entry in zip(model.layers, entries[offset:]):
        shape = layer._build_input_shape if layer.built else None
        layers.append(to_keras3_layer(entry, shape))
    result = {"module": "keras", "class_name": "Sequential",
              "config": {"name": model.name, "trainable": model.trainable,
                         "dtype": model.dtype, "layers": layers},
              "registered_name": None}
    if model.built and model._batch_input_shape is not None:
        result["build_config"] = {"input_shape": list(model._batch_input_shape)}
    return result


def keras2_model_config(model: Any) -> dict:
    """The tf.keras 2 ``model_config`` of an rnnkit Sequential."""
    return {"class_name": "Sequential", "config": model.get_config()}
