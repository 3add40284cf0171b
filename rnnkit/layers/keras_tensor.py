"""Symbolic tensors and graph nodes: what ``Input()`` returns and layers return on it.

A ``KerasTensor`` has a Keras shape (``None`` for an unknown batch or time), a dtype and
its ``_keras_history``: the ``(layer, node_index, tensor_index)`` that produced it, as in
tf.keras 2. Calling a layer on KerasTensors records a ``Node`` in ``layer._inbound_nodes``
(the call's arguments, KerasTensors included, and its outputs) and returns new
KerasTensors whose shapes come from ``compute_output_shape``; no numbers are computed.
``rnnkit.models.Model(inputs, outputs)`` walks these nodes back from the outputs and runs
the same calls on real tensors.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import torch

from .base import shape_tuple


class KerasHistory(NamedTuple):
    layer: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A placeholder for a tensor in a functional graph (see the module docstring)."""

    _keras_symbolic = True  # what Layer.__call__ checks to take the symbolic path

    def __init__(self, shape: Any, dtype: str = "float32", history: KerasHistory | None = None,
                 name: str | None = None, has_mask: bool = False) -> None:
        self.shape = shape_tuple(shape)
        self.dtype = dtype
        self._keras_history = history
        self.name = name
        self._has_mask = has_mask

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self) -> "Node":
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def __repr__(self) -> str:
        layer = self._keras_history.layer.name if self._keras_history else "?"
        return (f"<KerasTensor: shape={self.shape} dtype={self.dtype} "
                f"(created by layer '{layer}')>")

    def __len__(self) -> int:
        raise TypeError("A KerasTensor is symbolic: it has no length. Build a model with "
                        "rnnkit.models.Model(inputs, outputs) and call it on data.")

    def __iter__(self) -> Any:
        # Without this, Python would iterate through __getitem__ (x[0], x[1], ...) and, with
        # an unknown batch size, never stop.
        layer = self._keras_history.layer if self._keras_history else None
        hint = ""
        if layer is not None and hasattr(layer, "return_state") and not layer.return_state:
            hint = (f" Layer {layer.name!r} returns one tensor: to unpack its states too, "
                    f"create it with return_state=True (output, *states = layer(x)).")
        raise TypeError("Cannot iterate over a Tensor with unknown first dimension. A "
                        "KerasTensor is symbolic and cannot be iterated over; index it "
                        "(x[:, 0]) or unpack the outputs of a layer that returns a list." + hint)

    def __bool__(self) -> bool:
        raise TypeError("A KerasTensor is symbolic and has no truth value; layers can be "
                        "called on it, Python control flow cannot branch on it.")

    # Operators build op layers (rnnkit.layers.ops), as tf.keras 2's KerasTensor does:
    # `x + 1` is a `tf.__operators__.add` TFOpLambda node, `x[:, -1]` a SlicingOpLambda.
    __array_ufunc__ = None  # `array * x` comes here (and is refused) instead of into NumPy

    def __add__(self, other: Any) -> "KerasTensor":
        return _binary_op("__operators__.add", self, other)

    def __radd__(self, other: Any) -> "KerasTensor":
        return _binary_op("__operators__.add", other, self)

    def __sub__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.subtract", self, other)

    def __rsub__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.subtract", other, self)

    def __mul__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.multiply", self, other)

    def __rmul__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.multiply", other, self)

    def __truediv__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.truediv", self, other)

    def __rtruediv__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.truediv", other, self)

    def __pow__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.pow", self, other)

    def __rpow__(self, other: Any) -> "KerasTensor":
        return _binary_op("math.pow", other, self)

    def __neg__(self) -> "KerasTensor":
        from .ops import TFOpLambda
        return TFOpLambda("math.negative")(self, name=None)

    def _tf_op(self, symbol: str, **kwargs: Any) -> "KerasTensor":
        """The op layer a ``keras.backend`` function (``K.mean``, ``K.square``, ...) records
        on a symbolic tensor, with the keyword arguments tf.keras 2.12 writes in its node;
        rnnkit.backend sits below this module and asks the tensor for it."""
        from .ops import TFOpLambda
        return TFOpLambda(symbol)(self, **kwargs)

    def __getitem__(self, key: Any) -> "KerasTensor":
        from .ops import GETITEM, SlicingOpLambda, slice_spec_to_config
        return SlicingOpLambda(GETITEM)(self, slice_spec=slice_spec_to_config(
            _checked_key(key)))

    def _unsupported(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("rnnkit KerasTensors support layer calls, + - * / ** with other "
                        "symbolic tensors or Python numbers, unary -, and indexing; not this "
                        "operator. Use a layer (Dot, Maximum, ...) or wrap a function in "
                        "rnnkit.layers.Lambda.")

    __matmul__ = __rmatmul__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _unsupported


def _constant(value: Any, like: KerasTensor) -> Any:
    """A constant as tf.keras 2 records it next to a tensor: a Python number, or an array
    (NumPy, torch, nested lists of numbers) as nested lists; anything else is refused with
    an error that says what works."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic, list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf" and array.dtype != object:
            return array.item() if array.ndim == 0 else array.tolist()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise TypeError(f"Cannot combine the symbolic tensor {like!r} with a "
                    f"{type(value).__name__}: rnnkit's operators on symbolic tensors take "
                    "another symbolic tensor, a Python number or an array of numbers. Feed "
                    "data through rnnkit.Input, or wrap the computation in "
                    "rnnkit.layers.Lambda.")


def _binary_op(symbol: str, x: Any, y: Any) -> "KerasTensor":
    from .ops import TFOpLambda
    if not isinstance(x, KerasTensor):
        # `1 - t`: TensorFlow converts the constant to the tensor's dtype first, so tf.keras
        # 2 records 1.0 for a float tensor.
        x = _constant(x, y)
        if y.dtype.startswith(("float", "bfloat")):
            x = np.asarray(x, dtype=float).tolist()
    elif not isinstance(y, KerasTensor):
        y = _constant(y, x)
    return TFOpLambda(symbol)(x, y=y, name=None)


def _checked_key(key: Any) -> Any:
    """A ``__getitem__`` key with NumPy integers made Python ints; a list counts as a tuple
    (as TensorFlow reads it), and anything but ints, slices, ``...`` and None is refused."""
    def item(k: Any) -> Any:
        if isinstance(k, np.integer):
            return int(k)
        if isinstance(k, slice):
            return slice(item(k.start), item(k.stop), item(k.step))
        if k is None or k is Ellipsis or (isinstance(k, int) and not isinstance(k, bool)):
            return k
        raise TypeError(f"Unsupported index {k!r} ({type(k).__name__}) on a symbolic tensor: "
                        "rnnkit slices symbolic tensors with integers, slices of integers, "
                        "`...` and None (a new axis).")

    if isinstance(key, (tuple, list)):
        return tuple(item(k) for k in key)
    return item(key)


def is_keras_tensor(x: Any) -> bool:
    return isinstance(x, KerasTensor)


def flatten(structure: Any) -> list:
    """Leaves of nested lists, tuples and dicts (dicts in sorted key order, as ``tf.nest``)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    return fn(structure)


def contains_keras_tensor(*structures: Any) -> bool:
    return any(isinstance(leaf, KerasTensor) for s in structures for leaf in flatten(s))


class Node:
    """One call of ``layer`` in a graph: its arguments (with KerasTensors) and outputs.

    ``inputs`` is the first call argument (a tensor or a list of them); ``kwargs`` the
    keyword arguments, where KerasTensors may appear too (an RNN's ``initial_state``).
    ``keras_inputs`` are all the KerasTensors the call depends on, in the order Keras
    serialises them: the first argument, then the keyword arguments.
    """

    def __init__(self, layer: Any, inputs: Any, kwargs: dict, outputs: Any,
                 is_input: bool = False) -> None:
        self.layer = layer
        self.inputs = inputs
        self.kwargs = kwargs
        self.outputs = outputs
        self.is_input = is_input
        self.keras_inputs = [t for t in flatten(inputs) + flatten(kwargs)
                             if isinstance(t, KerasTensor)]

    @property
    def parent_nodes(self) -> list["Node"]:
        return [t.node for t in self.keras_inputs]

    @property
    def output_shapes(self) -> Any:
        return map_structure(lambda t: t.shape, self.outputs)

    @property
    def flat_outputs(self) -> list:
        return flatten(self.outputs)


def inbound_nodes(layer: Any) -> list:
    """The layer's list of nodes (created on first use; a plain attribute, not a module)."""
    nodes = layer.__dict__.get("_inbound_nodes")
    if nodes is None:
        nodes = []
        layer.__dict__["_inbound_nodes"] = nodes
    return nodes


# ------------------------------------------------------------------ symbolic calls
class _ShapeProbe:
    """Stands in for a tensor in a layer's ``_check_input``, so a wrong input rank or size
    raises the layer's own Keras error while the graph is being built."""

    def __init__(self, shape: tuple) -> None:
        self.shape = shape

    def dim(self) -> int:
        return len(self.shape)


_RNN_STATE_KWARGS = ("initial_state", "constants")


def _is_recurrent(layer: Any) -> bool:
    from .recurrent import RNN
    from .wrappers import Bidirectional
    return isinstance(layer, (RNN, Bidirectional))


def _shape_of(structure: Any) -> Any:
    return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, structure)


def _is_shape(item: Any) -> bool:
    if isinstance(item, dict):
        return False
    return not isinstance(item, list) or not any(isinstance(d, (list, tuple, dict))
                                                 for d in item)


def _items(shapes: Any) -> list:
    """A list of shapes as it is, a dict's values in sorted key order (``tf.nest``)."""
    return [shapes[key] for key in sorted(shapes)] if isinstance(shapes, dict) else shapes


def _flat_shapes(shapes: Any) -> list:
    """The shapes of a layer's outputs, flat: lists nest (an RNN over stacked cells returns
    ``[output, [h, c], h_gru]``, tf.keras 2.12), dicts too (a user's layer returning
    ``{"a": ..., "b": ...}``), tuples are shapes."""
    return [leaf for item in _items(shapes)
            for leaf in ([item] if _is_shape(item) else _flat_shapes(item))]


def _nest_like(shapes: Any, flat: list) -> Any:
    """``flat`` (one KerasTensor per shape) grouped as ``shapes`` nests them."""
    items = iter(flat)

    def pack(structure: Any) -> Any:
        if isinstance(structure, dict):
            packed = {key: None for key in structure}  # the layer's own key order
            for key in sorted(structure):
                item = structure[key]
                packed[key] = next(items) if _is_shape(item) else pack(item)
            return packed
        return [next(items) if _is_shape(item) else pack(item) for item in structure]
    return pack(shapes)


def _output_has_mask(layer: Any, inputs: Any, n_outputs: int) -> list[bool]:
    """Whether each output will carry a mask (informational: masks travel at run time)."""
    from .core import Embedding, Masking
    if isinstance(layer, Embedding):
        return [layer.mask_zero] * n_outputs
    if isinstance(layer, Masking):
        return [True] * n_outputs
    first = flatten(inputs)[0]
    incoming = isinstance(first, KerasTensor) and first._has_mask
    if not incoming or not getattr(layer, "supports_masking", False):
        return [False] * n_outputs
    if _is_recurrent(layer):
        return [bool(layer.return_sequences)] + [False] * (n_outputs - 1)
    return [incoming] * n_outputs


def _skips_first_node(layer: Any) -> bool:
    """tf.keras 2 gives a functional model (and a Sequential with a known input shape) a
    node of its own, index 0; its calls in other graphs are nodes 1, 2, ... The models
    say so through ``_owns_node_zero`` (they sit above this module and are not imported)."""
    owns = getattr(layer, "_owns_node_zero", None)
    return bool(owns()) if owns is not None else False


def symbolic_call(layer: Any, inputs: Any, args: tuple, kwargs: dict) -> Any:
    """``layer(keras_tensors, ...)``: record a node, return KerasTensors (no numbers)."""
    kwargs = dict(kwargs)
    if args:  # tf.keras 2 records the arguments after the first by their names in `call`
        kwargs.update(_positional_as_keywords(layer, args))
    if _is_recurrent(layer) and isinstance(inputs, (list, tuple)) and len(inputs) > 1 \
            and kwargs.get("initial_state") is None:
        # Keras 2 form `rnn([x, h, c])`: the tensors after the first are the initial state.
        inputs, kwargs["initial_state"] = inputs[0], list(inputs[1:])
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and _is_recurrent(layer):
        inputs = inputs[0]
    for leaf in flatten(inputs) + flatten(kwargs):
        if isinstance(leaf, KerasTensor):
            continue
        if leaf is None or isinstance(leaf, (bool, int, float, str)):
            continue
        raise TypeError(f'Layer "{layer.name}" was called with a mix of symbolic inputs '
                        f"(KerasTensors) and a {type(leaf).__name__}; in a functional model "
                        "every tensor argument must come from rnnkit.Input or a layer.")
    input_shape = _shape_of(inputs)
    if isinstance(inputs, KerasTensor):
        check = getattr(layer, "_check_input", None)
        if check is not None:
            try:
                check(_ShapeProbe(input_shape))
            except (AttributeError, TypeError):
                pass  # a check that needs real data: the real call will make it
    spec = layer.__dict__.get("input_spec")
    if spec is not None and not isinstance(inputs, KerasTensor):
        from ..layers.input_spec import check_input_spec
        check_input_spec(spec, [t.shape for t in flatten(inputs)], layer.name)
    if kwargs.get("initial_state") is not None and hasattr(layer, "check_state_shapes"):
        layer.check_state_shapes([tuple(t.shape) for t in flatten(kwargs["initial_state"])
                                  if isinstance(t, KerasTensor)], "initial_state")
    if not layer.built:
        layer._maybe_build(input_shape)
    if hasattr(layer, "output_shape_for_call"):  # op layers: the shape depends on kwargs too
        output_shape = layer.output_shape_for_call(input_shape, _shape_of(kwargs))
    elif _shape_needs_a_run(layer):
        output_shape = _shapes_by_running(layer, inputs, kwargs)
    elif _user_layer(layer):
        output_shape = _traced_or_declared(layer, inputs, kwargs, input_shape)
    else:
        output_shape = _as_shapes(layer.compute_output_shape(input_shape))
    if getattr(layer, "_output_shape", None) is None:
        layer._output_shape = output_shape
    nodes = inbound_nodes(layer)
    if not nodes and _skips_first_node(layer):
        nodes.append(Node(layer, None, {}, [], is_input=True))  # the model's own node 0
    node_index = len(nodes)
    multi = isinstance(output_shape, (list, dict))
    shapes = _flat_shapes(output_shape) if multi else [output_shape]
    masks = _output_has_mask(layer, inputs, len(shapes))
    dtype = layer.dtype if layer.dtype in ("float16", "bfloat16", "float32", "float64") \
        else "float32"
    if hasattr(layer, "output_shape_for_call"):  # op layers keep their operands' dtype
        dtype = next(t.dtype for t in flatten(inputs) + flatten(kwargs)
                     if isinstance(t, KerasTensor))
    outputs = [KerasTensor(shape, dtype, KerasHistory(layer, node_index, i),
                           name=f"{layer.name}/output_{i}" if multi else layer.name,
                           has_mask=has_mask)
               for i, (shape, has_mask) in enumerate(zip(shapes, masks))]
    outputs = _nest_like(output_shape, outputs) if multi else outputs[0]
    if isinstance(output_shape, _TupleShapes):
        outputs = tuple(outputs)
    nodes.append(Node(layer, inputs, kwargs, outputs))
    return outputs


def conform_rank(x: Any, expected: Any) -> Any:
    """tf.keras 2.12's ``_conform_to_reference_input``: data one axis short of an input
    whose last axis is 1 (``(batch, timesteps)`` for ``(None, timesteps, 1)``) gets it."""
    if isinstance(x, torch.Tensor) and isinstance(expected, tuple) and expected \
            and all(d is None or isinstance(d, int) for d in expected) \
            and x.dim() == len(expected) - 1 and expected[-1] == 1:
        mask = getattr(x, "_keras_mask", None)
        x = x.unsqueeze(-1)
        if mask is not None:
            x._keras_mask = mask
    return x


def output_shape_of(layer: Any, input_shape: Any) -> Any:
    """A layer's output shape for ``input_shape``: ``compute_output_shape``, or for a user's
    layer without one, by running its call on small tensors (``_shapes_by_running``)."""
    if _shape_needs_a_run(layer):
        return _shapes_by_running(layer, KerasTensor(input_shape), {})
    return _as_shapes(layer.compute_output_shape(input_shape))


def _positional_as_keywords(layer: Any, args: tuple) -> dict:
    import inspect
    params = [p for p in inspect.signature(layer.call).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
    if len(args) > len(params):
        raise TypeError(f'Layer "{layer.name}" was called with {len(args) + 1} positional '
                        f"arguments, but its `call` takes {len(params) + 1}.")
    return {p.name: value for p, value in zip(params, args)}


def _as_shapes(shape: Any) -> Any:
    """A user's ``compute_output_shape`` result as rnnkit's shapes: a list of sizes is one
    shape (a tuple); a list of shapes stays a list (several outputs)."""
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in shape):
        return tuple(None if d is None else int(d) for d in shape)
    if isinstance(shape, _TupleShapes):  # a layer returning a tuple (Attention's scores)
        return _TupleShapes(_as_shapes(item) for item in shape)
    if isinstance(shape, (list, tuple)):
        return [_as_shapes(item) for item in shape]
    if hasattr(shape, "as_list"):  # a TensorShape-like object
        return _as_shapes(shape.as_list())
    return shape


def _shape_needs_a_run(layer: Any) -> bool:
    """Whether the output shape must be found by running ``call``: a user's layer (or
    subclassed model) that does not define ``compute_output_shape`` (tf.keras 2 traced
    such layers' ``call`` on symbolic tensors)."""
    from .base import Layer
    from .serialization import model_class
    cls = type(layer)
    # the functional Model class, asked of the registry (models sit above layers)
    if isinstance(layer, model_class("Functional")) and not layer._is_graph_network:
        return "compute_output_shape" not in _user_attributes(cls)
    owner = next((c for c in cls.__mro__ if "compute_output_shape" in c.__dict__), Layer)
    return owner is Layer and _user_layer(layer)


def _user_layer(layer: Any) -> bool:
    """A layer class written outside rnnkit (a program's custom layer)."""
    return not type(layer).__module__.startswith("rnnkit.")


def _traced_or_declared(layer: Any, inputs: Any, kwargs: dict, input_shape: Any) -> Any:
    """A user's layer that defines ``compute_output_shape``: tf.keras 2.12 ignores it in a
    functional model and traces ``call`` (the outputs' structure, a tuple or a list, and
    their shapes come from there), so rnnkit runs the call too; a call that cannot run on
    small random tensors falls back to the declared shapes."""
    try:
        return _shapes_by_running(layer, inputs, kwargs)
    except Exception:  # noqa: BLE001 - the declared shapes are the layer's own answer
        return _as_shapes(layer.compute_output_shape(input_shape))


def _user_attributes(cls: type) -> set:
    names = set()
    for c in cls.__mro__:
        if c.__module__.startswith("rnnkit.") or c.__module__ in ("torch.nn.modules.module",
                                                                    "builtins"):
            continue
        names |= set(c.__dict__)
    return names


_PROBE_SIZES = ((2, 3), (3, 5))  # (batch, every other unknown size) of the two runs


def _shapes_by_running(layer: Any, inputs: Any, kwargs: dict) -> Any:
    """Run the layer's call twice on small tensors standing in for the KerasTensors (the
    unknown sizes different each time): sizes that follow them are unknown (None) in the
    result. Losses the runs add are dropped; no gradients are kept."""
    runs = []
    generator = torch.Generator().manual_seed(0)
    for batch, free in _PROBE_SIZES:
        def concrete(t: Any) -> Any:
            if not isinstance(t, KerasTensor):
                return t
            shape = [batch if i == 0 and d is None else (free if d is None else d)
                     for i, d in enumerate(t.shape)]
            if t.dtype.startswith(("int", "uint", "bool")):
                value = torch.zeros(shape, dtype=torch.int64)
            else:
                value = torch.rand(shape, generator=generator).to(
                    getattr(torch, t.dtype, torch.float32))
            if t._has_mask and len(shape) >= 2:
                value._keras_mask = torch.ones(shape[:2], dtype=torch.bool)
            return value
        was_training = layer.training
        layer.train(False)
        try:
            with torch.no_grad():
                outputs = layer(map_structure(concrete, inputs),
                                **map_structure(concrete, kwargs))
        finally:
            layer.train(was_training)
        runs.append(_shape_structure(outputs))
    for module in layer.modules():
        module.__dict__.pop("_added_losses", None)
        module.__dict__.pop("_added_metrics", None)
        if "_activity_losses" in module.__dict__:
            module._activity_losses = []
    return _merge_runs(*runs)


class _TupleShapes(list):
    """The shapes of a call that returned a tuple: its KerasTensors come back as a tuple
    too, and the summary prints them as one, ``((None, 16), (None, 12, 1))``."""


def _shape_structure(outputs: Any) -> Any:
    if isinstance(outputs, (list, tuple)):
        found = [_shape_structure(o) for o in outputs]
        return _TupleShapes(found) if isinstance(outputs, tuple) else found
    if isinstance(outputs, dict):
        return {key: _shape_structure(value) for key, value in outputs.items()}
    if not isinstance(outputs, torch.Tensor):
        raise TypeError("rnnkit's functional API takes layers that return tensors (alone, or "
                        f"in lists, tuples or dicts); this layer returned a "
                        f"{type(outputs).__name__}.")
    return tuple(outputs.shape)


def _merge_runs(first: Any, second: Any) -> Any:
    if isinstance(first, dict):
        return {key: _merge_runs(value, second[key]) for key, value in first.items()}
    if isinstance(first, list):
        return type(first)(_merge_runs(a, b) for a, b in zip(first, second))
    return tuple(a if a == b else None for a, b in zip(first, second))


def input_tensor(layer: Any) -> KerasTensor:
    """The KerasTensor an ``InputLayer`` stands for (its node 0, made on first use)."""
    nodes = inbound_nodes(layer)
    if not nodes:
        tensor = KerasTensor(layer._batch_input_shape, layer.dtype, KerasHistory(layer, 0, 0),
                             name=layer.name)
        nodes.append(Node(layer, None, {}, tensor, is_input=True))
    return nodes[0].outputs
