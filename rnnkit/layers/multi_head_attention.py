"""``MultiHeadAttention`` as tf.keras 2.12 has it, with its weight layout (so its files load).

``layer(query, value, key=None)``, inputs (B, Tq, dq), (B, Tv, dv), (B, Tv, dk):

    Q = query · Wq + bq      (B, Tq, heads, key_dim)       Wq: ``query/kernel (dq, heads, key_dim)``
    K = key · Wk + bk        (B, Tv, heads, key_dim)       Wk: ``key/kernel (dk, heads, key_dim)``
    V = value · Wv + bv      (B, Tv, heads, value_dim)     Wv: ``value/kernel (dv, heads, value_dim)``
    scores = softmax(Q Kᵀ / sqrt(key_dim))  per head, (B, heads, Tq, Tv)
    output = concat_heads(scores · V) · Wo + bo             Wo: ``attention_output/kernel
                                                            (heads, value_dim, out)``

``out`` is ``dq`` unless ``output_shape`` is given. Masked positions (``attention_mask``
(B, Tq, Tv) False, the inputs' Keras masks, ``use_causal_mask``) get ``-1e9`` before the
softmax, as Keras's masked softmax. ``return_attention_scores=True`` returns
``(output, scores)``. torch's ``scaled_dot_product_attention`` does the work when no
scores are asked for and no dropout applies. Attention runs over the time axis of rank-3
inputs (``attention_axes=None`` or ``(1,)``).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .. import constraints, eager, initializers, regularizers
from .base import Layer, _is_symbolic, shape_tuple
from .core import _positive_int
from .keras_tensor import _TupleShapes

__all__ = ["MultiHeadAttention"]


class _Projection(Layer):
    """One of the four ``EinsumDense`` projections: ``kernel`` and ``bias`` under a fixed name
    (``query``, ``key``, ``value``, ``attention_output``), as tf.keras 2 names their weights."""

    def __init__(self, name: str, kernel_shape: tuple, bias_shape: tuple | None,
                 owner: "MultiHeadAttention") -> None:
        super().__init__(name=name, dtype=owner.dtype, trainable=owner.trainable)
        self.add_weight("kernel", kernel_shape, owner.kernel_initializer,
                        owner.kernel_regularizer, owner.kernel_constraint)
        if bias_shape is not None:
            self.add_weight("bias", bias_shape, owner.bias_initializer, owner.bias_regularizer,
                            owner.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d) -> (B, T, heads, dim) with the (d, heads, dim) kernel."""
        y = torch.tensordot(x, self.kernel, dims=1)
        return y if self.bias is None else y + self.bias

    def combine(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, heads, dim) -> (B, T, out) with the (heads, dim, out) kernel."""
        y = torch.tensordot(x, self.kernel, dims=2)
        return y if self.bias is None else y + self.bias


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (see the module docstring)."""

    supports_masking = True
    _config_keys = ("num_heads", "key_dim", "value_dim", "dropout", "use_bias",
                    "kernel_initializer", "bias_initializer",
                    "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                    "kernel_constraint", "bias_constraint")

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 query_shape: Any = None, key_shape: Any = None, value_shape: Any = None,
                 use_gate: bool = False, sliding_window: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if use_gate or sliding_window is not None:  # Keras 3 additions tf.keras 2 lacks
            raise ValueError(f'MultiHeadAttention layer "{self.name}": `use_gate` and '
                             "`sliding_window` (Keras 3) are not supported by rnnkit.")
        self.num_heads = _positive_int("MultiHeadAttention", self.name, "num_heads", num_heads)
        self.key_dim = _positive_int("MultiHeadAttention", self.name, "key_dim", key_dim)
        self.value_dim = self.key_dim if value_dim is None else _positive_int(
            "MultiHeadAttention", self.name, "value_dim", value_dim)
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f'MultiHeadAttention layer "{self.name}": `dropout` must be in '
                             f"[0, 1], got {dropout!r}.")
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self._output_shape_arg = list(output_shape) if isinstance(output_shape, (list, tuple)) \
            else output_shape  # the config repeats it as given (tf.keras 2)
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        if output_shape is not None and len(tuple(output_shape)) != 1:
            raise ValueError(f'MultiHeadAttention layer "{self.name}": rnnkit supports an '
                             f"`output_shape` of one dimension; got {output_shape!r}.")
        self._output_dim = None if output_shape is None else int(tuple(output_shape)[0])
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        if attention_axes is not None and tuple(attention_axes) not in ((1,), (-2,)):
            raise ValueError(f'MultiHeadAttention layer "{self.name}": rnnkit attends over the '
                             "time axis of (batch, time, features) inputs only "
                             f"(attention_axes=None or (1,)); got {attention_axes!r}.")
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._shapes: list | None = None
        self._return_scores = False
        if query_shape is not None:  # a config of a built layer: build now, as tf.keras 2
            shapes = [query_shape, value_shape] + ([key_shape] if key_shape is not None else [])
            self._maybe_build(shapes)

    # ------------------------------------------------------------------ shapes and weights
    def build(self, input_shape: Any) -> None:
        shapes = [shape_tuple(s) for s in input_shape]
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        for what, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f'MultiHeadAttention layer "{self.name}": `{what}` should be '
                                 f"a (batch, time, features) tensor with known features; got "
                                 f"shape {shape}.")
        self._shapes = [query, value, key]
        heads = self.num_heads
        bias = self.use_bias
        self.query_dense = _Projection("query", (query[-1], heads, self.key_dim),
                                        (heads, self.key_dim) if bias else None, self)
        self.key_dense = _Projection("key", (key[-1], heads, self.key_dim),
                                      (heads, self.key_dim) if bias else None, self)
        self.value_dense = _Projection("value", (value[-1], heads, self.value_dim),
                                        (heads, self.value_dim) if bias else None, self)
        out = self._output_dim or query[-1]
        self.output_dense = _Projection("attention_output", (heads, self.value_dim, out),
                                         (out,) if bias else None, self)
        super().build(shapes)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """From the query's shape alone (the graph's node) or from [query, value(, key)]."""
        if input_shape and isinstance(input_shape[0], (list, tuple)):
            query, value = shape_tuple(input_shape[0]), shape_tuple(input_shape[1])
        else:
            query = shape_tuple(input_shape)
            value = self._shapes[1] if self._shapes else (None, None, None)
        output = query[:-1] + (self._output_dim or query[-1],)
        if self._return_scores:
            return _TupleShapes([output, (query[0], self.num_heads, query[1], value[1])])
        return output

    # ------------------------------------------------------------------ calling
    def __call__(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        if isinstance(query, (list, tuple)) and value is None:  # the functional graph's form
            query, value, key = (list(query) + [None])[:3]
        if value is None:
            raise ValueError(f'MultiHeadAttention layer "{self.name}" needs `query` and `value` '
                             "(and optionally `key`): call it as layer(query, value).")
        self._return_scores = bool(kwargs.get("return_attention_scores", False))
        inputs = [query, value] + ([key] if key is not None else [])
        if _is_symbolic(inputs, {}):
            # tf.keras 2's node: the query is the input, value and key are keyword tensors
            from .keras_tensor import symbolic_call
            if not self.built:
                self._maybe_build([t.shape for t in inputs])
            kwargs["value"] = value
            if key is not None:
                kwargs["key"] = key
            return symbolic_call(self, query, (), kwargs)
        tensors = [self._to_tensor(t) for t in inputs]
        if not self.built:
            self._maybe_build([tuple(t.shape) for t in tensors])
        training = kwargs.pop("training", None)
        kwargs["training"] = self.training if training is None else training
        masks = [getattr(t, "_keras_mask", None) for t in tensors]
        outputs = torch.nn.Module.__call__(self, tensors, masks=masks, **kwargs)
        mask = masks[0]
        if isinstance(outputs, tuple):
            outputs[0]._keras_mask = mask
        else:
            outputs._keras_mask = mask
        return eager.keras_outputs(query, outputs)

    def _attention_mask(self, tensors: list, masks: list, attention_mask: Any,
                        use_causal_mask: bool) -> torch.Tensor | None:
        """Keras's ``_compute_attention_mask``: (B, Tq, Tv) bool, or None."""
        query, value = tensors[0], tensors[1]
        device = query.device
        found = None

        def both(a, b):
            return b if a is None else a & b

        if masks[0] is not None:
            found = both(found, torch.as_tensor(masks[0], device=device).bool().unsqueeze(-1))
        for m in masks[1:]:
            if m is not None:
                found = both(found, torch.as_tensor(m, device=device).bool().unsqueeze(-2))
        if use_causal_mask:
            tq, tv = query.shape[1], value.shape[1]
            found = both(found, torch.ones(tq, tv, dtype=torch.bool, device=device).tril())
        if attention_mask is not None:
            given = torch.as_tensor(attention_mask, device=device).bool()
            found = both(found, given)
        return found

    def call(self, inputs: list, masks: Sequence = (None, None, None), attention_mask: Any = None,
             return_attention_scores: bool = False, training: bool | None = None,
             use_causal_mask: bool = False) -> Any:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q = self.query_dense.project(query).transpose(1, 2)   # (B, heads, Tq, key_dim)
        k = self.key_dense.project(key).transpose(1, 2)
        v = self.value_dense.project(value).transpose(1, 2)
        mask = self._attention_mask(inputs, list(masks) + [None] * 3, attention_mask,
                                    use_causal_mask)
        if mask is not None:
            mask = mask.unsqueeze(-3)  # the same for every head
        dropout = self.dropout if training else 0.0
        if not return_attention_scores and dropout == 0.0:
            bias = None
            if mask is not None:
                bias = (~mask).to(q.dtype) * -1e9
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            scores = None
        else:
            logits = (q * (1.0 / math.sqrt(self.key_dim))) @ k.transpose(-1, -2)
            if mask is not None:
                logits = logits + (~mask).to(logits.dtype) * -1e9
            scores = torch.softmax(logits, dim=-1)
            weights = F.dropout(scores, p=dropout, training=True) if dropout else scores
            context = weights @ v
        output = self.output_dense.combine(context.transpose(1, 2))
        if return_attention_scores:
            return output, scores
        return output

    def get_config(self) -> dict:
        base = super().get_config()
        config = {}
        for key, value in base.items():  # Keras's order: output_shape, attention_axes here
            config[key] = value
            if key == "use_bias":
                config["output_shape"] = self._output_shape_arg
                config["attention_axes"] = [1] if self.attention_axes is not None or \
                    self.built else None
        shapes = self._shapes or [None, None, None]
        config["query_shape"] = None if shapes[0] is None else list(shapes[0])
        config["key_shape"] = None if shapes[2] is None else list(shapes[2])
        config["value_shape"] = None if shapes[1] is None else list(shapes[1])
        return config
