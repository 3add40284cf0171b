"""Parameter formulas of the layers beside the RNNs (convolution, normalisation, attention,
convolutional LSTMs), for ``explain()``.

Each returns ``(formula, legend, count, weights)`` like the recurrent formulas; the count
is computed from the same numbers the formula shows, and the tests compare it with
``count_params()`` for every layer and flag that changes it.
"""
from __future__ import annotations

import math
from typing import Any

from ..layers.convolutional import Conv1DTranspose, DepthwiseConv1D, SeparableConv1D, _Conv
from ..layers.convolutional_recurrent import _ConvLSTM
from ..layers.multi_head_attention import MultiHeadAttention
from ..layers.normalization import BatchNormalization, LayerNormalization

_TIMES = "×"


def _k(kernel_size: tuple) -> tuple[str, int]:
    """``3`` or ``(3 × 3)`` and its product."""
    if len(kernel_size) == 1:
        return str(kernel_size[0]), kernel_size[0]
    return f"({f' {_TIMES} '.join(str(k) for k in kernel_size)})", math.prod(kernel_size)


def _bias(layer: Any, size: int) -> tuple[str, int]:
    return (f" + {size}", size) if layer.use_bias else ("", 0)


def _conv(layer: _Conv, info: Any) -> tuple:
    k_text, k = _k(layer.kernel_size)
    if isinstance(layer, SeparableConv1D):
        channels, dm, filters = layer.depthwise_kernel.shape[-2], layer.depth_multiplier, layer.filters
        b_text, b = _bias(layer, filters)
        count = k * channels * dm + channels * dm * filters + b
        return (f"{k_text} {_TIMES} {channels} {_TIMES} {dm} + {channels} {_TIMES} {dm} {_TIMES} "
                f"{filters}{b_text}",
                "kernel_size × input channels × depth_multiplier (depthwise) + input channels × "
                "depth_multiplier × filters (pointwise)" + (" + filters (bias)" if b else ""),
                count,
                [info("depthwise_kernel", tuple(layer.depthwise_kernel.shape),
                      "one small kernel per input channel and multiplier"),
                 info("pointwise_kernel", tuple(layer.pointwise_kernel.shape),
                      "1×1 mix of the depthwise outputs into filters")]
                + ([info("bias", (filters,), "one per filter")] if b else []))
    if isinstance(layer, DepthwiseConv1D):
        channels, dm = layer.depthwise_kernel.shape[-2], layer.depth_multiplier
        b_text, b = _bias(layer, channels * dm)
        return (f"{k_text} {_TIMES} {channels} {_TIMES} {dm}{b_text}",
                "kernel_size × input channels × depth_multiplier" + (" + bias" if b else ""),
                k * channels * dm + b,
                [info("depthwise_kernel", tuple(layer.depthwise_kernel.shape),
                      "one kernel per input channel and multiplier")]
                + ([info("bias", (channels * dm,), "one per output channel")] if b else []))
    if isinstance(layer, Conv1DTranspose):   # (*k, filters, in): Conv2D/3DTranspose too
        filters, channels = layer.kernel.shape[-2], layer.kernel.shape[-1]
    else:
        channels, filters = layer.kernel.shape[-2], layer.filters
    b_text, b = _bias(layer, filters)
    groups = "" if layer.groups == 1 else " / groups"
    return (f"{k_text} {_TIMES} {channels} {_TIMES} {filters}{b_text}",
            f"kernel_size × input channels{groups} × filters" + (" + filters (bias)" if b else ""),
            k * channels * filters + b,
            [info("kernel", tuple(layer.kernel.shape), "kernel window × input channels → filters")]
            + ([info("bias", (filters,), "one per filter")] if b else []))


def _normalization(layer: Any, info: Any) -> tuple:
    names = [n for n in ("gamma", "beta") if getattr(layer, n) is not None]
    if isinstance(layer, BatchNormalization):
        size = layer.moving_mean.numel()
    else:
        size = getattr(layer, names[0]).numel() if names else 0
    learned = len(names)
    weights = [info(n, tuple(getattr(layer, n).shape),
                    "scale per feature" if n == "gamma" else "shift per feature") for n in names]
    if isinstance(layer, BatchNormalization):
        weights += [info("moving_mean", tuple(layer.moving_mean.shape),
                         "non-trainable: running mean, used outside training"),
                     info("moving_variance", tuple(layer.moving_variance.shape),
                          "non-trainable: running variance, used outside training")]
        total = learned + 2
        return (f"{total} {_TIMES} {size}",
                f"({' + '.join(names + ['moving_mean', 'moving_variance'])}) × features; the "
                "2 moving statistics are non-trainable", total * size, weights)
    return (f"{learned} {_TIMES} {size}" if learned else "",
            f"({' + '.join(names)}) × features" if learned else "no weights",
            learned * size, weights)


def _conv_lstm(layer: _ConvLSTM, info: Any) -> tuple:
    cell = layer.cell
    k_text, k = _k(cell.kernel_size)
    channels, filters = cell.kernel.shape[-2], cell.filters
    b = 1 if cell.use_bias else 0
    inner = f"{k_text} {_TIMES} {channels} + {k_text} {_TIMES} {filters}" + (" + 1" if b else "")
    return (f"4 {_TIMES} {filters} {_TIMES} ({inner})",
            "4 gates (i, f, c, o) × filters × (kernel_size × input channels + kernel_size × "
            "filters" + (" + bias)" if b else ")"),
            4 * filters * (k * channels + k * filters + b),
            [info("kernel", tuple(cell.kernel.shape), "input image → 4 gates × filters"),
             info("recurrent_kernel", tuple(cell.recurrent_kernel.shape),
                  "previous h → 4 gates × filters")]
            + ([info("bias", (4 * filters,), "one per gate and filter (i, f, c, o)")] if b else []))


def _mha(layer: MultiHeadAttention, info: Any) -> tuple:
    heads, kd, vd = layer.num_heads, layer.key_dim, layer.value_dim
    dq = layer.query_dense.kernel.shape[0]
    dk = layer.key_dense.kernel.shape[0]
    dv = layer.value_dense.kernel.shape[0]
    out = layer.output_dense.kernel.shape[-1]
    b = layer.use_bias
    parts = [f"{dq} {_TIMES} {heads} {_TIMES} {kd}", f"{dk} {_TIMES} {heads} {_TIMES} {kd}",
             f"{dv} {_TIMES} {heads} {_TIMES} {vd}", f"{heads} {_TIMES} {vd} {_TIMES} {out}"]
    count = dq * heads * kd + dk * heads * kd + dv * heads * vd + heads * vd * out
    if b:
        parts = [f"({p} + {heads} {_TIMES} {d})" for p, d in zip(parts[:3], (kd, kd, vd))] \
            + [f"({parts[3]} + {out})"]
        count += 2 * heads * kd + heads * vd + out
    weights = []
    for sub, what in ((layer.query_dense, "query features → heads × key_dim"),
                      (layer.key_dense, "key features → heads × key_dim"),
                      (layer.value_dense, "value features → heads × value_dim"),
                      (layer.output_dense, "heads × value_dim → output features")):
        weights.append(info(f"{sub.name}/kernel", tuple(sub.kernel.shape), what))
        if sub.bias is not None:
            weights.append(info(f"{sub.name}/bias", tuple(sub.bias.shape), "bias"))
    return (" + ".join(parts),
            "query, key, value projections (features × heads × dim" + (" + bias" if b else "")
            + ") + output projection (heads × value_dim × output" + (" + bias" if b else "") + ")",
            count, weights)


def beside_parts(layer: Any, info: Any) -> tuple | None:
    """The formula of ``layer`` if it is one of the layers beside the RNNs, else None."""
    if isinstance(layer, _ConvLSTM):
        return _conv_lstm(layer, info)
    if isinstance(layer, _Conv):
        return _conv(layer, info)
    if isinstance(layer, (BatchNormalization, LayerNormalization)):
        return _normalization(layer, info)
    if isinstance(layer, MultiHeadAttention):
        return _mha(layer, info)
    return None
