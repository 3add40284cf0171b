"""Keras 3 ``.keras`` archives and the ``vars`` weights layout (``*.weights.h5``).

A ``.keras`` file is a ZIP of ``metadata.json``, ``config.json`` and ``model.weights.h5``
(``reference/keras-semantics.md`` §7.3). In the weights file each layer of the model lives
at ``layers/<snake_case class name>[_n]`` and each object's own variables at
``<path>/vars/0, 1, ...`` (an LSTM's at ``layers/lstm/cell/vars``). tf.keras 2.12-2.15
wrote the same object layout for ``save_weights("x.weights.h5")``, but under
``_layer_checkpoint_dependencies`` with its own naming (see ``weight_maps.tf212_layer_keys``).
A compiled model's optimizer state is at ``optimizer/vars/0, 1, ...`` (its order:
``rnnkit.optimizers.state``).
"""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Any

from . import safe_read, weight_maps
from .errors import FileFormatError
from .weight_plan import PlanEntry

KERAS3_VERSION = "3.15.1"  # the Keras release whose format is written (and was verified)
_CONTAINERS = {"keras3": "layers", "tf212": "_layer_checkpoint_dependencies"}


def vars_layout(handle: Any) -> str | None:
    """``"keras3"``, ``"tf212"`` or ``None`` for an open HDF5 file."""
    if safe_read.has_child(handle, "layers"):
        return "keras3"
    if safe_read.has_child(handle, "_layer_checkpoint_dependencies"):
        return "tf212"
    return None


def plan_vars(model: Any, handle: Any, layout: str, label: str) -> list[PlanEntry]:
    """Pair every weight of ``model`` with ``<container>/<key>/<path>/vars/<i>``."""
    container = safe_read.get_child(handle, _CONTAINERS[layout], "the layers container")
    layers = model.layers
    keys = (_keras3_keys(layers) if layout == "keras3"
            else weight_maps.tf212_layer_keys(layers))
    plan: list[PlanEntry] = []
    for layer, key in zip(layers, keys):
        names = dict(zip(map(id, layer.weights), layer.weight_names()))
        groups = _saveable_groups(layer) if layout == "keras3" \
            else weight_maps.saveable_groups(layer)
        for path, params, _ in groups:
            if not params:
                continue
            where = f"{key}/{path}"
            group = safe_read.get_child(container, where,
                                        f"the weights of layer {layer.name!r} ({where})")
            count = (len(safe_read.child_names(group, where)) if safe_read.is_group(group)
                     else -1)
            if count != len(params):
                raise FileFormatError(
                    f"{label}: layer {layer.name!r} ({type(layer).__name__}) expects "
                    f"{len(params)} arrays at {_CONTAINERS[layout]}/{where}, the file has {count}.")
            for index, param in enumerate(params):
                what = f"weight {index} of layer {layer.name!r}"
                array = safe_read.read_array(safe_read.get_child(group, str(index), what), what)
                plan.append(PlanEntry(layer.name, names.get(id(param), str(index)), param, array))
    return plan


def write_vars(handle: Any, model: Any) -> None:
    """The Keras 3 ``model.weights.h5`` layout into an open HDF5 file."""
    top = handle.create_group("vars")
    top.attrs["name"] = model.name
    layers_group = handle.create_group("layers")
    for layer, key in zip(model.layers, _keras3_keys(model.layers)):
        base = layers_group.create_group(key)
        for path, params, name in _saveable_groups(layer):
            group = base.require_group(path)
            group.attrs["name"] = name
            for index, param in enumerate(params):
                group.create_dataset(str(index), data=param.detach().cpu().numpy())


def _is_model(layer: Any) -> bool:
    from ..layers.serialization import model_class
    Model, Sequential = model_class("Functional"), model_class("Sequential")  # noqa: N806
    return isinstance(layer, Sequential) or (isinstance(layer, Model) and layer._is_graph_network)


def _keras3_keys(layers: list) -> list[str]:
    """``weight_maps.keras3_layer_keys``, where Keras 3 calls a functional model
    ``Functional`` (an rnnkit ``Model``): its key is ``functional``, ``functional_1``, ..."""
    from ..layers.serialization import model_class
    Model = model_class("Functional")  # noqa: N806

    class Functional:  # a stand-in carrying only the class name the key is made from
        pass

    return weight_maps.keras3_layer_keys(
        [Functional() if isinstance(layer, Model) else layer for layer in layers])


def _saveable_groups(layer: Any) -> list[tuple[str, list, str]]:
    """``weight_maps.saveable_groups``, and for a model nested in the model Keras 3's layout:
    its own (empty) ``vars``, then each of its layers under ``layers/<key>/``."""
    if not _is_model(layer):
        return weight_maps.saveable_groups(layer)
    groups = [("vars", [], layer.name)]
    for child, key in zip(layer.layers, _keras3_keys(layer.layers)):
        groups += [(f"layers/{key}/{path}", params, name)
                   for path, params, name in _saveable_groups(child)]
    return groups


# ---------------------------------------------------------------------- the archive
class Archive:
    """An open ``.keras`` archive: ``config`` is read at once (bounded JSON); the weights
    member is opened later by :meth:`weights_source`, when the model it must fill is known,
    so its size can be checked against what that model can use."""

    def __init__(self, path: Any, label: str) -> None:
        self.label = label
        self.zip, self.size, self.raw = safe_read.open_zip(path, label)
        try:
            names = self.zip.namelist()
            if "config.json" not in names:
                raise FileFormatError(f"{label} is a ZIP without 'config.json': not a .keras "
                                      "archive.")
            self.config = safe_read.parse_json(
                safe_read.read_zip_member(self.zip, "config.json", label, self.size,
                                          safe_read.MAX_JSON_BYTES, "a model config"),
                f"{label}: config.json")
            if "model.weights.h5" not in names:
                other = "model.weights.npz" if "model.weights.npz" in names else None
                raise FileFormatError(f"{label} has no 'model.weights.h5'"
                                      + (" (its weights are in model.weights.npz, which rnnkit "
                                         "does not read)" if other else "") + ".")
        except BaseException:
            self.close()
            raise

    def weights_source(self, limit: int = safe_read.MAX_MEMBER_BYTES, what: str = "") -> Any:
        """``model.weights.h5`` for :func:`safe_read.open_h5`: read in place when stored (as
        Keras writes it), else decompressed once, at most ``limit`` bytes (``what`` says
        whose limit it is)."""
        raw = os.fdopen(os.dup(self.raw.fileno()), "rb")
        try:
            source = safe_read.zip_member_source(self.zip, raw, "model.weights.h5", self.label,
                                                 self.size, limit, what)
        except BaseException:
            raw.close()
            raise
        if not isinstance(source, safe_read.MemberWindow):
            raw.close()
        return source

    def close(self) -> None:
        self.zip.close()
        self.raw.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def member_limit(model: Any) -> int:
    """The most bytes ``model.weights.h5`` may decompress to for ``model``: its weights and an
    optimizer's slots at 8 bytes an element, plus 16 MiB of HDF5 structure."""
    return safe_read.model_budget(model, factor=4) + 16 * 2 ** 20


def read_archive(path: Any, label: str) -> tuple[dict, Any]:
    """``(config dict, model.weights.h5 source)`` of a ``.keras`` archive (see :class:`Archive`)."""
    with Archive(path, label) as archive:
        return archive.config, archive.weights_source()


def write_archive(handle: Any, config: dict, weights_h5: bytes) -> None:
    """Write the three members (stored, not deflated, as Keras 3 does) to a binary stream."""
    metadata = {"keras_version": KERAS3_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights_h5)


def vars_h5_bytes(model: Any, optimizer_state: tuple[str, list] | None = None) -> bytes:
    """``model.weights.h5``; ``optimizer_state`` is ``(optimizer name, arrays)``."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        write_vars(handle, model)
        if optimizer_state is not None:
            name, arrays = optimizer_state
            group = handle.create_group("optimizer").create_group("vars")
            group.attrs["name"] = name
            for index, array in enumerate(arrays):
                group.create_dataset(str(index), data=array)
    return buffer.getvalue()


def read_optimizer_vars(handle: Any, label: str) -> tuple[None, list] | None:
    """``(None, arrays)`` of ``optimizer/vars/0..n`` (Keras 3 names no entry), or ``None``."""
    if not safe_read.has_child(handle, "optimizer"):
        return None
    group = safe_read.get_child(handle, "optimizer/vars", "the optimizer variables")
    if not safe_read.is_group(group):
        raise FileFormatError(f"{label}: 'optimizer/vars' should be a group.")
    keys = safe_read.child_names(group, "the optimizer variables")
    if sorted(keys) != sorted(str(i) for i in range(len(keys))):
        raise FileFormatError(f"{label}: 'optimizer/vars' should hold entries 0..{len(keys) - 1}, "
                              f"it holds {sorted(keys)[:10]}.")
    arrays = [safe_read.read_array(safe_read.get_child(group, str(i), f"optimizer variable {i}"),
                                   f"optimizer variable {i}") for i in range(len(keys))]
    return None, arrays
