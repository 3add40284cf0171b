"""Memory over time: how much each input step still moves the output at the end.

The seed notebook's remark, "RNN's problem: recent inputs weigh more, old memories
fade", made measurable. For a sequence ``x`` (batch, T, features) and the model's output
after the last step ``y`` (for a sequence output, its last step):

* **gradient**: ``‖∂y/∂x_t‖``, the Frobenius norm of the Jacobian of ``y`` with respect to
  the input at step ``t`` (all output units, all input features), averaged over the
  batch. It is exact: one backward pass per output unit.
* **ablation** (optional): replace step ``t`` of every sequence with zeros (or with the
  same step of another sequence of the batch) and measure ``‖y' − y‖``, averaged. It sees
  what the gradient cannot (saturation, large changes), at one forward pass per step.

Both are returned per input position; ``distance`` is how many steps before the end the
input was read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..layers.base import Layer

__all__ = ["MemoryCurve", "memory"]


@dataclass
class MemoryCurve:
    """Influence of each input step on the final output (index = input position).

    ``gradient`` is the batch mean; ``per_sequence`` (batch, steps) each sequence's own
    gradient curve, of which ``gradient`` is the mean."""
    label: str
    gradient: np.ndarray
    ablation: np.ndarray | None = None
    per_sequence: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.gradient)

    @property
    def distance(self) -> np.ndarray:
        """Steps between an input and the end of the sequence: ``T − 1 − t``."""
        return np.arange(self.steps)[::-1].copy()

    def relative(self, measure: str = "gradient") -> np.ndarray:
        """The curve divided by its largest value (1 = the most influential step)."""
        values = self._values(measure)
        top = float(np.max(values))
        return values / top if top > 0 else values

    def retention(self, distance: int, measure: str = "gradient") -> float:
        """Influence of the input ``distance`` steps before the end, relative to the last
        step's: 1 = remembered as well as the newest input, 0 = forgotten."""
        values = self._values(measure)
        if not 0 <= distance < self.steps:
            raise ValueError(f"retention(): distance must be in [0, {self.steps - 1}], "
                             f"got {distance}.")
        newest = float(values[-1])
        return float(values[self.steps - 1 - distance]) / newest if newest > 0 else 0.0

    def decay_per_step(self, first: int = 1, last: int | None = None,
                       measure: str = "gradient") -> float:
        """The factor the influence shrinks by per step of distance, fitted (least squares
        on the log) between distances ``first`` and ``last``: 1 = no forgetting."""
        values = self._values(measure)
        last = self.steps - 1 if last is None else last
        distance = self.distance
        keep = (distance >= first) & (distance <= last) & (values > 0)
        if keep.sum() < 2:
            raise ValueError(f"decay_per_step(): need at least two positive values between "
                             f"distances {first} and {last}.")
        slope = np.polyfit(distance[keep], np.log(values[keep]), 1)[0]
        return float(np.exp(slope))

    def _values(self, measure: str) -> np.ndarray:
        if measure == "gradient":
            return self.gradient
        if measure == "ablation":
            if self.ablation is None:
                raise ValueError(f"MemoryCurve {self.label!r} has no ablation curve; call "
                                 "memory(..., ablation=True).")
            return self.ablation
        raise ValueError(f"measure must be 'gradient' or 'ablation', got {measure!r}.")

    def __repr__(self) -> str:
        far = self.retention(self.steps - 1)
        return (f"MemoryCurve({self.label!r}, steps={self.steps}, oldest/newest gradient "
                f"ratio={far:.3g})")


def _final_output(model: Layer, x: torch.Tensor, output: int | None = None) -> torch.Tensor:
    y = model(x, training=False)
    if isinstance(y, (list, tuple)):  # return_state: the output comes first
        y = y[0]
        if isinstance(y, (list, tuple)):  # Bidirectional merge_mode=None: [forward, backward]
            y = torch.cat(list(y), dim=-1)
    if y.dim() == 3:  # return_sequences: the output after the last step
        y = y[:, -1]
    y = y.reshape(y.shape[0], -1)
    return y if output is None else y[:, output:output + 1]


def memory(model: Any, x: Any, ablation: bool = False, replace: str = "zeros",
           label: str | None = None, output: int | None = None) -> MemoryCurve:
    """Influence of every step of ``x`` (batch, time, features) on ``model``'s final output.

    ``model`` is a ``Sequential`` or a layer taking float sequences (an ``Embedding``'s ids
    have no gradient: pass the embedded vectors to the layers after it).
    ``ablation=True`` adds the ablation curve; ``replace`` is ``"zeros"`` or ``"shuffle"``
    (the same step of another sequence of the batch). ``output=k`` measures the influence
    on output unit ``k`` alone instead of on all output units. Inference mode; the model's
    weights and stored states are left as they were."""
    if not isinstance(model, Layer):
        raise TypeError(f"memory() takes an rnnkit model or layer, got {type(model).__name__}.")
    if replace not in ("zeros", "shuffle"):
        raise ValueError(f"memory(): replace must be 'zeros' or 'shuffle', got {replace!r}.")
    x = model._to_tensor(x)
    if output is not None and (not isinstance(output, (int, np.integer)) or output < 0):
        raise ValueError(f"memory(): output must be a non-negative unit index or None, got "
                         f"{output!r}.")
    if not x.is_floating_point() or x.dim() != 3:
        raise ValueError(f"memory(): model {model.name!r} needs a float (batch, time, features) "
                         f"input; got a {x.dtype} tensor of shape {tuple(x.shape)}. An "
                         "Embedding's integer ids have no gradient: pass the embedded vectors "
                         "to the layers after it.")
    saved = _save_states(model)
    try:
        per_sequence = _gradient_curves(model, x, output)
        ablated = _ablation_curve(model, x, replace, output) if ablation else None
    finally:
        _restore_states(saved)
    return MemoryCurve(label or model.name, per_sequence.mean(axis=0), ablated, per_sequence)


def _gradient_curves(model: Layer, x: torch.Tensor, output: int | None) -> np.ndarray:
    """Each sequence's gradient norms, (batch, steps)."""
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = _final_output(model, x, output)
        if y.shape[1] == 0:
            raise ValueError(f"memory(): output {output} is out of range for model "
                             f"{model.name!r}.")
        squares = torch.zeros(x.shape[0], x.shape[1], dtype=x.dtype, device=x.device)
        for k in range(y.shape[1]):
            # Samples are independent, so the gradient of the batch sum is each sample's own.
            (g,) = torch.autograd.grad(y[:, k].sum(), x, retain_graph=k + 1 < y.shape[1])
            squares += g.pow(2).sum(dim=-1)
    return squares.sqrt().detach().cpu().double().numpy()


def _ablation_curve(model: Layer, x: torch.Tensor, replace: str,
                    output: int | None) -> np.ndarray:
    batch, steps = x.shape[:2]
    if replace == "shuffle" and batch < 2:
        raise ValueError("memory(): replace='shuffle' needs a batch of at least 2 sequences.")
    donor = torch.zeros_like(x) if replace == "zeros" else x.roll(1, dims=0)
    out = np.zeros(steps)
    with torch.no_grad():
        base = _final_output(model, x, output)
        for t in range(steps):
            moved = x.clone()
            moved[:, t] = donor[:, t]
            out[t] = float((_final_output(model, moved, output) - base).norm(dim=-1).mean())
    return out


def _save_states(model: Layer) -> list:
    return [(m, list(m._stored_states)) for m in model.modules()
            if getattr(m, "stateful", False) and getattr(m, "_stored_states", None) is not None]


def _restore_states(saved: list) -> None:
    for module, states in saved:
        module._stored_states = states
