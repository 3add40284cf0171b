"""``RNN(cell)`` and the three Keras layers built on it: ``SimpleRNN``, ``LSTM``, ``GRU``.

``RNN`` owns everything around the cell: the time loop (``rnnkit.kernels``), initial and
stateful states, masks, ``go_backwards``, ``time_major``, ``return_sequences`` and
``return_state``. ``LSTM(...)`` is ``RNN(LSTMCell(...))`` with the cell's arguments on the
layer, as in tf.keras 2.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..kernels import KERNELS, run_rnnkit_loop, run_reference, run_torch, select_kernel
from ..kernels.select import select_kernel_cached
from .base import Layer, serialize_value, shape_tuple
from . import mistakes
from .cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell, StackedRNNCells, _flat, \
    _pack_like
from .cells import _output_size as _cell_output_size


def _zero_states(cell, inputs: torch.Tensor) -> list[torch.Tensor]:
    """``cell.get_initial_state`` for ``inputs``: zeros in their dtype and device, made
    directly (one op a state) unless a subclass defines its own initial state."""
    if type(cell).get_initial_state is RecurrentCell.get_initial_state:
        return [inputs.new_zeros(inputs.shape[0], cell.units) for _ in cell.state_names]
    return cell.get_initial_state(inputs.shape[0], inputs.dtype, inputs.device)


class RNN(Layer):
    """Runs ``cell`` over a (batch, time, features) sequence with Keras 2 semantics."""

    _input_ndim = 3
    supports_masking = True
    _config_keys = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                    "time_major")

    def __init__(self, cell: Layer, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 time_major: bool = False, zero_output_for_mask: bool = False,
                 input_length: int | None = None, **kwargs: Any) -> None:
        # tf.keras 2: `input_dim` + `input_length` on a recurrent layer mean
        # `input_shape=(input_length, input_dim)`.
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs and (
                "input_dim" in kwargs or input_length is not None):
            kwargs["input_shape"] = (input_length, kwargs.pop("input_dim", None))
        elif input_length is not None:
            raise TypeError(f"Keyword argument not understood: 'input_length' (passed to "
                            f"{type(self).__name__} together with an input shape).")
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            # tf.keras 2: a list of cells runs as one StackedRNNCells, each feeding the next.
            if not cell:
                raise ValueError(f"RNN {self.name!r}: argument `cell` is an empty list; pass a "
                                 "cell or a non-empty list of cells.")
            for k, item in enumerate(cell):
                if not hasattr(item, "state_size") or not callable(getattr(item, "call", None)):
                    raise ValueError(f"RNN {self.name!r}: argument `cell[{k}]` should have a "
                                     f"`call` method and a `state_size` attribute; received "
                                     f"{item!r}.")
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "state_size") or not callable(getattr(cell, "call", None)):
            raise ValueError(f"RNN {self.name!r}: argument `cell` should have a `call` method "
                             f"and a `state_size` attribute; received {cell!r}.")
        self.cell = cell
        self.__dict__["_cell"] = cell  # a plain attribute: nn.Module's lookup is slow in hot paths
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for compatibility: the loop gives the same numbers
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._stored_states: list[torch.Tensor] | None = None

    # ------------------------------------------------------------------ shapes
    @property
    def _state_sizes(self) -> list[int]:
        """Every state's size, flat (a stacked cell nests them per cell)."""
        return _flat(self.cell.state_size)

    def _nest_states(self, flat: list) -> list:
        """The returned states as tf.keras 2.12 nests them: per cell for a stacked cell
        (``[h, c]`` for an LSTM cell, one tensor for a one-state cell), else flat."""
        if isinstance(self._cell, StackedRNNCells):
            return _pack_like(self._cell.state_size, flat)
        return list(flat)

    def _split_shape(self, input_shape: Sequence) -> tuple[Any, Any, Any]:
        shape = shape_tuple(input_shape)
        if len(shape) != 3:  # tf.keras 2's InputSpec(ndim=3) message, and what to change
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim=3, found ndim={len(shape)}. Full shape received: {shape}"
                + ("." + mistakes.ndim_hint(3, shape) if mistakes.ndim_hint(3, shape) else ""))
        batch, steps, features = shape
        return (steps, batch, features) if self.time_major else (batch, steps, features)

    def compute_output_shape(self, input_shape: Sequence) -> Any:
        batch, steps, _ = self._split_shape(input_shape)
        units = _output_size(self.cell)
        if self.return_sequences:
            output = (steps, batch, units) if self.time_major else (batch, steps, units)
        else:
            output = (batch, units)
        if self.return_state:
            # Nested per cell for stacked cells: [output, [h, c], h_gru], as tf.keras 2.12.
            return [output] + self._nest_states([(batch, size) for size in self._state_sizes])
        return output

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._nest_states(self._state_sizes))
        return output_mask

    def build(self, input_shape: Sequence) -> None:
        batch, _, features = self._split_shape(input_shape)
        if isinstance(self.cell, Layer) and not self.cell.built:  # a plain user cell has no build
            self.cell._maybe_build((batch, features))
        if self.stateful:
            if batch is None:
                raise ValueError(
                    f"Layer {self.name!r}: If a RNN is stateful, it needs to know its batch "
                    "size. Pass `batch_input_shape=(batch, timesteps, features)` (or "
                    "`batch_size=` with `input_shape=`) to the first layer of the model.")
            self._stored_states = [torch.zeros(batch, size, dtype=self.cell.compute_dtype)
                                   for size in self._state_sizes]
        super().build(shape_tuple(input_shape))

    def _check_input(self, x: torch.Tensor) -> None:
        super()._check_input(x)
        cell = self._cell
        if isinstance(cell, StackedRNNCells):  # the first cell sees the input
            cell = cell.cells[0]
        kernel = cell._parameters.get("kernel") if isinstance(cell, RecurrentCell) else None
        if kernel is not None and x.shape[-1] != kernel.shape[0]:
            expected = (None, None, kernel.shape[0])
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"shape={expected}, found shape={tuple(x.shape)}."
                + mistakes.features_hint(kernel.shape[0], tuple(x.shape)))

    # ------------------------------------------------------------------ states
    def get_initial_state(self, inputs: Any) -> list[torch.Tensor]:
        """Zero states for ``inputs`` (a list, one per state, as tf.keras 2.12): the cell's
        own ``get_initial_state`` where a user cell defines one."""
        x = inputs if isinstance(inputs, torch.Tensor) else self._to_tensor(inputs)
        batch = x.shape[1] if self.time_major else x.shape[0]
        dtype = x.dtype if x.is_floating_point() else self.compute_dtype
        own = getattr(type(self.cell), "get_initial_state", None)
        if own is not None and not isinstance(self.cell, (RecurrentCell, StackedRNNCells)):
            found = self.cell.get_initial_state(inputs=None, batch_size=batch, dtype=dtype)
            return list(found) if isinstance(found, (list, tuple)) else [found]
        return [torch.zeros(batch, size, dtype=dtype, device=x.device)
                for size in self._state_sizes]

    @property
    def states(self) -> list[torch.Tensor | None]:
        if self._stored_states is None:
            return [None] * len(self._state_sizes)
        return list(self._stored_states)

    def reset_states(self, states: Any = None) -> None:
        """Zero the stored states of a stateful layer, or set them to ``states``."""
        if not self.stateful:
            raise AttributeError(f"Layer {self.name!r} must be stateful to reset its states.")
        if self._stored_states is None:
            raise ValueError(f"Layer {self.name!r}: a stateful RNN needs to know its batch "
                             "size before its states can be reset; build it first.")
        if states is None:
            self._stored_states = [torch.zeros_like(s) for s in self._stored_states]
            return
        values = self._as_state_list(states, self._stored_states[0].shape[0], "states")
        self._stored_states = [v.detach().clone() for v in values]

    reset_state = reset_states

    def _as_state_list(self, states: Any, batch: int, argument: str) -> list[torch.Tensor]:
        if isinstance(states, (torch.Tensor, np.ndarray)):
            states = [states]
        # Nested per cell (tf.keras 2 for a stacked cell) or flat: the loop runs flat.
        states = [self._to_tensor(s) for s in _flat(states)]
        sizes = self._state_sizes
        if len(states) != len(sizes):
            raise ValueError(
                f"Layer {self.name!r} has {len(sizes)} state(s) but was passed {len(states)} "
                f"{argument}.")
        for k, (state, size) in enumerate(zip(states, sizes)):
            if tuple(state.shape) != (batch, size):
                raise ValueError(
                    f"Layer {self.name!r}: {argument}[{k}] should have shape {(batch, size)}, "
                    f"got {tuple(state.shape)}.")
        return states

    def check_state_shapes(self, shapes: list, argument: str, batch: Any = None) -> None:
        """One ``(batch, size)`` state per entry of ``cell.state_size``, for symbolic calls
        (tf.keras 2's words, and what to pass)."""
        sizes = list(self._state_sizes)
        wanted = [(batch, size) for size in sizes]
        if len(shapes) == len(sizes) and all(
                len(s) == 2 and s[1] == size and (batch is None or s[0] == batch)
                for s, size in zip(shapes, sizes)):
            return
        names = {1: "[h]", 2: "[h, c]"}.get(len(sizes), f"{len(sizes)} tensors")
        raise ValueError(
            f"Layer {self.name!r}: An `initial_state` was passed that is not compatible with "
            f"`cell.state_size`. Received {len(shapes)} {argument} of shape(s) {shapes}; "
            f"however `cell.state_size` is {sizes}. {type(self).__name__} takes {names}: "
            f"pass {len(sizes)} state(s) of shape(s) {wanted}.")

    def _initial_states(self, initial_state: Any, batch: int, like: torch.Tensor
                        ) -> list[torch.Tensor]:
        if self.stateful:
            stored = self._stored_states
            if stored[0].shape[0] != batch:
                raise ValueError(
                    f"Layer {self.name!r}: if an RNN is stateful, the batch size of the input "
                    f"sequences must be the same as the batch size of the stored states. "
                    f"Expected batch size: {stored[0].shape[0]}; received batch size: {batch}. "
                    f"Call fit and predict with batch_size={stored[0].shape[0]} and a number "
                    "of samples it divides (the last batch must be full too).")
            # like's device and dtype (``.to`` itself costs a dispatch even when they match)
            stored = [s if s.dtype is like.dtype and s.device == like.device else s.to(like)
                      for s in stored]
            # tf.keras 2 uses an explicit initial state only while the stored one is all zero.
            if initial_state is None or any(bool(s.any()) for s in stored):
                return stored
        if initial_state is None:
            return None  # zeros: each kernel makes them in the shape it wants
        return self._as_state_list(initial_state, batch, "initial states")

    # ------------------------------------------------------------------ call
    def call(self, inputs: torch.Tensor, mask: Any = None, training: bool | None = None,
             initial_state: Any = None) -> Any:
        if self.time_major:
            inputs = inputs.transpose(0, 1)
        batch, steps, _ = inputs.shape
        if steps == 0:
            raise ValueError(f"Layer {self.name!r} received an input with 0 time steps "
                             f"(shape {tuple(inputs.shape)}); an RNN needs at least one step.")
        if mask is not None:
            mask = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor)
                                   else mask, device=inputs.device).to(torch.bool)
            if tuple(mask.shape) != (batch, steps):
                raise ValueError(f"Layer {self.name!r}: the mask should have shape "
                                 f"(batch, timesteps) = {(batch, steps)}, got {tuple(mask.shape)}.")
        states = self._initial_states(initial_state, batch, inputs)
        training = bool(training)
        if isinstance(self._cell, RecurrentCell):
            result = self._run_cell(inputs, states, mask, training)
        else:
            if self.rnn_kernel not in ("auto", "reference"):  # refused with the reason
                select_kernel(self, inputs, mask, training)
            if states is None:
                states = [inputs.new_zeros(batch, size) for size in self._state_sizes]
            result = run_reference(_GenericCell(self.cell, training), inputs, states, mask=mask,
                                   go_backwards=self.go_backwards,
                                   zero_output_for_mask=self.zero_output_for_mask,
                                   return_sequences=self.return_sequences)
        if self.stateful:
            # a plain attribute, set directly: nn.Module.__setattr__ costs µs on every step
            # (detached only where autograd recorded them: detach() is a new tensor each time)
            self.__dict__["_stored_states"] = [s.detach() if s.requires_grad else s
                                               for s in result.states]
        output = result.outputs if self.return_sequences else result.last_output
        if self.time_major and self.return_sequences:
            output = output.transpose(0, 1)
        if self.return_state:
            return [output, *self._nest_states(result.states)]
        return output

    def _run_cell(self, inputs, states, mask, training):
        """Run one of rnnkit's cells with the kernel ``select_kernel`` picks."""
        cell = self._cell
        choice = select_kernel_cached(self, inputs, mask, training)
        input_masks = cell.dropout_masks(inputs[:, 0], training) if training else None
        if states is None and (choice.name != "torch" or training and cell.recurrent_dropout):
            states = _zero_states(cell, inputs)
        if choice.name == "torch":
            return run_torch(cell, choice.kind, inputs, states, mask=mask,
                             go_backwards=self.go_backwards,
                             zero_output_for_mask=self.zero_output_for_mask,
                             return_sequences=self.return_sequences, input_masks=input_masks)
        if choice.name == "persistent":
            from ..kernels.persistent.runner import run_persistent
            return run_persistent(cell, choice.kind, inputs, states,
                                  go_backwards=self.go_backwards,
                                  return_sequences=self.return_sequences)
        if choice.name == "rnnkit":
            return run_rnnkit_loop(cell, choice.kind, inputs, states,
                                   go_backwards=self.go_backwards,
                                   return_sequences=self.return_sequences, input_masks=input_masks,
                                   mask=mask, zero_output_for_mask=self.zero_output_for_mask)
        return run_reference(
            cell, inputs, states, mask=mask, go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=self.return_sequences, input_masks=input_masks,
            recurrent_masks=cell.recurrent_dropout_masks(states[0], training) if training else None)

    @property
    def rnn_kernel(self) -> str:
        """The kernel to run with: ``auto`` (default), ``reference``, ``torch``, ``rnnkit`` or
        ``persistent`` (see ``rnnkit.kernels.select``)."""
        return self.__dict__.get("_rnn_kernel", "auto")

    @rnn_kernel.setter
    def rnn_kernel(self, value: str) -> None:
        if value not in KERNELS:
            raise ValueError(f"Layer {self.name!r}: rnn_kernel must be one of {KERNELS}, "
                             f"got {value!r}.")
        self.__dict__["_rnn_kernel"] = value

    def select_kernel(self, inputs: Any = None, mask: Any = None, training: bool = False):
        """Which kernel a call on ``inputs`` (and ``mask``) would use, and why."""
        x = None if inputs is None else self._to_tensor(inputs)
        if mask is not None:
            mask = torch.as_tensor(np.asarray(mask)).to(torch.bool)
        return select_kernel(self, x, mask, training)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = super().get_config()
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        config["cell"] = {"class_name": type(self.cell).__name__, "config": self.cell.get_config()}
        return config

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        from .serialization import deserialize
        config = dict(config)
        config["cell"] = deserialize(config["cell"])
        return cls(**config)


def _output_size(cell: Any) -> int:
    """A cell's output size: its ``output_size``, else (tf.keras 2's fallback) its first
    state size."""
    size = _cell_output_size(cell)
    return int(size[0]) if isinstance(size, (list, tuple)) else int(size)


class _GenericCell:
    """Adapts a user cell with only ``call(x_t, states)`` (or a ``StackedRNNCells``) to the
    loop's two-halves protocol; the loop carries the states flat."""

    def __init__(self, cell: Any, training: bool = False) -> None:
        self.cell = cell
        # Only rnnkit's stacked cells are handed `training` (their cells' dropout uses it),
        # and a dict for this sequence's dropout masks: one per cell, kept for every step
        # (tf.keras 2.12's RNN resets each stacked cell's masks at the start of a call).
        self.kwargs = {"training": training, "dropout_masks": {}} \
            if isinstance(cell, StackedRNNCells) else {}

    def project_inputs(self, x, masks=None):
        return x

    def step(self, x_t, states, recurrent_masks=None):
        output, new_states = self.cell.call(x_t, states, **self.kwargs)
        return output, _flat(new_states)


class _KerasRecurrentLayer(RNN):
    """A Keras recurrent layer: the cell's arguments on the layer, one flat config."""

    cell_class: type[RecurrentCell] = RecurrentCell
    _layer_keys = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                   "time_major", "zero_output_for_mask", "input_length")
    _base_keys = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                  "batch_size", "input_dim", "weights", "activity_regularizer", "autocast")

    def __init__(self, units: int, **kwargs: Any) -> None:
        layer_kwargs = {k: kwargs.pop(k) for k in self._layer_keys + self._base_keys
                        if k in kwargs}
        try:
            cell = self.cell_class(units, dtype=kwargs.get("dtype", layer_kwargs.get("dtype")),
                                   trainable=layer_kwargs.get("trainable", True), **kwargs)
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}: {error}") from None
        super().__init__(cell, **layer_kwargs)

    def __getattr__(self, name: str) -> Any:
        # `lstm.units`, `lstm.activation`, `lstm.kernel`, ... live on the cell, as in Keras.
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules", {})
            cell = modules.get("cell")
            if cell is not None and (name in cell._config_keys
                                     or name in ("kernel", "recurrent_kernel", "bias")):
                return getattr(cell, name)
            raise

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        cell_config = self.cell.get_config()
        for key in self.cell._config_keys:
            config[key] = cell_config[key]
            if key == "bias_regularizer":  # where tf.keras 2 writes it
                config["activity_regularizer"] = serialize_value(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        return cls(**config)


class SimpleRNN(_KerasRecurrentLayer):
    """Fully connected RNN whose output is fed back as the next input (see ``SimpleRNNCell``)."""

    cell_class = SimpleRNNCell


class LSTM(_KerasRecurrentLayer):
    """Long short-term memory (see ``LSTMCell``); ``return_state`` gives ``[output, h, c]``."""

    cell_class = LSTMCell


class GRU(_KerasRecurrentLayer):
    """Gated recurrent unit (see ``GRUCell``); ``reset_after=True`` is the torch/cuDNN variant."""

    cell_class = GRUCell
