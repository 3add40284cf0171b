"""Shape trace: each layer's input and output shapes for a concrete input, axes named.

``trace(model, x)`` calls the layers one after another on ``x`` (as the model does,
masks included) and writes down what went in and what came out, with every axis named:
``(batch=1, time=4, features=5) → (batch=1, units=3)``. For a recurrent layer it adds its
states (``h``, and ``c`` for an LSTM) and a note on what ``return_sequences`` /
``return_state`` did, which answers the seed notebook's "why did the shape change".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..layers.base import Layer
from ..layers.core import Embedding, InputLayer
from ..layers.recurrent import RNN
from ..layers.wrappers import Bidirectional, TimeDistributed

__all__ = ["TraceRow", "Trace", "trace", "named_shape"]


def named_shape(shape: tuple, names: tuple[str, ...]) -> str:
    """``(batch=1, time=4, features=5)``."""
    return "(" + ", ".join(f"{n}={d}" for n, d in zip(names, shape)) + ")"


def _axes(rank: int, last: str, time: bool = True) -> tuple[str, ...]:
    if rank == 1:
        return ("batch",)
    if rank == 2:
        return ("batch", last)
    middle = ("time",) if time else ("axis1",)
    extra = tuple(f"axis{k}" for k in range(2, rank - 1))
    return ("batch",) + middle + extra + (last,)


@dataclass
class TraceRow:
    """One layer of a trace. ``input``/``output`` are the tensors themselves (detached)."""
    name: str
    class_name: str
    input: torch.Tensor
    output: Any
    input_axes: tuple[str, ...]
    output_axes: list[tuple[str, ...]]
    states: list[tuple[str, tuple]] = field(default_factory=list)
    note: str = ""

    @property
    def input_shape(self) -> tuple:
        return tuple(self.input.shape)

    @property
    def output_shape(self) -> Any:
        if isinstance(self.output, (list, tuple)):
            return [tuple(o.shape) for o in self.output]
        return tuple(self.output.shape)

    def lines(self) -> list[str]:
        outs = self.output if isinstance(self.output, (list, tuple)) else [self.output]
        out_text = ", ".join(named_shape(tuple(o.shape), a)
                             for o, a in zip(outs, self.output_axes))
        lines = [f"{self.name} ({self.class_name})",
                 f"    in:  {named_shape(self.input_shape, self.input_axes)}",
                 f"    out: {out_text}"]
        if self.states:
            lines.append("    states: " + ", ".join(
                f"{n} {named_shape(s, ('batch', 'units'))}" for n, s in self.states))
        if self.note:
            lines.append(f"    {self.note}")
        return lines


@dataclass
class Trace:
    """``trace()``'s result: one row per layer and the final output."""
    name: str
    rows: list[TraceRow]
    output: Any

    def lines(self) -> list[str]:
        first = self.rows[0] if self.rows else None
        head = f'Trace of "{self.name}"'
        if first is not None:
            head += f" on an input of shape {named_shape(first.input_shape, first.input_axes)}"
        out = [head]
        for row in self.rows:
            out += row.lines()
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)


def _rnn_details(layer: Layer, x: torch.Tensor, output: Any) -> tuple[list, str, int]:
    """States, a note and the number of outputs that are states."""
    rnn = layer.forward_layer if isinstance(layer, Bidirectional) else layer
    names = list(getattr(rnn.cell, "state_names", ())) or [
        f"state_{k}" for k in range(len(rnn._state_sizes))]
    batch = x.shape[1] if getattr(rnn, "time_major", False) else x.shape[0]
    states = [(n, (batch, size)) for n, size in zip(names, rnn._state_sizes)]
    if isinstance(layer, Bidirectional):
        states = [(f"forward {n}", s) for n, s in states] + [(f"backward {n}", s)
                                                               for n, s in states]
    steps = x.shape[0] if getattr(rnn, "time_major", False) else x.shape[1]
    if layer.return_sequences:
        note = (f"return_sequences=True: the hidden state h at each of the {steps} steps "
                "comes out")
    else:
        note = (f"return_sequences=False: only the last step's h comes out (the time axis of "
                f"{steps} steps is gone)")
    if layer.return_state:
        note += "; return_state=True: the final states follow the output"
        if not layer.return_sequences and "c" in names:
            note += " (h equals the output; c is the LSTM's internal cell state)"
        elif not layer.return_sequences:
            note += " (h equals the output)"
    if isinstance(layer, Bidirectional):
        note += f"; merge_mode={layer.merge_mode!r} combines the two directions"
    n_state_outputs = len(states) if layer.return_state else 0
    return states, note, n_state_outputs


def _row(layer: Layer, x: torch.Tensor, output: Any) -> TraceRow:
    ids = isinstance(layer, Embedding) or (
        isinstance(layer, TimeDistributed) and isinstance(layer.layer, Embedding))
    in_last = "time" if ids and x.dim() == 2 else "features"
    input_axes = ("batch", "time") if ids and x.dim() == 2 else _axes(x.dim(), in_last)
    outs = output if isinstance(output, (list, tuple)) else [output]
    states, note, n_states = [], "", 0
    if isinstance(layer, (RNN, Bidirectional)):
        states, note, n_states = _rnn_details(layer, x, output)
    last = "embedding" if isinstance(layer, Embedding) else \
        "units" if isinstance(layer, (RNN, Bidirectional)) or hasattr(layer, "units") \
        else "features"
    output_axes = []
    for k, o in enumerate(outs):
        is_state = k >= len(outs) - n_states
        output_axes.append(("batch", "units") if is_state else _axes(o.dim(), last))
    if isinstance(layer, RNN) and layer.time_major:
        input_axes = ("time", "batch", "features")
        if layer.return_sequences:
            output_axes[0] = ("time", "batch", "units")
    return TraceRow(layer.name, type(layer).__name__, _detached(x),
                    [_detached(o) for o in output] if isinstance(output, (list, tuple))
                    else _detached(output), input_axes, output_axes, states, note)


def _detached(t: torch.Tensor) -> torch.Tensor:
    """``t.detach()`` keeping the Keras mask it carries, so ``gates(layer, row.input)`` sees it."""
    out = t.detach()
    mask = getattr(t, "_keras_mask", None)
    if mask is not None:
        out._keras_mask = mask
    return out


def trace(model: Any, x: Any) -> Trace:
    """Run ``model`` (a ``Sequential`` or one layer) on ``x`` and record every layer's shapes.

    Inference mode; nothing is changed (a stateful layer's stored states are put back)."""
    if not isinstance(model, Layer):
        raise TypeError(f"trace() takes an rnnkit model or layer, got {type(model).__name__}.")
    layers = list(model.layers) if hasattr(model, "layers") else [model]
    if not layers:
        raise ValueError(f"trace(): model {model.name!r} has no layers.")
    saved = [(layer, list(layer._stored_states)) for layer in _stateful(layers)]
    rows = []
    try:
        with torch.no_grad():
            h = model._to_tensor(x)
            for layer in layers:
                if isinstance(layer, InputLayer):
                    continue
                try:
                    out = layer(h, training=False)
                except Exception as error:
                    if type(model).__name__ == "Sequential" or not hasattr(model, "layers"):
                        raise
                    raise ValueError(
                        f"trace() follows a model's layers one after another; model "
                        f"{model.name!r} is not such a chain (layer {layer.name!r} could not "
                        f"take the previous layer's output: {error}). Trace its layers one "
                        "by one instead.") from None
                rows.append(_row(layer, h, out))
                h = out
        if hasattr(model, "layers") and type(model).__name__ != "Sequential":
            _check_chain(model, x, h)
    finally:
        for layer, states in saved:
            layer._stored_states = states
    return Trace(model.name, rows, h)


def _check_chain(model: Any, x: Any, chained: Any) -> None:
    """A functional model is traced as a chain of its layers only if it is one."""
    problem = None
    try:
        with torch.no_grad():
            direct = model(x, training=False)
        if not (isinstance(direct, torch.Tensor) and isinstance(chained, torch.Tensor)
                and direct.shape == chained.shape and torch.allclose(direct, chained)):
            problem = "its output differs from its layers applied one after another"
    except Exception as error:  # the chain itself may not even run
        problem = f"calling it failed ({error})"
    if problem:
        raise ValueError(f"trace() follows a model's layers one after another; model "
                         f"{model.name!r} is not such a chain: {problem}. Trace its layers "
                         "one by one instead.")


def _stateful(layers: list[Layer]) -> list[RNN]:
    found = []
    for layer in layers:
        for sub in layer.modules():
            if isinstance(sub, RNN) and sub.stateful and sub._stored_states is not None:
                found.append(sub)
    return found
