"""rnnkit's own pickle-free weight files: ``.npz`` (or ``.safetensors`` when installed).

Arrays are stored under their Keras weight names (``lstm/lstm_cell/kernel:0``) in Keras
layout; a full-model file also carries the model config as a JSON string entry
``__config__`` (a NumPy unicode array, readable with ``allow_pickle=False``). Writes are
atomic: a temporary file beside the target, renamed over it when complete. The Keras
formats (``.h5``, ``.keras``) are ``model.save``/``model.save_weights`` in ``rnnkit.io``.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .._files import atomic_write

CONFIG_KEY = "__config__"


def _arrays(model: Any) -> dict[str, np.ndarray]:
    names = model.weight_names()
    if len(set(names)) != len(names):
        raise ValueError(f"Model {model.name!r} has duplicate weight names; cannot save by name.")
    return dict(zip(names, model.get_weights()))


def save_weights(model: Any, path: str, include_config: bool = False) -> None:
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
        atomic_write(path, lambda t: save_file({k: np.ascontiguousarray(v)
                                                for k, v in arrays.items()}, t,
                                               metadata=metadata))
        return
    if config is not None:
        arrays[CONFIG_KEY] = np.array(config)

    def write(temp: str) -> None:
        with open(temp, "wb") as f:
            np.savez(f, **arrays)
    atomic_write(path, write)


def load_weights(model: Any, path: str) -> None:
    """Set the model's weights from a file written by ``save_weights`` (matched by name)."""
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file
        stored = load_file(path)
    else:
        with np.load(path, allow_pickle=False) as f:
            stored = {k: f[k] for k in f.files if k != CONFIG_KEY}
    names = model.weight_names()
    missing = [n for n in names if n not in stored]
    if not missing:
        model.set_weights([stored[n] for n in names])
    elif len(stored) == len(names) and not path.endswith(".safetensors"):
        # Same topology, other auto-names (a rebuilt model's `lstm_cell_1`): by position
        # (an .npz keeps the write order), as Keras loads by topological order;
        # set_weights checks every shape.
        model.set_weights(list(stored.values()))
    else:
        raise ValueError(f"{path!r} has no weights for {missing} (it holds "
                         f"{list(stored)}).")


def read_config(path: str) -> dict:
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        from safetensors import safe_open
        with safe_open(path, "np") as f:
            text = (f.metadata() or {}).get(CONFIG_KEY)
    else:
        with np.load(path, allow_pickle=False) as f:
            text = str(f[CONFIG_KEY]) if CONFIG_KEY in f.files else None
    if text is None:
        raise ValueError(f"{path!r} holds weights only (no model config).")
    return json.loads(text)


def load_model(path: str) -> Any:
    """A Sequential rebuilt from a file written with ``include_config=True``."""
    from ..layers.serialization import model_class
    Sequential = model_class("Sequential")  # noqa: N806
    model = Sequential.from_config(read_config(path))
    load_weights(model, path)
    return model
