"""The non-recurrent layers a Keras 2 RNN tutorial uses around its RNNs.

``Dense``, ``Embedding``, ``Masking``, ``Dropout``, ``Activation``, ``InputLayer`` and the
``Input`` function, with tf.keras 2.12 constructor arguments, defaults, ``get_config`` keys
(in Keras 2 order) and behaviour:

* ``Dense`` multiplies the last axis, so it works on (B, D), (B, T, D), ... and passes a
  mask through, as Keras's ``tensordot`` Dense does.
* ``Embedding`` turns ids into vectors; ``mask_zero=True`` makes id 0 a padding id whose
  steps the next RNN skips. As in tf.keras 2 it always knows its input rank: without
  ``input_shape`` it stands for ``batch_input_shape=(None, input_length)`` (``(None, None)``
  without ``input_length``), so a model starting with it can print its summary before any
  data is seen.
* ``Masking`` masks the steps whose features all equal ``mask_value`` and zeroes them.
* ``Dropout`` is inverted dropout, active only in training (``training=True`` in the call
  or ``layer.train()``).
* ``InputLayer`` holds the model's batch input shape; ``Input()`` returns the symbolic
  tensor (``KerasTensor``) an ``InputLayer`` makes, as tf.keras 2 does: layers called on it
  build a functional graph, and ``Sequential([Input((T, D)), LSTM(8)])`` takes its layer.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations, backend, constraints, initializers, regularizers
from .base import Layer, shape_tuple

__all__ = ["Dense", "Embedding", "Masking", "Dropout", "Activation", "InputLayer", "Input"]


def _positive_int(layer: str, name: str, argument: str, value: Any) -> int:
    """``value`` as a positive int (``8.0`` counts as 8, as Keras's ``int(units)`` does), or a
    ValueError naming the layer and the argument."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and float(value).is_integer() and value > 0)
    if not ok:
        raise ValueError(f'{layer} layer "{name}": received an invalid value for argument '
                         f"`{argument}`, expected a positive integer, got {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------------- Dense
class Dense(Layer):
    """``output = activation(inputs @ kernel + bias)`` on the last axis of the input.

    Weights: ``kernel (D, units)``, ``bias (units,)`` (when ``use_bias``). Any input rank
    >= 2 works: a (B, T, D) sequence gives (B, T, units), one product for every step.
    """

    supports_masking = True
    _config_keys = ("units", "activation", "use_bias", "kernel_initializer",
                    "bias_initializer", "kernel_regularizer", "bias_regularizer",
                    "activity_regularizer", "kernel_constraint", "bias_constraint")

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _positive_int("Dense", self.name, "units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError(f'Dense layer "{self.name}" needs inputs of rank >= 2 '
                             f"(batch, ..., features); received input shape {input_shape}.")
        last_dim = input_shape[-1]
        if last_dim is None:
            raise ValueError(f'Dense layer "{self.name}": the last dimension of the inputs '
                             "should be defined. Found None. Full input shape received: "
                             f"{input_shape}")
        self.add_weight("kernel", (last_dim, self.units), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer,
                            self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None
        super().build(input_shape)

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected min_ndim=2, found ndim={x.dim()}. "
                             f"Full shape received: {tuple(x.shape)}")
        if self.built and x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[0]}, but received input with shape "
                             f"{tuple(x.shape)}")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = inputs @ self.kernel
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        input_shape = shape_tuple(input_shape)
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f'Dense layer "{self.name}": the last dimension of the input '
                             f"shape should be defined; received {input_shape}.")
        return input_shape[:-1] + (self.units,)


# ------------------------------------------------------------------------------ Embedding
class Embedding(Layer):
    """Ids (B, T) -> vectors (B, T, output_dim), looked up in ``embeddings (input_dim, output_dim)``.

    ``mask_zero=True``: id 0 is padding; the output carries the mask ``ids != 0``, so an RNN
    after it skips the padded steps (``input_dim`` must then count id 0 as well).
    """

    _config_keys = ("input_dim", "output_dim", "embeddings_initializer",
                    "embeddings_regularizer", "activity_regularizer", "embeddings_constraint",
                    "mask_zero", "input_length")

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, activity_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 input_length: int | None = None, **kwargs: Any) -> None:
        # tf.keras 2: an Embedding always has an input shape, (input_length,) or (None,).
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,) if input_length else (None,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = _positive_int("Embedding", self.name, "input_dim", input_dim)
        self.output_dim = _positive_int("Embedding", self.name, "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        if self._dtype_name not in ("float16", "bfloat16", "float32", "float64"):
            raise ValueError(f'Embedding layer "{self.name}": dtype must be a float type '
                             f"(the type of the vectors), got {self._dtype_name!r}.")

    def build(self, input_shape: Sequence | None = None) -> None:
        self.add_weight("embeddings", (self.input_dim, self.output_dim),
                        self.embeddings_initializer, self.embeddings_regularizer,
                        self.embeddings_constraint)
        super().build(shape_tuple(input_shape) if input_shape is not None else None)

    def _to_tensor(self, x: Any) -> torch.Tensor:
        """Ids as int64 (floats are truncated, as Keras's cast to int does)."""
        if not isinstance(x, torch.Tensor):
            array = np.asarray(x)
            if array.dtype.kind not in "biuf":
                raise TypeError(f'Embedding layer "{self.name}" expects integer ids; received '
                                f"an array of dtype {array.dtype}.")
            x = torch.as_tensor(array)
        if x.dtype != torch.int64:
            x = x.to(torch.int64)
        return x

    def _check_ids(self, ids: torch.Tensor) -> None:
        if ids.numel() == 0:
            return
        bad = (ids < 0) | (ids >= self.input_dim)
        if bool(bad.any()):
            index = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f'Embedding layer "{self.name}": id {int(ids[index])} at index {list(index)} is '
                f"out of range; ids must be in [0, {self.input_dim}) since "
                f"input_dim={self.input_dim}."
                + (f" input_dim is the vocabulary size: the largest id + 1 (here "
                   f"input_dim={int(ids.max()) + 1} at least; a Tokenizer's word_index needs "
                   "len(word_index) + 1)." if int(ids.max()) >= self.input_dim else ""))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        self._check_ids(inputs)
        return F.embedding(inputs.to(self.embeddings.device), self.embeddings)

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        input_shape = shape_tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) \
            else [self.input_length]
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(f'Embedding layer "{self.name}": "input_length" is '
                             f"{self.input_length}, but received input has shape {input_shape}")
        for i, (given, seen) in enumerate(zip(lengths, input_shape[1:])):
            if given is not None and seen is not None and int(given) != int(seen):
                raise ValueError(f'Embedding layer "{self.name}": "input_length" is '
                                 f"{self.input_length}, but received input has shape "
                                 f"{input_shape}")
            if given is None:
                lengths[i] = seen
        return (input_shape[0],) + tuple(lengths) + (self.output_dim,)


# -------------------------------------------------------------------------------- Masking
class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value`` and zeroes them.

    ``mask = any(inputs != mask_value, axis=-1)``; ``output = inputs * mask``.
    """

    supports_masking = True
    _config_keys = ("mask_value",)

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _mask(self, inputs: torch.Tensor) -> torch.Tensor:
        return (inputs != self.mask_value).any(dim=-1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self._mask(inputs).unsqueeze(-1).to(inputs.dtype)

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        # As Keras, the incoming mask is replaced by this layer's own.
        return self._mask(inputs)


# -------------------------------------------------------------------------------- Dropout
class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability ``rate`` and scale
    the rest by ``1 / (1 - rate)``; outside training (the default) the identity.

    ``noise_shape`` broadcasts one draw over axes given as 1 (``(B, 1, D)`` drops the same
    features at every time step); ``None`` entries take the input's size. ``seed`` makes
    the sequence of masks reproducible (a private generator seeded once).
    """

    supports_masking = True
    _config_keys = ("rate", "noise_shape", "seed")

    def __init__(self, rate: float, noise_shape: Sequence | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f'Dropout layer "{self.name}": invalid value {rate!r} received '
                             "for `rate`, expected a value between 0 and 1.")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else list(noise_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f'Dropout layer "{self.name}": `seed` must be an integer or None, '
                             f"got {seed!r}.")
        self.seed = seed
        self._generators: dict[str, torch.Generator] = {}

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(int(self.seed))
        return self._generators[key]

    def _noise_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(inputs.shape)
        if len(self.noise_shape) != inputs.dim():
            raise ValueError(f'Dropout layer "{self.name}": noise_shape {tuple(self.noise_shape)} '
                             f"does not match the rank of the input shape {tuple(inputs.shape)}.")
        return tuple(int(size) if d is None else int(d)
                     for d, size in zip(self.noise_shape, inputs.shape))

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.rate >= 1:
            return torch.zeros_like(inputs)
        keep = 1.0 - float(self.rate)
        noise = torch.empty(self._noise_shape(inputs), dtype=inputs.dtype, device=inputs.device)
        noise.bernoulli_(keep, generator=self._generator(inputs.device))
        return inputs * noise / keep


# ----------------------------------------------------------------------------- Activation
class Activation(Layer):
    """Applies an activation function (a Keras name such as ``"relu"``, or a callable)."""

    supports_masking = True
    _config_keys = ("activation",)

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)


# ----------------------------------------------------------------------------- InputLayer
_INPUT_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int32": torch.int32, "int64": torch.int64, "bool": torch.bool,
}


def _input_layer_name() -> str:
    """tf.keras 2 names InputLayers ``input_1``, ``input_2``, ... (``backend.get_uid``: 1-based).

    rnnkit's counter is zero-based (``input``, ``input_1``, ...), so the n-th name it hands
    out for the prefix ``"input"`` becomes ``input_{n+1}``; ``clear_session()`` resets it.
    No layer class snake-cases to ``input``, so the counter is the InputLayers' own.
    """
    name = backend.unique_object_name("input")
    index = 0 if name == "input" else int(name.rsplit("_", 1)[1])
    return f"input_{index + 1}"


class InputLayer(Layer):
    """The entry point of a model: holds the batch input shape; calling it is the identity.

    tf.keras 2 arguments (``input_shape``, ``batch_size``, ``batch_input_shape``, ...) and
    Keras 3 ones (``shape``, ``batch_shape``, ``optional``) are both accepted.
    """

    _takes_global_policy = False  # inputs stay floatx() under a mixed global policy

    def __init__(self, input_shape: Sequence | int | None = None, batch_size: int | None = None,
                 dtype: Any = None, input_tensor: Any = None, sparse: bool | None = None,
                 name: str | None = None, ragged: bool | None = None, type_spec: Any = None,
                 batch_input_shape: Sequence | None = None, *, shape: Sequence | None = None,
                 batch_shape: Sequence | None = None, optional: bool = False) -> None:
        if shape is not None:
            if input_shape is not None:
                raise ValueError("InputLayer: pass either `input_shape` or `shape`, not both.")
            input_shape = shape
        if batch_shape is not None:
            if batch_input_shape is not None:
                raise ValueError("InputLayer: pass either `batch_input_shape` or `batch_shape`, "
                                 "not both.")
            batch_input_shape = batch_shape
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the input_shape OR batch_input_shape argument to "
                             "InputLayer, not both at the same time.")
        if sparse and ragged:
            raise ValueError("Cannot set both sparse and ragged to True in a Keras input.")
        if sparse or ragged:
            raise ValueError(f"InputLayer: rnnkit has no {'sparse' if sparse else 'ragged'} "
                             "tensors; pad sequences to one length and mask them instead.")
        if type_spec is not None:
            raise ValueError("InputLayer: `type_spec` (a TensorFlow type) is not supported.")
        if input_tensor is not None and not isinstance(input_tensor, (torch.Tensor, np.ndarray)):
            raise ValueError(f"InputLayer: `input_tensor` must be a tensor or an array, got "
                             f"{type(input_tensor).__name__}.")
        if dtype is None and input_tensor is not None:
            dtype = str(np.asarray(input_tensor).dtype) if isinstance(input_tensor, np.ndarray) \
                else input_tensor.dtype
        if isinstance(dtype, torch.dtype):
            dtype = {v: k for k, v in _INPUT_DTYPES.items()}.get(dtype, dtype)
        super().__init__(name=name or _input_layer_name(), dtype=dtype)
        if batch_input_shape is not None:
            batch_input_shape = shape_tuple(batch_input_shape)
        elif input_shape is not None:
            if isinstance(input_shape, numbers.Integral):
                input_shape = (int(input_shape),)
            batch_input_shape = (batch_size,) + shape_tuple(input_shape)
        elif input_tensor is not None:
            batch_input_shape = tuple(int(d) for d in input_tensor.shape)
        self._batch_input_shape = batch_input_shape
        self.input_tensor = input_tensor
        self.sparse = False
        self.ragged = False
        self.optional = bool(optional)
        self.built = True
        self._build_input_shape = batch_input_shape
        self._output_shape = batch_input_shape

    # tf.keras 2.12 gives an InputLayer's shapes as a one-item list: [(None, 10, 3)]
    @property
    def input_shape(self) -> list:
        return [self._build_input_shape]

    @property
    def output_shape(self) -> list:
        return [self._output_shape]

    @property
    def compute_dtype(self) -> torch.dtype:
        return _INPUT_DTYPES.get(self._dtype_name, torch.float32)

    def _to_tensor(self, x: Any) -> torch.Tensor:
        """Inputs become tensors of the declared dtype (``Input(..., dtype="int32")`` ids)."""
        target = _INPUT_DTYPES.get(self._dtype_name)
        if not isinstance(x, torch.Tensor):
            array = np.asarray(x)
            return torch.as_tensor(array) if target is None else torch.as_tensor(array, dtype=target)
        if target is not None and x.dtype != target:
            mask = getattr(x, "_keras_mask", None)
            x = x.to(target)
            if mask is not None:
                x._keras_mask = mask
        return x

    def build(self, input_shape: Any = None) -> None:
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> Any:
        return mask

    def compute_output_shape(self, input_shape: Any = None) -> Any:
        return self._batch_input_shape if input_shape is None else input_shape

    def get_config(self) -> dict:
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "sparse": self.sparse, "ragged": self.ragged, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "InputLayer":
        config = dict(config)
        config.pop("trainable", None)  # Keras 3 writes it; an InputLayer has nothing to train
        return cls(**config)


def Input(shape: Sequence | int | None = None, batch_size: int | None = None,
          name: str | None = None, dtype: Any = None, sparse: bool | None = None,
          tensor: Any = None, ragged: bool | None = None, type_spec: Any = None,
          batch_shape: Sequence | None = None, **kwargs: Any) -> Any:
    """``Input(shape=(T, D))``: the input of a model, without the batch dimension.

    Returns a ``KerasTensor`` (``rnnkit.layers.keras_tensor``) whose ``_keras_history``
    points at a new ``InputLayer``: call layers on it and pass it to
    ``rnnkit.models.Model(inputs, outputs)``, or put it first in a ``Sequential``.
    ``batch_shape=(B, T, D)`` (or the tf.keras 2 ``batch_input_shape``) fixes the batch size,
    as a stateful RNN needs.
    """
    batch_input_shape = kwargs.pop("batch_input_shape", None)
    optional = kwargs.pop("optional", False)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments passed to Input: {list(kwargs)}")
    if batch_shape is not None:
        if batch_input_shape is not None:
            raise ValueError("Input: pass either `batch_shape` or `batch_input_shape`, not both.")
        batch_input_shape = batch_shape
    if sparse and ragged:
        raise ValueError("Cannot set both `sparse` and `ragged` to `True` in a Keras `Input`.")
    if shape is not None and batch_input_shape is not None:
        raise ValueError("Only provide the `shape` OR `batch_shape` argument to Input, not both "
                         "at the same time.")
    if batch_input_shape is None and shape is None and tensor is None and type_spec is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a `type_spec` "
                         "argument. Note that `shape` does not include the batch dimension.")
    config: dict[str, Any] = {"name": name, "dtype": dtype, "sparse": sparse, "ragged": ragged,
                              "input_tensor": tensor, "type_spec": type_spec,
                              "optional": optional}
    if batch_input_shape is not None:
        config["batch_input_shape"] = batch_input_shape
    else:
        config["input_shape"] = shape
        config["batch_size"] = batch_size
    from .keras_tensor import input_tensor
    return input_tensor(InputLayer(**config))



# ``keras.layers.core`` (tf.keras 2.12's module) also holds these; Keras 2 programs import
# them from there (``from keras.layers.core import Dense, Flatten, Lambda``). They live in
# their own modules here, found on first use (those modules import this one).
_CORE_ELSEWHERE = ("Flatten", "Lambda", "RepeatVector", "Reshape", "Permute",
                   "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                   "ActivityRegularization", "TFOpLambda", "SlicingOpLambda")


def __getattr__(name: str) -> Any:
    if name in _CORE_ELSEWHERE:
        from .. import layers
        if hasattr(layers, name):
            return getattr(layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
