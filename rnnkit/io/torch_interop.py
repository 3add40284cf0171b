"""rnnkit recurrent layers to and from ``torch.nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``.

The weights go through :mod:`rnnkit.kernels.torch_layout`. Only the equivalent configurations
convert: LSTM/GRU with their default activations (``tanh`` and ``sigmoid``), GRU with
``reset_after=True``, SimpleRNN with ``tanh`` or ``relu``, one layer, no ``go_backwards``
outside a Bidirectional. ``Bidirectional(merge_mode="concat")`` maps to
``bidirectional=True``. A torch module is always ``batch_first=True``; the weights do not
depend on it. Dropout rates are not carried over (torch applies dropout only between
stacked layers).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..kernels import torch_layout

_TORCH_CLASSES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "SimpleRNN": nn.RNN}


def _kind(layer: Any) -> str:
    from ..layers.recurrent import GRU, LSTM, SimpleRNN
    for cls in (LSTM, GRU, SimpleRNN):
        if isinstance(layer, cls):
            return cls.__name__
    raise ValueError(f"to_torch converts LSTM, GRU, SimpleRNN and Bidirectional layers; "
                     f"{layer.name!r} is a {type(layer).__name__}.")


def _check_convertible(layer: Any, kind: str, inside_bidirectional: bool = False) -> None:
    cell = layer.cell
    problems = []
    act = getattr(cell.activation, "__name__", str(cell.activation))
    if kind == "SimpleRNN":
        if act not in ("tanh", "relu"):
            problems.append(f"activation={act!r} (nn.RNN has tanh or relu)")
    else:
        rec = getattr(cell.recurrent_activation, "__name__", str(cell.recurrent_activation))
        if act != "tanh" or rec != "sigmoid":
            problems.append(f"activation={act!r}, recurrent_activation={rec!r} "
                            f"(nn.{kind} uses tanh and sigmoid)")
    if kind == "GRU" and not cell.reset_after:
        problems.append("reset_after=False (nn.GRU is reset_after=True)")
    if layer.go_backwards and not inside_bidirectional:
        problems.append("go_backwards=True (torch has no reversed single-direction RNN)")
    if not layer.built:
        problems.append("the layer is not built (no weights yet)")
    if problems:
        raise ValueError(f"Layer {layer.name!r} ({kind}) has no torch.nn.{_TORCH_CLASSES[kind].__name__} "
                         f"equivalent: {'; '.join(problems)}.")


def to_torch(layer: Any) -> nn.Module:
    """A ``torch.nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` (``batch_first=True``) with ``layer``'s weights."""
    from ..layers.wrappers import Bidirectional

    directions = [layer]
    if isinstance(layer, Bidirectional):
        if layer.merge_mode != "concat":
            raise ValueError(f"Bidirectional {layer.name!r}: merge_mode={layer.merge_mode!r} has no "
                             "torch equivalent (a bidirectional torch RNN concatenates).")
        directions = [layer.forward_layer, layer.backward_layer]
    kind = _kind(directions[0])
    for index, sub in enumerate(directions):
        if _kind(sub) != kind:
            raise ValueError(f"Bidirectional {layer.name!r}: both directions must be {kind}.")
        _check_convertible(sub, kind, inside_bidirectional=len(directions) == 2)
        if len(directions) == 2 and sub.go_backwards != bool(index):
            raise ValueError(f"Bidirectional {layer.name!r}: the backward layer must run backwards.")
    first = directions[0]
    cell = first.cell
    options: dict[str, Any] = dict(input_size=cell.kernel.shape[0], hidden_size=cell.units,
                                   bias=cell.use_bias, batch_first=True,
                                   bidirectional=len(directions) == 2, dtype=cell.kernel.dtype)
    if kind == "SimpleRNN":
        options["nonlinearity"] = getattr(cell.activation, "__name__", "tanh")
    module = _TORCH_CLASSES[kind](**options)
    with torch.no_grad():
        for suffix, sub in zip(("", "_reverse"), directions):
            c = sub.cell
            bias = c.bias if c.use_bias else None
            w_ih, w_hh, b_ih, b_hh = torch_layout.KERAS_TO_TORCH[kind](
                c.kernel.detach(), c.recurrent_kernel.detach(), None if bias is None else bias.detach())
            getattr(module, f"weight_ih_l0{suffix}").copy_(w_ih)
            getattr(module, f"weight_hh_l0{suffix}").copy_(w_hh)
            if b_ih is not None:
                getattr(module, f"bias_ih_l0{suffix}").copy_(b_ih)
                getattr(module, f"bias_hh_l0{suffix}").copy_(b_hh)
    return module


def from_torch(module: nn.Module, return_sequences: bool = False, **kwargs: Any) -> Any:
    """An rnnkit layer with ``module``'s weights (``Bidirectional`` for a bidirectional module).

    ``return_sequences`` and other keyword arguments go to the rnnkit layer's constructor.
    """
    from ..layers.recurrent import GRU, LSTM, SimpleRNN
    from ..layers.wrappers import Bidirectional

    classes = {nn.LSTM: ("LSTM", LSTM), nn.GRU: ("GRU", GRU), nn.RNN: ("SimpleRNN", SimpleRNN)}
    if type(module) not in classes:
        raise ValueError(f"from_torch converts torch.nn.LSTM, nn.GRU and nn.RNN; got "
                         f"{type(module).__name__}.")
    kind, cls = classes[type(module)]
    if module.num_layers != 1:
        raise ValueError(f"from_torch: {type(module).__name__} has num_layers={module.num_layers}; "
                         "convert one layer at a time (stack rnnkit layers with return_sequences=True).")
    if getattr(module, "proj_size", 0):
        raise ValueError("from_torch: nn.LSTM with proj_size > 0 has no Keras equivalent.")
    layer_kwargs = dict(kwargs)
    if kind == "SimpleRNN":
        layer_kwargs.setdefault("activation", module.nonlinearity)
    layer_kwargs.setdefault("use_bias", module.bias)
    dtype = module.weight_ih_l0.dtype
    layer_kwargs.setdefault("dtype", {torch.float64: "float64", torch.float16: "float16"}.get(dtype, "float32"))
    template = cls(module.hidden_size, return_sequences=return_sequences, **layer_kwargs)
    layer = Bidirectional(template) if module.bidirectional else template
    layer.build((None, None, module.input_size))
    directions = [layer.forward_layer, layer.backward_layer] if module.bidirectional else [layer]
    for suffix, sub in zip(("", "_reverse"), directions):
        params = [getattr(module, f"weight_ih_l0{suffix}").detach(),
                  getattr(module, f"weight_hh_l0{suffix}").detach()]
        if module.bias:
            params += [getattr(module, f"bias_ih_l0{suffix}").detach(),
                       getattr(module, f"bias_hh_l0{suffix}").detach()]
        kernel, recurrent, bias = torch_layout.TORCH_TO_KERAS[kind](*params)
        sub.cell.set_weights([w for w in (kernel, recurrent, bias) if w is not None])
    return layer
