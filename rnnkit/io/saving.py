"""``load_model``, and ``save`` / ``save_weights`` / ``load_weights`` for models.

Formats, chosen by the file name as Keras does:

- ``.keras``: a Keras 3 archive (``config.json`` + ``model.weights.h5``), loadable by Keras 3;
- ``.h5`` / ``.hdf5``: the tf.keras 2 HDF5 layout, loadable by tf.keras 2 (and Keras 3);
- ``save_weights("x.weights.h5")``: the Keras 3 weights layout; any other ``.h5``: tf.keras 2's;
- ``.npz`` (or ``.safetensors``): rnnkit's own pickle-free files (``rnnkit.io.native``).

``load_weights`` reads all of these (and tf.keras 2.12's ``.weights.h5``), recognising the
file by its content rather than its name. Every write goes to a temporary file in the same
folder and is renamed over the target only when complete, so an interrupted save never
destroys the previous file.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable

from .. import _files, backend
from . import configs, keras_h5, keras_v3, native, safe_read
from .compile_config import (compile_from_file, restore_optimizer, saved_compile_config,
                             saved_optimizer_state)
from .errors import FileFormatError
from .weight_plan import PlanEntry, apply_plan, check_plan

_H5_SUFFIXES = (".h5", ".hdf5", ".keras2")


def _label(path: Any) -> str:
    return repr(os.fspath(path))


# ---------------------------------------------------------------------- atomic writes
# (permissions, symlinks, stale temp files and full disks: see rnnkit._files.atomic)
atomic_write = _files.atomic_write


def _write_h5(path: Any, fill: Callable[[Any], None], overwrite: bool) -> None:
    import h5py

    def write(temp: str) -> None:
        with h5py.File(temp, "w") as handle:
            fill(handle)

    atomic_write(path, write, overwrite)


# ---------------------------------------------------------------------- saving
def save_model(model: Any, filepath: Any, overwrite: bool = True,
               save_format: str | None = None, include_optimizer: bool = True) -> None:
    """Write ``model`` as ``.keras`` or ``.h5``; a compiled model's compile config and
    optimizer state go with it unless ``include_optimizer=False`` (then neither, as in
    tf.keras 2), so ``load_model`` + ``fit`` continues the training."""
    path = os.fspath(filepath)
    fmt = _model_format(path, save_format)
    if not model.built:
        raise ValueError(f"Model {model.name!r} has not been built yet, so it has no weights to "
                         "save. Build it (model.build(input_shape)) or call it on data first.")
    if fmt == "npz":
        native.save_weights(model, path, include_config=True, overwrite=overwrite)
        return
    keras_fmt = "keras3" if fmt == "keras" else "keras2"
    compile_config = saved_compile_config(model, keras_fmt) if include_optimizer else None
    state = saved_optimizer_state(model, keras_fmt) if compile_config is not None else None
    if fmt == "keras":
        config = configs.keras3_model_config(model)
        _warn_keras3_differences(config)
        if compile_config is not None:
            config["compile_config"] = compile_config
        weights = keras_v3.vars_h5_bytes(
            model, (model.optimizer.name, state[1]) if state is not None else None)

        def write(temp: str) -> None:
            with open(temp, "wb") as handle:
                keras_v3.write_archive(handle, config, weights)

        atomic_write(path, write, overwrite)
    else:
        config_json = json.dumps(configs.keras2_model_config(model))
        training_json = json.dumps(compile_config) if compile_config is not None else None
        _write_h5(path, lambda h: keras_h5.write_model(h, model, config_json, training_json,
                                                       state), overwrite)


def _model_format(path: str, save_format: str | None) -> str:
    if save_format in ("keras", "keras_v3"):
        return "keras"
    if save_format in ("h5", "hdf5"):
        return "h5"
    if save_format == "npz":
        return "npz"
    if save_format is not None:
        raise ValueError(f"Unknown save_format {save_format!r}; rnnkit writes 'keras', 'h5' "
                         "or 'npz'.")
    if path.endswith(".keras"):
        return "keras"
    if path.endswith(_H5_SUFFIXES):
        return "h5"
    if path.endswith(native.SUFFIXES):
        return "npz"
    raise ValueError(f"Invalid filepath extension for saving: {path!r}. Please use '.keras' "
                     "(Keras 3 archive), '.h5' (tf.keras 2 HDF5) or '.npz' (rnnkit's own).")


def _warn_keras3_differences(config: dict) -> None:
    # Keras 3 redefined hard_sigmoid (relu6(x + 3) / 6); tf.keras 2's is clip(0.2x + 0.5).
    if "hard_sigmoid" in json.dumps(config):
        import warnings
        warnings.warn("This model uses 'hard_sigmoid', which Keras 3 computes differently "
                      "(relu6(x + 3) / 6 instead of tf.keras 2's clip(0.2 x + 0.5, 0, 1)): "
                      "Keras 3 will not reproduce its outputs exactly. Save as .h5 for tf.keras 2.",
                      stacklevel=3)


def save_weights(model: Any, filepath: Any, overwrite: bool = True,
                 save_format: str | None = None) -> None:
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"Model {model.name!r} has no weights yet: build it before save_weights.")
    if save_format == "npz" or (save_format is None and path.endswith(native.SUFFIXES)):
        native.save_weights(model, path, overwrite=overwrite)
    elif save_format == "keras" or (save_format is None and path.endswith(".weights.h5")):
        _write_h5(path, lambda h: keras_v3.write_vars(h, model), overwrite)
    elif save_format in ("h5", "hdf5") or (save_format is None and path.endswith(_H5_SUFFIXES)):
        _write_h5(path, lambda h: keras_h5.write_weights(h, model), overwrite)
    elif save_format in (None, "tf"):
        # tf.keras 2 writes a TensorFlow checkpoint at a path without a Keras suffix
        # (`./training_checkpoints/ckpt_{epoch}`); rnnkit writes its own .npz file there,
        # which load_weights reads back from the same path.
        native.save_weights(model, path, overwrite=overwrite)
    else:
        raise ValueError(f"Invalid save_format {save_format!r} for save_weights of {path!r}: use "
                         "'h5' (tf.keras 2 layout), 'keras' ('.weights.h5', Keras 3 layout), "
                         "'npz' (rnnkit's own) or None.")


# ---------------------------------------------------------------------- loading
def _weights_plan(model: Any, handle: Any, label: str, by_name: bool = False,
                  skip_mismatch: bool = False) -> list[PlanEntry]:
    root = keras_h5.weights_root(handle)
    if keras_h5.is_legacy_weights_root(root):
        return keras_h5.plan_legacy(model, root, label, by_name, skip_mismatch)
    layout = keras_v3.vars_layout(handle)
    if layout is not None:
        return keras_v3.plan_vars(model, handle, layout, label)
    raise FileFormatError(f"{label} is an HDF5 file without Keras weights (no 'layer_names', "
                          "'layers' or '_layer_checkpoint_dependencies').")


def load_weights(model: Any, filepath: Any, by_name: bool = False,
                 skip_mismatch: bool = False) -> None:
    label = _label(filepath)
    if not model.built:
        raise ValueError(f"Model {model.name!r} has not been built yet: build it "
                         "(model.build(input_shape)) before load_weights, so its weights exist.")
    if os.fspath(filepath).endswith(".safetensors"):
        native.load_weights(model, filepath)
        return
    kind = safe_read.model_file_kind(filepath, label)
    if kind == "npz":
        native.load_weights(model, filepath)
        return
    with safe_read.library_errors(label):
        if kind == "keras":
            with keras_v3.Archive(filepath, label) as archive:
                weights = archive.weights_source(keras_v3.member_limit(model),
                                                 f"model {model.name!r}")
            with safe_read.open_h5(weights, f"{label} (model.weights.h5)") as handle:
                safe_read.set_budget(handle, safe_read.model_budget(model),
                                     f"the weights of model {model.name!r}")
                plan = _weights_plan(model, handle, label)
        elif kind == "hdf5":
            with safe_read.open_h5(filepath, label) as handle:
                safe_read.set_budget(handle, safe_read.model_budget(model),
                                     f"the weights of model {model.name!r}")
                plan = _weights_plan(model, handle, label, by_name, skip_mismatch)
        else:
            raise FileFormatError(f"{label} is neither an HDF5 weights file, a .keras archive "
                                  "nor an rnnkit .npz file.")
    apply_plan(plan, label)


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Load a Keras model file: tf.keras 2 ``.h5`` or Keras 3 ``.keras``, without TensorFlow.

    Only layer classes rnnkit knows (or that are passed in ``custom_objects`` / registered)
    are built; ``Lambda`` layers and references to Python functions are refused. With
    ``compile=True`` the model is compiled from the file's training config and its optimizer
    state (step count, slots) is restored, so ``fit`` continues where the saved training
    stopped; what rnnkit cannot apply is skipped with a warning (an uncompiled model, or fresh
    optimizer state). ``safe_mode`` is accepted for Keras compatibility: loading is always safe.
    """
    label = _label(filepath)
    if os.fspath(filepath).endswith(".safetensors"):
        return native.load_model(filepath)
    kind = safe_read.model_file_kind(filepath, label)  # a regular file, or a clear refusal
    if kind == "keras":
        with keras_v3.Archive(filepath, label) as archive:
            config = archive.config
            meta = _meta_model(config, label, custom_objects)
            weights = archive.weights_source(keras_v3.member_limit(meta),
                                             "the model its config describes")
        with safe_read.library_errors(label), \
                safe_read.open_h5(weights, f"{label} (model.weights.h5)") as handle:
            model = _build_and_load(config, handle, label, custom_objects, meta)
            state = _read_state(keras_v3.read_optimizer_vars, handle, label, model) \
                if compile else None
        if compile and isinstance(config, dict):
            compile_from_file(model, config.get("compile_config"), label, custom_objects)
            restore_optimizer(model, state, "keras3", label)
        return model
    if kind == "hdf5":
        with safe_read.library_errors(label), safe_read.open_h5(filepath, label) as handle:
            text = safe_read.read_text_attribute(handle, "model_config")
            if text is None:
                raise FileFormatError(f"{label} has no model config: it holds weights only. "
                                      "Build the model in code and call model.load_weights.")
            config = safe_read.parse_json(text, f"{label}: model_config")
            model = _build_and_load(config, handle, label, custom_objects)
            training = safe_read.read_text_attribute(handle, "training_config") if compile else None
            state = _read_state(keras_h5.read_optimizer_weights, handle, label, model) \
                if training is not None else None
        if training is not None:
            try:
                training_config = safe_read.parse_json(training, f"{label}: training_config")
            except FileFormatError as error:
                training_config = None
                import warnings
                warnings.warn(f"{error}; the model was loaded uncompiled.", stacklevel=2)
            compile_from_file(model, training_config, label, custom_objects)
            restore_optimizer(model, state, "keras2", label)
        return model
    if kind == "npz":
        from . import native
        return native.load_model(filepath)
    raise FileFormatError(f"{label} is not a Keras model file (neither a .keras ZIP archive "
                          "nor an HDF5 file) nor an rnnkit .npz file.")


def _read_state(read: Callable, handle: Any, label: str, model: Any) -> Any:
    """The file's optimizer state, or ``None`` with a warning where it cannot be read: a
    damaged optimizer part never stops the model (already loaded) from loading. Its arrays
    may take at most what an optimizer's slots for ``model`` can (four per weight)."""
    safe_read.set_budget(handle, safe_read.model_budget(model, factor=4),
                         f"an optimizer's state for model {model.name!r}")
    try:
        return read(handle, label)
    except FileFormatError as error:
        import warnings
        warnings.warn(f"{label}: the optimizer state in the file was not restored: {error} "
                      "Training resumes with fresh optimizer state.", stacklevel=3)
        return None


def read_config(filepath: Any) -> dict:
    """The (screened) model config of a ``.keras`` or full-model ``.h5`` file."""
    label = _label(filepath)
    kind = safe_read.model_file_kind(filepath, label)
    if kind == "npz":
        config = native._wrapped(native.read_config(filepath))
    elif kind == "keras":
        with keras_v3.Archive(filepath, label) as archive:
            config = archive.config
    elif kind == "hdf5":
        with safe_read.library_errors(label), safe_read.open_h5(filepath, label) as handle:
            text = safe_read.read_text_attribute(handle, "model_config")
        if text is None:
            raise FileFormatError(f"{label} holds weights only (no model config).")
        config = safe_read.parse_json(text, f"{label}: model_config")
    else:
        raise FileFormatError(f"{label} is not a Keras model file.")
    return configs.screen_config(config, label)


def _meta_model(config: Any, label: str, custom_objects: dict | None) -> Any:
    """The model ``config`` describes, on the meta device (no memory). Its automatic names
    (cells: ``lstm_cell``) are given back, so the real model gets the ones Keras gave."""
    with backend.names_given_back():
        return configs.model_from_config(config, label, custom_objects, meta=True)


def _build_and_load(config: Any, handle: Any, label: str, custom_objects: dict | None,
                    meta: Any = None) -> Any:
    # First on the meta device: the config's layer sizes are checked against the arrays the
    # file really stores before a single real weight is allocated, and the arrays read may
    # not add up to more than the meta model's weights (the file's byte budget).
    if meta is None:
        meta = _meta_model(config, label, custom_objects)
    safe_read.set_budget(handle, safe_read.model_budget(meta), "the model its config describes")
    plan = _weights_plan(meta, handle, label)
    check_plan(plan, label)
    position = {id(p): i for i, p in enumerate(meta.weights)}
    model = configs.model_from_config(config, label, custom_objects)
    params = model.weights
    if len(params) != len(position):
        raise FileFormatError(f"{label}: the model built differently on the second pass.")
    real = [PlanEntry(e.layer, e.weight, params[position[id(e.param)]], e.array) for e in plan]
    if len({id(e.param) for e in real}) != len(params):
        missing = [n for n, p in zip(model.weight_names(), params)
                   if id(p) not in {id(e.param) for e in real}]
        raise FileFormatError(f"{label}: the file has no values for {', '.join(missing)}.")
    apply_plan(real, label)
    return model


class SavingMixin:
    """``save``, ``save_weights`` and ``load_weights`` for rnnkit models (Keras signatures)."""

    def save(self, filepath: Any, overwrite: bool = True, save_format: str | None = None,
             include_optimizer: bool = True, **kwargs: Any) -> None:
        """Save config and weights: ``.keras`` (Keras 3 archive), ``.h5`` (tf.keras 2) or
        ``.npz`` (rnnkit's own, config and weights only); for the Keras formats a compiled
        model's compile config and optimizer state too (``include_optimizer``)."""
        save_model(self, filepath, overwrite=overwrite, save_format=save_format,
                   include_optimizer=include_optimizer)

    def save_weights(self, filepath: Any, overwrite: bool = True,
                     save_format: str | None = None, options: Any = None) -> None:
        """``.weights.h5`` (Keras 3 layout), ``.h5`` (tf.keras 2 layout) or ``.npz``
        (rnnkit's own, also ``.safetensors``)."""
        save_weights(self, filepath, overwrite=overwrite, save_format=save_format)

    def export(self, filepath: Any, format: str = "onnx", **kwargs: Any) -> str:
        """``format="onnx"``: see :func:`rnnkit.export.onnx` (Keras 3's TF formats need TF)."""
        if format != "onnx":
            raise ValueError(f"Unrecognized format={format!r}: rnnkit exports 'onnx' "
                             "(Keras's 'tf_saved_model' needs TensorFlow).")
        from ..export import onnx
        return onnx(self, filepath, **kwargs)

    def load_weights(self, filepath: Any, by_name: bool = False, skip_mismatch: bool = False,
                     options: Any = None) -> None:
        """Load weights from any tf.keras 2 / Keras 3 weights or model file, or rnnkit's .npz."""
        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)
