"""``explore(model, x)``: one self-contained web page showing what a recurrent model remembers.

The page (plain JavaScript, SVG and canvas, everything inline, no network request) shows
for every recurrent layer of the model (each direction of a ``Bidirectional``):

* the hidden state, the cell state and every gate as heatmaps over time, values on hover;
* at a chosen step and unit, the cell's equations with the numbers filled in;
* the memory curve of the chosen sequence (influence of each input step on the output);
* LSTMVis's hypothesis search (Strobelt et al., IEEE TVCG 2018): select a time range, the
  units on over it and off just before and after are picked, and the places in every
  sequence where the same units are on are listed;
* the parameter formulas (``summary(explain=True)``).

Every number comes from ``gates()`` (states and gates), ``memory()`` (the curves) and
``explain()``; the JavaScript only decodes, draws and compares with the threshold. The
values are stored compactly (``explore_encode``): the hidden states of every sequence at
8 bits for the heatmaps and the search, and the full detail (states, gates, initial
states) at 16 bits for as many sequences as fit in ``max_bytes`` (``detail`` picks which).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from ..layers.base import Layer
from ..layers.cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell
from ..layers.recurrent import RNN
from ..layers.wrappers import Bidirectional
from . import explore_encode as enc
from .formulas import explain
from .gates import GateTrace, gates
from .memory import memory
from .trace import trace

__all__ = ["Exploration", "explore"]

_PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explorer_page")
_TENSOR_ORDER = {LSTMCell: ("h", "c", "i", "f", "c_tilde", "o"),
                 GRUCell: ("h", "z", "r", "h_tilde"),
                 SimpleRNNCell: ("h", "pre_activation")}
_MAX_OUTPUT_CURVES = 16   # per-output memory curves only for models with few outputs


@dataclass
class Exploration:
    """What ``explore()`` wrote: the page and what it holds."""
    html: str
    path: str | None
    layers: list[str]
    detail: list[int]
    sequences: int
    steps: int
    data: dict = field(repr=False, default_factory=dict)

    @property
    def size(self) -> int:
        """The page's size in bytes."""
        return len(self.html.encode("utf-8"))

    def __repr__(self) -> str:
        where = f", path={self.path!r}" if self.path else ""
        return (f"Exploration({self.sequences} sequences × {self.steps} steps, layers="
                f"{self.layers}, gates stored for {len(self.detail)} sequences, "
                f"{self.size / 1e6:.2f} MB{where})")


@dataclass
class _Entry:
    """One recurrent layer (or one direction of a Bidirectional) and its recorded trace."""
    label: str
    layer: RNN
    direction: str | None
    trace: GateTrace


# ------------------------------------------------------------------------ collecting
def _recurrent_entries(model: Layer, x: Any) -> tuple[list[_Entry], Any, list]:
    """Run ``trace`` and ``gates`` on every recurrent layer, fed its own input."""
    tr = trace(model, x)
    layers = list(model.layers) if hasattr(model, "layers") else [model]
    by_name = {layer.name: layer for layer in layers}
    entries, skipped = [], []
    for row in tr.rows:
        layer = by_name.get(row.name)
        if isinstance(layer, Bidirectional):
            for direction, sub in (("forward", layer.forward_layer),
                                   ("backward", layer.backward_layer)):
                if _is_plain_rnn(sub):
                    entries.append(_Entry(f"{layer.name} · {direction}", sub, direction,
                                          gates(sub, row.input)))
        elif _is_plain_rnn(layer):
            entries.append(_Entry(layer.name, layer, None, gates(layer, row.input)))
        elif isinstance(layer, RNN):
            skipped.append(layer.name)
    if not entries:
        extra = f" ({', '.join(skipped)} use cells gates() cannot record)" if skipped else ""
        raise ValueError(f"explore(): model {model.name!r} has no SimpleRNN, LSTM or GRU layer "
                         f"to show{extra}.")
    return entries, tr, skipped


def _is_plain_rnn(layer: Any) -> bool:
    return isinstance(layer, RNN) and isinstance(layer.cell, RecurrentCell)


class _Tail(Layer):
    """The layers after an Embedding, as one layer, so that ``memory()`` can take the
    gradient with respect to the embedded vectors (integer ids have none)."""

    def __init__(self, layers: Sequence[Layer], mask: Any, name: str) -> None:
        super().__init__(name=name)
        self.inner = torch.nn.ModuleList(layers)
        self.mask = mask
        self.built = True

    def call(self, inputs: torch.Tensor, training: Any = None) -> Any:
        h = inputs
        if self.mask is not None:
            h._keras_mask = self.mask
        for layer in self.inner:
            h = layer(h, training=False)
        return h


def _memory_target(model: Layer, tr: Any) -> tuple[Layer, torch.Tensor, str]:
    """The part of the model that takes float sequences, and its input."""
    layers = list(model.layers) if hasattr(model, "layers") else [model]
    rows = tr.rows
    for k, row in enumerate(rows):
        if row.input.is_floating_point() and row.input.dim() == 3:
            if k == 0:
                return model, row.input, "the model's input"
            names = [r.name for r in rows[k:]]
            by_name = {layer.name: layer for layer in layers}
            tail = _Tail([by_name[n] for n in names], getattr(row.input, "_keras_mask", None),
                         name=f"{model.name}_from_{names[0]}")
            return tail, row.input, f"the vectors {rows[k - 1].name} feeds to {names[0]}"
    raise ValueError(f"explore(): model {model.name!r} never sees a float sequence, so its "
                     "memory curve cannot be measured.")


def _memory_curves(model: Layer, tr: Any) -> dict:
    """Per sequence, the gradient memory curve of all outputs, and of each output unit."""
    target, x, wrt = _memory_target(model, tr)
    out = tr.output[0] if isinstance(tr.output, (list, tuple)) else tr.output
    n_out = int(np.prod(out.shape[2:] if out.dim() == 3 else out.shape[1:]))
    names, curves = ["all outputs"], [memory(target, x).per_sequence]
    if 1 < n_out <= _MAX_OUTPUT_CURVES:
        for k in range(n_out):
            names.append(f"output {k}")
            curves.append(memory(target, x, output=k).per_sequence)
    return {"outputs": names, "wrt": wrt, "last_step": out.dim() == 3,
            "curves": enc.pack_floats(np.stack(curves))}


def _formulas(model: Layer) -> list[str]:
    """``summary(explain=True)`` where the model has it; the table and ``explain()`` else."""
    lines: list[str] = []
    if hasattr(model, "summary"):
        try:
            model.summary(print_fn=lines.append, explain=True)
            return lines
        except TypeError:  # a functional Model: no explain= argument
            lines = []
            model.summary(print_fn=lines.append)
    return lines + explain(model).lines()


# ------------------------------------------------------------------------ encoding
def _entry_info(entry: _Entry, tier: enc.Quantized) -> dict:
    cell = entry.layer.cell
    config = cell.get_config()
    kind = next(name for cls, name in ((LSTMCell, "LSTM"), (GRUCell, "GRU"),
                                       (SimpleRNNCell, "SimpleRNN")) if isinstance(cell, cls))
    return {"label": entry.label, "layer": entry.layer.name, "cell": kind,
            "direction": entry.direction, "units": cell.units,
            "order": [int(t) for t in entry.trace.time_index],
            "activation": config.get("activation"),
            "recurrent_activation": config.get("recurrent_activation"),
            "reset_after": bool(getattr(cell, "reset_after", False)),
            "tensors": list(_tensor_names(entry)), "tier": tier.scale()}


def _tensor_names(entry: _Entry) -> tuple[str, ...]:
    order = next(v for cls, v in _TENSOR_ORDER.items() if isinstance(entry.layer.cell, cls))
    return tuple(n for n in order if n in entry.trace.states or n in entry.trace.gates)


def _detail_tensors(entry: _Entry) -> dict[str, np.ndarray]:
    """Every tensor over all sequences; states get the initial state as row 0."""
    t = entry.trace
    out = {}
    for name in _tensor_names(entry):
        values = t[name].detach().cpu().double().numpy()
        if name in t.states:
            k = entry.layer.cell.state_names.index(name)
            first = t.initial_states[k].detach().cpu().double().numpy()[:, None, :]
            values = np.concatenate([first, values], axis=1)
        out[name] = values
    return out


def _default_labels(x: np.ndarray) -> list[list[str]]:
    """Step labels from the input itself: ids, or the values of up to 3 features."""
    if x.ndim == 2:
        return [[str(int(v)) for v in row] for row in x]
    if x.shape[-1] <= 3:
        return [[",".join(f"{float(v):.3g}" for v in step) for step in row] for row in x]
    return [[str(t) for t in range(x.shape[1])] for _ in range(x.shape[0])]


def _check_labels(labels: Any, batch: int, steps: int) -> list[list[str]]:
    labels = [list(map(str, row)) for row in labels]
    if len(labels) != batch or any(len(row) != steps for row in labels):
        lengths = sorted({len(row) for row in labels})
        raise ValueError(f"explore(): labels must give one label per time step of every "
                         f"sequence, {batch} lists of {steps}; got {len(labels)} lists of "
                         f"lengths {lengths}.")
    return labels


def _page(data: dict) -> str:
    def read(name: str) -> str:
        with open(os.path.join(_PAGE_DIR, name), encoding="utf-8") as f:
            return f.read()
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    payload = payload.replace("</", "<\\/")  # no "</script>" inside the data
    title = data["title"].replace("&", "&amp;").replace("<", "&lt;")
    return (read("explorer.html").replace("__TITLE__", title)
            .replace("/*__CSS__*/", read("explorer.css"))
            .replace("/*__JS__*/", read("explorer.js"))
            .replace("__DATA__", payload))


def explore(model: Any, x: Any, labels: Any = None, path: str | os.PathLike | None = None, *,
            names: Sequence[str] | None = None, title: str | None = None,
            detail: Sequence[int] | None = None, max_bytes: int = 5_000_000,
            source: str = "") -> Exploration:
    """Write one self-contained HTML page exploring ``model`` on the sequences ``x``.

    ``model``: a ``Sequential`` (or a chain-shaped functional model, or one recurrent
    layer) with SimpleRNN, LSTM, GRU or Bidirectional layers. ``x``: the model's input,
    (sequences, steps, features) floats or (sequences, steps) ids for an Embedding.
    ``labels``: a label for every step of every sequence (the tokens of a text), shown on
    the time axis; by default the ids, or the values of up to 3 features. ``names``: one
    name per sequence. ``detail``: the sequences whose gates and cell states are stored
    (all hidden states always are), in order of preference; by default the first ones,
    as many as fit in ``max_bytes`` (at least one). ``path``: where to write the page.
    Returns an ``Exploration`` with the page's text, size and what it holds."""
    if not isinstance(model, Layer):
        raise TypeError(f"explore() takes an rnnkit model or layer, got {type(model).__name__}.")
    x_np = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if x_np.ndim not in (2, 3) or x_np.shape[0] < 1 or x_np.shape[1] < 1:
        raise ValueError(f"explore(): x must be (sequences, steps, features) or (sequences, "
                         f"steps) ids, with at least one of each; got shape {x_np.shape}.")
    batch, steps = x_np.shape[:2]
    labels = _check_labels(labels, batch, steps) if labels is not None \
        else _default_labels(x_np)
    if names is not None and len(names) != batch:
        raise ValueError(f"explore(): names must name each of the {batch} sequences; got "
                         f"{len(names)}.")
    names = [str(n) for n in names] if names is not None else \
        [f"sequence {k}" for k in range(batch)]
    with contextlib.redirect_stdout(io.StringIO()):   # trace/predict print nothing here
        entries, tr, skipped = _recurrent_entries(model, x)
        curves = _memory_curves(model, tr)
        formulas = _formulas(model)
    out = tr.output[0] if isinstance(tr.output, (list, tuple)) else tr.output
    if isinstance(out, (list, tuple)):   # Bidirectional(merge_mode=None): both directions
        out = torch.cat(list(out), dim=-1)
    sequence_output = out.dim() == 3
    if sequence_output:                  # the output after the last step, as memory() takes
        out = out[:, -1]
    out = out.detach().cpu().numpy().reshape(batch, -1)[:, :_MAX_OUTPUT_CURVES]

    layers, tier_blobs, detail_values, tier_error = [], [], [], 0.0
    for entry in entries:
        h = entry.trace.h.detach().cpu().double().numpy()
        tier = enc.quantize(h, 8)
        tier_error = max(tier_error, tier.max_error)
        info = _entry_info(entry, tier)
        values = _detail_tensors(entry)
        quantized = {name: enc.quantize(v, 16) for name, v in values.items()}
        info["detail_scale"] = {name: q.scale() for name, q in quantized.items()}
        layers.append(info)
        tier_blobs.append(enc.pack(tier.codes, time_axis=1))
        detail_values.append(quantized)
    detail_error = max(q.max_error for per in detail_values for q in per.values())
    data = {"title": title or f"What {model.name} remembers", "model": model.name,
            "source": source, "sequences": batch, "steps": steps, "labels": labels,
            "names": names, "outputs": [[float(f"{v:.6g}") for v in row] for row in out],
            "output_note": "model output after the last step" if sequence_output
            else "model output",
            "layers": layers, "skipped": skipped, "tier": tier_blobs,
            "tier_error": tier_error, "detail_error": detail_error, "memory": curves,
            "formulas": formulas, "detail": {}}
    chosen = list(range(batch)) if detail is None else [int(k) for k in detail]
    bad = [k for k in chosen if not 0 <= k < batch]
    if bad:
        raise ValueError(f"explore(): detail names sequences {bad}; there are {batch} "
                         f"(0 to {batch - 1}).")
    html = _page(data)
    size = len(html.encode("utf-8"))
    for k in chosen:
        # one stream per sequence (every layer's tensors one after the other, in the
        # order of data["layers"][l]["tensors"]): one decompression for the page
        blob = enc.deflate(b"".join(enc.delta_bytes(q.codes[k], time_axis=0)
                                    for per in detail_values for q in per.values()))
        cost = len(blob) + len(str(k)) + 6   # its JSON text
        if data["detail"] and size + cost > max_bytes:
            if detail is None:
                break
            continue
        data["detail"][str(k)] = blob
        size += cost
    html = _page(data)
    if len(html.encode("utf-8")) > max_bytes:
        warnings.warn(f"explore(): the page is {len(html.encode('utf-8')) / 1e6:.2f} MB, over "
                      f"max_bytes={max_bytes / 1e6:.2f} MB even with the gates of one sequence "
                      "only; pass fewer sequences or shorter ones.", stacklevel=2)
    if path is not None:
        from ..io.saving import atomic_write   # io sits below inspect

        def write(temp: str) -> None:
            with open(temp, "w", encoding="utf-8") as f:
                f.write(html)
        path = os.fspath(path)
        atomic_write(path, write)
    return Exploration(html, path, [e.label for e in entries],
                       sorted(int(k) for k in data["detail"]), batch, steps, data)
