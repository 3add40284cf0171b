"""The figures: returned, labelled, not empty, written as PNGs; matplotlib only on demand."""
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from rnnkit import utils
from rnnkit.inspect import MemoryCurve, gates
from rnnkit.layers import GRU, LSTM, SimpleRNN

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # headless, whatever the environment says
from matplotlib.image import imread  # noqa: E402

from rnnkit.inspect import plots  # noqa: E402

X = np.random.default_rng(0).normal(size=(2, 6, 3)).astype(np.float32)


def _check_png(path):
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def _labelled(fig):
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert axes
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    return axes


def test_import_rnnkit_does_not_import_matplotlib():
    code = ("import sys, rnnkit, rnnkit.inspect, rnnkit.cli; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("make, panels", [(lambda: LSTM(3), 6), (lambda: GRU(3), 4),
                                          (lambda: SimpleRNN(3), 2)])
def test_plot_gates_one_panel_per_gate_and_state(tmp_path, make, panels):
    utils.set_random_seed(0)
    trace = gates(make(), X)
    fig = plots.plot_gates(trace, sample=1, path=tmp_path / "g.png")
    axes = _labelled(fig)
    assert len(axes) == panels
    for ax in axes:
        image = ax.get_images()[0].get_array()
        assert image.shape == (3, 6)  # units × time
    # The first panel shows the recorded values of sequence 1, transposed.
    first = list(trace.gates)[0]
    np.testing.assert_allclose(np.asarray(axes[0].get_images()[0].get_array()),
                               trace[first][1].numpy().T, rtol=1e-6)
    _check_png(tmp_path / "g.png")


def test_plot_hidden_states_from_trace_and_array(tmp_path):
    utils.set_random_seed(0)
    layer = SimpleRNN(4, return_sequences=True)
    fig = plots.plot_hidden_states(gates(layer, X), path=str(tmp_path / "h.png"))
    (ax,) = _labelled(fig)
    assert ax.get_images()[0].get_array().shape == (4, 6)
    _check_png(tmp_path / "h.png")
    fig2 = plots.plot_hidden_states(layer(X))
    np.testing.assert_allclose(np.asarray(fig2.axes[0].get_images()[0].get_array()),
                               layer(X)[0].detach().numpy().T, rtol=1e-6)
    with pytest.raises(ValueError, match=r"got shape \(6,\)"):
        plots.plot_hidden_states(np.zeros(6))


def test_plot_memory_several_curves(tmp_path):
    curves = [MemoryCurve("a", 0.5 ** np.arange(10)[::-1]),
              MemoryCurve("b", 0.8 ** np.arange(10)[::-1])]
    fig = plots.plot_memory(curves, path=tmp_path / "m.png")
    (ax,) = _labelled(fig)
    lines = ax.get_lines()
    assert len(lines) == 2 and all(len(line.get_xdata()) == 10 for line in lines)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "a (×0.50 per step)", "b (×0.80 per step)"]
    assert ax.get_yscale() == "log"
    _check_png(tmp_path / "m.png")
    with pytest.raises(ValueError, match="at least one MemoryCurve"):
        plots.plot_memory([])


def test_plot_history_from_a_history_like_object(tmp_path):
    history = SimpleNamespace(history={"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
                                       "mae": [0.9, 0.7, 0.5]})
    fig = plots.plot_history(history, path=tmp_path / "t.png")
    loss_ax, metric_ax = _labelled(fig)
    assert [line.get_label() for line in loss_ax.get_lines()] == ["loss", "val_loss"]
    assert loss_ax.get_lines()[1].get_linestyle() == "--"
    assert list(metric_ax.get_lines()[0].get_ydata()) == [0.9, 0.7, 0.5]
    _check_png(tmp_path / "t.png")
    assert len(plots.plot_history({"loss": [1, 2]}).axes) == 1


def test_plot_errors():
    with pytest.raises(TypeError, match=r"plot_gates\(\) takes the result of "
                                        r"rnnkit.inspect.gates\(\), got ndarray"):
        plots.plot_gates(np.zeros((1, 2, 3)))
    with pytest.raises(TypeError, match=r"plot_history\(\) takes a History .* got list"):
        plots.plot_history([1, 2])
    with pytest.raises(ValueError, match=r"sample must be in \[0, 1\] .* got 2"):
        plots.plot_gates(gates(LSTM(2), X), sample=2)


def test_save_figure_is_atomic_and_leaves_no_temporary_files(tmp_path):
    fig = plots.plot_history({"loss": [1.0, 0.5]})
    target = tmp_path / "sub" / "fig.png"
    assert plots.save_figure(fig, target) == str(target)
    assert [p.name for p in target.parent.iterdir()] == ["fig.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
