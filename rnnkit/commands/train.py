"""``rnnkit train``: fit a one-step-ahead forecaster on a bundled series or a CSV column.

The recipe is the tutorial's: the series is (log-)transformed when it is positive, turned into
step-to-step changes, standardised on the training part, cut into windows of ``--window``
changes, and a ``layer(units) + Dense(1)`` model learns the next change with Adam, a 20%
validation split and early stopping. The last ``--test-size`` values are held out: each is
forecast from the actual values before it, and the error is compared with the naive
last-value forecast. The model (weights + config, pickle-free ``.npz``), a JSON report and
two PNGs (loss curves; forecast against actual) go to ``--out``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
from typing import Any

import numpy as np

from .help_format import DefaultsHelpFormatter

LAYERS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "train", help="train a forecaster on a bundled series or a CSV column",
        description=__doc__.replace("``", "").split("\n\n")[0],
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--data", default="airline",
                        help="the series: airline, sunspots or the path of a CSV file")
    parser.add_argument("--column", help="the CSV column to forecast (default: the last "
                                         "numeric column)")
    parser.add_argument("--layer", choices=sorted(LAYERS), default="lstm",
                        help="the recurrent layer before the Dense(1) head")
    parser.add_argument("--units", type=int, default=32, help="units of the recurrent layer")
    parser.add_argument("--window", type=int, default=12,
                        help="input steps per forecast (how far back the model looks)")
    parser.add_argument("--epochs", type=int, default=150,
                        help="most epochs to train (early stopping may end sooner)")
    parser.add_argument("--batch-size", type=int, default=16, help="windows per training step")
    parser.add_argument("--learning-rate", type=float, default=0.01, help="Adam's learning rate")
    parser.add_argument("--patience", type=int, default=15,
                        help="early-stopping patience in epochs (0: no early stopping)")
    parser.add_argument("--test-size", type=int, default=None,
                        help="held-out values at the end (default: 24 for airline, else 15%%)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (weights, shuffling)")
    parser.add_argument("--out", default="rnnkit-train",
                        help="output folder (model, report.json, figures)")
    parser.add_argument("--no-plots", action="store_true",
                        help="skip the PNG figures (they need matplotlib)")
    parser.add_argument("--verbose", default="auto",
                        help="progress: 0 silent, 1 bar, 2 a line per epoch, auto (Keras's)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (small recurrent models train fastest on one "
                             "thread, and never stall on a busy machine)")
    parser.add_argument("--nproc", type=int, default=1,
                        help="data-parallel processes on this machine (torch.distributed.run "
                             "with gloo on CPU; --batch-size is the global batch)")
    return parser


def _launch(args: argparse.Namespace, argv: list[str]) -> dict:
    """Run this command again under ``torch.distributed.run`` with ``--nproc`` workers."""
    import socket
    import subprocess
    import sys
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node",
               str(args.nproc), "--master_addr", "127.0.0.1", "--master_port", str(port),
               "-m", "rnnkit", "train", *argv]
    done = subprocess.run(command)
    if done.returncode != 0:
        raise SystemExit(f"rnnkit train --nproc {args.nproc}: a worker failed "
                         f"(exit status {done.returncode}).")
    with open(os.path.join(args.out, "report.json")) as f:
        return json.load(f)


def _argv_without_nproc(args: argparse.Namespace) -> list[str]:
    argv = []
    for action_dest, value in vars(args).items():
        if action_dest in ("nproc", "command") or value is None or value is False:
            continue
        flag = "--" + action_dest.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return argv


def load_values(data: str, column: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(time labels, float values, name) from a bundled name or a CSV file."""
    from .. import datasets
    if data in ("airline", "sunspots"):
        series = datasets.load_series(data)
        return series.time, series.values.astype("float64"), data
    if not os.path.isfile(data):
        raise SystemExit(f"rnnkit train: --data {data!r} is neither 'airline', 'sunspots' nor "
                         "an existing CSV file.")
    with open(data, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"rnnkit train: {data!r} has no data rows.")
    header = list(rows[0])

    def numeric(name: str) -> bool:
        try:
            [float(r[name]) for r in rows]
            return True
        except (TypeError, ValueError):
            return False
    if column is None:
        candidates = [h for h in header if numeric(h)]
        if not candidates:
            raise SystemExit(f"rnnkit train: {data!r} has no numeric column; columns: {header}.")
        column = candidates[-1]
    elif column not in header:
        raise SystemExit(f"rnnkit train: column {column!r} not in {data!r}; columns: {header}.")
    elif not numeric(column):
        raise SystemExit(f"rnnkit train: column {column!r} of {data!r} is not numeric.")
    values = np.array([float(r[column]) for r in rows])
    others = [h for h in header if h != column]
    time = np.array([r[others[0]] for r in rows]) if others else \
        np.arange(len(values)).astype(str)
    return time, values, column


def run(args: argparse.Namespace) -> dict:
    import torch

    nproc = getattr(args, "nproc", 1)
    if nproc < 1:
        raise SystemExit(f"rnnkit train: --nproc must be >= 1, got {nproc}.")
    if nproc > 1 and "RANK" not in os.environ:
        return _launch(args, _argv_without_nproc(args))
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from .. import callbacks, datasets, optimizers, utils
    from ..layers import GRU, LSTM, Dense, SimpleRNN
    from ..models import Sequential
    from ..training import distributed

    time, values, name = load_values(args.data, args.column)
    test_size = args.test_size if args.test_size is not None else (
        24 if args.data == "airline" else max(1, int(round(0.15 * len(values)))))
    window = args.window
    if len(values) - test_size < window + 10:
        raise SystemExit(f"rnnkit train: {len(values)} values leave too few for training with "
                         f"--window {window} and --test-size {test_size}.")
    utils.set_random_seed(args.seed)
    use_log = bool(np.all(values > 0))
    level = np.log(values) if use_log else values
    change = np.diff(level)                    # change[i] = level[i+1] - level[i]
    train_end = len(change) - test_size        # changes up to here are training targets
    mean, std = float(change[:train_end].mean()), float(change[:train_end].std() or 1.0)
    z = ((change - mean) / std).astype("float32")[:, None]
    x = np.stack([z[i:i + window] for i in range(len(z) - window)])
    y = z[window:]
    x_train, y_train, x_test = x[:-test_size], y[:-test_size], x[-test_size:]

    layer_cls = {"lstm": LSTM, "gru": GRU, "simplernn": SimpleRNN}[args.layer]
    model = Sequential([layer_cls(args.units, input_shape=(window, 1)), Dense(1)],
                       name=f"{name}_forecaster")
    model.compile(optimizer=optimizers.Adam(args.learning_rate), loss="mse")
    cbs = [callbacks.EarlyStopping(patience=args.patience, restore_best_weights=True)] \
        if args.patience > 0 else []
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    rank_zero = distributed.is_rank_zero() and os.environ.get("RANK", "0") == "0"
    if rank_zero:
        print(f"Training {LAYERS[args.layer]}({args.units}) on {name!r}: {len(values)} values, "
          f"window {window}, {len(x_train)} training windows (20% for validation), "
          f"last {test_size} values held out.")
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=0.2, callbacks=cbs, verbose=verbose)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    if not rank_zero:
        return {}  # data-parallel worker: rank 0 holds the same weights and reports

    predicted = model.predict(x_test, verbose=0)[:, 0] * std + mean
    previous_level = level[-test_size - 1:-1]
    forecast_level = previous_level + predicted
    forecast = np.exp(forecast_level) if use_log else forecast_level
    actual = values[-test_size:]
    naive = values[-test_size - 1:-1]
    rmse = float(np.sqrt(np.mean((forecast - actual) ** 2)))
    naive_rmse = float(np.sqrt(np.mean((naive - actual) ** 2)))
    mae = float(np.mean(np.abs(forecast - actual)))
    naive_mae = float(np.mean(np.abs(naive - actual)))

    os.makedirs(args.out, exist_ok=True)
    weights_path = os.path.join(args.out, "model.weights.npz")
    model.save(weights_path)  # rnnkit's .npz: config and weights (rnnkit.io.native)
    report = {
        "data": name, "layer": LAYERS[args.layer], "units": args.units, "window": window,
        "epochs_run": len(history.epoch), "test_size": test_size,
        "transform": "log" if use_log else "none", "change_mean": mean, "change_std": std,
        "test_rmse": rmse, "naive_rmse": naive_rmse, "test_mae": mae, "naive_mae": naive_mae,
        "history": history.history, "model_config": model.get_config(),
        "files": {"weights": "model.weights.npz"},
    }
    plots_note = None
    if not args.no_plots:
        unit = datasets.load_series(args.data).unit if args.data in ("airline", "sunspots") \
            else name
        try:
            report["files"].update(_plots(args.out, name, time, values, history.history,
                                          forecast, test_size, unit))
        except ImportError:  # matplotlib is an extra: the model and report matter more
            plots_note = ("Figures skipped: they need matplotlib "
                          "(pip install \"rnnkit[plot]\"); --no-plots silences this note.")
    _write_json(os.path.join(args.out, "report.json"), report)

    better = (1 - rmse / naive_rmse) * 100 if naive_rmse else 0.0
    print(f"Test RMSE on the last {test_size} values: {rmse:.4g} "
          f"(naive last-value forecast: {naive_rmse:.4g}; "
          f"{abs(better):.0f}% {'better' if better >= 0 else 'worse'}).")
    print(f"Saved to {args.out}/: " + ", ".join(sorted(report["files"].values())) +
          ", report.json")
    if plots_note:
        print(plots_note)
    return report


def _write_json(path: str, obj: Any) -> None:
    from .._files import atomic_write

    def write(temp: str) -> None:
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, default=float)
    atomic_write(path, write)


def _plots(out: str, name: str, time, values, history: dict, forecast, test_size,
           unit: str = "value") -> dict:
    import matplotlib
    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from .._files import atomic_write

    files = {}
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], color="C0", label="training loss")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], color="C0", ls="--", label="validation loss")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
    ax.set_ylabel("MSE (standardised changes)")
    ax.set_title(f"{name}: loss curves")
    ax.legend()
    fig.tight_layout()
    atomic_write(os.path.join(out, "loss.png"), lambda t: fig.savefig(t, format="png", dpi=100))
    plt.close(fig)
    files["loss_plot"] = "loss.png"

    fig, ax = plt.subplots(figsize=(9, 4))
    idx = np.arange(len(values))
    ax.plot(idx, values, color="0.3", lw=1.2, label="actual")
    ax.plot(idx[-test_size:], forecast, color="tab:red", lw=1.8, marker="o", ms=3,
            label="one-step forecast")
    ax.plot(idx[-test_size:], values[-test_size - 1:-1], color="tab:blue", lw=1, ls="--",
            label="naive (last value)")
    ax.axvspan(idx[-test_size] - 0.5, idx[-1] + 0.5, color="0.9", zorder=0,
               label="held-out test period")
    ticks = np.linspace(0, len(values) - 1, min(8, len(values))).astype(int)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(time[i]) for i in ticks], rotation=0)
    ax.set_title(f"{name}: forecast against actual")
    ax.set_ylabel(unit)
    low, high = ax.get_ylim()  # headroom above the data: the legend sits there, over nothing
    ax.set_ylim(low, high + 0.22 * (high - low))
    ax.legend(loc="upper center", ncol=4, fontsize=8, framealpha=0.9)
    fig.tight_layout()
    atomic_write(os.path.join(out, "forecast.png"),
                 lambda t: fig.savefig(t, format="png", dpi=100))
    plt.close(fig)
    files["forecast_plot"] = "forecast.png"
    return files
