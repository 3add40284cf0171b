"""``TrainingMixin``: ``compile``/``fit``/``evaluate``/``predict`` with tf.keras 2 semantics.

One training step is the plain PyTorch step — forward in training mode (dropout on), loss,
``backward``, optimiser step — plus what Keras adds: the layers' regulariser penalties in
the loss, weight constraints applied after the step, masks from masking layers weighting
the loss, and stateful metrics averaged over the epoch. The numbers logged per epoch are the
sample-weighted means over the epoch (``loss`` includes the regularisation), validation runs
in inference mode after each epoch and logs ``val_*``.

The model is any rnnkit ``Layer`` (an ``nn.Module``) with one or more outputs: rnnkit's
models are ``class Sequential(SavingMixin, TrainingMixin, Layer)`` and ``class
Model(SavingMixin, TrainingMixin, Layer)`` (``rnnkit.models``, which this package does not
import).
"""
from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import numpy as np
import torch

from .. import callbacks as callbacks_mod
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from . import data as data_mod
from . import distributed, validation
from ..layers.call_context import traced_calls
from .progress import Progbar, resolve_verbose
from .generator_api import GeneratorMethods


class _Compiled:
    """What ``compile`` resolved: loss object, metric specs and their live metric objects."""

    def __init__(self, loss, metric_specs, weighted_specs, loss_weight):
        self.loss = loss
        self.metric_specs = list(metric_specs)
        self.weighted_specs = list(weighted_specs)
        self.loss_weight = loss_weight
        self.loss_tracker = metrics_mod.Mean(name="loss")
        self.metrics: list | None = None      # built on the first batch (shapes resolve 'accuracy')
        self.weighted: list | None = None
        # A model with several outputs: one _Compiled per output (``name``, its own loss,
        # weight, metrics and ``<name>_loss`` tracker), and the last batch's loss of each.
        self.name: str | None = None
        self.heads: list["_Compiled"] | None = None
        self.head_losses: list | None = None
        # `add_metric(value, name=...)` in a layer's call: one Mean per name, in the order
        # first seen (tf.keras 2.12 lists them after the compiled metrics).
        self.added_metrics: dict[str, Any] = {}


def _as_list(specs: Any) -> list:
    if specs is None:
        return []
    if isinstance(specs, dict):
        if len(specs) != 1:
            raise ValueError("A model with one output takes metrics as a dict of one entry, "
                             f"got keys {sorted(specs)}.")
        specs = next(iter(specs.values()))
    if isinstance(specs, (str, metrics_mod.Metric)) or callable(specs):
        return [specs]
    return list(specs)


def _resolve_loss(loss: Any) -> Any:
    if loss is None:
        return None
    if isinstance(loss, dict):
        if len(loss) != 1:
            raise ValueError("A model with one output takes a loss as a dict of one entry, "
                             f"got keys {sorted(loss)}.")
        loss = next(iter(loss.values()))
    if isinstance(loss, (list, tuple)):
        if len(loss) != 1:
            raise ValueError(f"A model with one output takes one loss, but {len(loss)} losses "
                             "were given.")
        loss = loss[0]
    if isinstance(loss, torch.nn.modules.loss._Loss):
        # torch losses take (input, target): swap to Keras's (y_true, y_pred).
        torch_loss = loss
        return losses_mod.LossFunctionWrapper(lambda y_true, y_pred: torch_loss(y_pred, y_true),
                                              name=type(torch_loss).__name__)
    fn = losses_mod.get(loss)
    if isinstance(fn, losses_mod.Loss):
        return fn
    return losses_mod.LossFunctionWrapper(fn, name=getattr(fn, "__name__", "loss"))


def _is_torch_optimizer(opt: Any) -> bool:
    return isinstance(opt, torch.optim.Optimizer)


class TrainingMixin(GeneratorMethods):
    """Keras's training API for an rnnkit model (see the module docstring)."""

    # tf.keras 2.12: an uncompiled model's (e.g. ``load_model(..., compile=False)``) is None
    optimizer = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None,
                run_eagerly: Any = None, steps_per_execution: Any = None,
                jit_compile: Any = None, **kwargs: Any) -> None:
        """Set the optimiser (a Keras name, an rnnkit optimiser or a ``torch.optim``
        optimiser), the loss (a Keras name, a ``Loss``, a function or a torch loss module)
        and the metrics. ``run_eagerly``/``steps_per_execution``/``jit_compile`` are
        accepted for Keras code and have nothing to switch on PyTorch."""
        unknown = [k for k in kwargs if k not in ("sample_weight_mode", "target_tensors",
                                                  "distribute", "cloning")]
        if unknown:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {tuple(unknown)}. "
                            "Valid keyword arguments include \"cloning\", \"distribute\", "
                            "\"target_tensors\", or \"sample_weight_mode\".")
        names = self._training_output_names()
        if names is not None:
            self._compile_outputs(names, optimizer, loss, metrics, loss_weights,
                                  weighted_metrics)
        else:
            self._compile_one(optimizer, loss, metrics, loss_weights, weighted_metrics)

    def _compile_one(self, optimizer: Any, loss: Any, metrics: Any, loss_weights: Any,
                     weighted_metrics: Any) -> None:
        """``compile`` for one output (and the shared part of several outputs')."""
        weight = 1.0
        if loss_weights is not None:
            values = list(loss_weights.values()) if isinstance(loss_weights, dict) else \
                list(loss_weights) if isinstance(loss_weights, (list, tuple)) else [loss_weights]
            if len(values) != 1:
                raise ValueError(f"A model with one output takes one loss weight, but "
                                 f"{len(values)} loss_weights were given.")
            weight = float(values[0])
        resolved = optimizers_mod.get(optimizer)
        object.__setattr__(self, "optimizer", resolved)
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "_compiled", _Compiled(
            _resolve_loss(loss), _as_list(metrics), _as_list(weighted_metrics), weight))
        self.stop_training = False
        self._is_compiled = True

    def _training_output_names(self) -> list[str] | None:
        """The names of the outputs when the model has several (each then gets its own
        loss and metrics); None for one output. A model with several outputs overrides it."""
        return None

    def _compile_outputs(self, names: list[str], optimizer: Any, loss: Any, metrics: Any,
                         loss_weights: Any, weighted_metrics: Any) -> None:
        """``compile`` for several outputs: Keras sums one loss per output (times
        ``loss_weights``) and logs ``loss``, ``<output>_loss``, ``<output>_<metric>``."""
        losses = self._per_output(names, loss, "loss")
        weights = self._per_output(names, 1.0 if loss_weights is None else loss_weights,
                                   "loss_weights")
        metric_lists = self._per_output(names, metrics, "metrics")
        weighted_lists = self._per_output(names, weighted_metrics, "weighted_metrics")
        self._compile_one(optimizer, next((l for l in losses if l is not None), None), None,
                          None, None)
        heads = []
        for name, l, w, m, wm in zip(names, losses, weights, metric_lists, weighted_lists):
            head = _Compiled(_resolve_loss(l), _as_list(m), _as_list(wm),
                             1.0 if w is None else float(w))
            head.name = name
            head.loss_tracker = metrics_mod.Mean(name=f"{name}_loss")
            heads.append(head)
        self._compiled.heads = heads

    def _per_output(self, names: list[str], value: Any, what: str) -> list:
        """``value`` of a compile argument, one entry per output (a dict by output name, a
        list in output order, or one value for all)."""
        if isinstance(value, dict):
            unknown = [k for k in value if k not in names]
            if unknown:
                raise ValueError(f"Model {self.name!r}: unknown output name(s) {unknown} in "
                                 f"`{what}`; the outputs are {names}.")
            return [value.get(n) for n in names]
        nested = isinstance(value, (list, tuple)) and bool(value) and all(
            v is None or isinstance(v, (list, tuple)) for v in value)
        if isinstance(value, (list, tuple)) and (not what.endswith("metrics") or nested):
            if len(value) != len(names):
                raise ValueError(f"Model {self.name!r} has {len(names)} outputs but `{what}` "
                                 f"has {len(value)} entries.")
            return list(value)
        return [value] * len(names)

    def _output_pairs(self, compiled: _Compiled, y: Any, y_pred: Any) -> list:
        """``(head, target, prediction)`` of each output; targets and predictions may be
        lists in output order or dicts by output name."""
        heads = compiled.heads
        names = [head.name for head in heads]
        ys = [y[n] for n in names] if isinstance(y, dict) else list(y)
        if isinstance(y_pred, dict):  # by output name, or a dict of outputs (tf.nest order)
            preds = [y_pred[n] for n in names] if all(n in y_pred for n in names) \
                else [y_pred[key] for key in sorted(y_pred)]
        else:
            preds = list(y_pred)
        if len(ys) != len(heads):
            raise ValueError(f"Model {self.name!r} has {len(heads)} outputs but {len(ys)} "
                             "targets were given.")
        return list(zip(heads, ys, preds))

    def _require_compiled(self, what: str) -> _Compiled:
        compiled = getattr(self, "_compiled", None)
        if compiled is None:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               f"`model.compile(optimizer, loss)` (called from {what}).")
        if compiled.loss is None and self._custom_step(
                "test_step" if what == "evaluate" else "train_step") is None \
                and not self._may_add_losses():
            raise ValueError("No loss found. You may have forgotten to provide a `loss` "
                             "argument in the `compile()` method.")
        return compiled

    def _may_add_losses(self) -> bool:
        """Whether a model compiled without a loss trains on the losses its layers add
        (``model.add_loss``, ``self.add_loss`` in a user layer's call), as a VAE does."""
        from ..layers.add_loss import AddLoss
        return any(isinstance(m, AddLoss) or m.__dict__.get("_callable_losses")
                   or m.__dict__.get("_weight_regularizers")
                   or not type(m).__module__.startswith(("rnnkit.", "torch."))
                   for m in self.modules())

    # ------------------------------------------------------------------ pieces
    def _device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def _build_metrics(self, compiled: _Compiled, y, y_pred) -> None:
        if compiled.metrics is not None:
            return
        y = y if y is not None else y_pred
        compiled.metrics = [metrics_mod.get(copy.copy(s) if isinstance(s, metrics_mod.Metric)
                                            else s, y, y_pred) for s in compiled.metric_specs]
        compiled.weighted = [metrics_mod.get(s, y, y_pred) for s in compiled.weighted_specs]
        names = [m.name for m in compiled.metrics + compiled.weighted]
        if len(set(names)) != len(names):
            raise ValueError(f"Metric names must be unique; got {names}.")

    @property
    def metrics(self) -> list:
        """The loss tracker and the compiled metrics (after the first batch), Keras order."""
        compiled = getattr(self, "_compiled", None)
        if compiled is None:
            return []
        found = [compiled.loss_tracker] + list(compiled.metrics or []) + \
            list(compiled.weighted or [])
        for head in compiled.heads or []:
            found.append(head.loss_tracker)
        for head in compiled.heads or []:
            found += list(head.metrics or []) + list(head.weighted or [])
        return found + list(compiled.added_metrics.values())

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        self.__dict__.pop("_step_logs", None)
        for m in self.metrics:
            m.reset_state()

    def _constraints(self) -> list:
        found = []
        for module in self.modules():
            found += getattr(module, "_weight_constraints", [])
        return found

    def _compute_loss(self, compiled: _Compiled, y, y_pred, sample_weight) -> torch.Tensor:
        if compiled.heads:
            return self._compute_output_losses(compiled, y, y_pred, sample_weight)
        if compiled.loss is None:  # compiled without a loss: the added losses alone
            return self._added_losses_only(y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        sparse = validation.sparse_loss_kwargs(compiled.loss)
        # per batch on the CPU only: on an accelerator it would cost a sync every step (arrays
        # are checked whole before fit starts)
        if sparse is not None and isinstance(y, torch.Tensor) and y.device.type == "cpu" \
                and isinstance(y_pred, torch.Tensor):
            validation.check_sparse_labels(y, int(y_pred.shape[-1]), "y",
                                           "fit" if self.training else "evaluate",
                                           sparse.get("ignore_class"))
        loss = compiled.loss(y, y_pred, sample_weight=sample_weight, mask=mask) \
            if isinstance(compiled.loss, losses_mod.Loss) else compiled.loss(y, y_pred)
        loss = loss * compiled.loss_weight if compiled.loss_weight != 1.0 else loss
        penalties = self.losses
        if penalties:
            loss = loss + torch.stack([p.to(loss.dtype).reshape(()) for p in penalties]).sum()
        return loss

    def _added_losses_only(self, y_pred: Any) -> torch.Tensor:
        penalties = self.losses
        if not penalties:
            raise ValueError("No loss found. You may have forgotten to provide a `loss` "
                             "argument in the `compile()` method.")
        like = next((t for t in flatten_outputs(y_pred) if t.is_floating_point()), None)
        total = torch.stack([p.reshape(()).float() for p in penalties]).sum()
        return total.to(like.dtype) if like is not None else total

    def _compute_output_losses(self, compiled: _Compiled, y, y_pred, sample_weight):
        total, parts = 0.0, []
        for head, target, pred in self._output_pairs(compiled, y, y_pred):
            if head.loss is None:
                parts.append(None)
                continue
            mask = getattr(pred, "_keras_mask", None)
            value = head.loss(target, pred, sample_weight=sample_weight, mask=mask) \
                if isinstance(head.loss, losses_mod.Loss) else head.loss(target, pred)
            parts.append(value)
            total = total + head.loss_weight * value
        compiled.head_losses = parts
        penalties = self.losses
        if penalties:
            total = total + torch.stack([p.to(total.dtype).reshape(()) for p in penalties]).sum()
        return total

    def _update_metrics(self, compiled: _Compiled, loss, y, y_pred, sample_weight,
                        batch_size: int) -> None:
        compiled.loss_tracker.update_state(loss.detach(), sample_weight=torch.tensor(
            float(batch_size)))
        self._update_added_metrics(compiled)
        if compiled.heads:
            self._update_output_metrics(compiled, y, y_pred, sample_weight, batch_size)
            return
        if not (compiled.metric_specs or compiled.weighted_specs):
            return
        self._build_metrics(compiled, y, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        with torch.no_grad():
            pred = y_pred.detach()
            for m in compiled.metrics:
                _update_metric(m, y, pred, None, mask)
            for m in compiled.weighted:
                _update_metric(m, y, pred, sample_weight, mask)

    def _update_added_metrics(self, compiled: _Compiled) -> None:
        """The values this batch's calls gave ``add_metric``, each into its name's Mean."""
        for module in self.modules():
            for name, value in module.__dict__.get("_added_metrics", ()):
                tracker = compiled.added_metrics.get(name)
                if tracker is None:
                    tracker = compiled.added_metrics[name] = metrics_mod.Mean(name=name)
                tracker.update_state(value.detach() if isinstance(value, torch.Tensor)
                                     else torch.as_tensor(float(value)))

    def _update_output_metrics(self, compiled: _Compiled, y, y_pred, sample_weight,
                               batch_size: int) -> None:
        size = torch.tensor(float(batch_size))
        for (head, target, pred), part in zip(self._output_pairs(compiled, y, y_pred),
                                              compiled.head_losses):
            if part is not None:
                head.loss_tracker.update_state(part.detach(), sample_weight=size)
            if not (head.metric_specs or head.weighted_specs):
                continue
            if head.metrics is None:
                self._build_metrics(head, target, pred)
                for m in head.metrics + head.weighted:
                    m.name = f"{head.name}_{m.name}"
            mask = getattr(pred, "_keras_mask", None)
            with torch.no_grad():
                for m in head.metrics:
                    _update_metric(m, target, pred.detach(), None, mask)
                for m in head.weighted:
                    _update_metric(m, target, pred.detach(), sample_weight, mask)

    def _logs(self, prefix: str = "") -> dict:
        step_logs = self.__dict__.get("_step_logs")
        if step_logs is not None:  # what a custom train_step/test_step returned
            return {prefix + k: _as_float(v) for k, v in step_logs.items()}
        return {prefix + m.name: float(m.result()) for m in self.metrics}

    # ------------------------------------------------------------------ custom steps
    # Keras 2.2+ lets a model override `train_step(self, data)` / `test_step(self, data)`;
    # here they are written with torch autograd and use these as in tf.keras 2.12.
    @property
    def compiled_loss(self) -> "_CompiledLoss":
        return _CompiledLoss(self)

    @property
    def compiled_metrics(self) -> "_CompiledMetrics":
        return _CompiledMetrics(self)

    @property
    def trainable_variables(self) -> list:
        return list(self.trainable_weights)

    @property
    def non_trainable_variables(self) -> list:
        return list(self.non_trainable_weights)

    @property
    def variables(self) -> list:
        return list(self.weights)

    def _custom_step(self, name: str) -> Any:
        method = getattr(type(self), name, None)
        return None if method is None or method is getattr(TrainingMixin, name) \
            else getattr(self, name)

    def train_step(self, data: Any) -> dict:
        """One training step on ``data`` (``(x, y)`` or ``(x, y, sample_weight)``);
        override it to customise training, as in tf.keras 2."""
        x, y, sw = data_mod.unpack(data)
        compiled = self._require_compiled("fit")
        params = [p for p in self.parameters() if p.requires_grad]
        self._train_batch(compiled, params, self._constraints(), x, y, sw)
        return self._logs()

    def test_step(self, data: Any) -> dict:
        x, y, sw = data_mod.unpack(data)
        self._test_batch(self._require_compiled("evaluate"), x, y, sw)
        return self._logs()

    def _run_custom_step(self, step: Any, x, y, sw, params=()) -> None:
        for p in params:
            p.grad = None
        data = (x,) if y is None else ((x, y) if sw is None else (x, y, sw))
        self.__dict__.pop("_step_logs", None)
        logs = step(data)
        self.__dict__["_step_logs"] = dict(logs) if isinstance(logs, dict) else None

    def _train_batch(self, compiled, params, constraints, x, y, sw) -> None:
        custom = self._custom_step("train_step")
        if custom is not None:
            self._run_custom_step(custom, x, y, sw, params)
            return
        ddp = self.__dict__.get("_ddp")  # DistributedDataParallel during a data-parallel fit
        y_pred = (ddp or self)(x, training=True)
        loss = self._compute_loss(compiled, y, y_pred, sw)
        opt = self.optimizer
        for p in params:
            p.grad = None
        if not params:  # everything frozen: Keras still runs the epoch (loss and metrics)
            self._update_metrics(compiled, loss, y, y_pred, sw, _batch_len(x))
            return
        scale = self.__dict__.get("_dist_scale", 1.0)  # this rank's share of the global batch
        (loss * scale if scale != 1.0 else loss).backward()
        if _is_torch_optimizer(opt):
            opt.step()
        else:
            opt.step(params)
        if constraints:
            with torch.no_grad():
                for constraint, p in constraints:
                    p.copy_(constraint(p))
        self._update_metrics(compiled, loss, y, y_pred, sw, _batch_len(x))

    def _test_batch(self, compiled, x, y, sw) -> None:
        custom = self._custom_step("test_step")
        if custom is not None:
            with torch.no_grad():
                self._run_custom_step(custom, x, y, sw)
            return
        with torch.no_grad():
            y_pred = self(x, training=False)
            loss = self._compute_loss(compiled, y, y_pred, sw)
        self._update_metrics(compiled, loss, y, y_pred, sw, _batch_len(x))

    def _prepare(self, x, y, sw, device, class_weight=None):
        x, y, sw = (data_mod.to_device(v, device) for v in (x, y, sw))
        if class_weight is not None and y is not None:
            cw = _class_weights(class_weight, y)
            sw = cw if sw is None else sw * cw
        return x, y, sw

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: Any = 1,
            max_queue_size: int = 10, workers: int = 1,
            use_multiprocessing: bool = False,
            check_finite: bool = False) -> callbacks_mod.History:
        """Train for ``epochs`` epochs; returns a ``History`` (also ``model.history``).

        ``check_finite=True`` (rnnkit's) refuses NaN/inf in the data before any step.
        A ``KeyboardInterrupt`` leaves the model usable and ``model.history`` holding the
        finished epochs before it propagates."""
        compiled = self._require_compiled("fit")
        train, val = self._fit_data(compiled, x, y, sample_weight, batch_size, epochs,
                                    validation_split, validation_data, shuffle, initial_epoch,
                                    steps_per_epoch, validation_steps, validation_batch_size,
                                    validation_freq, check_finite)
        verbose = resolve_verbose(verbose)
        with traced_calls(*data_mod.traced_batch_shape(train)):  # as Keras's traced step
            return self._fit_epochs(compiled, train, val, epochs, initial_epoch, verbose,
                                    callbacks, shuffle, class_weight, validation_freq,
                                    check_finite)

    def _fit_data(self, compiled, x, y, sample_weight, batch_size, epochs, validation_split,
                  validation_data, shuffle, initial_epoch, steps_per_epoch, validation_steps,
                  validation_batch_size, validation_freq, check_finite):
        """fit's data preparation: the arguments checked, arrays checked whole, the
        validation split taken; returns the training and validation batches."""
        if x is None:
            raise ValueError("fit: `x` (the training inputs) is required.")
        validation.check_fit_args("fit", batch_size, epochs, initial_epoch, validation_split,
                                  steps_per_epoch, validation_steps, validation_batch_size,
                                  validation_freq)
        if data_mod.is_array_like(x):
            x, y, sample_weight = validation.check_arrays(self, compiled, x, y, sample_weight,
                                                          "fit", check_finite)
        validation_data = validation.check_validation_data(validation_data)
        if isinstance(validation_data, tuple) and data_mod.is_array_like(validation_data) \
                and len(validation_data) in (2, 3):
            validation_data = validation.check_arrays(
                self, compiled, *validation_data, *([None] * (3 - len(validation_data))),
                what="fit", finite=check_finite, prefix="val_")
            validation_data = validation_data if validation_data[2] is not None else \
                validation_data[:2]
        if validation_split and validation_data is None:
            if not data_mod.is_array_like(x):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy "
                                 f"arrays, found following types in the input: {type(x)}")
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"validation_split must be in (0, 1), got {validation_split}.")
            x, y, sample_weight = (data_mod.to_tensor(v) for v in (x, y, sample_weight))
            n = data_mod.num_samples(x)
            split = int(math.floor(n * (1.0 - validation_split)))
            if split == 0 or split == n:
                raise ValueError(f"Training data contains {n} samples, which is not sufficient "
                                 f"to split it into a validation and training set as specified "
                                 f"by `validation_split={validation_split}`. Either provide "
                                 "more data, or a different value for the `validation_split` "
                                 "argument.")
            validation_data = tuple(data_mod.take(v, slice(split, None))
                                    for v in (x, y, sample_weight) if v is not None) \
                if sample_weight is not None else (data_mod.take(x, slice(split, None)),
                                                   data_mod.take(y, slice(split, None)))
            x, y = data_mod.take(x, slice(0, split)), data_mod.take(y, slice(0, split))
            sample_weight = data_mod.take(sample_weight, slice(0, split))
        train = data_mod.adapt(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
                               steps=steps_per_epoch)
        if steps_per_epoch is not None and isinstance(train, data_mod.ArrayBatches):
            train.passes = max(epochs - initial_epoch, 0)
        val = None
        if validation_data is not None:
            val = self._adapt_validation(validation_data, validation_batch_size or batch_size,
                                         validation_steps)
        return train, val

    def _fit_epochs(self, compiled, train, val, epochs, initial_epoch, verbose, callbacks,
                    shuffle, class_weight, validation_freq, check_finite):
        """fit's epoch loop over prepared batches, with callbacks, validation after the
        epochs ``validation_freq`` asks for, and the History."""
        parallel = distributed.active()
        if parallel:  # under torchrun: shard the global batches, log on rank 0 only
            train = distributed.shard(train, shuffle)
            val = distributed.shard(val, False) if val is not None else None
            verbose = verbose if distributed.is_rank_zero() else 0
        object.__setattr__(self, "_is_rank_zero", distributed.is_rank_zero())
        history = callbacks_mod.History()
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.append(callbacks_mod.ProgbarLogger(verbose=verbose))
        cb_list.append(history)
        params = {"verbose": verbose, "epochs": epochs, "steps": train.steps}
        cbs = callbacks_mod.CallbackList(cb_list, model=self, params=params)

        device = self._device()
        was_training = self.training
        self.stop_training = False
        cbs.on_train_begin(None)
        resume = self.__dict__.pop("_resume_state", None)  # set by BackupAndRestore
        if resume is not None:
            initial_epoch = resume["epoch"]
            history.history = {k: list(v) for k, v in resume["history"].items()}
            history.epoch = list(resume["epochs"])
        trainable = None
        constraints = None
        epoch_logs: dict = {}
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch, None)
                if isinstance(train, distributed.ShardedBatches):
                    train.set_epoch(epoch)
                self.train()
                step = 0
                for step, (xb, yb, swb) in enumerate(train.epoch()):
                    cbs.on_train_batch_begin(step, None)
                    xb, yb, swb = self._prepare(xb, yb, swb, device, class_weight)
                    if yb is None and compiled.loss is not None:
                        raise ValueError(_missing_targets(self.loss, "fit"))
                    if check_finite and isinstance(train, data_mod.IterableBatches):
                        for arg, v in (("x", xb), ("y", yb), ("sample_weight", swb)):
                            validation.check_finite(v, f"{arg} (batch {step})", "fit")
                    if trainable is None:
                        if not self.built:
                            self(xb, training=True)  # build the weights before collecting them
                        device = self._device()
                        xb, yb, swb = self._prepare(xb, yb, swb, device)
                        trainable = [p for p in self.parameters() if p.requires_grad]
                        constraints = self._constraints()
                        if parallel:
                            object.__setattr__(self, "_ddp", distributed.wrap(self))
                    if parallel:
                        object.__setattr__(self, "_dist_scale", train.last_scale
                                           if isinstance(train, distributed.ShardedBatches)
                                           else 1.0)
                    self._train_batch(compiled, trainable, constraints, xb, yb, swb)
                    logs = self._logs() if cbs.wants_batch_logs else None
                    cbs.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                else:
                    if trainable is None:
                        raise ValueError("fit: the training data is empty (no batches).")
                    if step == 0 and compiled.loss_tracker._count == 0:
                        # a one-shot generator used up in an earlier epoch (Keras: same)
                        warnings.warn(
                            "Your input ran out of data; interrupting training. Make sure "
                            "that your dataset or generator can generate at least "
                            "`steps_per_epoch * epochs` batches.")
                        break
                ran_out = getattr(train, "ran_out", False)
                if ran_out:
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that "
                        "your dataset or generator can generate at least `steps_per_epoch * "
                        f"epochs` batches (in this case, {train.steps * epochs} batches). "
                        "You may need to use the repeat() function when building your "
                        "dataset.")
                    self.stop_training = True
                if isinstance(train, data_mod.IterableBatches):
                    train.on_epoch_end()
                if parallel:
                    distributed.reduce_metrics(self.metrics)
                epoch_logs = self._logs()
                if val is not None and _should_validate(epoch, validation_freq):
                    epoch_logs.update(self._validate(compiled, val, device))
                self.train(False)
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            # Ctrl-C: keep what was learnt (the finished epochs' history) and let it propagate.
            object.__setattr__(self, "history", history)
            history.model, history.params = self, params
            raise
        finally:
            self.train(was_training)
            for attr in ("_ddp", "_dist_scale"):
                self.__dict__.pop(attr, None)
        cbs.on_train_end(epoch_logs)
        object.__setattr__(self, "history", history)
        history.model = self
        history.params = params
        return history

    def _validate(self, compiled, val, device) -> dict:
        """fit's validation after an epoch: the ``val_*`` logs, in inference mode."""
        self.train(False)
        with traced_calls(*data_mod.traced_batch_shape(val)):
            logs = self._run_test(compiled, val, device)
        return {"val_" + k: v for k, v in logs.items()}

    def _adapt_validation(self, validation_data, batch_size, steps):
        if isinstance(validation_data, tuple) and data_mod.is_array_like(validation_data):
            if len(validation_data) not in (2, 3):
                raise ValueError("When passing a `validation_data` argument, it must contain "
                                 "either 2 items (x_val, y_val), or 3 items (x_val, y_val, "
                                 f"val_sample_weights), found {len(validation_data)} items.")
            return data_mod.adapt(*validation_data, batch_size=batch_size, steps=steps,
                                  what="validation")
        return data_mod.adapt(validation_data, batch_size=batch_size, steps=steps,
                              what="validation")

    def _run_test(self, compiled, batches, device, cbs=None, progbar=None) -> dict:
        self.reset_metrics()
        seen = 0
        for step, (xb, yb, swb) in enumerate(batches.epoch()):
            if cbs is not None:
                cbs.on_test_batch_begin(step, None)
            xb, yb, swb = self._prepare(xb, yb, swb, device)
            if yb is None and compiled.loss is not None:
                raise ValueError(_missing_targets(self.loss, "evaluate"))
            self._test_batch(compiled, xb, yb, swb)
            seen = step + 1
            if cbs is not None:
                cbs.on_test_batch_end(step, None)
            if progbar is not None and progbar.verbose == 1:
                _show(progbar, seen, self._logs(), finalize=False)
        if seen == 0:
            raise ValueError("Unexpected result of `test_function` (Empty logs): the "
                             "evaluation data is empty.")
        if isinstance(batches, data_mod.IterableBatches):
            batches.on_epoch_end()
        if "_ddp" in self.__dict__:  # validation during a data-parallel fit: all ranks' data
            distributed.reduce_metrics(self.metrics)
        logs = self._logs()
        if progbar is not None:
            progbar.target = progbar.target or seen
            _show(progbar, progbar.target, logs, finalize=True)
        return logs

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Any = None, max_queue_size: int = 10, workers: int = 1,
                 use_multiprocessing: bool = False, return_dict: bool = False,
                 check_finite: bool = False) -> Any:
        """The loss (and metrics) in inference mode: a scalar, a list, or a dict."""
        compiled = self._require_compiled("evaluate")
        verbose = resolve_verbose(verbose, auto=1)  # tf.keras 2.12: "auto" is the bar
        validation.check_fit_args("evaluate", batch_size, steps=steps)
        if x is None:
            raise ValueError("evaluate: `x` (the inputs) is required.")
        if data_mod.is_array_like(x):
            x, y, sample_weight = validation.check_arrays(self, compiled, x, y, sample_weight,
                                                          "evaluate", check_finite)
        batches = data_mod.adapt(x, y, sample_weight, batch_size=batch_size, steps=steps,
                                 what="evaluate")
        cbs = callbacks_mod.CallbackList(callbacks, model=self,
                                         params={"verbose": verbose, "steps": batches.steps})
        progbar = _progbar(batches.steps, verbose)
        was_training = self.training
        self.train(False)
        cbs.on_test_begin(None)
        try:
            with traced_calls(*data_mod.traced_batch_shape(batches)):
                logs = self._run_test(compiled, batches, self._device(), cbs, progbar)
        finally:
            self.train(was_training)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Any = None, max_queue_size: int = 10,
                workers: int = 1, use_multiprocessing: bool = False,
                check_finite: bool = False) -> np.ndarray:
        """Outputs as NumPy, computed in batches of ``batch_size`` (32) in inference mode."""
        verbose = resolve_verbose(verbose, auto=1)  # tf.keras 2.12: "auto" is the bar
        validation.check_fit_args("predict", batch_size, steps=steps)
        if x is None:
            raise ValueError("predict: `x` (the inputs) is required.")
        if data_mod.is_array_like(x) or isinstance(x, str):
            x, _, _ = validation.check_arrays(self, None, x, None, None, "predict",
                                              check_finite)
        if data_mod.is_array_like(x):
            x = self._to_tensor(x) if not isinstance(x, list) else data_mod.to_tensor(x)
        batches = data_mod.adapt(x, batch_size=batch_size, steps=steps, what="predict")
        cbs = callbacks_mod.CallbackList(callbacks, model=self,
                                         params={"verbose": verbose, "steps": batches.steps})
        progbar = _progbar(batches.steps, verbose)
        device = self._device()
        was_training = self.training
        self.train(False)
        cbs.on_predict_begin(None)
        chunks, seen = [], 0
        try:
            with torch.no_grad(), traced_calls(*data_mod.traced_batch_shape(batches)):
                for step, (xb, _, _) in enumerate(batches.epoch()):
                    cbs.on_predict_batch_begin(step, None)
                    out = self(data_mod.to_device(xb, device), training=False)
                    chunks.append(_to_numpy(out))
                    seen = step + 1
                    cbs.on_predict_batch_end(step, {"outputs": chunks[-1]})
                    if progbar is not None and verbose == 1:
                        progbar.update(seen, finalize=False)
                if not chunks and isinstance(x, torch.Tensor):
                    chunks.append(_to_numpy(self(x.to(device), training=False)))
        finally:
            self.train(was_training)
        if progbar is not None and seen:
            progbar.target = progbar.target or seen
            progbar.update(progbar.target, finalize=True)
        cbs.on_predict_end(None)
        if not chunks:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). "
                             "Please use `Model.compile(..., run_eagerly=True)`, or "
                             "`tf.data.experimental.assert_cardinality` ... — here: the input "
                             "to predict is empty.")
        return _concatenate(chunks)

    # ------------------------------------------------------------------ single batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, reset_metrics: bool = True,
                       return_dict: bool = False) -> Any:
        """One optimiser step on one batch; the loss (and metrics) of that batch."""
        compiled = self._require_compiled("train_on_batch")
        xb, yb, swb = (data_mod.to_tensor(v) for v in (x, y, sample_weight))
        if reset_metrics:
            self.reset_metrics()
        was_training = self.training
        self.train()
        try:
            if not self.built:
                self(xb, training=True)
            xb, yb, swb = self._prepare(xb, yb, swb, self._device(), class_weight)
            params = [p for p in self.parameters() if p.requires_grad]
            self._train_batch(compiled, params, self._constraints(), xb, yb, swb)
        finally:
            self.train(was_training)
        return _batch_result(self._logs(), return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        compiled = self._require_compiled("test_on_batch")
        if reset_metrics:
            self.reset_metrics()
        was_training = self.training
        self.train(False)
        try:
            xb, yb, swb = self._prepare(*(data_mod.to_tensor(v) for v in (x, y, sample_weight)),
                                        self._device())
            self._test_batch(compiled, xb, yb, swb)
        finally:
            self.train(was_training)
        return _batch_result(self._logs(), return_dict)

    def predict_on_batch(self, x: Any) -> np.ndarray:
        was_training = self.training
        self.train(False)
        try:
            with torch.no_grad():
                xb = data_mod.to_device(self._to_tensor(x), self._device())
                return _to_numpy(self(xb, training=False))
        finally:
            self.train(was_training)


# ---------------------------------------------------------------------- helpers
class _CompiledLoss:
    """``model.compiled_loss(y, y_pred, sample_weight, regularization_losses)``: the
    compiled loss plus the given penalties; it updates the ``loss`` tracker (tf.keras 2.12)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        compiled = self.model._require_compiled("compiled_loss")
        mask = getattr(y_pred, "_keras_mask", None)
        loss = compiled.loss(y_true, y_pred, sample_weight=sample_weight, mask=mask) \
            if isinstance(compiled.loss, losses_mod.Loss) else compiled.loss(y_true, y_pred)
        loss = loss * compiled.loss_weight if compiled.loss_weight != 1.0 else loss
        if regularization_losses:
            loss = loss + torch.stack([torch.as_tensor(p).to(loss.dtype).reshape(())
                                       for p in regularization_losses]).sum()
        compiled.loss_tracker.update_state(loss.detach(), sample_weight=torch.tensor(
            float(_batch_len(y_pred if isinstance(y_pred, torch.Tensor) else y_true))))
        return loss

    @property
    def metrics(self) -> list:
        return [self.model._require_compiled("compiled_loss").loss_tracker]


class _CompiledMetrics:
    """``model.compiled_metrics.update_state(y, y_pred, sample_weight)`` (tf.keras 2.12)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        compiled = self.model._require_compiled("compiled_metrics")
        if not (compiled.metric_specs or compiled.weighted_specs):
            return
        self.model._build_metrics(compiled, y_true, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        with torch.no_grad():
            pred = y_pred.detach()
            for m in compiled.metrics:
                _update_metric(m, y_true, pred, None, mask)
            for m in compiled.weighted:
                _update_metric(m, y_true, pred, sample_weight, mask)

    @property
    def metrics(self) -> list:
        compiled = self.model._require_compiled("compiled_metrics")
        return list(compiled.metrics or []) + list(compiled.weighted or [])


def _as_float(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return float(value.detach().reshape(-1)[0]) if value.numel() else float("nan")
    if isinstance(value, (np.generic, np.ndarray)):
        return float(np.asarray(value).reshape(-1)[0])
    return value


def _update_metric(metric, y, y_pred, sample_weight, mask) -> None:
    if isinstance(metric, (metrics_mod.MeanMetricWrapper, metrics_mod.RootMeanSquaredError,
                           metrics_mod._Confusion)):
        metric.update_state(y, y_pred, sample_weight=sample_weight, mask=mask)
    else:
        metric.update_state(y, y_pred, sample_weight=sample_weight)


def _batch_len(x: Any) -> int:
    return int(x[0].shape[0]) if isinstance(x, (list, tuple)) else int(x.shape[0])


def _to_numpy(out: Any) -> Any:
    """Outputs as NumPy, in their structure: dicts (named outputs) and lists, nested as a
    stacked RNN's states are (``[output, [h, c], h2]``); tuples become lists, as in Keras."""
    if isinstance(out, dict):
        return {name: _to_numpy(o) for name, o in out.items()}
    if isinstance(out, (list, tuple)):
        return [_to_numpy(o) for o in out]
    return out.detach().cpu().numpy()


def flatten_outputs(outputs: Any) -> list:
    """The tensors of a model's outputs (a tensor, or lists, tuples and dicts of them)."""
    if isinstance(outputs, dict):
        return [t for key in sorted(outputs) for t in flatten_outputs(outputs[key])]
    if isinstance(outputs, (list, tuple)):
        return [t for item in outputs for t in flatten_outputs(item)]
    return [outputs] if isinstance(outputs, torch.Tensor) else []


def _concatenate(chunks: list) -> Any:
    """The batches' outputs (each as ``_to_numpy`` gives them) joined along the batch axis."""
    first = chunks[0]
    if isinstance(first, dict):
        return {name: _concatenate([c[name] for c in chunks]) for name in first}
    if isinstance(first, list):
        return [_concatenate([c[i] for c in chunks]) for i in range(len(first))]
    if np.ndim(first) == 0:  # a scalar output (K.mean(x) in a model): one batch's, as is
        return first if len(chunks) == 1 else np.stack(chunks)
    return np.concatenate(chunks, axis=0)


def _batch_result(logs: dict, return_dict: bool) -> Any:
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _should_validate(epoch: int, freq: Any) -> bool:
    if isinstance(freq, int):
        if freq < 1:
            raise ValueError(f"validation_freq must be a positive int, got {freq}.")
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq  # a list of epochs (1-based), as Keras takes


def _class_weights(class_weight: dict, y: torch.Tensor) -> torch.Tensor:
    """Per-sample weights from ``{class: weight}``; one-hot targets are argmax-ed."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"`class_weight` must be a dict mapping class indices to weights, "
                         f"got {type(class_weight).__name__}.")
    labels = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(y.shape[0], -1)[:, 0]
    labels = labels.to(torch.long)
    size = max(int(max(class_weight)) + 1, int(labels.max()) + 1 if labels.numel() else 0)
    table = torch.ones(size, dtype=torch.float32, device=y.device)
    for cls, w in class_weight.items():
        table[int(cls)] = float(w)
    return table[labels]


def _missing_targets(loss: Any, what: str) -> str:
    """tf.keras 2's words for fit(x) without y, and what to change."""
    loss = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    return (f"Target data is missing. Your model was compiled with loss={loss}, and therefore "
            f"expects target data to be provided in `{what}()`. Pass the targets: "
            f"{what}(x, y, ...), or batches of (x, y).")


def _progbar(steps: int | None, verbose: int) -> Progbar | None:
    """evaluate's and predict's bar (tf.keras 2.12's ProgbarLogger counts steps)."""
    return Progbar(steps, verbose=verbose) if verbose else None


def _show(progbar: Progbar, current: int, logs: dict, finalize: bool) -> None:
    """Draw ``logs`` as given: they are the metrics' running means already, which Keras marks
    as stateful metrics (the model's metrics) so that the bar does not average them again."""
    progbar._update_stateful_metrics(logs)
    progbar.update(current, list(logs.items()), finalize=finalize)
