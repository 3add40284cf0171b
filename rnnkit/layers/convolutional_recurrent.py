"""Convolutional LSTMs (tf.keras 2.12): ``ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D`` and
their cell, ``ConvLSTMCell`` (``ConvLSTM1DCell`` ... fix its rank).

An LSTM whose matrix products are convolutions: the input of every step is an image
(``(B, T, rows, cols, channels)`` for ``ConvLSTM2D``) and the states ``h`` and ``c`` are
images of ``filters`` channels. Keras's gate order ``i, f, c, o`` and weight shapes:
``kernel (*kernel_size, in_channels, 4·filters)``, ``recurrent_kernel (*kernel_size,
filters, 4·filters)``, ``bias (4·filters,)`` (ones in the forget slice with
``unit_forget_bias``). The input convolution uses ``strides``, ``padding`` and
``dilation_rate``; the recurrent one keeps the state's size (stride 1, ``"same"``).

The time loop is rnnkit's reference loop (``rnnkit.kernels.run_reference``), the one every
RNN is tested against: the input convolution runs once over all steps, the loop does the
recurrent convolution and the gates. Masks, ``go_backwards``, ``return_sequences``,
``return_state`` (``[output, h, c]``), ``stateful``, ``initial_state``, ``dropout`` and
``recurrent_dropout`` (one mask per gate and sequence, as Keras) behave as in the other
recurrent layers. Note tf.keras 2's default ``recurrent_activation="hard_sigmoid"`` here.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ..kernels import run_reference
from .base import Layer, serialize_value, shape_tuple
from .cells import _dropout_masks
from .conv_utils import (checked_padding, normalize_tuple, output_length, pad_spatial,
                         symmetric_padding)
from .convolutional import _TORCH_CONV, torch_kernel
from .core import _positive_int
from .reshaping import checked_data_format

__all__ = ["ConvLSTMCell", "ConvLSTM1DCell", "ConvLSTM2DCell", "ConvLSTM3DCell", "ConvLSTM1D",
           "ConvLSTM2D", "ConvLSTM3D"]


class ConvLSTMCell(Layer):
    """One convolutional LSTM step, channels first inside (``(B, C, *spatial)``):

    ``z = conv(x_t, kernel) + conv_same(h_{t-1}, recurrent_kernel) + bias``, split on the
    channels into ``z_i, z_f, z_c, z_o``; ``i, f, o = recurrent_activation(z_i, z_f, z_o)``;
    ``c_t = f * c_{t-1} + i * activation(z_c)``; ``h_t = o * activation(c_t)``.
    """

    n_gates = 4
    state_names = ("h", "c")
    _config_keys = ("filters", "kernel_size", "strides", "padding", "data_format",
                    "dilation_rate", "activation", "recurrent_activation", "use_bias",
                    "kernel_initializer", "recurrent_initializer", "bias_initializer",
                    "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                    "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                    "bias_constraint", "dropout", "recurrent_dropout")

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "hard_sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f'ConvLSTMCell "{self.name}": `rank` must be 1, 2 or 3, got {rank!r}.')
        self.rank = rank
        self.filters = _positive_int(type(self).__name__, self.name, "filters", filters)
        self.kernel_size = normalize_tuple(self, kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(self, strides, rank, "strides")
        self.padding = checked_padding(self, padding, ("valid", "same"))
        self.data_format = checked_data_format(self, data_format)
        self.dilation_rate = normalize_tuple(self, dilation_rate, rank, "dilation_rate")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self._prepared: list[torch.Tensor] | None = None

    # ------------------------------------------------------------------ shapes and weights
    @property
    def state_size(self) -> list[int]:
        return [self.filters, self.filters]

    @property
    def output_size(self) -> int:
        return self.filters

    def state_spatial(self, spatial: Sequence[int | None]) -> tuple:
        """The spatial size of the states for an input of spatial size ``spatial``."""
        return tuple(output_length(n, k, self.padding, s, d) for n, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def build(self, input_shape: Sequence) -> None:
        """``input_shape``: one step, (batch, *spatial, channels) or channels first."""
        input_shape = shape_tuple(input_shape)
        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        if channels is None:
            raise ValueError(f'{type(self).__name__} "{self.name}": the channel dimension of '
                             f"the inputs should be defined, found None in {input_shape}.")
        width = self.n_gates * self.filters
        self.add_weight("kernel", self.kernel_size + (channels, width), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint)
        self.add_weight("recurrent_kernel", self.kernel_size + (self.filters, width),
                        self.recurrent_initializer, self.recurrent_regularizer,
                        self.recurrent_constraint)
        if self.use_bias:
            self.add_weight("bias", (width,), self._bias_initializer(), self.bias_regularizer,
                            self.bias_constraint)
        else:
            self.bias = None
        super().build(input_shape)

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, filters = self.bias_initializer, self.filters

        def forget_ones(shape, dtype=torch.float32):
            return torch.cat([base((filters,), dtype=dtype), torch.ones(filters, dtype=dtype),
                              base((2 * filters,), dtype=dtype)])
        return forget_ones

    def get_initial_state(self, inputs_shape: Sequence[int], dtype: Any = None,
                          device: Any = None) -> list[torch.Tensor]:
        """Zero ``h`` and ``c``, (batch, filters, *state spatial), for channels-first steps
        of shape ``inputs_shape`` (batch, channels, *spatial)."""
        shape = (inputs_shape[0], self.filters) + self.state_spatial(inputs_shape[2:])
        dtype = dtype or self.compute_dtype
        return [torch.zeros(shape, dtype=dtype, device=device) for _ in self.state_names]

    # ------------------------------------------------------------------ dropout
    def dropout_masks(self, x_t: torch.Tensor, training: bool) -> list[torch.Tensor] | None:
        if training and 0.0 < self.dropout < 1.0:
            return _dropout_masks(x_t, self.dropout, self.n_gates)
        return None

    def recurrent_dropout_masks(self, h: torch.Tensor, training: bool) -> list | None:
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return _dropout_masks(h, self.recurrent_dropout, self.n_gates)
        return None

    # ------------------------------------------------------------------ the two halves
    def _input_conv(self, x: torch.Tensor, kernel: torch.Tensor,
                    bias: torch.Tensor | None = None) -> torch.Tensor:
        pads = symmetric_padding(self.padding, x.shape[2:], self.kernel_size, self.strides,
                                 self.dilation_rate)
        if pads is None:  # TensorFlow's uneven "same": pad first
            x, pads = pad_spatial(x, self.padding, self.kernel_size, self.strides,
                                  self.dilation_rate), (0,) * self.rank
        if self._by_patches(x):
            return _one_channel_conv2d(x, kernel, bias, self.strides, pads, self.dilation_rate)
        return _TORCH_CONV[self.rank](x, torch_kernel(kernel, self.rank), bias, self.strides,
                                      pads, self.dilation_rate)

    def _by_patches(self, x: torch.Tensor) -> bool:
        """One-channel frames (B, 1, rows, cols): im2col and products instead of oneDNN's
        one-channel convolution (several times slower); not when tracing (ONNX has no im2col)."""
        return self.rank == 2 and x.shape[1] == 1 and not _tracing()

    def project_inputs(self, x: torch.Tensor, masks: Any = None) -> torch.Tensor:
        """The input convolution for every step at once, without the bias: (B, T, C,
        *spatial) -> (B, T, 4·filters, *state spatial) (one dropped-out copy per gate under
        dropout); for one-channel 2-D frames, the frames' patches (B, T, kh·kw, L) that
        ``step`` multiplies by the kernel."""
        batch, steps = x.shape[:2]
        flat = x.reshape((batch * steps,) + tuple(x.shape[2:]))
        if masks is None and self._by_patches(flat):
            # one-channel frames: the patches of every step, (B, T, kh·kw, L); `step` multiplies
            # them by the kernel straight into the sum with the recurrent convolution
            # (baddbmm), so xw is never written out nor its gradient stacked back
            pads = symmetric_padding(self.padding, flat.shape[2:], self.kernel_size,
                                     self.strides, self.dilation_rate)
            if pads is None:
                flat, pads = pad_spatial(flat, self.padding, self.kernel_size, self.strides,
                                         self.dilation_rate), (0, 0)
            patches = F.unfold(flat, self.kernel_size, dilation=self.dilation_rate,
                               padding=pads, stride=self.strides)
            return patches.view((batch, steps) + tuple(patches.shape[1:]))
        # (the bias joins the recurrent convolution in `step`: oneDNN adds it in that
        # convolution's epilogue and its gradient comes with that convolution's backward,
        # where here it would cost a pass over all of xw each way)
        if masks is None:
            xw = self._input_conv(flat, self.kernel)
        else:
            blocks = self.kernel.split(self.filters, dim=-1)
            xw = torch.cat([self._input_conv((x * m.unsqueeze(1)).reshape(flat.shape), k)
                            for m, k in zip(masks, blocks)], dim=1)
        return xw.reshape((batch, steps) + tuple(xw.shape[1:]))

    def _recurrent_conv(self, h: torch.Tensor, kernel: torch.Tensor,
                        bias: torch.Tensor | None = None) -> torch.Tensor:
        """``kernel`` in torch's layout (``torch_kernel``): conv_same(h, kernel) + bias."""
        ones = (1,) * self.rank
        pads = symmetric_padding("same", h.shape[2:], self.kernel_size, ones, ones)
        if pads is None:  # an even kernel: TensorFlow pads one more at the end
            h, pads = pad_spatial(h, "same", self.kernel_size, ones, ones), 0
        return _TORCH_CONV[self.rank](h, kernel, bias, 1, pads)

    def recurrent_kernels(self) -> list[torch.Tensor]:
        """The recurrent kernel in torch's layout, contiguous: ``[all gates]``, or one per
        gate under recurrent dropout. ``with cell.prepared():`` makes them once per call."""
        if self._prepared is not None:
            return self._prepared
        return [torch_kernel(self.recurrent_kernel, self.rank).contiguous()]

    @contextlib.contextmanager
    def prepared(self) -> Iterator[None]:
        """Within it, every step reuses one torch-layout copy of the recurrent kernel (the
        gradient flows back through that one copy) instead of converting it per step."""
        self._prepared = None
        self._prepared = self.recurrent_kernels()
        try:
            yield
        finally:
            self._prepared = None

    def step(self, xw_t: torch.Tensor, states: Sequence[torch.Tensor],
             recurrent_masks: Any = None, gates: dict | None = None
             ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h, c = states
        kernel = self.recurrent_kernels()[0]
        if recurrent_masks is None:
            rec = self._recurrent_conv(h, kernel, self.bias)
        else:
            rec = torch.cat([self._recurrent_conv(h * m, k) for m, k in
                             zip(recurrent_masks, kernel.split(self.filters, 0))], dim=1)
            if self.bias is not None:
                rec = rec + self.bias.view((-1,) + (1,) * self.rank)
        if self.rank == 2 and xw_t.dim() == 3:   # the patches of one-channel frames
            weight = self.kernel.reshape(-1, self.kernel.shape[-1]).t()   # (4F, kh·kw)
            z = torch.baddbmm(rec.flatten(2), weight.expand(xw_t.shape[0], -1, -1),
                              xw_t).view(rec.shape)
        else:
            z = xw_t + rec
        # one split (its backward: one cat); i and f are adjacent: one activation for both
        z_if, z_c, z_o = z.split([2 * self.filters, self.filters, self.filters], dim=1)
        i, f = self.recurrent_activation(z_if).split(self.filters, dim=1)
        o = self.recurrent_activation(z_o)
        c_tilde = self.activation(z_c)
        c = f * c + i * c_tilde
        h = o * self.activation(c)
        if gates is not None:
            gates.update(i=i, f=f, c_tilde=c_tilde, o=o)
        return h, [h, c]

    def step_with_gates(self, xw_t, states, recurrent_masks=None):
        gates: dict[str, torch.Tensor] = {}
        output, new_states = self.step(xw_t, states, recurrent_masks, gates=gates)
        return output, new_states, gates

    def call(self, inputs: torch.Tensor, states: Sequence[torch.Tensor],
             training: bool | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step on ``inputs`` (B, *spatial, C) in the cell's data format."""
        x = _to_first(inputs, self.data_format).unsqueeze(1)
        states = [_to_first(self._to_tensor(s), self.data_format) for s in states]
        masks = self.dropout_masks(x[:, 0], bool(training))
        xw = self.project_inputs(x, masks)[:, 0]
        output, new_states = self.step(xw, states,
                                       self.recurrent_dropout_masks(states[0], bool(training)))
        return (_to_last(output, self.data_format),
                [_to_last(s, self.data_format) for s in new_states])

    def get_config(self) -> dict:
        config = super().get_config()
        config["rank"] = self.rank
        return config


class ConvLSTM1DCell(ConvLSTMCell):
    """``ConvLSTMCell(rank=1)``."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        kwargs.pop("rank", None)
        super().__init__(1, filters, kernel_size, **kwargs)


class ConvLSTM2DCell(ConvLSTMCell):
    """``ConvLSTMCell(rank=2)``."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        kwargs.pop("rank", None)
        super().__init__(2, filters, kernel_size, **kwargs)


class ConvLSTM3DCell(ConvLSTMCell):
    """``ConvLSTMCell(rank=3)``."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        kwargs.pop("rank", None)
        super().__init__(3, filters, kernel_size, **kwargs)


def _one_channel_conv2d(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None,
                        strides: Sequence[int], pads: Sequence[int],
                        dilation: Sequence[int]) -> torch.Tensor:
    """``conv2d`` of one-channel images (grayscale frames) as im2col and one matrix product:
    oneDNN's convolution takes several times longer on a single input channel than on three,
    forward and backward, and the patches of one channel are small (k·k values a pixel)."""
    batch, _, rows, cols = x.shape
    out_rows, out_cols = (
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip((rows, cols), pads, dilation, kernel.shape[:2], strides))
    patches = F.unfold(x, tuple(kernel.shape[:2]), dilation=tuple(dilation),
                       padding=tuple(pads), stride=tuple(strides))   # (B, kh·kw, L)
    # Keras's (kh, kw, 1, out) kernel, flattened in unfold's (kh, kw) order: (out, kh·kw),
    # one product per image straight into (B, out, L) (a folded matmul would transpose back)
    filters = kernel.shape[-1]
    weight = kernel.reshape(-1, filters).t().expand(batch, filters, patches.shape[1])
    if bias is None:
        out = torch.bmm(weight, patches)
    else:
        out = torch.baddbmm(bias.view(1, filters, 1), weight, patches)
    return out.view(batch, filters, out_rows, out_cols)


def _tracing() -> bool:
    """Whether a graph is being traced (ONNX export): the plain operators then."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


class _MovedContiguous(torch.autograd.Function):
    """``x.movedim(source, destination).contiguous()`` whose backward is contiguous too.

    A plain ``movedim`` hands the gradient back as a strided view: every step's gates would
    then run their backward on channels-last strides (about 30% of a ConvLSTM2D training
    step). Here the layout changes once per call, forward and backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, source: int, destination: int) -> torch.Tensor:
        ctx.dims = (source, destination)
        return x.movedim(source, destination).contiguous()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        source, destination = ctx.dims
        return grad.movedim(destination, source).contiguous(), None, None


def _moved_contiguous(x: torch.Tensor, source: int, destination: int) -> torch.Tensor:
    if x.requires_grad and not _tracing():
        return _MovedContiguous.apply(x, source, destination)
    return x.movedim(source, destination)  # (a traced graph keeps the plain transpose)


def _to_last_contiguous(x: torch.Tensor, data_format: str) -> torch.Tensor:
    return _moved_contiguous(x, 1, x.dim() - 1) if data_format == "channels_last" else x


def _to_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    return x.movedim(x.dim() - 1, 1) if data_format == "channels_last" else x


def _to_last(x: torch.Tensor, data_format: str) -> torch.Tensor:
    return x.movedim(1, x.dim() - 1) if data_format == "channels_last" else x


# ------------------------------------------------------------------------------ the layers
class _ConvLSTM(Layer):
    """Runs a ``ConvLSTMCell`` over (batch, time, *spatial, channels) sequences."""

    rank = 2
    supports_masking = True
    _layer_keys = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                   "time_major")
    _base_keys = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                  "batch_size", "input_dim", "weights", "activity_regularizer", "autocast")

    def __init__(self, filters: int, kernel_size: Any, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, time_major: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        base = {k: kwargs.pop(k) for k in self._base_keys if k in kwargs}
        super().__init__(**base)
        if unroll:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": unrolling is not '
                             "possible with convolutional RNNs (as in tf.keras 2).")
        if time_major:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": `time_major=True` is '
                             "not supported by convolutional RNNs (as in tf.keras 2).")
        kwargs.pop("rank", None)
        cell_defaults = {"strides": (1,) * self.rank, "dilation_rate": (1,) * self.rank}
        cell_kwargs = {**cell_defaults, **kwargs}
        try:
            self.cell = ConvLSTMCell(self.rank, filters, kernel_size, dtype=base.get("dtype"),
                                     trainable=base.get("trainable", True),
                                     name="conv_lstm_cell", **cell_kwargs)
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}: {error}") from None
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = False
        self.time_major = False
        self.zero_output_for_mask = bool(zero_output_for_mask)  # Keras 3 writes it
        self._input_ndim = self.rank + 3
        self._stored_states: list[torch.Tensor] | None = None

    def __getattr__(self, name: str) -> Any:
        # `layer.filters`, `layer.kernel`, ... live on the cell, as in Keras.
        try:
            return super().__getattr__(name)
        except AttributeError:
            cell = self.__dict__.get("_modules", {}).get("cell")
            if cell is not None and (name in cell._config_keys
                                     or name in ("kernel", "recurrent_kernel", "bias")):
                return getattr(cell, name)
            raise

    def weight_names(self) -> list[str]:
        """``conv_lstm2d/kernel:0``, ... : tf.keras 2.12 names the cell's weights after the layer."""
        return [f"{self.name}/{n.rsplit('/', 1)[-1]}" for n in super().weight_names()]

    # ------------------------------------------------------------------ shapes
    def _step_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        return (shape[0],) + shape[2:]

    def _state_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        if self.cell.data_format == "channels_last":
            spatial = self.cell.state_spatial(shape[2:-1])
            return (shape[0],) + spatial + (self.cell.filters,)
        spatial = self.cell.state_spatial(shape[3:])
        return (shape[0], self.cell.filters) + spatial

    def compute_output_shape(self, input_shape: Sequence) -> Any:
        shape = shape_tuple(input_shape)
        state = self._state_shape(shape)
        output = (state[0], shape[1]) + state[1:] if self.return_sequences else state
        return [output, state, state] if self.return_state else output

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        if len(input_shape) != self.rank + 3:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": inputs should have '
                             f"rank {self.rank + 3}. Received input_shape={input_shape}.")
        if not self.cell.built:
            self.cell.build(self._step_shape(input_shape))
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    f"Layer {self.name!r}: a stateful RNN needs to know its batch size. Pass "
                    "`batch_input_shape=(batch, timesteps, ...)` to the first layer of the model.")
            state = _to_first(torch.zeros(self._state_shape(input_shape),
                                          dtype=self.cell.compute_dtype),
                              self.cell.data_format)
            self._stored_states = [state, state.clone()]
        super().build(input_shape)

    def _check_input(self, x: torch.Tensor) -> None:
        super()._check_input(x)
        if self.built:
            axis = -1 if self.cell.data_format == "channels_last" else 2
            expected = self.cell.kernel.shape[-2]
            if x.shape[axis] != expected:
                raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                                 f"expected axis {axis % x.dim()} of input shape to have value "
                                 f"{expected}, but received input with shape {tuple(x.shape)}")

    # ------------------------------------------------------------------ states
    @property
    def states(self) -> list:
        if self._stored_states is None:
            return [None, None]
        return [_to_last(s, self.cell.data_format) for s in self._stored_states]

    def reset_states(self, states: Any = None) -> None:
        if not self.stateful:
            raise AttributeError(f"Layer {self.name!r} must be stateful to reset its states.")
        if self._stored_states is None:
            raise ValueError(f"Layer {self.name!r}: build it before resetting its states.")
        if states is None:
            self._stored_states = [torch.zeros_like(s) for s in self._stored_states]
            return
        like = self._stored_states[0]
        values = self._as_states(states, like)
        self._stored_states = [v.detach().clone() for v in values]

    reset_state = reset_states

    def _as_states(self, states: Any, like: torch.Tensor) -> list[torch.Tensor]:
        if isinstance(states, (torch.Tensor, np.ndarray)):
            states = [states]
        states = [_to_first(self._to_tensor(s), self.cell.data_format).contiguous()
                  for s in states]
        if len(states) != 2:
            raise ValueError(f"Layer {self.name!r} has 2 states (h and c) but was passed "
                             f"{len(states)} initial states.")
        for k, state in enumerate(states):
            if tuple(state.shape) != tuple(like.shape):
                expected = tuple(_to_last(like, self.cell.data_format).shape)
                raise ValueError(f"Layer {self.name!r}: initial_state[{k}] should have shape "
                                 f"{expected}, got {tuple(_to_last(state, self.cell.data_format).shape)}.")
        return states

    def _initial_states(self, initial_state: Any, batch: int, x: torch.Tensor) -> list:
        """Channels-first states to start from (``x``: (B, T, C, *spatial))."""
        zeros = self.cell.get_initial_state(x[:, 0].shape, x.dtype, x.device)
        if self.stateful:
            stored = [s.to(x.device, x.dtype) for s in self._stored_states]
            if stored[0].shape[0] != batch:
                raise ValueError(
                    f"Layer {self.name!r}: if an RNN is stateful, the batch size of the input "
                    f"sequences must be the same as the batch size of the stored states. "
                    f"Expected batch size: {stored[0].shape[0]}; received batch size: {batch}.")
            if initial_state is None or any(bool(s.any()) for s in stored):
                return stored
        if initial_state is None:
            return zeros
        return self._as_states(initial_state, zeros[0])

    # ------------------------------------------------------------------ call
    def call(self, inputs: torch.Tensor, mask: Any = None, training: bool | None = None,
             initial_state: Any = None) -> Any:
        cell = self.cell
        last = cell.data_format == "channels_last"
        # (B, T, C, *spatial), contiguous: the layout changes once per call, not per step
        # (a strided view would make every gate's elementwise op walk memory sideways)
        x = (inputs.movedim(inputs.dim() - 1, 2) if last else inputs).contiguous()
        batch, steps = x.shape[:2]
        if mask is not None:
            mask = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor)
                                   else mask, device=x.device).to(torch.bool)
            if tuple(mask.shape) != (batch, steps):
                raise ValueError(f"Layer {self.name!r}: the mask should have shape "
                                 f"(batch, timesteps) = {(batch, steps)}, got {tuple(mask.shape)}.")
        states = self._initial_states(initial_state, batch, x)
        training = bool(training)
        with cell.prepared():
            result = run_reference(
                cell, x, states, mask=mask, go_backwards=self.go_backwards,
                zero_output_for_mask=self.zero_output_for_mask,
                return_sequences=self.return_sequences,
                input_masks=cell.dropout_masks(x[:, 0], training),
                recurrent_masks=cell.recurrent_dropout_masks(states[0], training))
        if self.stateful:
            self._stored_states = [s.detach() for s in result.states]
        fmt = cell.data_format
        if self.return_sequences:
            output = result.outputs
            if fmt == "channels_last":
                output = _moved_contiguous(output, 2, output.dim() - 1)
        else:
            output = _to_last_contiguous(result.last_output, fmt)
        if self.return_state:
            return [output] + [_to_last_contiguous(s, fmt) for s in result.states]
        return output

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = Layer.get_config(self)
        cell_config = self.cell.get_config()
        for key in self.cell._config_keys:
            config[key] = cell_config[key]
            if key == "bias_regularizer":  # where tf.keras 2 writes it
                config["activity_regularizer"] = serialize_value(self.activity_regularizer)
        for key in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                    "time_major"):
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "_ConvLSTM":
        return cls(**config)


class ConvLSTM1D(_ConvLSTM):
    """Convolutional LSTM over sequences of 1-D signals: (B, T, steps, channels)."""
    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """Convolutional LSTM over sequences of images: (B, T, rows, cols, channels)
    (the next-frame-prediction layer)."""
    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """Convolutional LSTM over sequences of volumes: (B, T, d1, d2, d3, channels)."""
    rank = 3
