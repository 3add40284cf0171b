"""``Attention`` (Luong, dot-product) and ``AdditiveAttention`` (Bahdanau), as tf.keras 2.12.

Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``):
``scores = f(query, key)`` (B, Tq, Tv), ``weights = softmax(scores)`` over the value steps,
``output = weights @ value`` (B, Tq, dim). Masks: a value mask keeps padded value steps out
of the softmax (their scores get -1e9), a query mask zeroes the output of padded query
steps and is the output's mask. ``return_attention_scores=True`` also returns the weights;
``use_causal_mask=True`` lets query step i attend to value steps <= i only.

* ``Attention``: ``score_mode="dot"``: ``query @ key^T`` (times a learned scalar ``scale``
  when ``use_scale``); ``"concat"``: ``concat_score_weight * sum(tanh(scale * (q + k)))``.
* ``AdditiveAttention``: ``sum(scale * tanh(q + k), axis=-1)`` with a learned ``scale``
  vector of size ``dim`` when ``use_scale`` (the default).
"""
from __future__ import annotations

from typing import Any

import torch

from .base import Layer, shape_tuple
from .keras_tensor import _TupleShapes
from .merging import call_on_list


class _BaseDenseAttention(Layer):
    supports_masking = True
    _config_keys = ("dropout",)

    def __init__(self, dropout: float = 0.0, causal: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": `dropout` must be in '
                             f"[0, 1], got {dropout!r}.")
        self.dropout = float(dropout)
        self.causal = bool(causal)  # deprecated in tf.keras 2 for `use_causal_mask`

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # compute_output_shape (graph building) needs to know whether scores come back too
        self._return_scores = bool(kwargs.get("return_attention_scores", False))
        return call_on_list(self, inputs, kwargs, 2)

    def _validate(self, input_shape: Any) -> list:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) not in (2, 3) \
                or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f'{type(self).__name__} layer "{self.name}" must be called on a '
                             "list of inputs, namely [query, value] or [query, value, key]. "
                             f"Received: input_shape={input_shape}.")
        return [shape_tuple(s) for s in input_shape]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = self._validate(input_shape)
        query, value = shapes[0], shapes[1]
        output = query[:-1] + (value[-1],)
        if getattr(self, "_return_scores", False):  # a tuple, as tf.keras 2.12 returns
            return _TupleShapes([output, query[:-1] + (value[1],)])
        return output

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def call(self, inputs: list, mask: Any = None, training: bool | None = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask and len(mask) > 1 else None
        scores = self._scores(query, key)
        scores_mask = None
        if v_mask is not None:
            scores_mask = torch.as_tensor(v_mask, device=scores.device).bool().unsqueeze(-2)
        if self.causal or use_causal_mask:
            tq, tv = scores.shape[-2], scores.shape[-1]
            causal = torch.ones(tq, tv, dtype=torch.bool, device=scores.device).tril()
            scores_mask = causal if scores_mask is None else scores_mask & causal
        if scores_mask is not None:
            big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = scores - big * (~scores_mask).to(scores.dtype)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            weights = torch.nn.functional.dropout(weights, p=self.dropout, training=True)
        result = weights @ value
        if q_mask is not None:
            result = result * torch.as_tensor(q_mask, device=result.device).unsqueeze(-1).to(
                result.dtype)
        if return_attention_scores:
            return result, weights
        return result

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask:
            return mask[0]
        return None

    def _attach_mask(self, outputs: Any, mask: Any) -> None:
        if isinstance(outputs, list):
            mask = [mask, None]
        super()._attach_mask(outputs, mask)


class Attention(_BaseDenseAttention):
    """Dot-product (Luong-style) attention; see the module docstring."""

    _config_keys = ("dropout", "use_scale", "score_mode")

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f'Attention layer "{self.name}": received: score_mode='
                             f'{score_mode!r}. Acceptable values are: ["dot", "concat"]')
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode

    def build(self, input_shape: Any) -> None:
        shapes = self._validate(input_shape)
        if self.use_scale:
            self.add_weight("scale", (), "ones")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.add_weight("concat_score_weight", (), "ones")
        else:
            self.concat_score_weight = None
        super().build(shapes)

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = query @ key.transpose(-1, -2)
            return scores * self.scale if self.scale is not None else scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)


class AdditiveAttention(_BaseDenseAttention):
    """Additive (Bahdanau-style) attention; see the module docstring."""

    _config_keys = ("dropout", "use_scale")

    def __init__(self, use_scale: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)

    def build(self, input_shape: Any) -> None:
        shapes = self._validate(input_shape)
        dim = shapes[1][-1]
        if self.use_scale:
            if dim is None:
                raise ValueError(f'AdditiveAttention layer "{self.name}": the last dimension '
                                 "of `value` must be known to create `scale`.")
            self.add_weight("scale", (dim,), "glorot_uniform")
        else:
            self.scale = None
        super().build(shapes)

    def _scores(self, query, key):
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            summed = self.scale * summed
        return summed.sum(-1)
