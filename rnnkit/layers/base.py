"""``Layer``: what every rnnkit layer shares with a tf.keras 2 layer.

A layer is a ``torch.nn.Module`` whose weights are ``nn.Parameter``s registered under their
Keras names (``kernel``, ``recurrent_kernel``, ``bias`` ...), in Keras order. On top of the
module it adds the Keras surface: automatic names, the legacy shape arguments
(``input_shape``, ``batch_input_shape``, ``batch_size``, ``input_dim``), lazy ``build`` from
the first input shape, ``get_weights``/``set_weights``/``count_params``, ``get_config`` derived
from the declared hyperparameters, and masks that travel on the output tensor as
``tensor._keras_mask`` (as Keras does) so the next layer picks them up. Called on NumPy data,
a layer returns ``rnnkit.eager.EagerTensor``s, which print as TensorFlow's tensors; called on
torch tensors, plain torch tensors.

Training mode: a layer starts in eval mode, so ``layer(x)`` behaves as a Keras call outside
``fit`` (no dropout). ``training=True`` in the call, or ``module.train()`` as in any PyTorch
loop, turns dropout on.
"""
from __future__ import annotations

import inspect
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .. import activations, backend, constraints, eager, initializers, regularizers
from ..keras_weight import KerasWeight
from . import mistakes

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


def dtype_name(dtype: Any) -> str:
    """Normalise a Keras dtype or dtype policy (string, Keras 3 dict, torch dtype) to a name."""
    if dtype is None:
        return backend.floatx()
    if isinstance(dtype, dict):  # Keras 3 DTypePolicy: {"class_name": "DTypePolicy", "config": {"name": ...}}
        dtype = dtype.get("config", {}).get("name", backend.floatx())
    if isinstance(dtype, torch.dtype):
        for name, value in _DTYPES.items():
            if value == dtype:
                return name
    if isinstance(dtype, str):
        # Mixed policies compute in half precision but keep float32 variables.
        if dtype in ("mixed_float16", "mixed_bfloat16"):
            return "float32"
        if dtype in _DTYPES or dtype in ("int32", "int64", "bool", "string"):
            return dtype
    raise ValueError(f"Unsupported dtype {dtype!r}; expected one of {sorted(_DTYPES)}.")


_MIXED = {"mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16}


def _policy_name(dtype: Any) -> Any:
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name")
    return dtype if isinstance(dtype, str) else None


def _cast_floating(outputs: Any, dtype: torch.dtype) -> Any:
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(_cast_floating(o, dtype) for o in outputs)
    if isinstance(outputs, torch.Tensor) and outputs.is_floating_point():
        return outputs.to(dtype)
    return outputs


def shape_tuple(shape: Iterable[Any] | None) -> tuple | None:
    """A shape as a tuple of ints and ``None`` (lists from JSON configs become tuples)."""
    if shape is None:
        return None
    return tuple(None if d is None else int(d) for d in shape)


class Layer(nn.Module):
    """Base class of all rnnkit layers (see the module docstring)."""

    # Names of the constructor arguments that ``get_config`` writes, in Keras's order.
    _config_keys: tuple[str, ...] = ()
    # ``None`` or the number of input dimensions the layer requires (``InputSpec(ndim=...)``).
    _input_ndim: int | None = None
    # Whether ``call`` uses a mask: masks arriving at other layers are passed through untouched.
    supports_masking: bool = False
    # Whether a layer made without a dtype takes mixed_precision's global policy.
    _takes_global_policy: bool = True

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: Sequence | None = None, batch_input_shape: Sequence | None = None,
                 batch_size: int | None = None, input_dim: int | None = None,
                 weights: list | None = None, activity_regularizer: Any = None,
                 autocast: bool = True, **kwargs: Any) -> None:
        super().__init__()
        for key in kwargs:
            # tf.keras 2: TypeError('Keyword argument not understood:', key)
            raise TypeError(f"Keyword argument not understood: {key!r} "
                            f"(passed to {type(self).__name__})."
                            + mistakes.did_you_mean(key, _known_arguments()))
        self.name = name or backend.unique_object_name(backend.to_snake_case(type(self).__name__))
        if dtype is None and self._takes_global_policy:  # mixed_precision.set_global_policy
            dtype = backend.global_dtype_policy()
        elif hasattr(dtype, "compute_dtype") and hasattr(dtype, "name"):  # a Policy object
            dtype = dtype.name
        self._dtype_name = dtype_name(dtype)
        # A mixed policy: float32 weights, half-precision compute (torch.autocast in __call__).
        self._autocast_dtype = _MIXED.get(_policy_name(dtype))
        self._trainable = bool(trainable)
        self.autocast = autocast
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._build_input_shape: tuple | None = None
        self._output_shape: Any = None
        self._initial_weights = weights
        self._weight_regularizers: list[tuple[Any, nn.Parameter]] = []
        self._weight_constraints: list[tuple[Any, nn.Parameter]] = []
        self._activity_losses: list[torch.Tensor] = []

        # Legacy Keras 2 shape arguments -> the batch input shape a model builds from.
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._batch_input_shape: tuple | None = None
        if batch_input_shape is not None:
            self._batch_input_shape = shape_tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + shape_tuple(input_shape)
        self.train(False)

    # ------------------------------------------------------------------ attributes
    # The layer's InputSpec (or one per input), checked on every call; None: no check.
    input_spec: Any = None

    def __getattr__(self, name: str) -> Any:
        # torch's nn.Module.__getattr__, written out (it is on the path of every weight
        # access in a forward pass, so no extra call): parameters, buffers, sub-modules.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            found = d.get(store)
            if found is not None and name in found:
                return found[name]
        # A property that raised AttributeError lands here too (Python's fallback): raise
        # its own message (`layer.output`: "Layer lstm has no inbound nodes."), not
        # "'LSTM' object has no attribute 'output'".
        prop = getattr(type(self), name, None)
        if isinstance(prop, property) and prop.fget is not None:
            prop.fget(self)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        # Keras tracks layers kept in a list or tuple attribute (`self.blocks = [Dense(8),
        # ...]`): they are sub-layers, with their weights. torch registers only modules set
        # one by one, so each is registered under `<name>_<index>` too.
        if type(value) in (list, tuple) and value and "_modules" in self.__dict__ \
                and any(isinstance(v, Layer) for v in value):
            for index, item in enumerate(value):
                if isinstance(item, Layer):
                    self._modules[f"{name}_{index}"] = item
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    # ------------------------------------------------------------------ dtype
    @property
    def dtype(self) -> str:
        return self._dtype_name

    @property
    def dtype_policy(self) -> str:
        """The Keras dtype policy's name: the variables' dtype, or a ``mixed_*`` policy."""
        for name, value in _MIXED.items():
            if value == self._autocast_dtype:
                return name
        return self._dtype_name

    @property
    def compute_dtype(self) -> torch.dtype:
        """The floating dtype inputs are cast to (``_apply`` keeps it in step with ``.double()``)."""
        return _DTYPES.get(self._dtype_name, torch.float32)

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> "Layer":
        # `.double()`, `.to(torch.float64)`, ... also set the dtype the layer builds its
        # weights in (a lazily built layer has none yet) and reports in its config.
        result = super()._apply(fn, *args, **kwargs)
        if self._dtype_name in _DTYPES:  # integer layers (an int32 Input) keep their dtype
            probe = fn(torch.empty(0, dtype=_DTYPES[self._dtype_name]))
            if isinstance(probe, torch.Tensor) and probe.is_floating_point():
                self._dtype_name = dtype_name(probe.dtype)
        return result

    # ------------------------------------------------------------------ weights
    def add_weight(self, name: str | None = None, shape: Sequence[int] = (),
                   initializer: Any = None, regularizer: Any = None, constraint: Any = None,
                   trainable: bool | None = None, torch_layout: bool = False,
                   dtype: Any = None, **kwargs: Any) -> nn.Parameter:
        """Create, initialise and register a weight as ``self.<name>`` (Keras order = call order).

        Takes tf.keras 2's keywords (``name`` optional, ``dtype``, ``trainable=False`` for a
        weight the optimiser leaves alone; ``use_resource``, ``synchronization`` and
        ``aggregation`` are accepted and mean nothing on PyTorch). The initializer defaults
        to Keras's: ``glorot_uniform`` for floats.
        ``torch_layout=True`` keeps a 2-D weight in memory as the transpose of a contiguous
        ``(out, in)`` matrix, torch's layout: the Keras-shaped parameter is a view, and
        ``weight.T`` hands fused torch kernels a contiguous matrix without a copy.
        """
        unknown = set(kwargs) - {"use_resource", "synchronization", "aggregation",
                                 "partitioner", "caching_device", "experimental_autocast"}
        if unknown:
            raise TypeError(f"Unknown keyword argument(s) passed to `add_weight` of layer "
                            f"{self.name!r}: {sorted(unknown)}")
        trainable = True if trainable is None else bool(trainable)
        key = _free_weight_key(self, name or "Variable")
        if initializer is None:
            initializer = "glorot_uniform"
        init = initializers.get(initializer)
        weight_dtype = _DTYPES.get(dtype_name(dtype) if dtype is not None else self._dtype_name,
                                   torch.float32)
        if isinstance(init, initializers.Initializer) or _takes_dtype(init):
            value = init(tuple(shape), dtype=weight_dtype)
        else:  # a user's function of the shape alone
            value = init(tuple(shape))
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(np.asarray(value), dtype=weight_dtype)
        if torch_layout:
            value = value.T.contiguous().T
        param = KerasWeight(value, requires_grad=trainable and self._trainable)
        param._keras_trainable = trainable
        param.name = f"{self.name}/{name or 'Variable'}:0"  # the owner's build names it again
        self.register_parameter(key, param)
        if regularizer is not None:
            self._weight_regularizers.append((regularizers.get(regularizer), param))
        if constraint is not None:
            self._weight_constraints.append((constraints.get(constraint), param))
        return param

    add_variable = add_weight  # the TF 1 era's name

    def add_loss(self, losses: Any, inputs: Any = None) -> None:
        """Add a loss term (a tensor from this call, or a zero-argument callable evaluated
        each time ``losses`` is read), as tf.keras 2: ``fit`` adds ``model.losses`` to the
        compiled loss. Tensors added in a call are replaced by the next call's."""
        items = list(losses) if isinstance(losses, (list, tuple)) else [losses]
        for item in items:
            if callable(item) and not isinstance(item, torch.Tensor):
                self.__dict__.setdefault("_callable_losses", []).append(item)
            else:
                self.__dict__.setdefault("_added_losses", []).append(
                    item if isinstance(item, torch.Tensor) else torch.as_tensor(float(item)))

    def add_metric(self, value: Any, name: str | None = None,
                   aggregation: str | None = None) -> None:
        """Report ``value`` (a tensor computed in ``call``) as the metric ``name``: ``fit`` and
        ``evaluate`` log its mean over the epoch, as tf.keras 2.12's ``add_metric`` does.
        Values added in a call are replaced by the next call's."""
        if name is None:
            raise ValueError(f"Layer {self.name!r}: please provide a name for your metric, "
                             "like `self.add_metric(tf.reduce_sum(inputs), "
                             "name='mean_activation')`.")
        if aggregation not in (None, "mean"):
            raise ValueError(f"Layer {self.name!r}: add_metric's `aggregation` must be None "
                             f"or 'mean'; received {aggregation!r}.")
        self.__dict__.setdefault("_added_metrics", []).append((str(name), value))

    def _own_weights(self) -> list[nn.Parameter]:
        return [p for p in self._parameters.values() if p is not None]

    def _sublayers(self) -> list["Layer"]:
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def _all_weights(self) -> list[tuple[nn.Parameter, bool]]:
        """Every weight with whether it trains, own weights first, then sub-layers' in order."""
        found = [(p, self._trainable and getattr(p, "_keras_trainable", True))
                 for p in self._own_weights()]
        for layer in self._sublayers():
            found += [(p, self._trainable and trains) for p, trains in layer._all_weights()]
        seen, unique = set(), []
        for p, trains in found:
            if id(p) not in seen:
                seen.add(id(p))
                unique.append((p, trains))
        return unique

    @property
    def trainable_weights(self) -> list[nn.Parameter]:
        return [p for p, trains in self._all_weights() if trains]

    @property
    def non_trainable_weights(self) -> list[nn.Parameter]:
        return [p for p, trains in self._all_weights() if not trains]

    @property
    def weights(self) -> list[nn.Parameter]:
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value
        for p in self._own_weights():
            p.requires_grad_(self._trainable and getattr(p, "_keras_trainable", True))

    def weight_names(self) -> list[str]:
        """Keras-style names of ``self.weights``, e.g. ``lstm/lstm_cell/kernel:0``."""
        names = {}

        def walk(layer: Layer, prefix: str) -> None:
            for key, p in layer._parameters.items():
                if p is not None and id(p) not in names:
                    names[id(p)] = f"{prefix}{key}:0"
            for sub in layer._sublayers():
                walk(sub, f"{prefix}{sub.name}/")

        walk(self, f"{self.name}/")
        return [names[id(p)] for p in self.weights]

    def get_weights(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy().copy() for p in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"Layer {self.name!r} expects {len(params)} weights "
                f"({', '.join(self.weight_names())}), but received {len(weights)} arrays.")
        names = self.weight_names()
        arrays = [np.asarray(w) for w in weights]
        for name, p, a in zip(names, params, arrays):
            if tuple(a.shape) != tuple(p.shape):
                raise ValueError(
                    f"Layer {self.name!r} weight {name} has shape {tuple(p.shape)}, "
                    f"but the array provided for it has shape {tuple(a.shape)}.")
        # All shapes are checked before anything is written: a bad list changes nothing.
        with torch.no_grad():
            for p, a in zip(params, arrays):
                p.copy_(torch.as_tensor(a, dtype=p.dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name!r}, but the layer isn't "
                "built. You can build it manually via: "
                f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(p.numel() for p in self.weights))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regulariser penalties of the weights and of the last call's outputs."""
        found = [reg(p) for reg, p in self._weight_regularizers] + list(self._activity_losses)
        found += list(self.__dict__.get("_added_losses", ()))
        found += [torch.as_tensor(fn()) for fn in self.__dict__.get("_callable_losses", ())]
        for layer in self._sublayers():
            found += layer.losses
        return found

    # ------------------------------------------------------------------ build / shapes
    def build(self, input_shape: Any) -> None:
        """Create the weights for ``input_shape``; subclasses call ``super().build`` last."""
        self._build_input_shape = input_shape
        self.built = True
        self._name_weights()

    def _name_weights(self) -> None:
        """Give each weight its tf.keras 2 name (``lstm/lstm_cell/kernel:0``) once the layer
        is built: an outer layer built last names its sub-layers' weights in its own scope."""
        try:
            pairs = zip(self.weights, self.weight_names())
        except Exception:  # noqa: BLE001 - a user's layer half built: names are a nicety
            return
        for param, name in pairs:
            if isinstance(param, KerasWeight):
                param.name = name

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            self.build(input_shape)
            if not self.built:  # a user's build that did not call super().build (Keras too)
                Layer.build(self, input_shape)
            else:
                self._name_weights()
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    @property
    def input_shape(self) -> Any:
        if self._build_input_shape is None:
            raise AttributeError(f"The layer {self.name!r} has never been called and thus has "
                                 "no defined input shape.")
        return self._build_input_shape

    @property
    def output_shape(self) -> Any:
        if self._output_shape is None:
            raise AttributeError(f"The layer {self.name!r} has never been called and thus has "
                                 "no defined output shape.")
        return self._output_shape

    # ------------------------------------------------------------------ graph tensors
    def _first_graph_node(self, what: str) -> Any:
        nodes = [n for n in self.__dict__.get("_inbound_nodes", ())
                 if not (n.is_input and isinstance(n.outputs, list) and not n.outputs)]
        if not nodes:
            # tf.keras 2.12's two messages, then what connects a layer
            said = (f"Layer {self.name} is not connected, no input to return." if what == "input"
                    else f"Layer {self.name} has no inbound nodes.")
            raise AttributeError(f"{said} (It has not been called on rnnkit.Input tensors, "
                                 "nor is it in a Sequential model with an input shape.)")
        return nodes[0]

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call in a functional graph (Keras)."""
        node = self._first_graph_node("input")
        return node.outputs if node.inputs is None else node.inputs  # an InputLayer: its tensor

    @property
    def output(self) -> Any:
        """The symbolic output(s) of the layer's first call in a functional graph (Keras)."""
        return self._first_graph_node("output").outputs

    # ------------------------------------------------------------------ calling
    def _to_tensor(self, x: Any) -> torch.Tensor:
        """NumPy arrays, lists and tensors -> a tensor in the layer's float dtype; a list of
        tensors or arrays (a custom layer's several inputs) -> a list of tensors."""
        if type(x) in (list, tuple) and x and any(isinstance(v, (torch.Tensor, np.ndarray))
                                                  for v in x):
            return [self._to_tensor(v) for v in x]
        if isinstance(x, torch.Tensor):
            if self.autocast and x.is_floating_point() and x.dtype != self.compute_dtype:
                mask = getattr(x, "_keras_mask", None)
                x = x.to(self.compute_dtype)
                if mask is not None:
                    x._keras_mask = mask
            return x
        return torch.as_tensor(np.asarray(x), dtype=self.compute_dtype)

    def _check_input(self, x: torch.Tensor) -> None:
        spec = self.__dict__.get("input_spec")
        if spec is not None:
            from .input_spec import check_input_spec
            check_input_spec(spec, [tuple(t.shape) for t in x] if isinstance(x, list)
                             else [tuple(x.shape)], self.name)
        if isinstance(x, list):
            return
        if self._input_ndim is not None and x.dim() != self._input_ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={self._input_ndim}, found ndim={x.dim()}. "
                f"Full shape received: {tuple(x.shape)}"
                + _sentence(mistakes.ndim_hint(self._input_ndim, tuple(x.shape))))

    _call_parameters_cache: dict = {}

    def _call_parameters(self) -> frozenset:
        """Names ``call`` accepts; looked up once per class (``inspect`` is slow per call)."""
        cls = type(self)
        names = Layer._call_parameters_cache.get(cls)
        if names is None:
            names = frozenset(inspect.signature(self.call).parameters)
            Layer._call_parameters_cache[cls] = names
        return names

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_symbolic(inputs, kwargs):  # building a functional graph (rnnkit.Input)
            from .keras_tensor import symbolic_call
            return symbolic_call(self, inputs, args, kwargs)
        x = self._to_tensor(inputs)
        self._check_input(x)
        if "_added_losses" in self.__dict__:
            del self.__dict__["_added_losses"]  # add_loss terms are the latest call's
        self.__dict__.pop("_added_metrics", None)  # add_metric values too
        params = self._call_parameters()
        if "mask" in params and kwargs.get("mask") is None:
            kwargs["mask"] = getattr(x, "_keras_mask", None)
        if "training" not in params:
            kwargs.pop("training", None)
        elif kwargs.get("training") is None:
            kwargs["training"] = self.training
        input_mask = kwargs.get("mask") if "mask" in params else getattr(x, "_keras_mask", None)
        if "mask" in kwargs and "mask" not in params and not _has_var_kwargs(self):
            kwargs.pop("mask")
        if not self.built:
            self._maybe_build([tuple(t.shape) for t in x] if isinstance(x, list)
                              else tuple(x.shape))
        if self._autocast_dtype is not None and isinstance(x, torch.Tensor) \
                and not torch.is_autocast_enabled(x.device.type):
            with torch.autocast(x.device.type, dtype=self._autocast_dtype):
                outputs = super().__call__(x, *args, **kwargs)
            outputs = _cast_floating(outputs, self._autocast_dtype)  # Keras: outputs in compute dtype
        else:
            outputs = super().__call__(x, *args, **kwargs)
        self._attach_mask(outputs, self.compute_mask(x, input_mask))
        if self.activity_regularizer is not None:
            first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
            self._activity_losses = [self.activity_regularizer(first) / max(first.shape[0], 1)]
        # Called on NumPy data, as in a Keras tutorial: outputs that print like TensorFlow's.
        return eager.keras_outputs(inputs, outputs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(*args, **kwargs)

    def call(self, inputs: torch.Tensor, **kwargs: Any) -> Any:
        return inputs

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None):
        """The mask of the output: passed through by layers that support masking."""
        return mask if self.supports_masking else None

    @staticmethod
    def _attach_mask(outputs: Any, mask: Any) -> None:
        if isinstance(outputs, (list, tuple)):
            masks = mask if isinstance(mask, (list, tuple)) else [mask] + [None] * (len(outputs) - 1)
            for out, m in zip(outputs, masks):
                if isinstance(out, torch.Tensor):
                    out._keras_mask = m
        elif isinstance(outputs, torch.Tensor):
            outputs._keras_mask = mask

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        for key in self._config_keys:
            config[key] = serialize_value(getattr(self, key))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _is_symbolic(inputs: Any, kwargs: dict) -> bool:
    """Whether a call gets KerasTensors (cheap: a class flag, checked before anything else)."""
    if type(inputs) is torch.Tensor and not kwargs:   # the common eager call, answered first
        return False
    if getattr(type(inputs), "_keras_symbolic", False):
        return True
    if type(inputs) in (list, tuple):
        return any(getattr(type(t), "_keras_symbolic", False) for t in inputs)
    state = kwargs.get("initial_state") if kwargs else None
    return state is not None and any(getattr(type(t), "_keras_symbolic", False)
                                     for t in (state if type(state) in (list, tuple) else [state]))


def weights_by_layer(layers: Iterable["Layer"], with_names: bool = False) -> list:
    """A model's weights as tf.keras 2 lists them: layer by layer, each layer's own order
    (trainable first), a weight shared by several layers listed once. ``with_names``:
    ``(weight, Keras name)`` pairs instead (names cost string work: only when asked)."""
    seen, found = set(), []
    for layer in layers:
        names = layer.weight_names() if with_names else None
        for k, param in enumerate(layer.weights):
            if id(param) not in seen:
                seen.add(id(param))
                found.append((param, names[k]) if with_names else param)
    return found


def serialize_value(value: Any) -> Any:
    """A hyperparameter as Keras writes it in a config (activations by name, objects as dicts)."""
    if isinstance(value, Layer):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    if hasattr(value, "get_config"):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    if callable(value):
        return activations.serialize(value)
    if isinstance(value, list):
        return [serialize_value(v) for v in value]
    return value


def _free_weight_key(layer: Layer, name: str) -> str:
    """An attribute name for a new weight: ``name`` (dots and slashes made underscores),
    with ``_1``, ``_2`` ... added when the layer already has one by that name."""
    key = name.replace(".", "_").replace("/", "_") or "Variable"
    taken = set(layer._parameters) | set(layer._modules) | set(layer._buffers)
    if key not in taken and not (key in layer.__dict__ and not isinstance(
            layer.__dict__[key], nn.Parameter)):
        return key
    count = 1
    while f"{key}_{count}" in taken:
        count += 1
    return f"{key}_{count}"


def _takes_dtype(fn: Any) -> bool:
    try:
        return "dtype" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _has_var_kwargs(layer: Layer) -> bool:
    try:
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(layer.call).parameters.values())
    except (TypeError, ValueError):
        return False


def _sentence(hint: str) -> str:
    """A hint after a message that ends without a full stop (as Keras's shape errors do)."""
    return "." + hint if hint else ""


def _known_arguments() -> set:
    """Every keyword argument some layer's constructor takes (for 'did you mean')."""
    names: set = set()
    classes = [Layer]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        try:
            names.update(inspect.signature(cls.__init__).parameters)
        except (TypeError, ValueError):
            pass
    return names - {"self", "args", "kwargs"}
