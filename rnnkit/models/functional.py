"""``Model(inputs, outputs)``: the Keras functional API on PyTorch.

``Model`` walks the nodes that layer calls on KerasTensors recorded (``keras_tensor.py``)
back from ``outputs`` to ``inputs``, orders them by depth as tf.keras 2's
``_map_graph_network`` does (that order is ``model.layers``, the summary's rows and the
weights' order), and runs the same calls on real tensors: a tensor, a list or a dict of
them in, the structure of ``outputs`` out. A layer called twice is one module: its weights
are shared. Masks travel on the tensors (``_keras_mask``), so an ``Embedding(mask_zero=True)``
masks the RNN two layers later. A model is itself a layer: it can be called on
KerasTensors inside another model, and ``get_config``/``from_config`` use Keras's
functional format (``layers`` with ``inbound_nodes``, ``input_layers``, ``output_layers``).

``Model()`` without inputs is a subclassable container: override ``call``.
"""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .. import eager
from ..io.saving import SavingMixin
from ..layers.base import Layer, weights_by_layer
from ..layers.core import InputLayer
from ..layers.serialization import deserialize, register_model, serialize
from ..training.engine import TrainingMixin
from .common import find_layer
from .config_api import JsonMixin
from ..layers.keras_tensor import (KerasTensor, Node, _is_recurrent, _skips_first_node,
                                   conform_rank, flatten, inbound_nodes, map_structure)
from .summary import (format_shape, format_summary, layer_range_bounds, layer_row,
                      nested_rows)


class Model(JsonMixin, SavingMixin, TrainingMixin, Layer):
    """A graph of layers from ``inputs`` (``rnnkit.Input`` tensors) to ``outputs``."""

    supports_masking = True

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        if "input" in kwargs or "output" in kwargs:  # Keras 1 spelling
            inputs = kwargs.pop("input", inputs)
            outputs = kwargs.pop("output", outputs)
        if inputs is self:  # `super().__init__(self)` (TensorFlow's text-generation tutorial)
            inputs = None
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.__dict__["_is_graph_network"] = inputs is not None or outputs is not None
        if not self._is_graph_network:
            return
        if inputs is None or outputs is None:
            raise ValueError(f"Model {self.name!r}: pass both `inputs` and `outputs` (or "
                             "neither, to subclass Model and write `call`).")
        self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ the graph
    def _owns_node_zero(self) -> bool:
        """A graph network has a node of its own, index 0 (see ``keras_tensor``)."""
        return self._is_graph_network

    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        # tf.keras 2.12: a list of one tensor is that tensor (`Model([i], [o])(x)` gives a
        # tensor, `model.output` is `o`; K.function relies on it)
        if isinstance(inputs, list) and len(flatten(inputs)) == 1:
            inputs = inputs[0]
        if isinstance(outputs, list) and len(flatten(outputs)) == 1:
            outputs = outputs[0]
        flat_in, flat_out = flatten(inputs), flatten(outputs)
        for t in flat_in:
            if not isinstance(t, KerasTensor) or not isinstance(t._keras_history.layer,
                                                                InputLayer):
                raise ValueError(
                    f"Model {self.name!r}: input tensors to a functional model must come from "
                    f"`rnnkit.Input`. Received: {t!r} (missing previous layer metadata).")
        for t in flat_out:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"Model {self.name!r}: output tensors of a functional model "
                                 f"must be the outputs of rnnkit layers. Received: {t!r}")
        d = self.__dict__
        d["_nested_inputs"], d["_nested_outputs"] = inputs, outputs
        d["inputs"], d["outputs"] = flat_in, flat_out
        network_nodes, nodes_by_depth, layers = _map_graph(flat_in, flat_out, self.name)
        d["_network_nodes"] = network_nodes
        d["_nodes_by_depth"] = nodes_by_depth
        d["_layers"] = layers
        d["_input_layers"] = [t._keras_history.layer for t in flat_in]
        d["_output_layers"] = [t._keras_history.layer for t in flat_out]
        # Execution order: deepest nodes first (inputs have the greatest depth).
        d["_nodes_in_order"] = [node for depth in sorted(nodes_by_depth, reverse=True)
                                for node in nodes_by_depth[depth] if not node.is_input]
        names = [layer.name for layer in layers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f'The name "{name}" is used {names.count(name)} times in the '
                                 "model. All layer names should be unique.")
        for layer in layers:
            self.add_module(self._module_key(layer.name), layer)
        # The model's own node (tf.keras 2: node 0); its calls elsewhere are nodes 1, 2, ...
        inbound_nodes(self).append(Node(self, inputs, {}, outputs, is_input=True))
        self._batch_input_shape = None
        self._build_input_shape = map_structure(lambda t: t.shape, inputs)
        self._output_shape = map_structure(lambda t: t.shape, outputs)
        self.built = True

    @property
    def layers(self) -> list[Layer]:
        if not self._is_graph_network:
            return [m for m in self._modules.values() if isinstance(m, Layer)]
        return list(self._layers)

    @property
    def input_names(self) -> list[str]:
        return [layer.name for layer in self._input_layers]

    @property
    def output_names(self) -> list[str]:
        # tf.keras 2: a layer giving several outputs names them `lstm`, `lstm_1`, ...
        names, taken, counts = [], set(), {}
        for layer in self._output_layers:
            proposal = layer.name
            while proposal in taken:
                count = counts.get(layer.name, 1)
                proposal = f"{layer.name}_{count}"
                counts[layer.name] = count + 1
            taken.add(proposal)
            names.append(proposal)
        return names

    @property
    def input(self) -> Any:
        return self._nested_inputs

    @property
    def output(self) -> Any:
        return self._nested_outputs

    # ------------------------------------------------------------------ add_loss / add_metric
    def add_loss(self, losses: Any, inputs: Any = None) -> None:
        """As ``Layer.add_loss``; a symbolic tensor (``vae.add_loss(K.mean(kl))``) adds an
        ``AddLoss`` layer to the graph, as tf.keras 2.12 does (see ``layers/add_loss.py``)."""
        items = list(losses) if isinstance(losses, (list, tuple)) else [losses]
        rest = []
        for item in items:
            if isinstance(item, KerasTensor):
                from ..layers.add_loss import AddLoss
                self._insert_ancillary(AddLoss(unconditional=False, dtype=item.dtype), item,
                                       "add_loss")
            else:
                rest.append(item)
        if rest:
            super().add_loss(rest, inputs)

    def add_metric(self, value: Any, name: str | None = None,
                   aggregation: str | None = None) -> None:
        """As ``Layer.add_metric``; a symbolic tensor adds an ``AddMetric`` layer to the
        graph (tf.keras 2.12)."""
        if not isinstance(value, KerasTensor):
            super().add_metric(value, name=name, aggregation=aggregation)
            return
        if name is None:
            raise ValueError(f"Model {self.name!r}: please provide a name for your metric, "
                             "like `model.add_metric(K.mean(t), name='mean_activation')`.")
        from ..layers.add_loss import AddMetric
        self._insert_ancillary(AddMetric(aggregation or "mean", str(name), dtype=value.dtype),
                               value, "add_metric")

    def _module_key(self, name: str) -> str:
        """The torch module name of a layer: its Keras name, unless that is taken by a
        method or attribute of the model class (an ``AddLoss`` layer is named ``add_loss``)."""
        key = name.replace(".", "_")
        return f"layer_{key}" if hasattr(type(self), key) else key

    def _insert_ancillary(self, layer: Layer, tensor: KerasTensor, what: str) -> None:
        """Call ``layer`` on ``tensor`` and add it, with the op layers between the graph and
        ``tensor``, to this model: its layers (at the end, as tf.keras 2.12's
        ``_insert_layers``), its nodes (each one depth shallower than its shallowest new
        input) and the calls ``_run_graph`` makes."""
        if not self._is_graph_network:
            raise ValueError(f"Model {self.name!r} is subclassed: `{what}` takes tensors "
                             "computed in `call` (call `self.{what}` there), not symbolic ones.")
        self._add_subgraph(layer(tensor))

    def _add_subgraph(self, output: KerasTensor) -> None:
        """Add the calls between this model's graph and ``output`` to the model."""
        known = self._network_nodes
        # The subgraph from the model's inputs to the new layer, ordered as tf.keras 2.12's
        # `_map_subgraph_network` orders it (deepest first); what the model lacks is added.
        _, sub_by_depth, sub_layers = _map_graph(self.inputs, [output], self.name)
        new_nodes = [node for depth in sorted(sub_by_depth, reverse=True)
                     for node in sub_by_depth[depth]
                     if id(node) not in known and not node.is_input]
        depth_of = {id(n): depth for depth, nodes in self._nodes_by_depth.items() for n in nodes}
        for node in new_nodes:
            depth = min([0] + [depth_of[id(p)] for p in node.parent_nodes]) - 1
            depth_of[id(node)] = depth
            self._nodes_by_depth.setdefault(depth, []).append(node)
            known.add(id(node))
            self._nodes_in_order.append(node)
        for new_layer in sub_layers:
            if new_layer not in self._layers:
                self._layers.append(new_layer)
                self.add_module(self._module_key(new_layer.name), new_layer)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        return find_layer(self.layers, name, index)

    # ------------------------------------------------------------------ calling
    def _input_list(self, inputs: Any) -> list:
        """Inputs as a list in ``self.inputs`` order (a dict is matched by input names)."""
        expected = self.inputs
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f"Model {self.name!r}: missing data for input(s) {missing}; "
                                 f"the dict has keys {sorted(inputs)}, the model's inputs are "
                                 f"{self.input_names}.")
            return [inputs[n] for n in self.input_names]
        if isinstance(inputs, (list, tuple)) and not _is_number_list(inputs):
            values = list(inputs)
        else:
            values = [inputs]
        if len(values) != len(expected):
            raise ValueError(f'Layer "{self.name}" expects {len(expected)} input(s), but it '
                             f"received {len(values)} input tensors.")
        return values

    def _to_tensor(self, x: Any) -> Any:
        if not self._is_graph_network:
            # a subclassed model: integer data (token ids) stays integer, as TensorFlow
            # converts it; floats go to the model's dtype
            if isinstance(x, np.ndarray) and x.dtype.kind in "iub":
                return torch.from_numpy(np.ascontiguousarray(x))
            return super()._to_tensor(x)
        values = self._input_list(x)
        tensors = [layer._to_tensor(v) for layer, v in zip(self._input_layers, values)]
        return tensors[0] if len(tensors) == 1 else tensors

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._is_graph_network:
            return super().__call__(inputs, *args, **kwargs)
        if _contains_symbolic(inputs):
            from ..layers.keras_tensor import symbolic_call
            return symbolic_call(self, inputs, args, kwargs)
        training = kwargs.pop("training", None)
        mask = kwargs.pop("mask", None)
        if args or kwargs:
            raise TypeError(f"Model {self.name!r} was called with unexpected arguments "
                            f"{list(kwargs) or args}; it takes inputs, `training` and `mask`.")
        # NumPy in: outputs print as tf.keras 2's tensors, as a layer's do (rnnkit.eager)
        return eager.keras_outputs(inputs, self._run_graph(inputs, training, mask))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not self._is_graph_network:
            return self.call(*args, **kwargs)  # reached through Layer.__call__
        return self(*args, **kwargs)

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if not self._is_graph_network:
            raise NotImplementedError(f"Model {self.name!r} was created without inputs and "
                                      "outputs: a subclass must implement `call`.")
        return self._run_graph(inputs, training, mask)

    def _run_graph(self, inputs: Any, training: bool | None, mask: Any) -> Any:
        values = self._input_list(inputs)
        masks = self._input_list(mask) if mask is not None else [None] * len(values)
        computed: dict[int, torch.Tensor] = {}
        for tensor, layer, value, m in zip(self.inputs, self._input_layers, values, masks):
            value = conform_rank(layer._to_tensor(value), tensor.shape)
            if m is not None:
                value._keras_mask = torch.as_tensor(np.asarray(m) if not isinstance(
                    m, torch.Tensor) else m).to(torch.bool)
            computed[id(tensor)] = value

        def fetch(t: Any) -> Any:
            return computed[id(t)] if isinstance(t, KerasTensor) else t

        for node in self._nodes_in_order:
            args = map_structure(fetch, node.inputs)
            kwargs = map_structure(fetch, node.kwargs)
            if training is not None:
                kwargs["training"] = training
            outputs = node.layer(args, **kwargs)
            # flat both ways: an RNN over stacked cells nests its states per cell
            for symbolic, value in zip(node.flat_outputs, flatten(outputs)):
                computed[id(symbolic)] = value
        return map_structure(fetch, self._nested_outputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not self._is_graph_network:
            return super().compute_output_shape(input_shape)
        return map_structure(lambda t: t.shape, self._nested_outputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # the output layers' masks are already on the outputs

    def _attach_mask(self, outputs: Any, mask: Any) -> None:
        pass

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            if not self._is_graph_network and type(self).build is Model.build:
                Layer.build(self, input_shape)  # the call about to run builds the layers
                return
            super()._maybe_build(input_shape)

    def build(self, input_shape: Any = None) -> None:
        """A subclassed model: run ``call`` once on zeros of ``input_shape`` (``None`` sizes
        as 1) so its layers create their weights, as tf.keras 2 does; ``summary()`` works
        after it. A functional model is built when made."""
        if self._is_graph_network:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if self.__dict__.get("_building"):
            Layer.build(self, input_shape)
            return

        def zeros(shape: Any) -> Any:
            if isinstance(shape, dict):
                return {k: zeros(v) for k, v in shape.items()}
            if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
                return [zeros(s) for s in shape]
            return torch.zeros([1 if d is None else int(d) for d in shape],
                               dtype=self.compute_dtype)

        self.__dict__["_building"] = True
        was_training = self.training
        self.train(False)
        try:
            with torch.no_grad():
                self.call(zeros(input_shape))
        finally:
            self.train(was_training)
            self.__dict__.pop("_building", None)
        for module in self.modules():
            module.__dict__.pop("_added_losses", None)
            module.__dict__.pop("_added_metrics", None)
        Layer.build(self, input_shape)

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> list[torch.nn.Parameter]:
        return weights_by_layer(self.layers)

    def weight_names(self) -> list[str]:
        return [name for _, name in weights_by_layer(self.layers, with_names=True)]

    def count_params(self) -> int:
        return int(sum(p.numel() for p in self.weights))

    def reset_states(self) -> None:
        for layer in self.layers:
            if getattr(layer, "stateful", False) or isinstance(layer, (Model,)):
                if hasattr(layer, "reset_states"):
                    layer.reset_states()

    # ------------------------------------------------------------------ training
    def _training_output_names(self) -> list[str] | None:
        """Several outputs: the engine gives each its own loss and metrics, by name."""
        if self._is_graph_network and len(self.outputs) > 1:
            return self.output_names
        return None

    def _output_keys(self) -> dict:
        """Outputs given as a dict (``Model(x, {"main": a, "aux": b})``): its keys -> the
        output names; tf.keras 2.12 matches compile's and fit's dicts by either."""
        nested = self.__dict__.get("_nested_outputs") if self._is_graph_network else None
        if not isinstance(nested, dict) or len(flatten(nested)) != len(nested):
            return {}
        return dict(zip(sorted(nested), self.output_names))

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None, **kwargs: Any) -> None:
        keys = self._output_keys()
        loss, metrics, loss_weights, weighted_metrics = (
            _by_output_name(value, keys) for value in (loss, metrics, loss_weights,
                                                       weighted_metrics))
        super().compile(optimizer, loss, metrics, loss_weights, weighted_metrics, **kwargs)

    def _as_lists(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Dicts of inputs / targets keyed by input / output names -> lists in model order."""
        if isinstance(x, dict) and self._is_graph_network:
            x = self._input_list(x)
        y = _by_output_name(y, self._output_keys())
        if isinstance(y, dict) and self._is_graph_network:
            missing = [n for n in self.output_names if n not in y]
            if missing:
                raise ValueError(f"Model {self.name!r}: no targets for output(s) {missing}; "
                                 f"the dict has keys {sorted(y)}.")
            y = [y[n] for n in self.output_names]
        if isinstance(x, list) and len(x) == 1:
            x = x[0]
        return x, y

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        x, y = self._as_lists(x, y)
        validation = kwargs.get("validation_data")
        if isinstance(validation, tuple) and len(validation) >= 2:
            vx, vy = self._as_lists(validation[0], validation[1])
            kwargs["validation_data"] = (vx, vy) + tuple(validation[2:])
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        x, y = self._as_lists(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        x, _ = self._as_lists(x, None)
        return super().predict(x, *args, **kwargs)

    # ------------------------------------------------------------------ saving
    def save(self, filepath: Any, overwrite: bool = True, save_format: str | None = None,
             include_optimizer: bool = True, **kwargs: Any) -> None:
        """``.keras``: a Keras 3 archive (``Functional`` config, Keras 3 weights layout);
        ``.h5``: tf.keras 2's file (``save_weights``/``load_weights`` come from
        ``SavingMixin``)."""
        import json
        import os

        from ..io import keras_h5, saving
        if not self._is_graph_network:
            raise NotImplementedError(f"Model {self.name!r} is subclassed: it has no config to "
                                      "save; use save_weights.")
        path = os.fspath(filepath)
        if saving._model_format(path, save_format) != "h5":
            saving.save_model(self, path, overwrite=overwrite, save_format=save_format,
                              include_optimizer=include_optimizer)
            return
        config_json = json.dumps({"class_name": "Functional", "config": self.get_config()})
        # without the optimizer, neither its state nor the training config (as tf.keras 2)
        leave_out = {} if include_optimizer else {"training_config_json": None,
                                                   "optimizer_state": None}
        saving._write_h5(path, lambda h: keras_h5.write_model(h, self, config_json, **leave_out),
                         overwrite)

    # ------------------------------------------------------------------ summary
    def _relevant(self, layer: Layer) -> list[tuple[int, Node]]:
        return [(i, node) for i, node in enumerate(inbound_nodes(layer))
                if id(node) in self._network_nodes]

    def _is_sequential_like(self) -> bool:
        """tf.keras 2's test: one node per depth, each with at most one input, no sharing."""
        nodes = []
        for depth_nodes in self._nodes_by_depth.values():
            if len(depth_nodes) > 1 or (len(depth_nodes) == 1
                                        and len(depth_nodes[0].keras_inputs) > 1):
                return False
            nodes += depth_nodes
        ids = {id(n) for n in nodes}
        for layer in self.layers:
            if sum(id(n) in ids for n in inbound_nodes(layer)) > 1:
                return False
        return True

    def _output_shape_text(self, layer: Layer) -> str:
        relevant = [node for _, node in self._relevant(layer)]
        if isinstance(layer, InputLayer):
            return format_shape([relevant[0].outputs.shape])  # Keras prints a list here
        if _skips_first_node(layer) and layer._output_shape is not None:
            # a nested model with its own graph (an Embedding-first Sequential: (None, None))
            # prints its graph's output shape, though its calls carry the actual sizes
            return format_shape(layer._output_shape)
        # tf.keras 2.12 prints layer.output_shape: one shape over all the layer's nodes,
        # in this model or any other (an inference model's shared decoder prints "multiple"
        # when the training model called it on other shapes)
        shapes = {format_shape(node.output_shapes) for node in inbound_nodes(layer)}
        return shapes.pop() if len(shapes) == 1 else "multiple"

    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: Any = None) -> None:
        """Print the tf.keras 2.12 summary: the 98-column "Connected to" layout, or the
        65-column one when the graph is a plain chain (as Keras decides).
        ``expand_nested=True`` lists the layers of nested models in boxes (their "Connected
        to" lists only calls in this model's graph, so mostly ``[]``), ``layer_range=(first,
        last)`` (names or ``re.match`` patterns) prints only those rows."""
        if not self._is_graph_network:
            self._subclassed_summary(line_length, positions, print_fn, expand_nested,
                                     show_trainable, layer_range)
            return
        sequential_like = self._is_sequential_like()

        def row_of(container: Any, layer: Layer) -> tuple:
            if sequential_like:
                return layer_row(container, layer, show_trainable)
            connections = []
            for _, node in self._relevant(layer):  # this model's nodes, at every level
                # every tensor of the call, keyword arguments included (Keras 2.12's
                # `iterate_inbound`): `Attention()(seq, h)` lists seq's and h's
                for t in node.keras_inputs:
                    owner, index, tensor_index = t._keras_history
                    # Keras counts a model's calls from 0 here (its own node is not among
                    # its inbound nodes), though its configs number them from 1.
                    index -= 1 if _skips_first_node(owner) else 0
                    connections.append(f"{owner.name}[{index}][{tensor_index}]")
            return layer_row(container, layer, show_trainable, connections)

        layers = self.layers
        start, stop = layer_range_bounds([layer.name for layer in layers], layer_range)
        rows = nested_rows(self, layers[start:stop], row_of, expand_nested)
        trainable = sum(p.numel() for p in self.trainable_weights)
        non_trainable = sum(p.numel() for p in self.non_trainable_weights)
        lines = format_summary(self.name, rows, trainable, non_trainable,
                               line_length=line_length, positions=positions,
                               sequential_like=sequential_like, show_trainable=show_trainable)
        for line in lines:
            (print_fn or print)(line)

    def _subclassed_summary(self, line_length, positions, print_fn, expand_nested,
                            show_trainable, layer_range) -> None:
        """tf.keras 2.12's table for a subclassed model: its tracked layers in the order
        they were assigned, output shapes ``multiple`` (no graph to read them from)."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by "
                             "calling `build()` or by calling the model on a batch of data.")
        layers = self.layers
        start, stop = layer_range_bounds([layer.name for layer in layers], layer_range)
        rows = nested_rows(self, layers[start:stop],
                           lambda container, layer: layer_row(container, layer, show_trainable),
                           expand_nested)
        trainable = sum(p.numel() for p in self.trainable_weights)
        non_trainable = sum(p.numel() for p in self.non_trainable_weights)
        lines = format_summary(self.name, rows, trainable, non_trainable,
                               line_length=line_length, positions=positions,
                               show_trainable=show_trainable)
        for line in lines:
            (print_fn or print)(line)

    # ------------------------------------------------------------------ config
    def _node_index_map(self) -> dict[tuple[int, int], int]:
        """(layer id, node index) -> the index Keras writes: this model's nodes renumbered."""
        mapping = {}
        for layer in self.layers:
            kept = 1 if _skips_first_node(layer) else 0
            for index, node in enumerate(inbound_nodes(layer)):
                if id(node) in self._network_nodes:
                    mapping[(id(layer), index)] = kept
                    kept += 1
        return mapping

    def get_config(self) -> dict:
        if not self._is_graph_network:
            raise NotImplementedError(f"Model {self.name!r} is subclassed: it has no "
                                      "functional config.")
        mapping = self._node_index_map()

        def ref(t: KerasTensor) -> list:
            layer, index, tensor_index = t._keras_history
            return [layer.name, mapping.get((id(layer), index), 0), tensor_index]

        layer_configs = []
        for layer in self.layers:
            nodes = []
            for _, node in self._relevant(layer):
                if node.is_input:
                    continue
                kwargs = {k: map_structure(lambda v: ref(v) if isinstance(v, KerasTensor)
                                           else v, v)
                          for k, v in node.kwargs.items()
                          if not (_is_recurrent(layer) and k in ("initial_state", "constants"))}
                if _keeps_call_structure(layer):
                    first = node.inputs
                    head = ref(first) if isinstance(first, KerasTensor) \
                        else ["_CONSTANT_VALUE", -1, first]  # `1 - t`: tf.keras 2's form
                    nodes.append(head + [kwargs])
                    continue
                nodes.append(_nested_state_refs(
                    layer, [ref(t) + [kwargs] for t in _serialized_inputs(node)]))
            entry = serialize(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = nodes
            layer_configs.append(entry)

        def refs(structure: Any) -> Any:
            found = map_structure(ref, structure)
            return [found] if isinstance(structure, KerasTensor) else found

        return {"name": self.name, "trainable": self.trainable, "layers": layer_configs,
                "input_layers": refs(self._nested_inputs),
                "output_layers": refs(self._nested_outputs)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None, *,
                    build_device: Any = None) -> "Model":
        """Rebuild a functional model from tf.keras 2 (or Keras 3) ``get_config()`` output.

        ``build_device="meta"``: the layers are constructed as usual but build their
        weights on that device (a file loader can check sizes before allocating memory).
        """
        created: dict[str, Layer] = {}
        pending: dict[str, deque] = {}
        for data in config["layers"]:
            name = data.get("name") or data["config"]["name"]
            layer = deserialize({"class_name": data["class_name"], "config": data["config"]},
                                custom_objects)
            created[name] = layer
            if isinstance(layer, InputLayer):
                from ..layers.keras_tensor import input_tensor
                input_tensor(layer)
            nodes = data.get("inbound_nodes") or []
            if nodes:
                pending[name] = deque(nodes)

        def tensor(name: str, index: int, tensor_index: int) -> KerasTensor:
            if name not in created:
                raise ValueError(f"Model config: a node refers to layer {name!r}, which is not "
                                 "in the config's list of layers.")
            layer = created[name]
            nodes = inbound_nodes(layer)
            if isinstance(layer, InputLayer):
                index = 0
            if index >= len(nodes):
                raise _NotReady(name)  # that node is not made yet: try again later
            return flatten(nodes[index].outputs)[tensor_index]

        def convert(value: Any) -> Any:
            if _is_ref(value):
                return tensor(*value[:3])
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                return tensor(*value["config"]["keras_history"])  # Keras 3
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            return value

        def node_tensors(entry: Any) -> Any:
            return tensor(*entry[:3]) if _is_ref(entry) else [node_tensors(e) for e in entry]

        def call(layer: Layer, node_data: Any) -> None:
            if isinstance(node_data, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
                args = convert(node_data.get("args", []))
                kwargs = convert(node_data.get("kwargs", {}))
                layer(*args, **kwargs)
                return
            if node_data and isinstance(node_data[0], str):  # an op layer's call (see get_config)
                first = node_data[2] if node_data[0] == "_CONSTANT_VALUE" \
                    else tensor(*node_data[:3])
                layer(first, **convert(node_data[3] if len(node_data) > 3 else {}))
                return
            # A stacked-cell RNN's initial state comes nested per cell: [x, [h, c], h2].
            tensors = [node_tensors(entry) for entry in node_data]
            kwargs = convert(node_data[0][3]) if node_data and _is_ref(node_data[0]) \
                and len(node_data[0]) > 3 else {}
            inputs = tensors[0] if len(tensors) == 1 else tensors
            layer(inputs, **(kwargs or {}))

        import contextlib
        building = torch.device(build_device) if build_device is not None \
            else contextlib.nullcontext()
        with building:
            cls._call_pending(config, created, pending, call)
        return cls._finish_from_config(config, tensor)

    @staticmethod
    def _call_pending(config: dict, created: dict, pending: dict, call: Callable) -> None:
        while pending:
            progressed = False
            for data in config["layers"]:
                name = data.get("name") or data["config"]["name"]
                queue = pending.get(name)
                while queue:
                    try:
                        call(created[name], queue[0])
                    except _NotReady:
                        break
                    queue.popleft()
                    progressed = True
                if name in pending and not pending[name]:
                    del pending[name]
            if not progressed and pending:
                raise ValueError(f"Model config: the nodes of layers {sorted(pending)} refer to "
                                 "tensors no layer produces (a broken or cyclic config).")

    @classmethod
    def _finish_from_config(cls, config: dict, tensor: Callable) -> "Model":
        def outputs_of(spec: Any) -> Any:
            if _is_ref(spec):
                return tensor(*spec[:3])
            if isinstance(spec, dict):
                return {k: outputs_of(v) for k, v in spec.items()}
            found = [outputs_of(s) for s in spec]
            return found

        inputs = outputs_of(config["input_layers"])
        outputs = outputs_of(config["output_layers"])
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        if isinstance(outputs, list) and len(outputs) == 1:
            outputs = outputs[0]
        model = cls(inputs, outputs, name=config.get("name"))
        for data in config["layers"]:  # `model.add_loss(t)`'s layers, outside the outputs
            if data.get("class_name") in ("AddLoss", "AddMetric"):
                output = tensor(data.get("name") or data["config"]["name"], 0, 0)
                if output._keras_history.layer not in model._layers:
                    model._add_subgraph(output)
        if config.get("trainable") is False:
            model.trainable = False
        return model


register_model(Model, "Functional")  # io and deserialize find it through the registry


# ---------------------------------------------------------------------- helpers
class _NotReady(Exception):
    """A config node refers to a node of another layer that is not rebuilt yet."""


def _is_ref(value: Any) -> bool:
    return (isinstance(value, list) and len(value) in (3, 4) and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int))


def _is_number_list(values: Any) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) for v in flatten(list(values)))


def _contains_symbolic(inputs: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in flatten(inputs)) \
        if isinstance(inputs, (list, tuple, dict)) else isinstance(inputs, KerasTensor)


def _keeps_call_structure(layer: Layer) -> bool:
    """tf.keras 2's ``_preserve_input_structure_in_config``: an op layer's node is saved as
    its call, ``[first argument, {keyword arguments}]``, with tensors among the keywords."""
    from ..layers.ops import _OpLayer
    return isinstance(layer, _OpLayer)


def _serialized_inputs(node: Node) -> list[KerasTensor]:
    """The tensors Keras lists for a node: the first argument's, then (for RNNs, which fold
    them into their inputs in tf.keras 2) the initial state's and constants'."""
    if _keeps_call_structure(node.layer):  # op layers: tensors anywhere in the call
        return list(node.keras_inputs)
    found = [t for t in flatten(node.inputs) if isinstance(t, KerasTensor)]
    if _is_recurrent(node.layer):
        for key in ("initial_state", "constants"):
            found += [t for t in flatten(node.kwargs.get(key)) if isinstance(t, KerasTensor)]
    return found


def _nested_state_refs(layer: Layer, entries: list) -> list:
    """A node's serialized inputs, with an RNN over stacked cells' initial state grouped per
    cell as tf.keras 2.12 writes it (``[x, [h, c], h_gru]``; it loads no other form)."""
    from ..layers.cells import StackedRNNCells
    from ..layers.recurrent import RNN
    if not isinstance(layer, RNN) or not isinstance(layer.cell, StackedRNNCells) \
            or len(entries) != 1 + len(layer._state_sizes):
        return entries
    return [entries[0]] + layer._nest_states(entries[1:])


def _map_graph(inputs: list, outputs: list, name: str) -> tuple[set, dict, list]:
    """tf.keras 2's ``_map_graph_network``: the nodes of the graph, by depth, and the layers
    ordered by decreasing depth, then by the order a depth-first walk from the outputs met
    them."""
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[Node] = []
    layer_indices: dict[int, int] = {}
    layer_by_id: dict[int, Layer] = {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor: KerasTensor) -> None:
        node = tensor.node
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Model {name!r}: the graph has a cycle at layer "
                             f"{node.layer.name!r}.")
        layer = node.layer
        if id(layer) not in layer_indices:
            layer_indices[id(layer)] = len(layer_indices)
            layer_by_id[id(layer)] = layer
        in_progress.add(id(node))
        if not node.is_input:
            for t in node.keras_inputs:
                visit(t)
        elif id(tensor) not in input_ids and not isinstance(layer, InputLayer):
            pass
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for t in outputs:
        visit(t)

    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    node_by_id = {id(n): n for n in ordered}
    for node in reversed(ordered):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
            node_by_id[id(parent)] = parent
    for t in inputs:  # an input no output depends on still belongs to the model
        layer = t._keras_history.layer
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            layer_indices[id(layer)] = -1
            layer_by_id[id(layer)] = layer
            node_depth[id(t.node)] = 0
            node_by_id[id(t.node)] = t.node
    # Every input layer reached must be one of the model's inputs.
    for node in ordered:
        if node.is_input and isinstance(node.layer, InputLayer) \
                and not any(id(o) in input_ids for o in flatten(node.outputs)):
            raise ValueError(
                f"Model {name!r}: graph disconnected: cannot obtain value for tensor "
                f"{node.outputs!r} at layer {node.layer.name!r}. It is not one of the "
                "model's `inputs`.")
    nodes_by_depth: dict[int, list[Node]] = defaultdict(list)
    for node_id, depth in node_depth.items():
        nodes_by_depth[depth].append(node_by_id[node_id])
    layers_by_depth: dict[int, list[Layer]] = defaultdict(list)
    for layer_id, depth in layer_depth.items():
        layers_by_depth[depth].append(layer_by_id[layer_id])
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers += sorted(layers_by_depth[depth], key=lambda la: layer_indices[id(la)])
    return set(node_depth), dict(nodes_by_depth), layers


def _by_output_name(value: Any, keys: dict) -> Any:
    """A dict keyed by the keys of a model's dict of outputs, re-keyed by output names."""
    if not keys or not isinstance(value, dict):
        return value
    return {keys.get(key, key): item for key, item in value.items()}
