"""Figures for the learning aids (matplotlib: ``pip install "rnnkit[plot]"``).

matplotlib is imported when a plot is asked for, never by ``import rnnkit``. Each function
builds a ``matplotlib.figure.Figure`` directly (no pyplot, so no GUI backend and no global
figure state: it works headless), returns it, and writes a PNG when given ``path``.

* ``plot_hidden_states(trace)``: the hidden state, units × time, as a heatmap;
* ``plot_gates(trace)``: every gate and state of one sequence, a heatmap each;
* ``plot_memory(curves)``: memory curves of several models on one chart;
* ``plot_history(history)``: training curves from a ``History`` (anything with a
  ``.history`` dict of lists, or the dict itself).
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["plot_hidden_states", "plot_gates", "plot_memory", "plot_history", "save_figure"]

# What each recorded value is called on a figure, and its colour range.
_LABELS = {
    "i": ("input gate i", (0.0, 1.0)), "f": ("forget gate f", (0.0, 1.0)),
    "o": ("output gate o", (0.0, 1.0)), "c_tilde": (r"candidate $\tilde{c}$", (-1.0, 1.0)),
    "c": ("cell state c", None), "h": ("hidden state h", (-1.0, 1.0)),
    "z": ("update gate z", (0.0, 1.0)), "r": ("reset gate r", (0.0, 1.0)),
    "h_tilde": (r"candidate $\tilde{h}$", (-1.0, 1.0)),
    "pre_activation": ("pre-activation", None),
}
_ANNOTATE_MAX = 12 * 24  # cells: beyond this, numbers in the squares get unreadable


def _figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("rnnkit's plots need matplotlib: pip install \"rnnkit[plot]\" "
                          "(or pip install matplotlib).") from None
    return Figure(**kwargs)


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 100) -> str:
    """Write ``fig`` as a PNG at ``path`` atomically (a temporary file, then a rename)."""
    from .._files import atomic_write

    path = os.fspath(path)
    atomic_write(path, lambda temp: fig.savefig(temp, format="png", dpi=dpi,
                                                bbox_inches="tight"))
    return path


def _numpy(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def _heatmap(fig: Any, ax: Any, values: np.ndarray, title: str, limits: Any,
             time_labels: Sequence[int], annotate: bool | None) -> None:
    """``values`` (steps, units) drawn units × time."""
    data = values.T
    vmin, vmax = limits if limits else (np.nanmin(data), np.nanmax(data))
    if not np.isfinite(vmin) or vmin == vmax:
        vmin, vmax = (vmin - 1, vmax + 1) if np.isfinite(vmin) else (-1, 1)
    cmap = "viridis" if limits == (0.0, 1.0) else "RdBu_r"
    if cmap == "RdBu_r" and not limits:  # symmetric around 0 so white means zero
        bound = max(abs(vmin), abs(vmax))
        vmin, vmax = -bound, bound
    image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=cmap, vmin=vmin,
                      vmax=vmax, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel("time step")
    ax.set_ylabel("unit")
    ax.set_xticks(range(data.shape[1]))
    ax.set_xticklabels([str(t) for t in time_labels])
    ax.set_yticks(range(data.shape[0]))
    if data.shape[1] > 20:  # keep the tick labels apart on long sequences
        ax.xaxis.set_major_locator(_max_n_locator())
    if data.shape[0] > 16:
        ax.yaxis.set_major_locator(_max_n_locator())
    ax.set_facecolor("#dddddd")  # masked steps (NaN) show as grey
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if annotate is None:
        annotate = data.size <= _ANNOTATE_MAX
    if annotate:
        for (u, t), v in np.ndenumerate(data):
            if np.isfinite(v):
                # white on the dark ends of each colour map, black elsewhere
                if cmap == "RdBu_r":
                    dark = abs(v) > 0.6 * max(abs(vmin), abs(vmax))
                else:
                    dark = v < vmin + 0.55 * (vmax - vmin)
                ax.text(t, u, f"{v:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")


def _panel_size(steps: int, units: int) -> tuple[float, float]:
    """Inches for one heatmap: squares readable on short sequences, bounded on long ones."""
    return (min(max(4.0, 0.55 * steps + 2.5), 9.0), min(max(2.4, 0.35 * units + 1.6), 6.0))


def _max_n_locator() -> Any:
    from matplotlib.ticker import MaxNLocator
    return MaxNLocator(nbins=10, integer=True)


def _trace_parts(trace: Any, sample: int) -> tuple[str, list[int]]:
    batch = trace.outputs.shape[0]
    if not 0 <= sample < batch:
        raise ValueError(f"sample must be in [0, {batch - 1}] for this trace of "
                         f"{trace.layer_name!r}, got {sample}.")
    return trace.layer_name, [int(t) for t in trace.time_index]


def plot_hidden_states(trace: Any, sample: int = 0, path: str | None = None,
                       annotate: bool | None = None, title: str | None = None) -> Any:
    """The hidden state ``h`` of one sequence of a ``gates()`` trace: units × time.

    ``trace`` may also be a (batch, time, units) or (time, units) array of outputs
    (a layer's ``return_sequences=True`` output)."""
    if hasattr(trace, "states"):
        name, times = _trace_parts(trace, sample)
        values = _numpy(trace.h[sample])
    else:
        values = _numpy(trace)
        if values.ndim == 3:
            values = values[sample]
        if values.ndim != 2:
            raise ValueError("plot_hidden_states() takes a gates() trace or a (batch, time, "
                             f"units) / (time, units) array; got shape {values.shape}.")
        name, times = "hidden states", list(range(values.shape[0]))
    fig = _figure(figsize=_panel_size(len(times), values.shape[1]))
    ax = fig.add_subplot(1, 1, 1)
    _heatmap(fig, ax, values, title or f"{name}: hidden state h over time", (-1.0, 1.0),
             times, annotate)
    if path:
        save_figure(fig, path)
    return fig


def plot_gates(trace: Any, sample: int = 0, path: str | None = None,
               annotate: bool | None = None) -> Any:
    """Every gate and state a ``gates()`` trace recorded for one sequence, a heatmap each
    (units × time; gates on 0..1, tanh values on −1..1; masked steps grey)."""
    if not hasattr(trace, "gates"):
        raise TypeError(f"plot_gates() takes the result of rnnkit.inspect.gates(), got "
                        f"{type(trace).__name__}.")
    name, times = _trace_parts(trace, sample)
    panels = list(trace.gates) + [s for s in ("c", "h") if s in trace.states]
    cols = 2 if len(panels) > 2 else len(panels)
    rows = -(-len(panels) // cols)
    units = trace.outputs.shape[-1]
    width, height = _panel_size(len(times), units)
    fig = _figure(figsize=(width * cols, height * rows + 0.6), layout="constrained")
    fig.suptitle(f"{name} ({trace.cell_name}): gates and states over time, sequence {sample}")
    for k, key in enumerate(panels):
        label, limits = _LABELS.get(key, (key, None))
        ax = fig.add_subplot(rows, cols, k + 1)
        _heatmap(fig, ax, _numpy(trace[key][sample]), label, limits, times, annotate)
    if path:
        save_figure(fig, path)
    return fig


def plot_memory(curves: Any, measure: str = "gradient", path: str | None = None,
                log: bool = True, title: str | None = None) -> Any:
    """Memory curves of several models on one chart: influence of an input on the final
    output (relative to the most influential step) against its distance from the end."""
    if hasattr(curves, "gradient"):
        curves = [curves]
    curves = list(curves.values()) if isinstance(curves, Mapping) else list(curves)
    if not curves:
        raise ValueError("plot_memory() needs at least one MemoryCurve.")
    fig = _figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ablations = measure == "gradient" and any(c.ablation is not None for c in curves)
    for k, curve in enumerate(curves):
        colour = f"C{k}"
        drawn = [(measure, "-", "o", f"{curve.label} (×{curve.decay_per_step(measure=measure):.2f}"
                  " per step)")]
        if ablations and curve.ablation is not None:  # the same model, measured the other way
            drawn.append(("ablation", ":", "s", f"{curve.label}: x_t zeroed instead"))
        for which, style, marker, label in drawn:
            values = curve.relative(which)
            distance = curve.distance
            if log:
                keep = values > 0
                distance, values = distance[keep], values[keep]
            ax.plot(distance, values, linestyle=style, marker=marker, markersize=3, color=colour,
                    label=label)
    if log:
        ax.set_yscale("log")
    what = "‖∂ output / ∂ x_t‖" if measure == "gradient" else "‖output change‖ when x_t is zeroed"
    if ablations:  # solid: the gradient; dotted: the output change when x_t is zeroed
        what = "influence of x_t on the output"
    ax.set_xlabel("distance from the last step (steps back)")
    ax.xaxis.set_major_locator(_max_n_locator())  # whole steps: never 2.5 steps back
    ax.set_ylabel(f"{what}\n(relative to the largest)")
    ax.set_title(title or "How much each input still moves the final output")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8 if ablations else None)
    if path:
        save_figure(fig, path)
    return fig


def _series_key(key: str) -> str:
    """The curve a log belongs to, training and validation alike: 'val_loss: LSTM' and
    'loss: LSTM' share the colour of LSTM; 'val_mae' and 'mae' that of mae."""
    base, _, model = key.partition(": ")
    return model or base.removeprefix("val_")


def plot_history(history: Any, path: str | None = None, title: str | None = None,
                 baseline: tuple[str, float] | None = None) -> Any:
    """Training curves from a ``History`` (``.history``: a dict of per-epoch lists) or the
    dict itself: losses on the left, other metrics on the right; training solid, ``val_``
    dashed in the same colour. ``baseline=("predicting 0", 1.0)`` draws a reference loss
    as a grey dotted line."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise TypeError("plot_history() takes a History (an object with a `.history` dict of "
                        f"lists) or such a dict; got {type(history).__name__}.")
    losses = [k for k in logs if "loss" in k]
    metrics = [k for k in logs if k not in losses]
    panels = [p for p in (losses, metrics) if p]
    colours = {s: f"C{k}" for k, s in enumerate(dict.fromkeys(map(_series_key, logs)))}
    fig = _figure(figsize=(5.5 * len(panels), 3.8), layout="constrained")
    if title:
        fig.suptitle(title)
    for k, keys in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        for key in keys:
            values = _numpy(logs[key])
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, linestyle="--" if "val_" in key else "-",
                    color=colours[_series_key(key)], linewidth=1.2 if "val_" in key else 1.0,
                    marker="o" if len(values) <= 30 else None, markersize=3, label=key)
        if baseline is not None and keys is losses:
            ax.axhline(baseline[1], color="0.45", linestyle=":", linewidth=1.5,
                       label=baseline[0])
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(_max_n_locator())  # whole epochs: never epoch 1.25
        ax.set_ylabel("loss" if keys is losses else "metric")
        if not title or len(panels) > 1:  # one panel under a figure title needs no second one
            ax.set_title("loss" if keys is losses else "metrics")
        ax.grid(True, alpha=0.3)
        _legend_above_the_data(ax)
    if path:
        save_figure(fig, path)
    return fig


def _legend_above_the_data(ax: Any, columns: int = 2) -> None:
    """The legend inside the axes, in headroom added above the curves, so it covers none."""
    low, high = ax.get_ylim()
    handles = len(ax.get_legend_handles_labels()[0])
    rows = -(-handles // columns)
    if ax.get_yscale() == "log":
        ax.set_ylim(low, high * 10 ** (0.12 * rows * np.log10(max(high / low, 10.0))))
    else:
        ax.set_ylim(low, high + (high - low) * 0.11 * rows)
    ax.legend(loc="upper center", ncol=columns, fontsize=8, framealpha=0.9)
