"""The symbolic graph of a ``Sequential`` with a known input shape: ``model.input``,
``model.output``, ``model.inputs``, ``model.outputs`` and every layer's ``input``/``output``.

tf.keras 2 makes a Sequential whose input shape is known (``input_shape=``, an ``Input``
first, ``build(shape)``, or a first call) a graph network: an ``InputLayer`` (named
``<first layer>_input`` when none was given) feeds each layer once on KerasTensors. The
feature-extraction pattern rests on it::

    features = Model(inputs=model.input, outputs=model.layers[-2].output)

rnnkit records the same nodes with the functional API's machinery (``layers/keras_tensor``):
the layers are called on KerasTensors, which computes no numbers and gives each layer the
node a functional ``Model`` walks. The model's own node is its node 0, as in tf.keras 2.
Layers added later are called on the last output (tf.keras 2's ``add``); ``pop`` cuts the
graph back to the new last layer.
"""
from __future__ import annotations

from typing import Any

from ..layers.core import InputLayer
from ..layers.keras_tensor import KerasTensor, Node, inbound_nodes, input_tensor


class SequentialGraphMixin:
    """``input``/``output``/``inputs``/``outputs`` of a Sequential (see the module docstring)."""

    # ------------------------------------------------------------------ recording
    def _record_graph(self) -> None:
        """Call the layers on KerasTensors from the input shape, reusing what is recorded.

        A failure (a user's layer that cannot run symbolically) leaves the model without a
        graph, as before; ``model.input`` then says why."""
        layers = self.layers
        shape = self._batch_input_shape
        d = self.__dict__
        tensors: list = d.get("_graph_tensors") or []
        recorded: list = d.get("_graph_layers") or []
        if not layers or shape is None:
            return
        if not tensors or tensors[0].shape != tuple(shape):
            tensors, recorded = [self._graph_input_tensor(shape)], []
        keep = 0
        while keep < min(len(recorded), len(layers)) and recorded[keep] is layers[keep]:
            keep += 1
        tensors, recorded = tensors[:keep + 1], recorded[:keep]
        try:
            for layer in layers[keep:]:
                out = layer(tensors[-1])
                if not isinstance(out, KerasTensor):
                    raise ValueError(f"layer {layer.name!r} gives {type(out).__name__}, "
                                     "not one tensor")
                tensors.append(out)
                recorded.append(layer)
        except Exception as error:  # noqa: BLE001 - kept, and reported by model.input
            d["_graph_error"] = f"{type(error).__name__}: {error}"
            d["_graph_tensors"], d["_graph_layers"] = [], []
            return
        d.pop("_graph_error", None)
        d["_graph_tensors"], d["_graph_layers"] = tensors, recorded
        self._set_own_node(tensors[0], tensors[-1])

    def _graph_input_tensor(self, shape: tuple) -> KerasTensor:
        layer = self._input_layer
        if layer is None:
            first = self.layers[0]
            # tf.keras 2's name; no automatic name is drawn (the counters stay as they are)
            layer = InputLayer(batch_input_shape=shape, name=f"{first.name}_input",
                               dtype=first.dtype)
        elif tuple(layer._batch_input_shape) != tuple(shape):
            layer = InputLayer(batch_input_shape=shape, name=layer.name, dtype=layer.dtype)
        return input_tensor(layer)

    def _set_own_node(self, inputs: KerasTensor, outputs: KerasTensor) -> None:
        """The model's node 0 (tf.keras 2): a placeholder put there by a call in another
        graph is replaced in place, so the indices of later nodes stay."""
        nodes = inbound_nodes(self)
        node = Node(self, inputs, {}, outputs, is_input=True)
        if not nodes:
            nodes.append(node)
        elif nodes[0].is_input:
            nodes[0] = node

    def _cut_graph(self) -> None:
        """After ``pop``: the output is the new last layer's (tf.keras 2.12)."""
        d = self.__dict__
        tensors, recorded = d.get("_graph_tensors"), d.get("_graph_layers")
        if not tensors:
            return
        layers = self.layers
        keep = 0
        while keep < min(len(recorded), len(layers)) and recorded[keep] is layers[keep]:
            keep += 1
        d["_graph_tensors"], d["_graph_layers"] = tensors[:keep + 1], recorded[:keep]
        if keep:
            self._set_own_node(tensors[0], tensors[keep])
        else:
            d["_graph_tensors"], d["_graph_layers"] = [], []

    # ------------------------------------------------------------------ the tensors
    def _graph(self) -> list | None:
        tensors = self.__dict__.get("_graph_tensors")
        return tensors if tensors and len(tensors) > 1 else None

    def _no_graph(self, attribute: str) -> AttributeError:
        reason = self.__dict__.get("_graph_error")
        why = (f"recording the layers' graph failed ({reason})" if reason else
               "the model has no input shape yet: give the first layer `input_shape=`, start "
               "with an `Input`, call `model.build((None, ...))` or call the model on data")
        # tf.keras 2.12 raises this AttributeError, naming the attribute it lacks
        return AttributeError(f"'{type(self).__name__}' object has no attribute "
                              f"'{attribute}' ({why}).")

    @property
    def input(self) -> Any:
        tensors = self._graph()
        if tensors is None:
            raise self._no_graph("_nested_inputs")
        return tensors[0]

    @property
    def output(self) -> Any:
        tensors = self._graph()
        if tensors is None:
            raise self._no_graph("_nested_outputs")
        return tensors[-1]

    @property
    def inputs(self) -> list | None:
        """``[model.input]``, or ``None`` before the input shape is known (tf.keras 2.12)."""
        tensors = self._graph()
        return None if tensors is None else [tensors[0]]

    @property
    def outputs(self) -> list | None:
        tensors = self._graph()
        return None if tensors is None else [tensors[-1]]
