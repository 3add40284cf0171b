"""The training state ``BackupAndRestore`` writes and reads: one pickle-free ``.npz``.

Arrays: the model weights (``w/<i>``, Keras order), the optimiser's slots
(``opt/<param index>/<slot>``, or a ``torch.optim`` state's tensors), the torch RNG state and
NumPy's MT19937 key. Everything else (epoch, history, optimiser step count and learning
rate, the rest of the RNG states) is the JSON string entry ``__state__``.
"""
from __future__ import annotations

import json
import os
import random
from typing import Any

import numpy as np
import torch

from .._files import atomic_write  # fsyncs before the rename

STATE_KEY = "__state__"
VERSION = 1


def _optimizer_state(model: Any, arrays: dict) -> dict:
    opt = getattr(model, "optimizer", None)
    params = [p for p in model.parameters() if p.requires_grad]
    if opt is None:
        return {}
    if isinstance(opt, torch.optim.Optimizer):
        sd = opt.state_dict()
        meta = {}
        for index, slots in sd["state"].items():
            for name, value in slots.items():
                if torch.is_tensor(value):
                    arrays[f"opt/{index}/{name}"] = value.detach().cpu().numpy()
                else:
                    meta[f"{index}/{name}"] = value
        return {"kind": "torch", "param_groups": sd["param_groups"], "scalars": meta}
    slots = getattr(opt, "_slots", {})
    for i, p in enumerate(params):
        for name, value in slots.get(id(p), {}).items():
            arrays[f"opt/{i}/{name}"] = value.detach().cpu().numpy()
    from ..optimizers.schedules import LearningRateSchedule
    lr = getattr(opt, "_learning_rate", None)
    return {"kind": "rnnkit", "iterations": int(opt.iterations),
            "learning_rate": None if isinstance(lr, LearningRateSchedule) else float(
                opt.learning_rate)}


def save(model: Any, path: str, epoch: int, history: dict, epochs: list) -> None:
    """Write the state after ``epoch`` finished epochs, atomically."""
    arrays = {f"w/{i}": w for i, w in enumerate(model.get_weights())}
    opt_state = _optimizer_state(model, arrays)
    arrays["rng/torch"] = torch.get_rng_state().numpy()
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # dropout on the GPU
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            arrays[f"rng/cuda/{i}"] = state.numpy()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    arrays["rng/numpy"] = keys
    py_version, py_state, py_gauss = random.getstate()
    state = {"version": VERSION, "epoch": epoch, "history": history, "epochs": epochs,
             "optimizer": opt_state,
             "numpy_rng": [kind, int(pos), int(has_gauss), float(cached)],
             "python_rng": [py_version, list(py_state), py_gauss]}
    arrays[STATE_KEY] = np.array(json.dumps(state))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def write(temp: str) -> None:
        with open(temp, "wb") as f:
            np.savez(f, **arrays)
    atomic_write(path, write)


def restore(model: Any, path: str) -> dict:
    """Set the model, optimiser and RNGs from ``path``; the JSON state (epoch, history)."""
    if not getattr(model, "built", True):
        raise ValueError(f"BackupAndRestore: a backup exists at {path!r} but model "
                         f"{getattr(model, 'name', '')!r} has no weights yet to restore it "
                         "into; build the model (e.g. give the first layer input_shape) "
                         "before fit.")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    state = json.loads(str(arrays.pop(STATE_KEY)))
    if state.get("version") != VERSION:
        raise ValueError(f"BackupAndRestore: {path!r} has backup version "
                         f"{state.get('version')!r}; this rnnkit reads version {VERSION}.")
    count = sum(1 for k in arrays if k.startswith("w/"))
    model.set_weights([arrays[f"w/{i}"] for i in range(count)])
    _restore_optimizer(model, state["optimizer"], arrays)
    torch.set_rng_state(torch.from_numpy(arrays["rng/torch"]))
    cuda = [arrays[f"rng/cuda/{i}"] for i in range(sum(k.startswith("rng/cuda/") for k in arrays))]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([torch.from_numpy(state) for state in cuda])
    kind, pos, has_gauss, cached = state["numpy_rng"]
    np.random.set_state((kind, arrays["rng/numpy"], pos, has_gauss, cached))
    version, py_state, gauss = state["python_rng"]
    random.setstate((version, tuple(py_state), gauss))
    return state


def _restore_optimizer(model: Any, opt_state: dict, arrays: dict) -> None:
    opt = getattr(model, "optimizer", None)
    if opt is None or not opt_state:
        return
    params = [p for p in model.parameters() if p.requires_grad]
    if opt_state["kind"] == "torch":
        sd_state: dict = {}
        for key, value in arrays.items():
            if key.startswith("opt/"):
                _, index, name = key.split("/", 2)
                sd_state.setdefault(int(index), {})[name] = torch.from_numpy(value)
        for key, value in opt_state["scalars"].items():
            index, name = key.split("/", 1)
            sd_state.setdefault(int(index), {})[name] = value
        opt.load_state_dict({"state": sd_state, "param_groups": opt_state["param_groups"]})
        return
    opt._slots = {}
    for key, value in arrays.items():
        if key.startswith("opt/"):
            _, index, name = key.split("/", 2)
            p = params[int(index)]
            opt._slots.setdefault(id(p), {})[name] = torch.from_numpy(value).to(p.device)
    opt.iterations = opt_state["iterations"]
    if opt_state["learning_rate"] is not None:
        opt.learning_rate = opt_state["learning_rate"]
