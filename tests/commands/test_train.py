"""`rnnkit train` on a CI-short setting: model, report and PNGs written; errors are clear."""
import json

import numpy as np
import pytest
import torch

from rnnkit import cli
from rnnkit.models import load_model


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_train_airline_short_writes_model_report_and_plots(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "airline", "--epochs", "3", "--units", "8",
                     "--out", str(out), "--verbose", "2"]) == 0
    text = capsys.readouterr().out
    assert "Epoch 1/3" in text and "Epoch 3/3" in text and "\r" not in text
    assert "Test RMSE on the last 24 values:" in text and "naive last-value forecast: 51.78" in text
    report = json.loads((out / "report.json").read_text())
    assert report["naive_rmse"] == pytest.approx(51.78, abs=0.01)
    assert report["epochs_run"] == 3 and len(report["history"]["val_loss"]) == 3
    assert np.isfinite(report["test_rmse"]) and report["transform"] == "log"
    for png in ("loss.png", "forecast.png"):
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    model = load_model(out / "model.weights.npz")  # the public loader reads rnnkit's .npz
    assert model.name == "airline_forecaster" and model.layers[0].units == 8
    with np.load(out / "model.weights.npz", allow_pickle=False) as f:
        assert "__config__" in f.files


def test_train_csv_column_with_gru_and_no_plots(tmp_path, capsys):
    path = tmp_path / "series.csv"
    t = np.arange(120)
    rows = ["day,temp,label"] + [f"d{i},{10 + 5 * np.sin(i / 6):.4f},x" for i in t]
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    cli.main(["train", "--data", str(path), "--column", "temp", "--layer", "gru",
              "--epochs", "2", "--units", "4", "--window", "8", "--out", str(out),
              "--no-plots", "--verbose", "0"])
    report = json.loads((out / "report.json").read_text())
    assert report["layer"] == "GRU" and report["test_size"] == 18
    assert not (out / "loss.png").exists()


def test_train_errors_name_the_problem(tmp_path):
    with pytest.raises(SystemExit, match="is neither 'airline', 'sunspots' nor an existing CSV"):
        cli.main(["train", "--data", str(tmp_path / "missing.csv")])
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    with pytest.raises(SystemExit, match="column 'c' not in"):
        cli.main(["train", "--data", str(path), "--column", "c"])
    with pytest.raises(SystemExit, match="column 'b' .* is not numeric"):
        cli.main(["train", "--data", str(path), "--column", "b"])
    with pytest.raises(SystemExit, match="leave too few for training"):
        cli.main(["train", "--data", str(path), "--column", "a"])


def test_train_without_matplotlib_reports_and_skips_figures(tmp_path, capsys, monkeypatch):
    import sys
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    out = tmp_path / "run"
    assert cli.main(["train", "--epochs", "2", "--units", "4", "--out", str(out),
                     "--verbose", "0"]) == 0
    text = capsys.readouterr().out
    assert "Test RMSE on the last 24 values:" in text
    assert text.strip().splitlines()[-1] == (
        'Figures skipped: they need matplotlib (pip install "rnnkit[plot]"); '
        '--no-plots silences this note.')
    report = json.loads((out / "report.json").read_text())
    assert report["files"] == {"weights": "model.weights.npz"}
    assert not (out / "loss.png").exists() and not (out / "forecast.png").exists()
