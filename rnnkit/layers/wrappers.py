"""Layers that wrap another layer: ``Bidirectional`` and ``TimeDistributed`` (tf.keras 2).

``Bidirectional(LSTM(6, return_sequences=True))`` runs two copies of the LSTM: a forward
one (``forward_lstm``) and one reading the sequence from the end (``backward_lstm``, its
``go_backwards`` flipped). The backward outputs are turned back into input time order
before the two are merged (concatenated by default), so step ``t`` of the result sees the
past through the forward half and the future through the backward half. Its weights are the
forward layer's, then the backward layer's: ``bidirectional/forward_lstm/lstm_cell_1/kernel:0``
... as in tf.keras 2 (which matters when loading ``.h5`` files).

``TimeDistributed(Dense(2))`` applies the inner layer to every time step, by folding the
time axis into the batch: (B, T, D) -> (B·T, D) -> (B·T, 2) -> (B, T, 2). As in tf.keras 2
the inner layer's weights belong to the wrapper (``time_distributed/kernel:0``).
"""
from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np
import torch

from .base import Layer, shape_tuple

__all__ = ["Wrapper", "Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_RNN_ATTRIBUTES = ("go_backwards", "return_sequences", "return_state")


def _serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(config: dict) -> Layer:
    from .serialization import deserialize
    return deserialize(config)


def _strip_prefix(config: dict, prefix: str) -> dict:
    """A layer config whose ``name`` loses ``prefix`` (Keras 3 stores ``forward_gru``)."""
    config = copy.deepcopy(config)
    inner = config.get("config")
    if isinstance(inner, dict) and isinstance(inner.get("name"), str) \
            and inner["name"].startswith(prefix) and len(inner["name"]) > len(prefix):
        inner["name"] = inner["name"][len(prefix):]
    return config


# ---------------------------------------------------------------------------- Wrapper
class Wrapper(Layer):
    """Base class of layers that wrap another layer (tf.keras 2's ``keras.layers.Wrapper``):
    ``self.layer`` is the wrapped layer (registered: its weights are the wrapper's), ``build``
    builds it for the wrapper's input shape, and the config carries it as ``layer``. A
    user's wrapper subclasses it and writes ``call`` (and ``compute_output_shape``, or
    rnnkit runs ``call`` to find the shape). ``Bidirectional`` and ``TimeDistributed`` are
    Wrappers too, as in tf.keras 2.12."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__}: the wrapped `layer` must be an rnnkit "
                             f"layer instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any = None) -> None:
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        Layer.build(self, input_shape)

    def weight_names(self) -> list[str]:
        """tf.keras 2 builds the wrapped layer inside the wrapper's name scope, so its weights
        are named under the wrapper: ``time_distributed/kernel:0``."""
        inner_prefix = f"{self.layer.name}/"
        names = Layer.weight_names(self)
        return [f"{self.name}/{name[len(self.name) + 1 + len(inner_prefix):]}"
                if name.startswith(f"{self.name}/{inner_prefix}") else name for name in names]

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Wrapper":
        from .serialization import deserialize
        config = copy.deepcopy(config)
        layer = deserialize(config.pop("layer"), custom_objects)
        return cls(layer, **config)


# ---------------------------------------------------------------------------- Bidirectional
class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and backwards over the input and merges the two.

    ``merge_mode``: ``"concat"`` (default; last axis doubles), ``"sum"``, ``"mul"``,
    ``"ave"`` or ``None`` (returns ``[forward, backward]``). With ``return_state`` the result
    is ``[merged, *forward_states, *backward_states]``. An ``initial_state`` list is split
    in two: the first half for the forward layer, the second for the backward one.
    Both copies zero the output of masked steps when returning sequences (as Keras forces
    ``zero_output_for_mask = return_sequences``).
    """

    supports_masking = True
    # its weights are its two copies' (`bidirectional/forward_lstm/...`), not `layer`'s
    weight_names = Layer.weight_names

    def __init__(self, layer: Layer, merge_mode: str | None = "concat",
                 weights: list | None = None, backward_layer: Layer | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with an rnnkit layer "
                             f"instance (an RNN such as LSTM or GRU). Received: {layer!r}")
        missing = [a for a in _RNN_ATTRIBUTES if not hasattr(layer, a)]
        if missing:
            raise ValueError(f"Bidirectional needs a recurrent layer (RNN, SimpleRNN, LSTM, GRU) "
                             f"with {', '.join(_RNN_ATTRIBUTES)} attributes; "
                             f"{type(layer).__name__} {layer.name!r} has no {missing[0]}.")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` needs to be an rnnkit layer instance. "
                             f"Received: {backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be "
                             "one of {'sum', 'mul', 'ave', 'concat', None}")
        kwargs.setdefault("trainable", layer.trainable)
        Layer.__init__(self, weights=weights, **kwargs)  # `layer` itself stays unregistered
        # The layer as given stays unregistered (no weights of its own are used): its config
        # is what get_config writes, as tf.keras 2's `self.layer`.
        object.__setattr__(self, "layer", layer)
        self.merge_mode = merge_mode
        # Rebuilt from the config, so nothing (weights, states) carries over from `layer`.
        self.forward_layer = self._recreate_layer_from_config(layer)
        self._backward_layer_config: dict | None = None
        if backward_layer is None:
            self.backward_layer = self._recreate_layer_from_config(layer, go_backwards=True)
        else:
            for attribute in _RNN_ATTRIBUTES:
                if not hasattr(backward_layer, attribute):
                    raise ValueError(
                        f"Bidirectional: `backward_layer` must be a recurrent layer with a "
                        f"{attribute!r} attribute; got {type(backward_layer).__name__}.")
            # Its config before the rename below is what get_config writes back.
            self._backward_layer_config = _serialize(backward_layer)
            self.backward_layer = backward_layer
        self.forward_layer.name = "forward_" + self.forward_layer.name
        if not self.backward_layer.name.startswith("backward_"):
            self.backward_layer.name = "backward_" + self.backward_layer.name
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.stateful = bool(getattr(layer, "stateful", False))
        self.return_sequences = bool(layer.return_sequences)
        self.return_state = bool(layer.return_state)
        self._input_ndim = getattr(layer, "_input_ndim", None)
        if not self.trainable:  # `trainable=False` freezes both copies
            self.trainable = False

    @staticmethod
    def _recreate_layer_from_config(layer: Layer, go_backwards: bool = False) -> Layer:
        """A copy of ``layer`` from its config; a user's cell class (``RNN(MyCell(4))``) is
        known by name meanwhile, as tf.keras 2.12 passes it in ``custom_objects``."""
        from .serialization import deserialize
        config = layer.get_config()
        if go_backwards:
            config["go_backwards"] = not config["go_backwards"]
        cell = getattr(layer, "cell", None)
        classes = [type(c) for c in [cell] + list(getattr(cell, "cells", []))
                   if c is not None]
        custom = {cls.__name__: cls for cls in classes if not cls.__module__.startswith("rnnkit.")}
        if not custom:
            return type(layer).from_config(config)
        custom[type(layer).__name__] = type(layer)
        return deserialize({"class_name": type(layer).__name__, "config": config}, custom)

    def _verify_layer_config(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. "
                f"forward_layer.go_backwards = {forward.go_backwards}, "
                f"backward_layer.go_backwards = {backward.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            forward_value = getattr(forward, attribute, False)
            backward_value = getattr(backward, attribute, False)
            if forward_value != backward_value:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value for "
                    f'attribute "{attribute}", got "{forward_value}" for forward layer and '
                    f'"{backward_value}" for backward layer')

    # ------------------------------------------------------------------ build / shapes
    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        self.forward_layer._maybe_build(input_shape)
        self.forward_layer._build_input_shape = input_shape
        self.backward_layer._maybe_build(input_shape)
        self.backward_layer._build_input_shape = input_shape
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Sequence) -> Any:
        output_shape = self.forward_layer.compute_output_shape(shape_tuple(input_shape))
        state_shapes: list = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        output_shape = tuple(output_shape)
        if self.merge_mode == "concat":
            last = output_shape[-1]
            output_shape = output_shape[:-1] + (None if last is None else 2 * last,)
        elif self.merge_mode is None:
            output_shape = [output_shape, output_shape]
        if self.return_state:
            states = state_shapes + list(state_shapes)
            if self.merge_mode is None:
                return output_shape + states
            return [output_shape] + states
        return output_shape

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        outputs = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            return outputs + [None] * len(self.states)
        return outputs if self.merge_mode is None else output_mask

    # ------------------------------------------------------------------ call
    def call(self, inputs: torch.Tensor, mask: Any = None, training: bool | None = None,
             initial_state: Any = None) -> Any:
        forward_state = backward_state = None
        if initial_state is not None:
            if isinstance(initial_state, (torch.Tensor, np.ndarray)):
                initial_state = [initial_state]
            initial_state = list(initial_state)
            if len(initial_state) % 2:
                raise ValueError(
                    f'Bidirectional layer "{self.name}": when passing `initial_state` to a '
                    "Bidirectional RNN, the state should be a list containing the states of the "
                    f"underlying RNNs (forward ones, then backward ones); received "
                    f"{len(initial_state)} tensor(s).")
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        fused = self._fused_directions(inputs, mask, training, forward_state, backward_state)
        if fused is not None:
            y, y_rev, forward_states, backward_states = fused
            states = forward_states + backward_states
        else:
            y = self.forward_layer(inputs, mask=mask, training=training,
                                   initial_state=forward_state)
            y_rev = self.backward_layer(inputs, mask=mask, training=training,
                                        initial_state=backward_state)
            states = []
            if self.return_state:
                states = list(y[1:]) + list(y_rev[1:])
                y, y_rev = y[0], y_rev[0]
            if self.return_sequences:
                time_dim = 0 if getattr(self.forward_layer, "time_major", False) else 1
                y_rev = y_rev.flip(time_dim)
        if self.merge_mode == "concat":
            output = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    @property
    def compute_dtype(self) -> torch.dtype:
        # Inputs go to the wrapped layers: cast them to what those compute in.
        return self.forward_layer.compute_dtype

    def _fused_directions(self, inputs, mask, training, forward_state, backward_state):
        """Both directions in one bidirectional torch call where ``select_bidirectional``
        chooses it; else None (each direction runs on its own)."""
        from ..kernels.fused_torch import run_torch_bidirectional
        from ..kernels.select import select_bidirectional

        forward, backward = self.forward_layer, self.backward_layer
        mask = _bool_mask(mask, inputs.device)
        choice = select_bidirectional(forward, backward, inputs, mask, bool(training))
        if choice.name != "torch":
            return None
        return run_torch_bidirectional(
            forward.cell, backward.cell, choice.kind, inputs,
            forward_states=None if forward_state is None else forward._as_state_list(
                forward_state, inputs.shape[0], "initial states"),
            backward_states=None if backward_state is None else backward._as_state_list(
                backward_state, inputs.shape[0], "initial states"),
            mask=mask, return_sequences=self.return_sequences)

    def select_kernel(self, inputs: Any, mask: Any = None, training: bool = False):
        """How a call on ``inputs`` (and ``mask``) would run, and why: ``torch`` (both
        directions in one fused call) or ``separate`` (see each direction's
        ``select_kernel``)."""
        from ..kernels.select import select_bidirectional

        x = self.forward_layer._to_tensor(inputs)
        return select_bidirectional(self.forward_layer, self.backward_layer, x,
                                    _bool_mask(mask, x.device), bool(training))

    # ------------------------------------------------------------------ states
    @property
    def states(self) -> list:
        return list(self.forward_layer.states) + list(self.backward_layer.states)

    def reset_states(self, states: Any = None) -> None:
        if not self.stateful:
            raise AttributeError(f"Layer {self.name!r} must be stateful to reset its states.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        if not isinstance(states, (list, tuple)):
            raise ValueError("Unrecognized value for `states`. Expected `states` to be list or "
                             f"tuple. Received: {states!r}")
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    reset_state = reset_states

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        config["layer"] = _serialize(self.layer)
        config["merge_mode"] = self.merge_mode
        if self._backward_layer_config is not None:
            config["backward_layer"] = copy.deepcopy(self._backward_layer_config)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Bidirectional":
        """tf.keras 2 configs (``layer`` = the wrapped layer's own config) and Keras 3 ones
        (``layer`` named ``forward_<name>``, ``backward_layer`` always present)."""
        config = copy.deepcopy(config)
        num_constants = config.pop("num_constants", 0)
        if num_constants:
            raise ValueError("Bidirectional: RNN `constants` are not supported by rnnkit.")
        config["layer"] = _deserialize(_strip_prefix(config["layer"], "forward_"))
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = _deserialize(_strip_prefix(backward, "backward_"))
        return cls(**config)


# -------------------------------------------------------------------------- TimeDistributed
class TimeDistributed(Wrapper):
    """Applies ``layer`` to every time step of a (B, T, ...) input, with the same weights.

    The time axis is folded into the batch, so ``TimeDistributed(Dense(2))`` on (B, T, D)
    costs one matrix product. The output is (B, T) + the inner layer's output shape for
    one step; a mask passes through.
    """

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with an rnnkit layer "
                             f"instance. Received: {layer!r}")
        super().__init__(layer, **kwargs)  # registered: its weights are the wrapper's
        if not self.trainable:
            self.trainable = False


    @property
    def compute_dtype(self) -> torch.dtype:
        return self.layer.compute_dtype  # inputs go to the wrapped layer
    def _to_tensor(self, x: Any) -> torch.Tensor:
        # The inner layer decides the dtype (ids stay integers for an Embedding).
        return self.layer._to_tensor(x)

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() < 3:
            raise ValueError(f'TimeDistributed layer "{self.name}" should be passed an input '
                             "with at least 3 dimensions (batch, time, ...), received shape "
                             f"{tuple(x.shape)}." + _TIME_DISTRIBUTED_HINT)

    @staticmethod
    def _child_shape(input_shape: Sequence) -> tuple:
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f'TimeDistributed layer "{self.name}" should be passed an '
                             "`input_shape` with at least 3 dimensions, received: "
                             f"{input_shape}." + _TIME_DISTRIBUTED_HINT)
        child = self._child_shape(input_shape)
        if not self.layer.built:
            self.layer._maybe_build(child)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Sequence) -> Any:
        input_shape = shape_tuple(input_shape)
        child_output = self.layer.compute_output_shape(self._child_shape(input_shape))
        steps = input_shape[1]

        def insert(shape):
            shape = tuple(shape)
            return (shape[0], steps) + shape[1:]
        if isinstance(child_output, list):
            return [insert(s) for s in child_output]
        return insert(child_output)

    def call(self, inputs: torch.Tensor, mask: Any = None, training: bool | None = None) -> Any:
        batch, steps = inputs.shape[:2]
        folded = inputs.reshape((batch * steps,) + tuple(inputs.shape[2:]))
        kwargs: dict[str, Any] = {"training": training}
        # A (B, T) mask says which steps count, not what the inner layer should skip; a
        # (B, T, ...) one (an inner sequence's mask) goes in folded as Keras does.
        if mask is not None and isinstance(mask, torch.Tensor) and mask.dim() > 2:
            kwargs["mask"] = mask.reshape((batch * steps,) + tuple(mask.shape[2:]))
        outputs = self.layer(folded, **kwargs)

        def unfold(y):
            return y.reshape((batch, steps) + tuple(y.shape[1:]))
        if isinstance(outputs, (list, tuple)):
            return [unfold(y) for y in outputs]
        return unfold(outputs)

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> Any:
        batch, steps = inputs.shape[:2]
        folded = inputs.reshape((batch * steps,) + tuple(inputs.shape[2:]))
        inner_mask = None
        if isinstance(mask, torch.Tensor):
            inner_mask = mask.reshape((batch * steps,) + tuple(mask.shape[2:]))
        output_mask = self.layer.compute_mask(folded, inner_mask)
        if isinstance(output_mask, (list, tuple)):
            output_mask = output_mask[0]
        if output_mask is None:
            if mask is None:
                return None
            output_mask = mask
            while output_mask.dim() > 2:  # reduce a (B, T, ...) mask to (B, T)
                output_mask = output_mask.any(dim=-1)
            return output_mask
        return output_mask.reshape((batch, steps) + tuple(output_mask.shape[1:]))

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "TimeDistributed":
        config = copy.deepcopy(config)
        layer = _deserialize(config.pop("layer"))
        return cls(layer, **config)


def _bool_mask(mask: Any, device: torch.device) -> torch.Tensor | None:
    if mask is None:
        return None
    return torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask,
                           device=device).to(torch.bool)


_TIME_DISTRIBUTED_HINT = (" If the layer before it is recurrent, it returns only its last step: "
                          "create it with return_sequences=True to pass on every step.")
