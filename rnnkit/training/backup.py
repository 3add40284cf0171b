"""The training state ``BackupAndRestore`` writes and reads: one pickle-free ``.npz``.

Arrays: the model weights (``w/<i>``, Keras order), the optimiser's slots
(``opt/<param index>/<slot>``, or a ``torch.optim`` state's tensors), the torch RNG state and
NumPy's MT19937 key. Everything else (epoch, history, optimiser step count and learning
rate, the rest of the RNG states) is the JSON string entry ``__state__``.

Restoring validates the whole backup first (every weight's and slot's shape, the RNG
states, the counters, ``epoch >= 0``, the history) against the model, reading it safely
(``rnnkit._files.npz``: regular files only, headers checked, no pickle); only then is
anything applied, and should applying still fail, the model, optimiser and RNGs are put
back as they were. A bad backup is a ``FileFormatError`` naming the file and the reason.
"""
from __future__ import annotations

import json
import os
import random
from typing import Any

import numpy as np
import torch

from .._files import FileFormatError, atomic_write, parse_json
from .._files.npz import NpzReader

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
    """Set the model, optimiser and RNGs from ``path``; the JSON state (epoch, history).
    Nothing changes unless the whole backup is valid (see the module docstring)."""
    if not getattr(model, "built", True):
        raise ValueError(f"BackupAndRestore: a backup exists at {path!r} but model "
                         f"{getattr(model, 'name', '')!r} has no weights yet to restore it "
                         "into; build the model (e.g. give the first layer input_shape) "
                         "before fit.")
    label = f"BackupAndRestore: the backup {os.fspath(path)!r}"
    weights = model.get_weights()
    budget = 8 * sum(w.size for w in weights) * 6 + 2 ** 20  # weights, slots, RNG states
    with NpzReader(path, label, budget=budget, text_keys=(STATE_KEY,),
                   what="a BackupAndRestore backup") as reader:
        state = parse_json(reader.text(STATE_KEY, 256 * 2 ** 20) or "null", f"{label}: state")
        _check_state(state, label)
        _check_arrays(model, weights, state, reader.entries, label)
        arrays = {key: reader.read(key) for key in reader.entries if key != STATE_KEY}
    snapshot = _snapshot(model)
    try:
        _apply(model, state, arrays)
    except Exception as error:
        _put_back(model, snapshot)
        raise FileFormatError(f"{label} could not be applied ({type(error).__name__}: {error}); "
                              "the model, optimizer and random states are as they were.") from None
    return state


def _bad(label: str, what: str) -> FileFormatError:
    return FileFormatError(f"{label} is invalid: {what}. Nothing was restored; delete the "
                           "backup to start training afresh.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_state(state: Any, label: str) -> None:
    """The JSON part: version, epoch >= 0, history and epochs that agree, RNG states."""
    if not isinstance(state, dict):
        raise _bad(label, f"it has no {STATE_KEY!r} object")
    if state.get("version") != VERSION:
        raise FileFormatError(f"{label} has backup version {state.get('version')!r}; this "
                              f"rnnkit reads version {VERSION}.")
    epoch, epochs, history = state.get("epoch"), state.get("epochs"), state.get("history")
    if not _is_int(epoch) or epoch < 0:
        raise _bad(label, f"epoch is {epoch!r}; expected a whole number >= 0")
    if not isinstance(epochs, list) or not all(_is_int(e) and e >= 0 for e in epochs):
        raise _bad(label, "'epochs' should be a list of whole numbers >= 0")
    if not isinstance(history, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and len(v) == len(epochs)
            and all(_is_number(x) for x in v) for k, v in history.items()):
        raise _bad(label, "'history' should map each metric to one number per finished epoch")
    numpy_rng = state.get("numpy_rng")
    if not (isinstance(numpy_rng, list) and len(numpy_rng) == 4 and numpy_rng[0] == "MT19937"
            and _is_int(numpy_rng[1]) and 0 <= numpy_rng[1] <= 624
            and numpy_rng[2] in (0, 1) and _is_number(numpy_rng[3])):
        raise _bad(label, "the NumPy random state is malformed")
    python_rng = state.get("python_rng")
    if not (isinstance(python_rng, list) and len(python_rng) == 3 and python_rng[0] == 3
            and isinstance(python_rng[1], list) and len(python_rng[1]) == 625
            and all(_is_int(x) and 0 <= x < 2 ** 32 for x in python_rng[1])
            and python_rng[1][-1] <= 624
            and (python_rng[2] is None or _is_number(python_rng[2]))):
        raise _bad(label, "the Python random state is malformed")
    opt = state.get("optimizer")
    if not isinstance(opt, dict):
        raise _bad(label, "'optimizer' should be an object")
    if opt and opt.get("kind") not in ("rnnkit", "torch"):
        raise _bad(label, f"unknown optimizer state kind {opt.get('kind')!r}")
    if opt.get("kind") == "rnnkit":
        iterations, rate = opt.get("iterations"), opt.get("learning_rate")
        if not _is_int(iterations) or iterations < 0:
            raise _bad(label, f"the optimizer's step count is {iterations!r}; expected a whole "
                              "number >= 0")
        if rate is not None and not (_is_number(rate) and np.isfinite(rate) and rate >= 0):
            raise _bad(label, f"the learning rate is {rate!r}; expected a finite number >= 0")
    if opt.get("kind") == "torch" and not (isinstance(opt.get("param_groups"), list)
                                           and isinstance(opt.get("scalars"), dict)):
        raise _bad(label, "the torch optimizer state is malformed")


def _check_arrays(model: Any, weights: list, state: dict, entries: dict, label: str) -> None:
    """Every array's presence, type and shape against the model, from the headers alone."""
    keys = [k for k in entries if k.startswith("w/")]
    expected = [f"w/{i}" for i in range(len(weights))]
    if sorted(keys) != sorted(expected):
        raise _bad(label, f"it holds {len(keys)} weights ({sorted(keys)[:5]}...); model "
                          f"{model.name!r} has {len(weights)}")
    for i, w in enumerate(weights):
        entry = entries[f"w/{i}"]
        if entry.shape != w.shape or entry.dtype.kind != "f":
            raise _bad(label, f"weight {i} has shape {entry.shape} ({entry.dtype}); the model's "
                              f"is {w.shape}")
    torch_rng = entries.get("rng/torch")
    current = torch.get_rng_state()
    if torch_rng is None or torch_rng.dtype != np.uint8 or torch_rng.shape != tuple(current.shape):
        raise _bad(label, "the torch random state is missing or has the wrong size")
    numpy_rng = entries.get("rng/numpy")
    if numpy_rng is None or numpy_rng.dtype != np.uint32 or numpy_rng.shape != (624,):
        raise _bad(label, "the NumPy random state is missing or has the wrong size")
    for key, entry in entries.items():
        if key.startswith("rng/cuda/") and (entry.dtype != np.uint8 or len(entry.shape) != 1):
            raise _bad(label, f"{key!r} is not a CUDA random state")
    params = [p for p in model.parameters() if p.requires_grad]
    opt_state = state["optimizer"]
    optimizer = getattr(model, "optimizer", None)
    known = set(expected) | {STATE_KEY, "rng/torch", "rng/numpy"}
    for key, entry in entries.items():
        if key in known or key.startswith("rng/cuda/"):
            continue
        parts = key.split("/", 2)
        if len(parts) != 3 or parts[0] != "opt" or not parts[1].isdigit() or not parts[2]:
            raise _bad(label, f"unexpected array {key!r}")
        index = int(parts[1])
        if index >= len(params):
            raise _bad(label, f"{key!r} is for parameter {index}; the model has {len(params)}")
        if entry.dtype.kind not in "fiu":
            raise _bad(label, f"{key!r} has type {entry.dtype}")
        shape = tuple(params[index].shape)
        if entry.shape != shape and not (opt_state.get("kind") == "torch" and entry.shape == ()):
            raise _bad(label, f"optimizer slot {key!r} has shape {entry.shape}; parameter "
                              f"{index} has shape {shape}")
    if opt_state.get("kind") == "torch" and isinstance(optimizer, torch.optim.Optimizer):
        groups = opt_state["param_groups"]
        if len(groups) != len(optimizer.param_groups) or any(
                not isinstance(g, dict) or not isinstance(g.get("params"), list)
                or len(g["params"]) != len(mine["params"])
                for g, mine in zip(groups, optimizer.param_groups)):
            raise _bad(label, "its torch optimizer's parameter groups do not match the model's")
        for key in opt_state["scalars"]:
            index, _, name = str(key).partition("/")
            if not index.isdigit() or int(index) >= len(params) or not name:
                raise _bad(label, f"unexpected optimizer entry {key!r}")


def _snapshot(model: Any) -> dict:
    opt = getattr(model, "optimizer", None)
    snap: dict = {"weights": model.get_weights(), "torch_rng": torch.get_rng_state(),
                  "numpy_rng": np.random.get_state(), "python_rng": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        snap["cuda_rng"] = torch.cuda.get_rng_state_all()
    if isinstance(opt, torch.optim.Optimizer):
        import copy
        snap["torch_opt"] = copy.deepcopy(opt.state_dict())
    elif opt is not None:
        snap["slots"] = {k: dict(v) for k, v in getattr(opt, "_slots", {}).items()}
        snap["iterations"] = getattr(opt, "iterations", None)
        lr = getattr(opt, "_learning_rate", None)
        from ..optimizers.schedules import LearningRateSchedule
        if not isinstance(lr, LearningRateSchedule) and hasattr(opt, "learning_rate"):
            snap["learning_rate"] = float(opt.learning_rate)
    return snap


def _put_back(model: Any, snap: dict) -> None:
    model.set_weights(snap["weights"])
    torch.set_rng_state(snap["torch_rng"])
    np.random.set_state(snap["numpy_rng"])
    random.setstate(snap["python_rng"])
    if "cuda_rng" in snap:
        torch.cuda.set_rng_state_all(snap["cuda_rng"])
    opt = getattr(model, "optimizer", None)
    if "torch_opt" in snap:
        opt.load_state_dict(snap["torch_opt"])
    elif opt is not None and "slots" in snap:
        opt._slots = snap["slots"]
        if snap["iterations"] is not None:
            opt.iterations = snap["iterations"]
        if "learning_rate" in snap:
            opt.learning_rate = snap["learning_rate"]


def _apply(model: Any, state: dict, arrays: dict) -> None:
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
