"""Model configs from files: safety screening, building, and the Keras 2 ⇄ Keras 3 forms.

A config from a file is data. Before anything is built from it, :func:`screen_config` walks
it and refuses whatever would need code: ``Lambda`` layers whose ``function`` is marshalled
Python bytecode (what tf.keras 2 writes), op layers (``TFOpLambda``/``SlicingOpLambda``)
naming an operation outside rnnkit's allow-list (``layers/ops.py``), Keras 3 references to
Python functions or classes outside Keras (``{"module": "__main__", "class_name":
"function", ...}``), and anything else whose class rnnkit does not know is refused by the
layer registry when it is built. A ``Lambda`` saved by function *name* (rnnkit's form) is
built only with the function the caller passes in ``custom_objects``.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any

from .errors import FileFormatError, UnsafeConfigError
from ..layers import keras3_forms

_CODE_CLASSES = {"Lambda", "__lambda__"}
_OP_CLASSES = {"TFOpLambda", "SlicingOpLambda"}
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
        if class_name in _OP_CLASSES:
            _check_op(value, name, label)
        elif class_name in _CODE_CLASSES and not _lambda_by_name(value):
            raise UnsafeConfigError(
                f"{label}: layer {name!r} is a {class_name}, which carries Python code; "
                "rnnkit never runs code from a file. Rebuild that part of the model in code "
                "and load the weights with model.load_weights."
                + (" (tf.keras 2 saves a Lambda's function as marshalled Python bytecode; "
                   "rnnkit saves it by name, to be passed back in custom_objects.)"
                   if class_name == "Lambda" else ""))
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
            layer = f", layer {name!r}" if isinstance(name, str) else ""
            raise UnsafeConfigError(
                f"{label}: {where} ({class_name!r}{layer}) comes from module {module!r}; "
                "rnnkit builds only Keras classes it knows or ones registered with "
                "rnnkit.layers.serialization.register.")
        return {k: walk(v, f"{where}.{k}") for k, v in value.items()}

    return walk(config, "config")


def _check_op(entry: dict, name: Any, label: str) -> None:
    """An op layer names its operation; only the allow-listed ones are built."""
    from ..layers.ops import GETITEM, OPS
    inner = entry.get("config")
    function = inner.get("function") if isinstance(inner, dict) else None
    allowed = {GETITEM} if entry.get("class_name") == "SlicingOpLambda" else set(OPS)
    if not isinstance(function, str) or function.removeprefix("tf.") not in allowed:
        raise UnsafeConfigError(
            f"{label}: layer {name!r} is a {entry.get('class_name')} calling the TensorFlow "
            f"operation {function!r}, which rnnkit does not support; it builds only "
            f"{', '.join(sorted(allowed))}, looked up by name (nothing a file names is ever "
            "imported or run). Rebuild that part of the model in code and load the weights "
            "with model.load_weights.")


_LAMBDA_FUNCTION_KEYS = (("function", "function_type"), ("output_shape", "output_shape_type"),
                         ("mask", "mask_type"))


def _lambda_by_name(entry: dict) -> bool:
    """Whether a Lambda's config refers to its functions by name only (no bytecode): each
    of them is ``"function"`` typed with a string, or a raw output shape."""
    inner = entry.get("config")
    if entry.get("class_name") != "Lambda" or not isinstance(inner, dict):
        return False
    for key, type_key in _LAMBDA_FUNCTION_KEYS:
        kind = inner.get(type_key)
        if key == "function" and kind != "function":
            return False
        if kind == "function" and not isinstance(inner.get(key), str):
            return False
        if kind not in (None, "function", "raw") or (kind == "raw" and key != "output_shape"):
            return False
    return True


def _resolve_lambdas(config: Any, label: str, custom_objects: dict | None) -> Any:
    """The (screened) config with each by-name Lambda function replaced by the function
    the caller passed in ``custom_objects``; a name not there is refused, naming the layer."""
    if isinstance(config, list):
        return [_resolve_lambdas(v, label, custom_objects) for v in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "Lambda" and isinstance(config.get("config"), dict):
        inner = dict(config["config"])
        for key, type_key in _LAMBDA_FUNCTION_KEYS:
            if inner.get(type_key) != "function":
                continue
            function = (custom_objects or {}).get(inner[key])
            if not callable(function):
                module = inner.get(f"{key}_module" if key != "function" else "module")
                raise UnsafeConfigError(
                    f"{label}: layer {inner.get('name')!r} is a Lambda whose {key} is the "
                    f"Python function {inner[key]!r} (module {module!r}); rnnkit never "
                    "imports or runs code a file names. Pass the function itself: "
                    f"load_model(..., custom_objects={{{inner[key]!r}: {inner[key]}}}).")
            inner[key] = function
        return dict(config, config=inner)
    return {k: _resolve_lambdas(v, label, custom_objects) for k, v in config.items()}


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
    from ..layers.serialization import model_class
    Sequential = model_class("Sequential")  # noqa: N806

    if meta:
        Sequential = _meta_sequential()  # noqa: N806

    if not isinstance(config, dict) or "class_name" not in config:
        raise FileFormatError(f"{label}: the model config is not a {{'class_name', 'config'}} "
                              "object.")
    config = _resolve_lambdas(screen_config(config, label), label, custom_objects)
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
    with _building(label, "the model"):
        model = Sequential.from_config(inner, custom_objects)
        build_shape = (config.get("build_config") or {}).get("input_shape") \
            or inner.get("build_input_shape")
        if not model.built and build_shape is not None and model.layers:
            model.build(build_shape)
    return model


@contextmanager
def _building(label: str, what: str):
    """A config that cannot be built is a bad file: a FileFormatError that names the file,
    not whatever error the layers raised on the way."""
    try:
        yield
    except FileFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
            RuntimeError) as error:
        raise FileFormatError(f"{label}: cannot build {what} from its config: "
                              f"{type(error).__name__}: {error}") from None


def _functional_from_config(inner: Any, label: str, custom_objects: dict | None,
                            meta: bool) -> Any:
    from ..layers.serialization import model_class
    Model = model_class("Functional")  # noqa: N806

    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise FileFormatError(f"{label}: the functional model config has no list of layers.")
    for index, entry in enumerate(inner["layers"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise FileFormatError(f"{label}: layer #{index} of the functional config is not a "
                                  "{'class_name', 'config'} object.")
    inner = _prepare_keras3(inner)
    check_graph(inner, label)
    _check_classes_known(inner["layers"], label, custom_objects)
    with _building(label, "the functional model"):
        return Model.from_config(inner, custom_objects, build_device="meta" if meta else None)


_MAX_INDEX = 100_000  # node and tensor indices: a real graph has a handful


def check_graph(inner: dict, label: str) -> None:
    """Refuse a functional graph Keras refuses, before anything is built: layer names
    missing or used twice, no inputs or no outputs, references to layers not in the config,
    negative or out-of-range node and tensor indices. (A cycle leaves nodes no layer can
    produce: ``Model.from_config`` refuses it while building, as "a broken or cyclic config".)
    """
    names: dict[str, dict] = {}
    for index, entry in enumerate(inner["layers"]):
        config = entry.get("config")
        name = entry.get("name", config.get("name") if isinstance(config, dict) else None)
        if not isinstance(name, str) or not name:
            raise FileFormatError(f"{label}: layer #{index} of the functional config has no "
                                  "name.")
        if name in names:
            raise FileFormatError(f"{label}: the functional config has two layers named "
                                  f"{name!r}; layer names must be unique (Keras refuses it too).")
        names[name] = entry
    for key in ("input_layers", "output_layers"):
        if not _graph_refs(inner.get(key), top=True):
            raise FileFormatError(f"{label}: the functional config's {key!r} is empty or "
                                  f"malformed ({str(inner.get(key))[:80]}); a model needs at "
                                  "least one input and one output.")

    def check(ref: list, where: str) -> None:
        name, node, tensor = ref[0], ref[1], ref[2]
        if name not in names:
            raise FileFormatError(f"{label}: {where} refers to layer {name!r}, which is not in "
                                  "the config's list of layers.")
        if isinstance(node, bool) or isinstance(tensor, bool) or not isinstance(node, int) \
                or not isinstance(tensor, int):
            raise FileFormatError(f"{label}: {where}: node and tensor indices of {name!r} "
                                  f"must be whole numbers, found {node!r}, {tensor!r}.")
        if node < 0 or tensor < 0 or node > _MAX_INDEX or tensor > _MAX_INDEX:
            raise FileFormatError(f"{label}: {where} refers to node {node}, tensor {tensor} of "
                                  f"layer {name!r}; indices must be >= 0 and in range.")
        target = names[name]
        calls = len(target.get("inbound_nodes") or [])
        # an InputLayer has one node (its own); a nested model with inputs gets one more
        available = max(calls, 1) + (1 if target.get("class_name") in _MODEL_CLASSES else 0)
        if node >= available:
            raise FileFormatError(f"{label}: {where} refers to node {node} of layer {name!r}, "
                                  f"which has {available} node(s).")

    for key in ("input_layers", "output_layers"):
        for ref in _graph_refs(inner.get(key), top=True):
            check(ref, f"{key!r}")
    for name, entry in names.items():
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise FileFormatError(f"{label}: the inbound nodes of layer {name!r} are not a list.")
        for ref in _graph_refs(nodes):
            check(ref, f"an inbound node of layer {name!r}")


def _graph_refs(value: Any, top: bool = False) -> list[list]:
    """Every ``[layer name, node, tensor]`` reference in ``value``: tf.keras 2 lists (not
    the ``_CONSTANT_VALUE`` of an op layer's call) and Keras 3 ``keras_history`` entries."""
    found: list[list] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("class_name") == "__keras_tensor__":
                history = (item.get("config") or {}).get("keras_history")
                if isinstance(history, list) and len(history) == 3:
                    found.append(history)
                return
            for v in item.values():
                walk(v)
        elif isinstance(item, list):
            if len(item) in (3, 4) and isinstance(item[0], str) and item[0] != "_CONSTANT_VALUE" \
                    and isinstance(item[1], int) and isinstance(item[2], int):
                found.append(item)
                if len(item) == 4:
                    walk(item[3])
                return
            for v in item:
                walk(v)

    walk(value)
    return found


def _check_classes_known(layers: list, label: str, custom_objects: dict | None) -> None:
    """Refuse a class rnnkit cannot build before anything is built, naming the layer."""
    from ..layers.serialization import CUSTOM_OBJECTS, get_registered

    for entry in layers:
        class_name = entry["class_name"]
        if (custom_objects and class_name in custom_objects) or class_name in CUSTOM_OBJECTS:
            continue
        inner = entry.get("config")
        if class_name in _MODEL_CLASSES and isinstance(inner, dict) \
                and isinstance(inner.get("layers"), list):  # a nested model: its layers too
            _check_classes_known([e for e in inner["layers"] if isinstance(e, dict)
                                  and isinstance(e.get("class_name"), str)],
                                 label, custom_objects)
        try:
            get_registered(class_name)
        except ValueError:
            name = entry.get("name") or _name_of(entry)
            module = entry.get("module")
            where = f" (module {module!r})" if isinstance(module, str) else ""
            what = "the Keras operation" if _is_keras_op(entry) else "class"
            raise UnsafeConfigError(
                f"{label}: layer {name!r} is {what} {class_name!r}{where}, which rnnkit "
                "does not know; it builds only its own layer classes and ones registered "
                "with rnnkit.layers.serialization.register (or passed in custom_objects), "
                "and never imports a class a file names.") from None


# Keras 3 records the operations it applies to symbolic tensors as graph entries of their
# own (module keras.src.ops.*). Its Masking and Embedding(mask_zero=True) compute their
# masks that way (NotEqual, then Any) and pass them on as the next layers' `mask` argument.
def _is_keras_op(entry: dict) -> bool:
    module = entry.get("module")
    return isinstance(module, str) and module.startswith("keras.src.ops")


def _refs(value: Any) -> list[str]:
    """Names of the layers whose tensors a Keras 3 node argument refers to."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = (value.get("config") or {}).get("keras_history")
            return [history[0]] if isinstance(history, list) and history else []
        return [name for v in value.values() for name in _refs(v)]
    if isinstance(value, list):
        return [name for v in value for name in _refs(v)]
    return []


def _drop_keras3_mask_ops(inner: dict) -> dict:
    """Without the operations that only compute masks (and the ``mask`` arguments they feed).

    rnnkit's layers compute and pass on the same masks themselves (``_keras_mask``), as
    tf.keras 2 did, so the graph without them computes what Keras computed. An operation
    whose result is used as data is kept, and refused by name when the layers are built.
    """
    layers = inner["layers"]
    ops = {entry.get("name") for entry in layers if _is_keras_op(entry)}
    if not ops:
        return inner
    used_as_data = set(_flat_strings(inner.get("output_layers")))
    consumers: dict[str, set[str]] = {}
    for entry in layers:
        for node in entry.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
            data = _refs(node.get("args")) + _refs({k: v for k, v in kwargs.items()
                                                      if k != "mask"})
            if entry.get("name") in ops:
                for name in data + _refs(kwargs.get("mask")):
                    consumers.setdefault(name, set()).add(entry.get("name"))
            else:
                used_as_data |= set(data)
    # An operation is data if a layer uses it as data, or an operation that is data uses it.
    data_ops = ops & used_as_data
    changed = True
    while changed:
        changed = False
        for op in list(ops - data_ops):
            if consumers.get(op, set()) & data_ops:
                data_ops.add(op)
                changed = True
    dropped = ops - data_ops
    if not dropped:
        return inner
    result = dict(inner)
    result["layers"] = []
    for entry in layers:
        if entry.get("name") in dropped:
            continue
        nodes = []
        for node in entry.get("inbound_nodes") or []:
            if isinstance(node, dict) and isinstance(node.get("kwargs"), dict) \
                    and set(_refs(node["kwargs"].get("mask"))) & dropped:
                node = dict(node, kwargs={k: v for k, v in node["kwargs"].items()
                                          if k != "mask"})
            nodes.append(node)
        result["layers"].append(dict(entry, inbound_nodes=nodes))
    return result


def _is_keras3_functional(inner: dict) -> bool:
    return any(isinstance(node, dict) for entry in inner.get("layers") or []
               if isinstance(entry, dict) for node in entry.get("inbound_nodes") or [])


def _prepare_keras3(inner: dict) -> dict:
    """A Keras 3 functional config as ``Model.from_config`` takes it: without mask-only
    operations, nested functional configs prepared the same way, and the calls of nested
    models renumbered. Keras 3 numbers a nested model's calls from 0; rnnkit, like tf.keras
    2, gives a model with known inputs a node of its own first, so they count from 1."""
    if not _is_keras3_functional(inner):
        return inner
    inner = _ops_from_keras3(_drop_keras3_mask_ops(inner))
    own_node: set[str] = set()
    layers = []
    for entry in inner["layers"]:
        config = entry.get("config")
        if entry["class_name"] in ("Functional", "Model") and isinstance(config, dict):
            entry = dict(entry, config=_prepare_keras3(config))
            own_node.add(entry.get("name") or config.get("name"))
        elif entry["class_name"] == "Sequential" and isinstance(config, dict):
            first = (config.get("layers") or [None])[0]
            if isinstance(first, dict) and first.get("class_name") == "InputLayer":
                own_node.add(entry.get("name") or config.get("name"))
        layers.append(entry)
    if not own_node:
        return dict(inner, layers=layers)

    def renumber(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                config = dict(value.get("config") or {})
                history = config.get("keras_history")
                if isinstance(history, list) and len(history) == 3 and history[0] in own_node \
                        and isinstance(history[1], int):
                    config["keras_history"] = [history[0], history[1] + 1, history[2]]
                return dict(value, config=config)
            return {k: renumber(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renumber(v) for v in value]
        return value

    def renumber_spec(spec: Any) -> Any:  # output_layers: [name, node, tensor] entries
        if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
            return [spec[0], spec[1] + 1 if spec[0] in own_node else spec[1], spec[2]]
        if isinstance(spec, dict):
            return {k: renumber_spec(v) for k, v in spec.items()}
        return [renumber_spec(v) for v in spec] if isinstance(spec, list) else spec

    layers = [dict(entry, inbound_nodes=renumber(entry.get("inbound_nodes") or []))
              for entry in layers]
    return dict(inner, layers=layers, output_layers=renumber_spec(inner.get("output_layers")))


def _flat_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _flat_strings(v)]
    return []


def _meta_sequential() -> type:
    import torch

    from ..layers.serialization import model_class
    Sequential = model_class("Sequential")  # noqa: N806

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
        if key in ("layer", "backward_layer", "cell") and isinstance(value, dict):
            config[key] = to_keras3_layer(value)
        elif key == "cells" and isinstance(value, list):
            # StackedRNNCells: Keras 3 rebuilds each cell with deserialize_keras_object, which
            # needs every entry's `module` ("Could not locate class" without it).
            config[key] = [to_keras3_layer(cell) if isinstance(cell, dict) else cell
                           for cell in value]
        elif isinstance(value, dict) and "class_name" in value:
            kind = next((k for k in _K3_MODULES if key.endswith(k)), None)
            if kind is not None:
                config[key] = {"module": _K3_MODULES[kind], "class_name": value["class_name"],
                               "config": value.get("config", {}), "registered_name": None}
    config, beside_build = keras3_forms.to_keras3(class_name, config)  # Conv, BN, MHA, ...
    if class_name == "Lambda":
        raise ValueError(
            f"Layer {config.get('name')!r} is a Lambda: rnnkit writes Lambda layers only to "
            "tf.keras 2 .h5 files (the function saved by name, found again through "
            "custom_objects); Keras 3 .keras archives would need the function's code. Save "
            "to a .h5 path, or save the weights alone.")
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
    if beside_build is not None:
        result["build_config"] = beside_build
    return result


def keras3_model_config(model: Any) -> dict:
    """The ``config.json`` of a ``.keras`` archive for an rnnkit Sequential or functional
    ``Model``."""
    from ..layers.serialization import model_class
    Model = model_class("Functional")  # noqa: N806

    if isinstance(model, Model):
        return keras3_functional_config(model)
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


def keras3_functional_config(model: Any) -> dict:
    """Keras 3's ``Functional`` config of an rnnkit ``Model(inputs, outputs)``.

    Each layer is its Keras 3 layer config plus ``name`` and ``inbound_nodes``; a node is
    the call itself, ``{"args": [first argument], "kwargs": {...}}``, with every tensor
    written as ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
    "keras_history": [layer, node, tensor]}}`` (so an RNN's ``initial_state`` stays a
    keyword argument instead of being folded into the inputs as tf.keras 2 does). Node
    indices count only this model's calls of a layer, from 0. ``input_layers`` /
    ``output_layers`` are a single ``[layer, node, tensor]`` for one tensor, as Keras 3
    writes them.
    """
    from ..layers.keras_tensor import KerasTensor, _is_recurrent, _skips_first_node, map_structure
    from ..layers.ops import _OpLayer
    from ..layers.serialization import model_class, serialize
    Model, Sequential = model_class("Functional"), model_class("Sequential")  # noqa: N806

    mapping = model._node_index_map()

    def history(t: KerasTensor) -> list:
        layer, index, tensor_index = t._keras_history
        # A nested model's calls count from 1 in rnnkit (as in tf.keras 2), from 0 in Keras 3.
        own = 1 if _skips_first_node(layer) else 0
        return [layer.name, mapping.get((id(layer), index), own) - own, tensor_index]

    def as_keras3(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(value.shape), "dtype": value.dtype,
                               "keras_history": history(value)}}
        if isinstance(value, tuple):
            return [as_keras3(v) for v in value]
        return map_structure(as_keras3, value) if isinstance(value, (list, dict)) else value

    def shapes(value: Any) -> Any:
        found = map_structure(lambda t: list(t.shape) if isinstance(t, KerasTensor) else t,
                              value)
        return list(found) if isinstance(found, tuple) else found

    layers = []
    for layer in model.layers:
        nodes = [node for _, node in model._relevant(layer) if not node.is_input]
        if isinstance(layer, _OpLayer):
            layers.append(_keras3_op_entry(layer, nodes, as_keras3))
            continue
        build = None
        if nodes:
            first = nodes[0]
            states = first.kwargs.get("initial_state")
            if _is_recurrent(layer) and states is not None:
                # Keras 3 builds such an RNN from both shapes (its `shapes_dict` form).
                build = {"shapes_dict": {"sequences_shape": shapes(first.inputs),
                                         "initial_state_shape": shapes(states)}}
            else:
                build = {"input_shape": shapes(first.inputs)}
        if isinstance(layer, Model):
            if not layer._is_graph_network:
                raise NotImplementedError(
                    f"Model {model.name!r}: layer {layer.name!r} is a subclassed Model, "
                    "which has no config to save; save the weights with save_weights.")
            entry = keras3_functional_config(layer)
        elif isinstance(layer, Sequential):
            entry = keras3_model_config(layer)
        else:
            entry = to_keras3_layer(serialize(layer))
        if build is not None and not isinstance(layer, Model) \
                and "shapes_dict" not in entry.get("build_config", {}):  # MHA's own form kept
            entry["build_config"] = build
        entry["name"] = layer.name
        entry["inbound_nodes"] = [{"args": [as_keras3(node.inputs)],
                                   "kwargs": as_keras3(dict(node.kwargs))} for node in nodes]
        layers.append(entry)

    def refs(structure: Any) -> Any:
        if isinstance(structure, KerasTensor):
            return history(structure)
        if isinstance(structure, dict):
            return {k: refs(v) for k, v in structure.items()}
        return [refs(v) for v in structure]

    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": model.name, "trainable": model.trainable, "layers": layers,
                       "input_layers": refs(model._nested_inputs),
                       "output_layers": refs(model._nested_outputs)},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def _keras3_op_entry(layer: Any, nodes: list, as_keras3: Any) -> dict:
    """An op layer as the ``keras.src.ops.numpy`` operation Keras 3 records for the same
    Python expression (``Subtract`` with ``args: [x, y]``, ``GetItem`` with ``[x, key]``)."""
    from ..layers.ops import GETITEM, OPS

    class_name = "GetItem" if layer.function == GETITEM else OPS[layer.function].keras3
    calls = []
    for node in nodes:
        if class_name == "GetItem":
            rest = [_keras3_slice_spec(node.kwargs.get("slice_spec"))]
        elif OPS[layer.function].binary:
            rest = [_keras3_constant(node.kwargs.get("y"))]
        else:
            rest = []
        first = _keras3_constant(node.inputs)
        calls.append({"args": [as_keras3(first)] + [as_keras3(v) for v in rest],
                      "kwargs": {}})
    return {"module": "keras.src.ops.numpy", "class_name": class_name,
            "config": {"name": layer.name}, "registered_name": class_name,
            "name": layer.name, "inbound_nodes": calls}


def _keras3_constant(value: Any) -> Any:
    """An array constant (nested lists) as Keras 3's ``__numpy__`` object; tensors and
    numbers stay as they are."""
    if not isinstance(value, list):
        return value
    import numpy as np
    array = np.asarray(value)
    dtype = "float32" if array.dtype.kind == "f" else "int32"
    return {"class_name": "__numpy__", "config": {"value": value, "dtype": dtype}}


def _from_keras3_constant(value: Any) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        inner = value.get("config") or {}
        return inner.get("value")
    return value


def _keras3_slice_spec(spec: Any) -> Any:
    """tf.keras 2's slice dicts as Keras 3's ``__slice__``/``__ellipsis__`` objects."""
    if isinstance(spec, list):
        return [_keras3_slice_spec(item) for item in spec]
    if isinstance(spec, dict) and set(spec) == {"start", "stop", "step"}:
        return {"class_name": "__slice__", "config": dict(spec)}
    if isinstance(spec, dict) and spec.get("class_name") == "__ellipsis__":
        return {"class_name": "__ellipsis__", "config": {}}
    return spec


def _from_keras3_slice_spec(spec: Any) -> Any:
    if isinstance(spec, list):
        return [_from_keras3_slice_spec(item) for item in spec]
    if isinstance(spec, dict) and spec.get("class_name") == "__slice__":
        inner = spec.get("config") or {}
        return {k: inner.get(k) for k in ("start", "stop", "step")}
    if isinstance(spec, dict) and spec.get("class_name") == "__ellipsis__":
        return {"class_name": "__ellipsis__"}
    return spec


def _ops_from_keras3(inner: dict) -> dict:
    """Keras 3's arithmetic and indexing operations (``keras.src.ops.numpy`` ``Add``,
    ``GetItem``, ...) as the tf.keras 2 op layers rnnkit builds. Only the classes in
    ``layers.ops.KERAS3_NAMES`` are mapped; any other operation stays and is refused."""
    from ..layers.ops import GETITEM, KERAS3_NAMES, OPS

    layers = []
    for entry in inner["layers"]:
        symbol = KERAS3_NAMES.get(entry.get("class_name")) if entry.get("module") == \
            "keras.src.ops.numpy" else None
        nodes = entry.get("inbound_nodes") or []
        if symbol is None or not all(isinstance(n, dict) and isinstance(n.get("args"), list)
                                     and n["args"] and not n.get("kwargs") for n in nodes):
            layers.append(entry)
            continue
        name = entry.get("name") or _name_of(entry)
        calls = []
        for node in nodes:
            x, rest = _from_keras3_constant(node["args"][0]), node["args"][1:]
            if symbol == GETITEM:
                kwargs = {"slice_spec": _from_keras3_slice_spec(rest[0] if rest else None)}
            elif OPS[symbol].binary:
                kwargs = {"y": _from_keras3_constant(rest[0]) if rest else None,
                          "name": None}
            else:
                kwargs = {"name": None}
            calls.append({"args": [x], "kwargs": kwargs})
        layers.append({"class_name": "SlicingOpLambda" if symbol == GETITEM else "TFOpLambda",
                       "config": {"name": name, "trainable": True, "dtype": "float32",
                                  "function": symbol},
                       "name": name, "inbound_nodes": calls})
    return dict(inner, layers=layers)


def keras2_model_config(model: Any) -> dict:
    """The tf.keras 2 ``model_config`` of an rnnkit Sequential."""
    return {"class_name": "Sequential", "config": model.get_config()}
