"""``Sequential``: a linear stack of layers, built and summarised as tf.keras 2 does.

The model builds as soon as it knows its input shape: from the first layer's legacy shape
arguments (``input_shape``, ``batch_input_shape``, ``input_dim`` + ``input_length``), from an
``Input``/``InputLayer`` first, from ``build(shape)``, or on the first call. Shapes travel
through the layers' ``compute_output_shape`` with ``None`` for an unknown batch, which is
what ``summary()`` prints.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..io.saving import SavingMixin
from ..layers.base import Layer, shape_tuple, weights_by_layer
from ..layers.base import _is_symbolic as is_symbolic
from ..layers.call_context import traced_shape
from ..layers.core import InputLayer
from ..layers.serialization import deserialize, register_model, serialize
from ..training.engine import TrainingMixin
from .common import find_layer
from .config_api import JsonMixin
from ..layers.keras_tensor import conform_rank, output_shape_of
from .input_shape import conform_to_declared_shape
from .sequential_graph import SequentialGraphMixin
from .summary import format_summary, layer_range_bounds, layer_row, nested_rows


class Sequential(SequentialGraphMixin, JsonMixin, SavingMixin, TrainingMixin, Layer):
    """A stack of layers where each layer has one input and one output tensor."""

    supports_masking = True

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ the stack
    @property
    def layers(self) -> list[Layer]:
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def add(self, layer: Layer) -> None:
        if getattr(type(layer), "_keras_symbolic", False):  # an Input() tensor
            history = layer._keras_history
            if history is None or not isinstance(history.layer, InputLayer):
                raise TypeError(f"Sequential {self.name!r} can take only the tensor of an "
                                f"Input(); {layer!r} was made by a layer. Use the functional "
                                "API (rnnkit.models.Model) for graphs.")
            layer = history.layer
        if isinstance(layer, InputLayer):
            if self.layers or self._input_layer is not None:
                raise ValueError(f"Sequential {self.name!r}: an InputLayer can only be the "
                                 "first layer of a Sequential model.")
            self._set_input_layer(layer)
            return
        if not isinstance(layer, Layer):
            hint = (f" Add an instance: model.add({layer.__name__}(...))."
                    if isinstance(layer, type) and issubclass(layer, Layer) else "")
            raise TypeError(f"The added layer must be an instance of class Layer. "
                            f"Received: layer={layer!r} of type {type(layer).__name__}.{hint}")
        if any(existing.name == layer.name for existing in self.layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f'Name "{layer.name}" is already the name of a layer in this model. '
                             "Update the `name` argument to pass a unique name.")
        if not self.layers and self._batch_input_shape is None \
                and layer._batch_input_shape is not None:
            self._batch_input_shape = layer._batch_input_shape
            self.__dict__["_declared_input_shape"] = shape_tuple(layer._batch_input_shape)
        self.add_module(_module_key(layer.name), layer)
        if self._batch_input_shape is not None:
            self._build_layers(self._batch_input_shape)

    def _set_input_layer(self, layer: InputLayer) -> None:
        # Kept out of the module tree: an InputLayer has no weights and is not in `layers`.
        object.__setattr__(self, "_input_layer", layer)
        self._batch_input_shape = layer._batch_input_shape
        self.__dict__["_declared_input_shape"] = shape_tuple(layer._batch_input_shape)

    def _owns_node_zero(self) -> bool:
        """With a known input shape, tf.keras 2 gives it a node of its own, index 0."""
        return self._batch_input_shape is not None

    def pop(self) -> Layer:
        layers = self.layers
        if not layers:
            raise TypeError("There are no layers in the model.")
        last = layers[-1]
        del self._modules[_module_key(last.name)]
        self._cut_graph()
        return last

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        return find_layer(self.layers, name, index)

    # ------------------------------------------------------------------ building
    def _build_layers(self, batch_input_shape: Sequence) -> None:
        shape = shape_tuple(batch_input_shape)
        self._batch_input_shape = shape
        for layer in self.layers:
            if isinstance(layer, Sequential):  # tf.keras 2.12 calls it on this graph's tensor
                layer._infer_input_shape(shape)
            layer._maybe_build(shape)
            layer._build_input_shape = shape
            shape = output_shape_of(layer, shape)
            if isinstance(shape, list):
                raise ValueError(
                    f"All layers in a Sequential model should have a single output tensor. "
                    f"Layer {layer.name!r} returns {len(shape)} tensors (return_state?); for "
                    "multi-output layers, use the functional API.")
            layer._output_shape = shape
        self._output_shape = shape
        self._build_input_shape = self._batch_input_shape
        self.built = True
        self._record_graph()  # model.input / model.output / layer.output (sequential_graph)

    def _declares_input(self) -> bool:
        layers = self.layers
        return self._input_layer is not None or bool(
            layers and layers[0]._batch_input_shape is not None)

    def build(self, input_shape: Sequence | None = None) -> None:
        if input_shape is None or (self._declares_input()
                                   and self._batch_input_shape is not None):
            # tf.keras 2.12: a model whose input shape is declared (an Input, input_shape=,
            # an Embedding's (None,)) keeps it: build((None, 7)) prints (None, None, 64)
            input_shape = self._batch_input_shape
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if self._infers_input_shape():
            self._infer_input_shape(shape_tuple(input_shape))
            if self.built:
                return
        self._build_layers(input_shape)

    # tf.keras 2.12's `_build_graph_network_for_inferred_shape`: a Sequential without a
    # declared input learns its input shape from each call (and from build(shape)), sizes
    # that differ between calls becoming None, and rebuilds its shapes when that changes:
    # its summary rows (and its row in an outer model) show that shape, e.g. (None, None, 4)
    # after calls on 5 and 7 steps, or (2, 5, 4) after model(x) on two samples.
    def _infers_input_shape(self) -> bool:
        return self.__dict__.get("_declared_input_shape") is None and bool(self.layers)

    def _infer_input_shape(self, shape: tuple) -> None:
        if not self._infers_input_shape():
            return
        previous = self.__dict__.get("_inferred_input_shape")
        new = shape if previous is None else _relaxed(previous, shape)
        if new is None or new == previous:
            return
        self.__dict__["_inferred_input_shape"] = new
        if previous is None:
            self._build_layers(new)
            return
        try:
            self._build_layers(new)
        except Exception:  # noqa: BLE001 - a layer that cannot say its shape for None sizes
            self.__dict__["_inferred_input_shape"] = previous
            self._build_layers(previous)  # keeps the shapes it had

    def _observe_call(self, inputs: Any, kwargs: dict) -> None:
        """The input shape of a call, as tf.keras 2.12's Sequential.call observes it: one
        tensor (a list of inputs stops the inference there, as Keras's legacy mode)."""
        if not self._infers_input_shape():
            return
        if is_symbolic(inputs, kwargs):
            if not getattr(type(inputs), "_keras_symbolic", False):
                return
            shape = tuple(inputs.shape)
        elif isinstance(inputs, (torch.Tensor, np.ndarray)):
            data_shape = tuple(inputs.shape)
            shape = traced_shape(data_shape)  # fit/evaluate/predict: Keras traces them
            if not self.built and None in shape[1:]:
                # a generator's batches (Keras knows their rank only): the layers are
                # built for the data's sizes first, then the shapes relaxed
                self._infer_input_shape((shape[0],) + data_shape[1:])
        else:
            return
        self._infer_input_shape(shape)

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            # Built from a call: the batch size is left open, as tf.keras 2 does.
            self._build_layers((None,) + tuple(input_shape[1:]))

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = shape_tuple(input_shape)
        for layer in self.layers:
            shape = output_shape_of(layer, shape)
        return shape

    # ------------------------------------------------------------------ calling
    def _to_tensor(self, x: Any) -> torch.Tensor:
        layers = self.layers
        if self._input_layer is not None:
            x = self._input_layer._to_tensor(x)  # Input(dtype=...) decides first
        x = layers[0]._to_tensor(x) if layers else super()._to_tensor(x)
        if isinstance(x, torch.Tensor):
            if not x.is_floating_point() and layers and \
                    type(_innermost(layers[0]))._to_tensor is Layer._to_tensor:
                # bool/int arrays (one-hot built as dtype=bool) are cast to the model's
                # float type, as tf.keras 2's float32 input does; Embedding keeps its ids
                x = x.to(layers[0].compute_dtype)
            if self.__dict__.get("_declared_input_shape") is None:
                # a declared input shape is conformed (with tf.keras 2.12's warnings) by
                # __call__; a model built from data adds a missing trailing axis here
                x = conform_rank(x, self._build_input_shape if self.built else None)
        return x

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        self._observe_call(inputs, kwargs)
        declared = self.__dict__.get("_declared_input_shape")
        if declared is not None and not is_symbolic(inputs, kwargs):
            x = self._to_tensor(inputs)
            conformed = conform_to_declared_shape(self.name, x, declared, self.layers)
            if conformed is not x:  # Keras added the last axis; NumPy in stays NumPy in
                inputs = conformed if isinstance(inputs, torch.Tensor) else conformed.numpy()
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None) -> Any:
        if not self.layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers to call.")
        x = inputs
        if mask is not None:
            x._keras_mask = mask
        for layer in self.layers:
            x = layer(x, training=training)
        return x

    def compute_mask(self, inputs, mask=None):
        return None  # the last layer's mask is already attached to the output

    def _attach_mask(self, outputs: Any, mask: Any) -> None:
        pass  # keep the mask the last layer attached

    # predict, fit, evaluate, ...: TrainingMixin (rnnkit/training/engine.py)

    def reset_states(self) -> None:
        for layer in self.layers:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> list[torch.nn.Parameter]:
        return weights_by_layer(self.layers)

    def weight_names(self) -> list[str]:
        return [name for _, name in weights_by_layer(self.layers, with_names=True)]

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(_NOT_BUILT)
        return int(sum(p.numel() for p in self.weights))

    # ------------------------------------------------------------------ summary
    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: Any = None,
                explain: bool = False) -> None:
        """Print the tf.keras 2.7–2.12 summary table (``print_fn`` gets one line at a time).

        ``expand_nested=True`` lists the layers of nested models in boxes, ``layer_range=
        (first, last)`` (names or ``re.match`` patterns) prints only those rows, as Keras 2.12.
        ``explain=True`` (rnnkit's own) adds each layer's parameter formula below the table
        (see ``rnnkit.explain``)."""
        if not self.built:
            raise ValueError(_NOT_BUILT)
        layers = self.layers
        start, stop = layer_range_bounds([layer.name for layer in layers], layer_range)
        rows = nested_rows(self, layers[start:stop],
                           lambda container, layer: layer_row(container, layer, show_trainable),
                           expand_nested)
        trainable = sum(p.numel() for p in _unique(self.trainable_weights))
        non_trainable = sum(p.numel() for p in _unique(self.non_trainable_weights))
        lines = format_summary(self.name, rows, trainable, non_trainable,
                               line_length=line_length, positions=positions,
                               show_trainable=show_trainable)
        if explain:
            from ..inspect.formulas import explain as explain_model
            lines = lines + explain_model(self).lines()
        print_fn = print_fn or print
        for line in lines:
            print_fn(line)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        layer_configs = []
        if self._batch_input_shape is not None:
            first = self.layers[0].name if self.layers else self.name
            input_layer = self._input_layer or InputLayer(
                batch_input_shape=self._batch_input_shape, name=f"{first}_input",
                dtype=self.layers[0].dtype if self.layers else None)
            layer_configs.append(serialize(input_layer))
        layer_configs += [serialize(layer) for layer in self.layers]
        return {"name": self.name, "layers": layer_configs}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        if isinstance(config, list):  # Keras < 2.2.3 wrote the bare layer list
            config = {"layers": config}
        model = cls(name=config.get("name"))
        input_shape = None
        for layer_config in config.get("layers", []):
            layer = deserialize(layer_config, custom_objects)
            if isinstance(layer, InputLayer):
                input_shape = layer._batch_input_shape
                model._set_input_layer(layer)
                continue
            model.add(layer)
        if input_shape is not None and not model.built and model.layers:
            model.build(input_shape)
        return model


_NOT_BUILT = ("This model has not yet been built. Build the model first by calling `build()` "
              "or by calling the model on a batch of data. To build it from the start, give "
              "the first layer its input shape, e.g. LSTM(4, input_shape=(timesteps, "
              "features)), or call model.build((None, timesteps, features)).")


register_model(Sequential, "Sequential")  # io and deserialize find it through the registry


def _relaxed(known: tuple, seen: tuple) -> tuple | None:
    """tf.keras 2.12's ``relax_input_shape``: sizes that differ become None; None when the
    ranks differ (the model keeps what it knew)."""
    if len(known) != len(seen):
        return None
    return tuple(None if a != b else a for a, b in zip(known, seen))


def _module_key(name: str) -> str:
    # nn.Module names cannot contain dots; Keras names rarely do.
    return name.replace(".", "_")


def _unique(params: list) -> list:
    seen, found = set(), []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            found.append(p)
    return found


def _innermost(layer: Any) -> Any:
    """The layer a wrapper hands its input to (``TimeDistributed(Conv1D)``: the Conv1D), which
    decides whether integer input stays integer (an Embedding's ids) or becomes float."""
    while type(layer)._to_tensor is not Layer._to_tensor and \
            isinstance(getattr(layer, "layer", None), Layer):
        layer = layer.layer
    return layer
