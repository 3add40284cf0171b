"""Keras 2 (tf.keras 2.12) callbacks: the hooks ``fit``/``evaluate``/``predict`` call.

``fit`` calls ``on_train_begin``, then per epoch ``on_epoch_begin``, ``on_train_batch_begin``
/ ``on_train_batch_end`` (``on_batch_*`` are the Keras 2 aliases), validation through the
``on_test_*`` hooks, ``on_epoch_end(epoch, logs)`` with ``loss``, the metrics and their
``val_`` twins, and finally ``on_train_end``. A callback stops training by setting
``self.model.stop_training = True``.
"""
from __future__ import annotations

import csv
import math
import os
import sys
import warnings
from typing import Any, Callable

import numpy as np

__all__ = ["Callback", "CallbackList", "History", "BaseLogger", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback", "BackupAndRestore", "TensorBoard"]


class Callback:
    """Base class: every hook is a no-op; ``self.model`` and ``self.params`` are set by fit."""

    def __init__(self) -> None:
        self.model = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # Keras 2: the old names still fire in fit

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


def _wants_batch_logs(callback: Callback) -> bool:
    if hasattr(callback, "needs_batch_logs"):
        return bool(callback.needs_batch_logs)
    names = ("on_train_batch_end", "on_batch_end")
    return any(n in vars(callback) or getattr(type(callback), n) is not getattr(Callback, n)
               for n in names)


class CallbackList:
    """Calls a hook on every callback in order."""

    def __init__(self, callbacks=None, model=None, params=None) -> None:
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be rnnkit.callbacks.Callback instances, got "
                                f"{type(cb).__name__}.")
            if model is not None:
                cb.set_model(model)
            if params is not None:
                cb.set_params(params)
        # Batch-level logs cost a device sync per batch: only computed when someone reads them.
        self.wants_batch_logs = any(_wants_batch_logs(cb) for cb in self.callbacks)

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def __getattr__(self, hook: str) -> Callable:
        if hook.startswith("on_"):
            return lambda *args, **kwargs: self._call(hook, *args, *kwargs.values())
        raise AttributeError(hook)


class History(Callback):
    """Records ``logs`` of every epoch: ``history.history["loss"]`` and ``history.epoch``."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class BaseLogger(Callback):
    """Kept for Keras 2 code that lists it; the model already averages its metrics."""


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a ``Progbar`` per epoch (added by ``fit`` when verbose)."""

    def __init__(self, count_mode: str = "steps", stateful_metrics=None, verbose: int = 1,
                 stream: Any = None) -> None:
        super().__init__()
        self.verbose, self.stream = verbose, stream
        self.progbar = None

    @property
    def needs_batch_logs(self) -> bool:
        return self.verbose == 1

    def _print(self, text: str) -> None:
        out = self.stream or sys.stdout
        out.write(text + "\n")
        out.flush()

    def on_epoch_begin(self, epoch, logs=None):
        from .utils.progbar import Progbar
        epochs = self.params.get("epochs", 1)
        if self.verbose and epochs > 1:
            self._print(f"Epoch {epoch + 1}/{epochs}")
        # a generator of unknown length: "Unknown" in the first epoch, then the count it
        # had (Keras's ProgbarLogger keeps its target)
        target = self.params.get("steps") or getattr(self, "_counted", None)
        self.progbar = Progbar(target, verbose=self.verbose, stream=self.stream)
        self._seen = 0

    def _update(self, current: int, logs: dict | None, finalize: bool) -> None:
        # the logs are running means already: shown as given, as Keras's stateful metrics
        logs = logs or {}
        self.progbar._update_stateful_metrics(logs)
        self.progbar.update(current, list(logs.items()), finalize=finalize)

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self.verbose == 1:
            self._update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        target = self.params.get("steps") or self.progbar.target or self._seen
        self._counted = self.progbar.target = target
        self._update(target, logs, finalize=True)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.min_delta = baseline, abs(min_delta)
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.monitor_op = _monitor_op(mode, monitor, type(self).__name__)
        if self.monitor_op is np.less:
            self.min_delta *= -1
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, type(self).__name__)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # the weights after the first epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")

    def _is_improvement(self, value, reference):
        return self.monitor_op(value - self.min_delta, reference)


def _monitor_op(mode: str, monitor: str, who: str):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode {mode} is unknown, fallback to auto mode.")
        mode = "auto"
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    # auto: accuracy-like and AUC-like quantities grow
    name = monitor.replace("val_", "")
    if name.endswith("acc") or "accuracy" in name or name.startswith("auc") or \
            name in ("precision", "recall"):
        return np.greater
    return np.less


def _monitored(logs, monitor, who):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{who} conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(list((logs or {}).keys()))}")
    return value


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after epochs, atomically, to ``filepath`` formatted
    with ``epoch`` (1-based) and the logs: ``"ckpt-{epoch:02d}-{val_loss:.2f}.weights.npz"``.

    ``.h5``/``.hdf5``/``.keras`` names go to ``model.save``/``model.save_weights`` (Keras
    formats); any other name gets rnnkit's pickle-free ``.npz`` (or ``.safetensors``) file,
    with the model config unless ``save_weights_only``.
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: Any = "epoch", initial_value_threshold=None,
                 **kwargs: Any) -> None:
        super().__init__()
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self.monitor_op = _monitor_op(mode, monitor, type(self).__name__)
        self.best = initial_value_threshold if initial_value_threshold is not None else (
            np.inf if self.monitor_op is np.less else -np.inf)
        self._batches_seen = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save(self._epoch, logs, batch=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def _save(self, epoch, logs, batch=None):
        if not getattr(self.model, "_is_rank_zero", True):
            return  # data-parallel fit: rank 0 writes the (identical) weights
        logs = dict(logs or {})
        path = self._path(epoch, logs, batch)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, "
                              "skipping.")
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        keras_format = path.endswith((".h5", ".hdf5", ".keras"))
        # any other name: rnnkit's own file (.npz unless it ends in .safetensors)
        native = None if keras_format or path.endswith(".safetensors") else "npz"
        method = getattr(self.model, "save_weights" if self.save_weights_only else "save")
        try:
            method(path, save_format=native)  # the model's savers (rnnkit.io) write atomically
        except OSError as e:  # disk full, permission denied: say what was being saved
            kept = " The previous file there is unchanged." if os.path.exists(path) else ""
            raise OSError(e.errno, f"ModelCheckpoint: could not save epoch {epoch + 1} to "
                                   f"{path!r}: {e.strerror or e}.{kept}") from e

    def _path(self, epoch, logs, batch):
        try:
            if batch is None or "batch" not in self.filepath:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}") from None


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience``."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0, **kwargs: Any) -> None:
        super().__init__()
        if "epsilon" in kwargs:  # Keras 2's old name
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use "
                          "`min_delta` instead.")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}.")
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. Got "
                             f"{factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        op = _monitor_op(mode, monitor, type(self).__name__)
        self.monitor_op = (lambda a, b: np.less(a, b - min_delta)) if op is np.less else \
            (lambda a, b: np.greater(a, b + min_delta))
        self._reset(op)

    def _reset(self, op=None):
        if op is not None:
            self._initial_best = np.inf if op is np.less else -np.inf
        self.best = self._initial_best
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = float(self.model.optimizer.learning_rate)
        current = _monitored(logs, self.monitor, type(self).__name__)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _float32_value(self.model.optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


def _float32_value(learning_rate: Any) -> float:
    """The learning rate as tf.keras 2.12 reads its float32 variable (``0.05`` reads
    ``0.05000000074505806``): what its schedules get and its messages print."""
    return float(np.float32(float(learning_rate)))


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to ``schedule(epoch)`` or
    ``schedule(epoch, lr)``."""

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _float32_value(self.model.optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # the old one-argument form
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)):
            raise ValueError('The output of the "schedule" function should be float. '
                             f"Got: {lr}")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the sorted log keys)."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self._append_header = not exists
        self._file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep)
            if self._append_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, logs.get(k, "NA")) for k in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None


class TerminateOnNaN(Callback):
    """Stop training when the loss becomes NaN or infinite.

    Besides Keras's ``Batch 3: Invalid loss, terminating training`` line it reports where
    the NaN first appeared: ``self.report`` holds the epoch and batch (0-based), the logged
    values that were not finite, and the names of any weights that became non-finite.
    """

    def __init__(self) -> None:
        super().__init__()
        self.report: dict | None = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.report = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or not (math.isnan(loss) or math.isinf(loss)):
            return
        bad_logs = {k: v for k, v in (logs or {}).items()
                    if isinstance(v, (int, float)) and not math.isfinite(v)}
        bad_weights = []
        names = getattr(self.model, "weight_names", None)
        if names is not None:
            for name, w in zip(names(), self.model.get_weights()):
                if not np.all(np.isfinite(w)):
                    bad_weights.append(name)
        self.report = {"epoch": self._epoch, "batch": batch, "logs": bad_logs,
                       "weights": bad_weights}
        where = (f"first non-finite weights: {', '.join(bad_weights)}" if bad_weights
                 else "the weights are still finite (the batch's data or loss gave it)")
        print(f"Batch {batch}: Invalid loss, terminating training (epoch {self._epoch + 1}, "
              f"batch {batch}: {', '.join(f'{k}={v}' for k, v in bad_logs.items())}; "
              f"{where})")
        self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_begin/end(epoch, logs)``,
    ``on_batch_begin/end(batch, logs)``, ``on_train_begin/end(logs)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs) -> None:
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end, **kwargs}
        for name, fn in hooks.items():
            if fn is not None:
                if not hasattr(Callback, name):
                    raise TypeError(f"LambdaCallback: unknown hook {name!r}.")
                setattr(self, name, fn)


class BackupAndRestore(Callback):
    """Back up the training state at the end of every epoch to ``backup_dir`` and, when
    ``fit`` starts with a backup present (the previous run was killed), restore it and
    resume from the epoch after the backed-up one (tf.keras 2's callback).

    The state is the model weights, the optimiser's slots, step count and learning rate,
    the epoch, the torch/NumPy/Python RNG states and the history so far: one ``.npz`` file
    (the non-array parts as a JSON entry; no pickle), written atomically, so a process
    killed at any moment leaves the previous backup whole. A run killed mid-epoch redoes
    that epoch from its start with the same RNG state and ends where an uninterrupted run
    ends. With ``delete_checkpoint`` the backup is removed when ``fit`` finishes.
    """

    FILE = "backup.npz"

    def __init__(self, backup_dir: str, save_freq: Any = "epoch", delete_checkpoint: bool = True,
                 save_before_preemption: bool = False) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: `backup_dir` is required (a directory for the "
                             "backup file).")
        if save_freq != "epoch":
            raise ValueError(f"BackupAndRestore: save_freq={save_freq!r} is not supported by "
                             "rnnkit; backups are taken at the end of each epoch "
                             "(save_freq='epoch').")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.delete_checkpoint = save_freq, delete_checkpoint
        self.save_before_preemption = save_before_preemption
        self._history: dict[str, list] = {}
        self._epochs: list[int] = []
        self._completed = False

    @property
    def path(self) -> str:
        return os.path.join(self.backup_dir, self.FILE)

    def on_train_begin(self, logs=None):
        from .training import backup
        self._history, self._epochs, self._completed = {}, [], False
        if os.path.exists(self.path):
            state = backup.restore(self.model, self.path)
            self._history, self._epochs = state["history"], state["epochs"]
            # read by fit right after on_train_begin: the epoch to start at, the history
            object.__setattr__(self.model, "_resume_state", state)

    def on_epoch_end(self, epoch, logs=None):
        from .training import backup
        for key, value in (logs or {}).items():
            self._history.setdefault(key, []).append(float(value))
        self._epochs.append(epoch)
        if getattr(self.model, "_is_rank_zero", True):
            backup.save(self.model, self.path, epoch + 1, self._history, self._epochs)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.unlink(self.path)


class TensorBoard(Callback):
    """tf.keras 2.12's ``TensorBoard``: epoch scalars (``epoch_loss``, ``epoch_accuracy``,
    ...) under ``log_dir/train`` and ``log_dir/validation`` (the ``val_`` logs), and with
    ``update_freq="batch"`` or a number ``batch_<metric>`` every so many batches.

    The events are written through ``torch.utils.tensorboard`` and need the ``tensorboard``
    package; without it the callback warns once that no logs are written, and training goes
    on. Histograms, graphs, images, embeddings and the profiler are TensorFlow's and are not
    written (their arguments are accepted)."""

    def __init__(self, log_dir: Any = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq: Any = "epoch", profile_batch: Any = 0, embeddings_freq: int = 0,
                 embeddings_metadata: Any = None, **kwargs: Any) -> None:
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict[str, Any] = {}
        self._no_writer_warned = False
        self._batches_seen = 0
        self.needs_batch_logs = isinstance(self.update_freq, int)  # fit skips them otherwise

    def _writer(self, which: str) -> Any:
        if which not in self._writers:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # torch raises it when the tensorboard package is missing
                if not self._no_writer_warned:
                    self._no_writer_warned = True
                    warnings.warn(f"TensorBoard: the `tensorboard` package is not installed, "
                                  f"so no logs are written to {self.log_dir!r}; training goes "
                                  "on. Install it with `pip install tensorboard`.", stacklevel=2)
                return None
            self._writers[which] = SummaryWriter(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _write(self, logs: dict, prefix: str, step: int) -> None:
        for key, value in (logs or {}).items():
            which, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            writer = self._writer(which)
            if writer is None:
                return
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            writer.add_scalar(f"{prefix}_{name}", number, step)

    def on_train_batch_end(self, batch, logs=None):
        self._batches_seen += 1
        if isinstance(self.update_freq, int) and self._batches_seen % self.update_freq == 0:
            self._write(logs or {}, "batch", self._batches_seen)

    def on_epoch_end(self, epoch, logs=None):
        self._write(logs or {}, "epoch", epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
