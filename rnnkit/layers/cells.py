"""The recurrent cells: each cell's equations, written once.

A cell splits one time step in two, so that a layer can hoist the expensive half out of
the time loop:

* ``project_inputs(x)`` computes ``x @ kernel + input bias`` for every time step at once;
* ``step(xw_t, states)`` does only the recurrent product and the gates for one step.

``cell(x_t, states)`` runs both for a single step, as a Keras cell call does. Weights use
Keras shapes and gate order: ``kernel (D, G·H)``, ``recurrent_kernel (H, G·H)``, columns in
gate blocks of ``H`` (SimpleRNN: one block; LSTM: ``i f c o``; GRU: ``z r h``).

Dropout is Keras's variational dropout: one mask per sequence, reused at every step.
``implementation=1`` (forced by ``recurrent_dropout``, as in tf.keras 2) draws one mask per
gate; ``implementation=2`` one mask for the whole input.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from .. import activations, constraints, eager, initializers, regularizers
from .base import _DTYPES, Layer, dtype_name

Masks = Sequence[torch.Tensor] | None


def _dropout_masks(like: torch.Tensor, rate: float, count: int) -> list[torch.Tensor]:
    """``count`` inverted-dropout masks shaped like ``like``: 0 or ``1 / (1 - rate)``."""
    keep = 1.0 - rate
    return [torch.bernoulli(torch.full_like(like, keep)) / keep for _ in range(count)]


class RecurrentCell(Layer):
    """What the three cells share: weights, dropout masks and the gate-blocked products."""

    n_gates = 1
    _torch_layout = False
    # The fast kernels that can run this cell's equations (``rnnkit.kernels.select`` reads
    # it, so the kernels need not know the cell classes): "lstm", "gru", "simple_rnn", or
    # "" for none. A subclass whose ``step`` computes something else sets "".
    fast_path = ""
    # Names of the states, in Keras order; the first one is the output.
    state_names: tuple[str, ...] = ("h",)
    _config_keys = ("units", "activation", "use_bias", "kernel_initializer",
                    "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                    "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                    "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 implementation: int = 2, **kwargs: Any) -> None:
        # Any integer (a NumPy one from a hyperparameter grid too), as tf.keras 2 accepts.
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"{type(self).__name__}: received an invalid value for argument "
                             f"`units`, expected a positive integer, got {units!r}.")
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        if implementation not in (1, 2):
            raise ValueError(f"{type(self).__name__}: `implementation` must be 1 or 2, "
                             f"got {implementation!r}.")
        # tf.keras 2: recurrent dropout needs the per-gate products of implementation 1.
        self.implementation = 1 if self.recurrent_dropout else implementation

    # ------------------------------------------------------------------ shapes
    @property
    def state_size(self) -> int | list[int]:
        return self.units if len(self.state_names) == 1 else [self.units] * len(self.state_names)

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def input_dim(self) -> int:
        return self.kernel.shape[0]

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the last dimension of the "
                             f"input (features) must be known, got shape {tuple(input_shape)}.")
        width = self.n_gates * self.units
        # LSTM and SimpleRNN share torch's gate order: store them as torch lays them out.
        torch_layout = self._torch_layout
        self.add_weight("kernel", (input_dim, width), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint, torch_layout=torch_layout)
        self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                        self.recurrent_regularizer, self.recurrent_constraint,
                        torch_layout=torch_layout)
        if self.use_bias:
            self.add_weight("bias", self._bias_shape(), self._bias_initializer(),
                            self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None
        super().build(input_shape)

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.n_gates * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def _input_bias(self) -> torch.Tensor | None:
        return self.bias

    def get_initial_state(self, batch_size: int | None = None, dtype: Any = None,
                          device: Any = None, *, inputs: Any = None) -> list[torch.Tensor]:
        """Zero states, one (batch, units) tensor per state. Keras 3 passes ``batch_size``;
        tf.keras 2 also ``inputs=`` (batch size, dtype and device taken from it) and dtype names."""
        batch_size, dtype, device = _state_arguments(self, batch_size, dtype, device, inputs)
        return [torch.zeros(batch_size, self.units, dtype=dtype, device=device)
                for _ in self.state_names]

    # ------------------------------------------------------------------ dropout
    def _mask_count(self) -> int:
        return self.n_gates if self.implementation == 1 else 1

    def dropout_masks(self, x_t: torch.Tensor, training: bool) -> list[torch.Tensor] | None:
        """Input dropout masks for one sequence (``x_t`` is one step, (B, D))."""
        if training and 0.0 < self.dropout < 1.0:
            return _dropout_masks(x_t, self.dropout, self._mask_count())
        return None

    def recurrent_dropout_masks(self, h: torch.Tensor, training: bool) -> list[torch.Tensor] | None:
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return _dropout_masks(h, self.recurrent_dropout, self._mask_count())
        return None

    # ------------------------------------------------------------------ the two halves
    def _blocks(self, weight: torch.Tensor) -> list[torch.Tensor]:
        return list(weight.split(self.units, dim=-1))

    def project_inputs(self, x: torch.Tensor, masks: Masks = None) -> torch.Tensor:
        """``x @ kernel + input bias`` for all leading axes at once: (..., D) -> (..., G·H)."""
        if masks is None:
            xw = x @ self.kernel
        elif len(masks) == 1:
            xw = (x * _over_time(masks[0], x)) @ self.kernel
        else:  # implementation 1: each gate sees its own dropped-out copy of the input
            xw = torch.cat([(x * _over_time(m, x)) @ k
                            for m, k in zip(masks, self._blocks(self.kernel))], dim=-1)
        bias = self._input_bias()
        return xw if bias is None else xw + bias

    def recurrent_product(self, h: torch.Tensor, masks: Masks = None) -> torch.Tensor:
        """``h @ recurrent_kernel`` (per gate with a dropped-out ``h`` under recurrent dropout)."""
        if masks is None:
            return h @ self.recurrent_kernel
        if len(masks) == 1:
            return (h * masks[0]) @ self.recurrent_kernel
        return torch.cat([(h * m) @ u for m, u in zip(masks, self._blocks(self.recurrent_kernel))],
                         dim=-1)

    def step(self, xw_t: torch.Tensor, states: Sequence[torch.Tensor],
             recurrent_masks: Masks = None, gates: dict | None = None
             ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step from the projected input ``xw_t`` (B, G·H): ``(output, new_states)``.

        ``gates``, when a dict is passed, receives the step's intermediate values (the
        gates, the candidate, the pre-activation) under their names: this is how
        ``rnnkit.inspect.gates`` watches the very equations the layer runs. The layer's
        loop passes nothing, so its only cost is one ``is not None`` test."""
        raise NotImplementedError

    def step_with_gates(self, xw_t: torch.Tensor, states: Sequence[torch.Tensor],
                        recurrent_masks: Masks = None
                        ) -> tuple[torch.Tensor, list[torch.Tensor], dict[str, torch.Tensor]]:
        """``step`` that also returns its intermediate values: ``(output, new_states, gates)``."""
        gates: dict[str, torch.Tensor] = {}
        output, new_states = self.step(xw_t, states, recurrent_masks, gates=gates)
        return output, new_states, gates

    def call(self, inputs: torch.Tensor, states: Sequence[torch.Tensor],
             training: bool | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One Keras cell step: ``(output, new_states)`` for ``x_t`` (B, D) and ``states``.

        As in tf.keras 2, a single state tensor (not a list) gives a single new state back."""
        single = isinstance(states, torch.Tensor)
        if single:
            states = [states]
        states = [self._to_tensor(s) for s in states]
        xw = self.project_inputs(inputs, self.dropout_masks(inputs, bool(training)))
        output, new_states = self.step(xw, states,
                                       self.recurrent_dropout_masks(states[0], bool(training)))
        if single and len(new_states) == 1:
            return output, new_states[0]
        return output, new_states

    def __call__(self, inputs: Any, states: Any = None, training: bool | None = None) -> Any:
        x = self._to_tensor(inputs)
        if x.dim() != 2:
            raise ValueError(f'Cell "{self.name}" takes one time step of shape (batch, features); '
                             f"got shape {tuple(x.shape)}.")
        self._maybe_build(tuple(x.shape))
        if states is None:
            states = self.get_initial_state(x.shape[0], x.dtype, x.device)
        outputs = self.call(x, states, training=self.training if training is None else training)
        return eager.keras_outputs(inputs, outputs)   # NumPy in: prints as tf.keras 2's tensors


def _state_arguments(cell, batch_size, dtype, device, inputs):
    """``get_initial_state``'s ``(batch_size, dtype, device)``, from ``inputs`` when given
    (tf.keras 2's way) and with dtype names resolved; the cell's compute dtype by default."""
    if inputs is not None:
        inputs = cell._to_tensor(inputs)
        batch_size, device = inputs.shape[0], device or inputs.device
        dtype = dtype or inputs.dtype
    if isinstance(dtype, str):
        dtype = _DTYPES[dtype_name(dtype)]
    return batch_size, dtype or cell.compute_dtype, device


def _over_time(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (B, D) dropout mask broadcast over the time axis of a (B, T, D) input."""
    return mask.unsqueeze(1) if x.dim() == 3 else mask


class SimpleRNNCell(RecurrentCell):
    """Fully connected recurrence.

    ``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``; the output is ``h_t``.
    """

    _torch_layout = True
    fast_path = "simple_rnn"

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.implementation = 2  # SimpleRNN has one gate: one mask either way

    def step(self, xw_t, states, recurrent_masks=None, gates=None):
        pre_activation = xw_t + self.recurrent_product(states[0], recurrent_masks)
        h = self.activation(pre_activation)
        if gates is not None:
            gates["pre_activation"] = pre_activation
        return h, [h]


class LSTMCell(RecurrentCell):
    """Long short-term memory, Keras gate order ``i, f, c, o`` (as torch).

    ``z = x_t @ kernel + bias + h_{t-1} @ recurrent_kernel``, split into ``z_i, z_f, z_c, z_o``;
    ``i, f, o = recurrent_activation(z_i, z_f, z_o)``;
    ``c_t = f * c_{t-1} + i * activation(z_c)``; ``h_t = o * activation(c_t)``.
    States ``[h, c]``; the output is ``h_t``.
    """

    n_gates = 4
    state_names = ("h", "c")
    _torch_layout = True
    fast_path = "lstm"
    _config_keys = ("units", "activation", "recurrent_activation", "use_bias",
                    "kernel_initializer", "recurrent_initializer", "bias_initializer",
                    "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                    "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                    "bias_constraint", "dropout", "recurrent_dropout", "implementation")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def forget_ones(shape, dtype=torch.float32):
            # Keras: the bias initialiser for i, ones for f, the initialiser again for c and o.
            return torch.cat([base((units,), dtype=dtype), torch.ones(units, dtype=dtype),
                              base((2 * units,), dtype=dtype)])
        return forget_ones

    def step(self, xw_t, states, recurrent_masks=None, gates=None):
        h, c = states
        z = xw_t + self.recurrent_product(h, recurrent_masks)
        z_i, z_f, z_c, z_o = z.split(self.units, dim=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        o = self.recurrent_activation(z_o)
        c_tilde = self.activation(z_c)
        c = f * c + i * c_tilde
        h = o * self.activation(c)
        if gates is not None:
            gates.update(i=i, f=f, c_tilde=c_tilde, o=o)
        return h, [h, c]


class GRUCell(RecurrentCell):
    """Gated recurrent unit, Keras gate order ``z, r, h``.

    ``x_z, x_r, x_h = split(x_t @ kernel + b_in)``.
    ``reset_after=True`` (default; torch's GRU), bias ``(2, 3H)`` = ``[b_in, b_rec]``:
    ``r_z, r_r, r_h = split(h_{t-1} @ recurrent_kernel + b_rec)``;
    ``z = σ(x_z + r_z)``, ``r = σ(x_r + r_r)``, ``hh = activation(x_h + r * r_h)``.
    ``reset_after=False`` (the original GRU), bias ``(3H,)`` = ``b_in``:
    ``z = σ(x_z + h @ U_z)``, ``r = σ(x_r + h @ U_r)``, ``hh = activation(x_h + (r * h) @ U_h)``.
    Both: ``h_t = z * h_{t-1} + (1 - z) * hh``; σ is ``recurrent_activation``.
    """

    n_gates = 3
    fast_path = "gru"
    _config_keys = ("units", "activation", "recurrent_activation", "use_bias",
                    "kernel_initializer", "recurrent_initializer", "bias_initializer",
                    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                    "recurrent_dropout", "implementation", "reset_after")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self) -> torch.Tensor | None:
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def step(self, xw_t, states, recurrent_masks=None, gates=None):
        h = states[0]
        x_z, x_r, x_h = xw_t.split(self.units, dim=-1)
        if self.reset_after:
            rec = self.recurrent_product(h, recurrent_masks)
            if self.bias is not None:
                rec = rec + self.bias[1]
            r_z, r_r, r_h = rec.split(self.units, dim=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            hh = self.activation(x_h + r * r_h)
        else:
            u_zr, u_h = self.recurrent_kernel.split([2 * self.units, self.units], dim=-1)
            if recurrent_masks is None:
                r_z, r_r = (h @ u_zr).split(self.units, dim=-1)
                h_for_candidate = h
            else:
                u_z, u_r = u_zr.split(self.units, dim=-1)
                r_z, r_r = (h * recurrent_masks[0]) @ u_z, (h * recurrent_masks[1]) @ u_r
                h_for_candidate = h * recurrent_masks[2]
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            hh = self.activation(x_h + (r * h_for_candidate) @ u_h)
        if gates is not None:
            gates.update(z=z, r=r, h_tilde=hh)
        h = z * h + (1.0 - z) * hh
        return h, [h]


def _flat(structure: Any) -> list:
    """The leaves of nested lists/tuples, in order (``tf.nest.flatten`` for states)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flat(item)]
    return [structure]


def _pack_like(sizes: Sequence[Any], flat: Sequence[Any]) -> list:
    """``flat`` regrouped per cell as ``sizes`` nests them: a cell with a list of state sizes
    gets a list, one with a single size a single tensor (``tf.nest.pack_sequence_as``)."""
    packed, k = [], 0
    for size in sizes:
        n = len(_flat(size))
        packed.append(list(flat[k:k + n]) if isinstance(size, (list, tuple)) else flat[k])
        k += n
    return packed


class StackedRNNCells(Layer):
    """Several cells run as one, each step feeding each cell's output to the next (tf.keras 2).

    ``RNN([c1, c2])`` wraps its list in this class. ``state_size`` is the tuple of the cells'
    state sizes (nested per cell, as Keras 2.12), ``output_size`` the last cell's; the weights
    are the cells' weights, cell by cell, under ``<rnn>/<stacked_rnn_cells>/<cell>/``.
    """

    def __init__(self, cells: Sequence[Any], **kwargs: Any) -> None:
        if isinstance(cells, (str, bytes)) or not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError("StackedRNNCells: argument `cells` should be a non-empty list of "
                             f"RNN cells; received {cells!r}.")
        for k, cell in enumerate(cells):
            if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
                raise ValueError(f"StackedRNNCells: argument `cells[{k}]` should be an RNN cell "
                                 "(a `call` method and a `state_size` attribute); received "
                                 f"{cell!r}.")
        super().__init__(**kwargs)
        self.cells = list(cells)
        for k, cell in enumerate(self.cells):
            if isinstance(cell, torch.nn.Module):  # the cells' weights are this layer's
                self.add_module(f"cell_{k}", cell)

    @property
    def state_size(self) -> tuple:
        return tuple(cell.state_size for cell in self.cells)

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def build(self, input_shape: Sequence[int | None]) -> None:
        # Each cell sees the previous cell's output: (batch, previous output_size).
        input_shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(input_shape)
            input_shape = (input_shape[0], _output_size(cell))
        super().build(input_shape)

    def get_initial_state(self, batch_size: int | None = None, dtype: Any = None,
                          device: Any = None, *, inputs: Any = None) -> list:
        """Each cell's initial state, nested per cell (zeros for a cell that has no method)."""
        batch_size, dtype, device = _state_arguments(self, batch_size, dtype, device, inputs)
        states = []
        for cell in self.cells:
            if callable(getattr(cell, "get_initial_state", None)):
                cell_states = cell.get_initial_state(batch_size, dtype, device)
            else:
                cell_states = [torch.zeros(batch_size, size, dtype=dtype, device=device)
                               for size in _flat(cell.state_size)]
            cell_states = _flat(cell_states)
            states.append(cell_states if isinstance(cell.state_size, (list, tuple))
                          else cell_states[0])
        return states

    def call(self, inputs: torch.Tensor, states: Any, training: bool | None = None,
             dropout_masks: dict | None = None) -> tuple[torch.Tensor, list]:
        """One step of every cell in order. ``states`` nested per cell or flat; the new states
        come back nested per cell, as tf.keras 2.12 returns them.

        ``dropout_masks``: the masks of one sequence, ``{cell index: (input masks, recurrent
        masks)}``. ``RNN`` passes the same dict at every step of a call: each cell draws its
        masks at the first step (from that step's input and state, as tf.keras 2.12's
        ``get_dropout_mask_for_cell`` does) and reuses them at the others, one mask per
        sequence per cell; without it (a single step) each call draws new masks."""
        nested = _pack_like(self.state_size, _flat(states))
        new_states = []
        for k, (cell, cell_states) in enumerate(zip(self.cells, nested)):
            cell_states = list(cell_states) if isinstance(cell_states, list) else [cell_states]
            if isinstance(cell, RecurrentCell) and dropout_masks is not None:
                masks = dropout_masks.get(k)
                if masks is None:
                    training = bool(training)
                    masks = dropout_masks[k] = (
                        cell.dropout_masks(inputs, training),
                        cell.recurrent_dropout_masks(cell_states[0], training))
                inputs, cell_states = cell.step(cell.project_inputs(inputs, masks[0]),
                                                cell_states, masks[1])
            elif isinstance(cell, RecurrentCell):
                inputs, cell_states = cell.call(inputs, cell_states, training=training)
            else:
                inputs, cell_states = cell.call(inputs, cell_states)
            new_states.append(cell_states)
        return inputs, _pack_like(self.state_size, _flat(new_states))

    def __call__(self, inputs: Any, states: Any = None, training: bool | None = None) -> Any:
        x = self._to_tensor(inputs)
        self._maybe_build(tuple(x.shape))
        if states is None:
            states = self.get_initial_state(x.shape[0], x.dtype, x.device)
        outputs = self.call(x, states, training=self.training if training is None else training)
        return eager.keras_outputs(inputs, outputs)   # NumPy in: prints as tf.keras 2's tensors

    def get_config(self) -> dict:
        config = super().get_config()
        config["cells"] = [{"class_name": type(cell).__name__, "config": cell.get_config()}
                           for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "StackedRNNCells":
        from .serialization import deserialize
        config = dict(config)
        config["cells"] = [deserialize(cell, custom_objects) for cell in config["cells"]]
        return cls(**config)


def _output_size(cell: Any) -> int:
    try:
        size = getattr(cell, "output_size", None)
    except NotImplementedError:  # AbstractRNNCell's own property: tf.keras 2 falls back too
        size = None
    return size if size is not None else _flat(cell.state_size)[0]
