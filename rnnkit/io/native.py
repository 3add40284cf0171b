"""rnnkit's own pickle-free files: ``.npz`` (or ``.safetensors`` when installed).

Arrays are stored under their Keras weight names (``lstm/lstm_cell/kernel:0``) in Keras
layout; a full-model file also carries the model config (``model.get_config()``) as a JSON
string entry ``__config__`` (a NumPy unicode array, readable with ``allow_pickle=False``).
``model.save("m.npz")`` writes a full-model file, ``model.save_weights("w.npz")`` weights
only; ``rnnkit train``'s ``model.weights.npz`` and ``ModelCheckpoint("best.npz")`` are such
files, and ``load_model`` / ``model.load_weights`` / ``rnnkit summary`` read them.

Reading has the Keras formats' safety (``rnnkit._files.npz``): only a regular ZIP file is
opened, every array's header is checked against the bytes stored before anything is
allocated, no pickle, the config is screened like a Keras config (no code, known classes)
and built first on the meta device, so a config declaring ``units=60000`` is refused
against the stored shapes before a byte is allocated. Writes are atomic (``rnnkit._files``).
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .. import _files, backend
from .._files.npz import NpzReader
from . import configs, safe_read
from .errors import FileFormatError, WeightMismatchError

CONFIG_KEY = "__config__"
SUFFIXES = (".npz", ".safetensors")


def _label(path: Any) -> str:
    return repr(os.fspath(path))


def _arrays(model: Any) -> dict[str, np.ndarray]:
    names = model.weight_names()
    if len(set(names)) != len(names):
        raise ValueError(f"Model {model.name!r} has duplicate weight names; cannot save by name.")
    return dict(zip(names, model.get_weights()))


def save_weights(model: Any, path: Any, include_config: bool = False,
                 overwrite: bool = True) -> None:
    """Write the weights (and optionally the config) to ``.npz`` or ``.safetensors``."""
    path = os.fspath(path)
    if not getattr(model, "built", True):
        raise ValueError(f"Model {model.name!r} has no weights yet: build it before saving.")
    arrays = _arrays(model)
    config = json.dumps(model.get_config()) if include_config else None
    if path.endswith(".safetensors"):
        try:
            from safetensors.numpy import save_file
        except ImportError as e:
            raise ImportError("Saving to .safetensors needs the `safetensors` package "
                              "(pip install safetensors); or use a .npz path.") from e
        metadata = {CONFIG_KEY: config} if config else None
        _files.atomic_write(path, lambda t: save_file({k: np.ascontiguousarray(v)
                                                       for k, v in arrays.items()}, t,
                                                      metadata=metadata), overwrite)
        return
    if config is not None:
        arrays[CONFIG_KEY] = np.array(config)

    def write(temp: str) -> None:
        with open(temp, "wb") as f:
            np.savez(f, **arrays)
    _files.atomic_write(path, write, overwrite)


# ---------------------------------------------------------------------- reading
def _budget(model: Any) -> int:
    return safe_read.model_budget(model)


def _stored_shapes(path: Any, label: str) -> tuple[dict[str, tuple], str | None]:
    """``({name: shape}, config text or None)`` without reading an array."""
    if str(path).endswith(".safetensors"):
        return _safetensors_shapes(path, label)
    with NpzReader(path, label, text_keys=(CONFIG_KEY,), what="an rnnkit .npz file") as reader:
        shapes = {k: e.shape for k, e in reader.entries.items() if k != CONFIG_KEY}
        return shapes, reader.text(CONFIG_KEY, safe_read.MAX_JSON_BYTES * 4)


def _match(model: Any, stored: dict[str, tuple], label: str) -> list[str]:
    """The stored name for each of the model's weights (by name, or by position when the
    counts agree and only the automatic names differ), shapes checked before any read."""
    names = model.weight_names()
    missing = [n for n in names if n not in stored]
    if not missing:
        chosen = names
    elif len(stored) == len(names):
        # Same topology, other auto-names (a rebuilt model's `lstm_cell_1`): by position (an
        # .npz keeps the write order), as Keras loads by topological order.
        chosen = list(stored)
    else:
        raise WeightMismatchError(f"{label} has no weights for {missing} (it holds "
                                  f"{list(stored)[:20]}).")
    for name, key, param in zip(names, chosen, model.weights):
        if tuple(stored[key]) != tuple(param.shape):
            raise WeightMismatchError(
                f"{label}: weight {name} has shape {tuple(param.shape)} in the model, but the "
                f"file stores shape {tuple(stored[key])} for it ({key!r}).")
    return chosen


def load_weights(model: Any, path: Any) -> None:
    """Set the model's weights from a file written by ``save_weights`` (matched by name);
    nothing is set unless every weight is found with its shape."""
    label = _label(path)
    if str(path).endswith(".safetensors"):
        shapes, _ = _safetensors_shapes(path, label)
        chosen = _match(model, shapes, label)
        arrays = _safetensors_read(path, label, chosen)
    else:
        with NpzReader(path, label, budget=_budget(model), text_keys=(CONFIG_KEY,),
                       what="an rnnkit .npz file") as reader:
            shapes = {k: e.shape for k, e in reader.entries.items() if k != CONFIG_KEY}
            chosen = _match(model, shapes, label)
            arrays = [reader.read(key) for key in chosen]
    model.set_weights(arrays)


def _config_from_text(text: str | None, label: str) -> dict:
    if text is None:
        raise FileFormatError(f"{label} holds weights only (no model config): build the model "
                              "in code and call model.load_weights.")
    config = safe_read.parse_json(text, f"{label}: {CONFIG_KEY}")
    if not isinstance(config, dict):
        raise FileFormatError(f"{label}: the model config is not a JSON object.")
    return config


def read_config(path: Any) -> dict:
    """The model config (``model.get_config()``) stored in a full-model file."""
    label = _label(path)
    return _config_from_text(_stored_shapes(path, label)[1], label)


def _wrapped(config: dict) -> dict:
    """``model.get_config()`` as a ``{"class_name", "config"}`` object for the config reader."""
    if "class_name" in config and "config" in config:
        return config
    return {"class_name": "Functional" if "input_layers" in config else "Sequential",
            "config": config}


def load_model(path: Any) -> Any:
    """The model a full-model file describes, with its weights. The config is screened as a
    Keras config is and built first on the meta device: the stored shapes are checked against
    it before the real model allocates anything."""
    label = _label(path)
    shapes, text = _stored_shapes(path, label)
    config = _wrapped(_config_from_text(text, label))
    with backend.names_given_back():
        meta = configs.model_from_config(config, label, meta=True)
    _match(meta, shapes, label)
    model = configs.model_from_config(config, label)
    load_weights(model, path)
    return model


def summarize(path: Any, print_fn: Any) -> bool:
    """Print a weights-only file's arrays and shapes; ``False`` for a full-model file."""
    label = _label(path)
    shapes, text = _stored_shapes(path, label)
    if text is not None:
        return False
    print_fn(f"{label}: weights only (no architecture); stored arrays:")
    total = 0
    for name, shape in shapes.items():
        count = int(np.prod(shape, dtype=np.int64))
        total += count
        print_fn(f"  {name}: {tuple(shape)}  ({count:,} params)")
    print_fn(f"Total params: {total:,}")
    return True


# ---------------------------------------------------------------------- safetensors
def _safetensors_shapes(path: Any, label: str) -> tuple[dict[str, tuple], str | None]:
    try:
        from safetensors import safe_open
    except ImportError as e:
        raise ImportError("Reading .safetensors needs the `safetensors` package "
                          "(pip install safetensors).") from e
    _files.check_regular(path, label)
    try:
        with safe_open(os.fspath(path), "np") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            text = (f.metadata() or {}).get(CONFIG_KEY)
    except Exception as error:
        raise FileFormatError(f"{label} is not a readable .safetensors file: {error}") from None
    return shapes, text


def _safetensors_read(path: Any, label: str, keys: list[str]) -> list[np.ndarray]:
    from safetensors import safe_open

    _files.check_regular(path, label)
    try:
        with safe_open(os.fspath(path), "np") as f:
            return [f.get_tensor(k) for k in keys]
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read its arrays: {error}") from None
