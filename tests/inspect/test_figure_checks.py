"""Each figure a learner sees, rendered and checked as a reader would look at it: its size,
its labels, a legend inside the axes that covers no curve, whole-number ticks where an
axis counts steps or epochs, one title per panel, training and validation paired by colour."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from rnnkit.inspect import gates, memory, plots  # noqa: E402
from rnnkit.layers import GRU, LSTM, SimpleRNN  # noqa: E402


def _whole_ticks(axis) -> None:
    low, high = sorted(axis.get_view_interval())
    ticks = [t for t in axis.get_ticklocs() if low - 1e-9 <= t <= high + 1e-9]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def _legend_inside_and_clear(fig, ax) -> None:
    fig.canvas.draw()
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent()
    axes_box = ax.get_window_extent()
    assert axes_box.x0 - 1 <= box.x0 and box.x1 <= axes_box.x1 + 1
    assert axes_box.y0 - 1 <= box.y0 and box.y1 <= axes_box.y1 + 1
    inverse = ax.transData.inverted()
    for line in ax.get_lines():  # no data point under the legend
        xy = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
        xy = xy[np.isfinite(xy).all(axis=1)]
        under = ((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) &
                 (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1))
        if line.get_label() == "predicting 0" or line.get_linestyle() == "None":
            continue
        assert not under.any(), (line.get_label(), inverse.transform(xy[under][:1]))


def test_history_figure_one_title_paired_colours_baseline_whole_epochs():
    rng = np.random.default_rng(0)
    history = {f"{kind}: {model}": list(1.0 - 0.3 * np.linspace(0, 1, 7) + 0.05 * rng.random(7))
               for model in ("SimpleRNN", "LSTM") for kind in ("loss", "val_loss")}
    fig = plots.plot_history(SimpleNamespace(history=history), title="Recall (MSE)",
                             baseline=("predicting 0", 1.0))
    (ax,) = fig.axes
    assert fig.get_suptitle() == "Recall (MSE)" and ax.get_title() == ""  # no double title
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    colour = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert colour["loss: LSTM"] == colour["val_loss: LSTM"] != colour["loss: SimpleRNN"]
    assert colour["loss: SimpleRNN"] == colour["val_loss: SimpleRNN"]
    baseline = [line for line in ax.get_lines() if line.get_label() == "predicting 0"]
    assert len(baseline) == 1 and set(baseline[0].get_ydata()) == {1.0}
    _whole_ticks(ax.xaxis)  # 7 epochs: matplotlib alone would tick 1.5, 2.5, ...
    _legend_inside_and_clear(fig, ax)
    assert tuple(fig.get_size_inches()) == (5.5, 3.8)


def test_memory_figure_draws_the_ablation_curves_with_whole_steps():
    x = torch.randn(4, 6, 3, generator=torch.Generator().manual_seed(0))
    curves = [memory(cls(4), x, ablation=True, label=cls.__name__)
              for cls in (SimpleRNN, LSTM, GRU)]
    fig = plots.plot_memory(curves)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert sum("zeroed" in label for label in labels) == 3 and len(labels) == 6
    colours = {}
    for line in ax.get_lines():
        colours.setdefault(line.get_label().split(" ")[0].rstrip(":"), set()).add(
            line.get_color())
    assert all(len(c) == 1 for c in colours.values())  # a model's two curves share a colour
    assert "steps back" in ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    _whole_ticks(ax.xaxis)  # 6 steps: no 2.5 steps back
    fig.canvas.draw()
    legend, axes_box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert axes_box.x0 - 1 <= legend.x0 and legend.x1 <= axes_box.x1 + 1


def test_heatmaps_label_units_and_whole_time_steps():
    x = np.random.default_rng(0).normal(size=(1, 5, 3)).astype("float32")
    fig = plots.plot_gates(gates(LSTM(3), x))
    assert len(fig.axes) == 2 * 6  # i, f, c̃, o, c, h and a colour bar each
    for ax in fig.axes[::2]:
        assert ax.get_xlabel() == "time step" and ax.get_ylabel() == "unit" and ax.get_title()
        _whole_ticks(ax.xaxis)
        _whole_ticks(ax.yaxis)


def test_train_figures_have_units_and_a_legend_over_no_data(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    from rnnkit import cli

    made = []
    real_savefig = Figure.savefig

    def keep(fig, *args, **kwargs):  # look at each figure as it is written
        made.append(fig)
        return real_savefig(fig, *args, **kwargs)
    monkeypatch.setattr(Figure, "savefig", keep)
    out = tmp_path / "run"
    assert cli.main(["train", "--epochs", "3", "--units", "4", "--out", str(out),
                     "--verbose", "0"]) == 0
    loss, forecast = made
    (ax,) = loss.axes
    _whole_ticks(ax.xaxis)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["training loss"].get_color() == lines["validation loss"].get_color()
    (ax,) = forecast.axes
    assert ax.get_ylabel() == "passengers (thousands)"
    _legend_inside_and_clear(forecast, ax)
    assert json.loads((out / "report.json").read_text())["files"]["forecast_plot"]
