"""tf.keras 2 HDF5 files: ``model.save("m.h5")`` and ``model.save_weights("w.h5")``.

Layout (``reference/keras-semantics.md`` §7.1): the weights live under ``model_weights``
(full model) or at the root (weights only); ``layer_names`` lists the model's layers in
order (chunked into ``layer_names0``, ``layer_names1``, ... when large) and each layer's
group lists its ``weight_names``, which are also the dataset paths inside the group. The
full model adds the ``model_config`` JSON attribute and, when compiled, ``training_config``
and the ``optimizer_weights`` group (its ``weight_names`` list the optimizer's state in
order; each name is also the dataset's path). Loading is topological (layers with
weights, in order) or ``by_name``; Keras 1 and CuDNN arrays are converted by shape.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import safe_read
from .errors import FileFormatError, WeightMismatchError
from .weight_plan import PlanEntry, accepted_counts, convert_legacy, layer_entries

KERAS_VERSION = "2.12.0"  # the tf.keras release whose layout is written
_ATTRIBUTE_LIMIT = 64512  # HDF5_OBJECT_HEADER_LIMIT in tf.keras


def is_legacy_weights_root(handle: Any) -> bool:
    return (safe_read.read_attribute(handle, "layer_names") is not None
            or safe_read.read_attribute(handle, "layer_names0") is not None)


def weights_root(handle: Any) -> Any:
    """``model_weights`` of a full-model file, else the root of a weights-only file."""
    if safe_read.has_child(handle, "model_weights"):
        return safe_read.get_child(handle, "model_weights", "the model weights")
    return handle


class SavedLayer(NamedTuple):
    """One layer's entry in a tf.keras 2 file: its group and weight names (nothing read)."""
    name: str
    group: Any
    weight_names: list[str]


def saved_layers(root: Any, label: str) -> list[SavedLayer]:
    """Every saved layer in saved order, with its weight names; no array is read, so the
    counts can be checked against the model first."""
    names = safe_read.read_name_list(root, "layer_names")
    if names is None:
        raise FileFormatError(f"{label} has no 'layer_names' attribute: it is not a tf.keras "
                              "HDF5 weights file.")
    saved = []
    for name in names:
        group = safe_read.get_child(root, name, f"the group of layer {name!r}")
        if not safe_read.is_group(group):
            raise FileFormatError(f"{label}: layer {name!r} should be a group.")
        saved.append(SavedLayer(name, group, safe_read.read_name_list(group, "weight_names") or []))
    return saved


def _dataset(layer: SavedLayer, weight: str) -> Any:
    return safe_read.get_child(layer.group, weight,
                               f"weight {weight!r} of layer {layer.name!r}")


def read_layer_arrays(layer: SavedLayer) -> list[np.ndarray]:
    """The arrays of one saved layer, in ``weight_names`` order (within the file's budget)."""
    return [safe_read.read_array(_dataset(layer, w), f"weight {w!r} of layer {layer.name!r}")
            for w in layer.weight_names]


def layer_shapes(layer: SavedLayer) -> list[tuple[int, ...]]:
    """The shapes of one saved layer's arrays, checked but not read."""
    return [safe_read.dataset_shape(_dataset(layer, w), f"weight {w!r} of layer {layer.name!r}")
            for w in layer.weight_names]


def _check_count(layer: Any, saved: SavedLayer, label: str) -> None:
    """Refuse, before any array is read, a saved layer listing a number of weights the
    model's layer cannot take (its own count, or a Keras 1 layout's)."""
    counts = accepted_counts(layer)
    if len(saved.weight_names) not in counts:
        params = layer.weights
        names = layer.weight_names()
        raise WeightMismatchError(
            f"{label}: layer {layer.name!r} ({type(layer).__name__}) expects {len(params)} "
            f"weights ({', '.join(f'{n} {tuple(p.shape)}' for n, p in zip(names, params))}), "
            f"but the file has {len(saved.weight_names)} for it (saved layer {saved.name!r}).")


def read_saved_layers(root: Any, label: str) -> list[tuple[str, list[np.ndarray]]]:
    """``(layer name, arrays)`` for every saved layer (reads them all: small files only)."""
    return [(layer.name, read_layer_arrays(layer)) for layer in saved_layers(root, label)]


def plan_legacy(model: Any, root: Any, label: str, by_name: bool = False,
                skip_mismatch: bool = False) -> list[PlanEntry]:
    """Match the saved layers to ``model.layers`` topologically or by name; counts are
    checked before any array is read, and only the arrays a layer takes are read."""
    saved = saved_layers(root, label)
    plan: list[PlanEntry] = []
    if by_name:
        saved_by_name = {layer.name: layer for layer in saved}
        for layer in model.layers:
            if layer.name in saved_by_name and layer.weights:
                try:
                    _check_count(layer, saved_by_name[layer.name], label)
                    arrays = convert_legacy(layer, read_layer_arrays(saved_by_name[layer.name]),
                                            label)
                    entries = layer_entries(layer, arrays, label)
                    if skip_mismatch and any(e.array.shape != tuple(e.param.shape)
                                             for e in entries):
                        continue
                except WeightMismatchError:
                    if skip_mismatch:
                        continue
                    raise
                plan += entries
        return plan
    with_weights = [layer for layer in saved if layer.weight_names]
    layers = [layer for layer in model.layers if layer.weights]
    if len(with_weights) != len(layers):
        raise WeightMismatchError(
            f"{label}: Layer count mismatch when loading weights from file. Model expected "
            f"{len(layers)} layers with weights ({', '.join(l.name for l in layers)}), found "
            f"{len(with_weights)} saved layers ({', '.join(s.name for s in with_weights)}).")
    for layer, entry in zip(layers, with_weights):
        _check_count(layer, entry, label)
    for layer, entry in zip(layers, with_weights):
        plan += layer_entries(layer, convert_legacy(layer, read_layer_arrays(entry), label), label)
    return plan


# ---------------------------------------------------------------------- writing
def _save_names(obj: Any, name: str, values: list[str]) -> None:
    """tf.keras's ``save_attributes_to_hdf5_group``: split large name lists into chunks."""
    data = np.asarray([v.encode("utf8") for v in values]) if values else np.asarray([], dtype=np.float64)
    chunks = 1
    while data.nbytes / chunks > _ATTRIBUTE_LIMIT and chunks < len(values):
        chunks += 1
    if chunks == 1:
        obj.attrs[name] = data
        return
    for index, part in enumerate(np.array_split(data, chunks)):
        obj.attrs[f"{name}{index}"] = part


def write_weights(root: Any, model: Any) -> None:
    """tf.keras 2 weights layout into an open HDF5 group (the root or ``model_weights``)."""
    layers = model.layers
    _save_names(root, "layer_names", [layer.name for layer in layers])
    root.attrs["backend"] = b"tensorflow"
    root.attrs["keras_version"] = KERAS_VERSION.encode()
    for layer in layers:
        group = root.create_group(layer.name)
        names = layer.weight_names()
        _save_names(group, "weight_names", names)
        for name, param in zip(names, layer.weights):
            group.create_dataset(name, data=param.detach().cpu().numpy())
    top = root.create_group("top_level_model_weights")
    _save_names(top, "weight_names", [])


_FROM_MODEL: Any = object()  # the default: the model's own compile config and state


def write_model(handle: Any, model: Any, model_config_json: str,
                training_config_json: Any = _FROM_MODEL, optimizer_state: Any = _FROM_MODEL) -> None:
    """The full-model file; ``training_config_json`` / ``optimizer_state`` (``(names,
    arrays)``) default to the compiled model's own, ``None`` writes none."""
    if training_config_json is _FROM_MODEL or optimizer_state is _FROM_MODEL:
        import json

        from .compile_config import saved_compile_config, saved_optimizer_state
        config = saved_compile_config(model, "keras2")
        training_config_json = json.dumps(config) if config is not None else None
        optimizer_state = saved_optimizer_state(model, "keras2") if config is not None else None
    handle.attrs["backend"] = b"tensorflow"
    handle.attrs["keras_version"] = KERAS_VERSION.encode()
    handle.attrs["model_config"] = model_config_json.encode("utf8")
    write_weights(handle.create_group("model_weights"), model)
    if training_config_json is not None:
        handle.attrs["training_config"] = training_config_json.encode("utf8")
    if optimizer_state is not None:
        write_optimizer_weights(handle, *optimizer_state)


def write_optimizer_weights(handle: Any, names: list[str], arrays: list) -> None:
    """tf.keras 2.12's ``optimizer_weights`` group: ``weight_names`` and one dataset each."""
    group = handle.create_group("optimizer_weights")
    unique: list[str] = []
    for index, name in enumerate(names):
        if name in unique:  # two weights of one name: keep both, as distinct paths
            stem, _, suffix = name.rpartition(":")
            name = f"{stem}_{index}:{suffix}" if stem else f"{name}_{index}"
        unique.append(name)
    _save_names(group, "weight_names", unique)
    for name, array in zip(unique, arrays):
        group.create_dataset(name, data=array)


def read_optimizer_weights(handle: Any, label: str) -> tuple[list[str], list[np.ndarray]] | None:
    """``(weight_names, arrays)`` of the ``optimizer_weights`` group, ``None`` without one."""
    if not safe_read.has_child(handle, "optimizer_weights"):
        return None
    group = safe_read.get_child(handle, "optimizer_weights", "the optimizer weights")
    if not safe_read.is_group(group):
        raise FileFormatError(f"{label}: 'optimizer_weights' should be a group.")
    names = safe_read.read_name_list(group, "weight_names") or []
    if len(set(names)) != len(names):
        raise FileFormatError(f"{label}: 'optimizer_weights' lists a weight twice.")
    arrays = [safe_read.read_array(safe_read.get_child(group, n, f"optimizer weight {n!r}"),
                                   f"optimizer weight {n!r}") for n in names]
    return names, arrays
