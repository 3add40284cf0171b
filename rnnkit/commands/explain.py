"""``rnnkit explain``: the learning aids run on the seed notebook's example.

1. The notebook's models with ``summary(explain=True)``: where 42 comes from.
2. A shape trace of the notebook's ``SimpleRNN`` and ``LSTM`` on its 1 × 4 × 5 ``train_X``.
3. Gates and states of an LSTM and a GRU over the four steps, hidden states of the SimpleRNN
   (``gates_lstm.png``, ``gates_gru.png``, ``hidden_states_simple_rnn.png``).
4. Memory over time of an untrained SimpleRNN, LSTM and GRU on long random sequences
   (``memory.png``): the notebook's "old memories fade", measured.
5. A short training run (plain torch, Adam) of a SimpleRNN and an LSTM asked to recall the
   first input of the sequence at the end, its curves (``training.png``) and the memory
   of the trained models (``memory_trained.png``).

Every step prints what it found; the PNGs go to ``out``.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import torch

TRAIN_X = np.array([[[0.1, 4.2, 1.5, 1.1, 2.8],
                     [1.0, 3.1, 2.5, 0.7, 1.1],
                     [0.3, 2.1, 1.5, 2.1, 0.1],
                     [2.2, 1.4, 0.5, 0.9, 1.1]]], dtype=np.float32)

FILES = ("gates_lstm.png", "gates_gru.png", "hidden_states_simple_rnn.png", "memory.png",
         "training.png", "memory_trained.png")


def _section(write: Callable[[str], Any], title: str) -> None:
    write(f"\n== {title} ==\n")


def run(out: str = "rnnkit-explain", steps: int = 40, recall_steps: int = 20,
        epochs: int = 100, seed: int = 0,
        write: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Run everything, write the PNGs into ``out``; returns the numbers it printed.

    ``steps``: length of the random sequences of the memory comparison; ``recall_steps``
    and ``epochs``: the recall task's length and training time (100 epochs of 4 batches
    of 32 take about half a minute on two CPU cores)."""
    from .. import backend, utils
    from ..layers import GRU, LSTM, Dense, SimpleRNN
    from ..models import Sequential
    from ..inspect import gates, memory, trace
    from ..inspect import plots

    write = write or (lambda text: print(text, end="", flush=True))  # shows up in a pipe too
    for name, value in (("steps", steps), ("recall-steps", recall_steps)):
        if value < 3:
            raise ValueError(f"rnnkit explain: --{name} must be at least 3, got {value}.")
    if epochs < 1:
        raise ValueError(f"rnnkit explain: --epochs must be at least 1, got {epochs}.")
    os.makedirs(out, exist_ok=True)
    backend.clear_session()
    utils.set_random_seed(seed)
    found: dict[str, Any] = {}

    # The layers are made in the order docs/learning-aids.md makes them, so that with the
    # same seed the tutorial's code draws the same weights and the same figures.
    _section(write, "1. Where the parameter counts come from (summary(explain=True))")
    for model in (Sequential([SimpleRNN(3, input_shape=(2, 10))]),
                  Sequential([SimpleRNN(3, input_length=10, input_dim=5, return_sequences=True),
                              SimpleRNN(3, return_sequences=True)]),
                  Sequential([LSTM(3, input_shape=(4, 5), return_sequences=True), GRU(3),
                              Dense(1)])):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            model.summary(explain=True)
        write(buffer.getvalue() + "\n")

    _section(write, "2. Shapes through the layers, train_X of shape (1, 4, 5)")
    write(str(trace(SimpleRNN(3), TRAIN_X)) + "\n")
    rnn = SimpleRNN(3, return_sequences=True, return_state=True)
    write(str(trace(rnn, TRAIN_X)) + "\n")

    _section(write, "3. Gates and states at every step")
    rnn_trace = gates(rnn, TRAIN_X)
    plots.plot_hidden_states(rnn_trace, path=os.path.join(out, "hidden_states_simple_rnn.png"))
    last_equal = torch.equal(rnn_trace.h[:, -1], rnn_trace.final_states[0])
    write(f"  SimpleRNN: the last hidden state equals last_states: {last_equal}\n")
    lstm = LSTM(3, return_sequences=True, return_state=True)
    lstm_trace = gates(lstm, TRAIN_X)
    write(f"{lstm_trace}\n")
    for name in ("f", "i", "o", "c"):
        write(f"  LSTM {name}, step by step (unit 0): "
              f"{[round(float(v), 3) for v in lstm_trace[name][0, :, 0]]}\n")
    plots.plot_gates(lstm_trace, path=os.path.join(out, "gates_lstm.png"))
    gru = GRU(3, return_sequences=True)
    plots.plot_gates(gates(gru, TRAIN_X), path=os.path.join(out, "gates_gru.png"))

    _section(write, f"4. Memory over time: {steps} random steps, untrained, 16 sequences")
    utils.set_random_seed(seed)
    x = torch.randn(16, steps, 4)
    curves = [memory(make(8), x, ablation=True, label=label)
              for label, make in (("SimpleRNN(8)", SimpleRNN), ("LSTM(8)", LSTM),
                                  ("GRU(8)", GRU))]
    found["memory"] = _report_curves(write, curves, steps)
    plots.plot_memory(curves, path=os.path.join(out, "memory.png"),
                      title=f"Untrained, {steps} random steps: influence of each input")

    _section(write, f"5. Training to recall the first of {recall_steps} inputs "
                    f"({epochs} epochs)")
    history: dict[str, list[float]] = {}
    trained = []
    for label, make in (("SimpleRNN", SimpleRNN), ("LSTM", LSTM)):
        utils.set_random_seed(seed)
        model = Sequential([make(8, input_shape=(recall_steps, 2)), Dense(1)],
                           name=label.lower())
        losses, val_losses = _train_recall(model, recall_steps, epochs, seed,
                                           progress=_progress(label, epochs))
        history[f"loss: {label}"] = losses
        history[f"val_loss: {label}"] = val_losses
        write(f"  {label}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
              f"val_loss {val_losses[-1]:.3f} (predicting 0 scores about 1.0)\n")
        trained.append(memory(model, _recall_batch(recall_steps, 64, seed + 1000)[0],
                              label=label))
    plots.plot_history(SimpleNamespace(history=history), path=os.path.join(out, "training.png"),
                       title=f"Recall the first of {recall_steps} inputs (mean squared error)",
                       baseline=("predicting 0", 1.0))  # the target's variance
    found["trained_memory"] = _report_curves(write, trained, recall_steps)
    found["history"] = history
    plots.plot_memory(trained, path=os.path.join(out, "memory_trained.png"),
                      title=f"After training to recall the first of {recall_steps} inputs")
    write(f"\nWrote {', '.join(FILES)} to {os.path.abspath(out)}\n")
    return found


def _report_curves(write: Callable[[str], Any], curves: list, steps: int) -> dict:
    numbers = {}
    far = min(20, steps - 1)
    for curve in curves:
        numbers[curve.label] = {
            "decay_per_step": curve.decay_per_step(),
            "retention_10": curve.retention(min(10, steps - 1)),
            f"retention_{far}": curve.retention(far)}
        write(f"  {curve.label:13s} influence shrinks ×{curve.decay_per_step():.3f} per step; "
              f"10 steps back: {curve.retention(min(10, steps - 1)):.2e}, "
              f"{far} back: {curve.retention(far):.2e} of the newest input's\n")
    return numbers


def _recall_batch(steps: int, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, 2, generator=gen)
    return x, x[:, 0, :1].clone()  # the target is the first step's first feature


def _progress(label: str, epochs: int) -> Callable[[int, float], None]:
    """Shows training progress on stderr (stdout holds the report): a counter updated in
    place on a terminal, a line at each quarter of the epochs in a log."""
    terminal = sys.stderr.isatty()
    quarters = {max(1, round(epochs * q / 4)) for q in (1, 2, 3, 4)}

    def show(epoch: int, loss: float) -> None:
        text = f"  training {label}: epoch {epoch}/{epochs}, loss {loss:.3f}"
        if terminal:
            print("\r" + text, end="\n" if epoch == epochs else "", file=sys.stderr,
                  flush=True)
        elif epoch in quarters:
            print(text, file=sys.stderr, flush=True)
    return show


def _train_recall(model: Any, steps: int, epochs: int, seed: int, batches: int = 4,
                  progress: Callable[[int, float], None] | None = None
                  ) -> tuple[list[float], list[float]]:
    """Plain torch training, the loop every PyTorch tutorial writes. Adam at 0.005 with the
    gradient norm clipped at 1: at 0.01 unclipped, the LSTM found the task and lost it again
    within a few epochs (one large gradient undoes it), which taught nothing."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    x_val, y_val = _recall_batch(steps, 128, seed + 500)
    losses, val_losses = [], []
    for epoch in range(epochs):
        total = 0.0
        for b in range(batches):
            x, y = _recall_batch(steps, 32, seed * 10_000 + epoch * batches + b)
            loss = torch.nn.functional.mse_loss(model(x, training=True), y)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += float(loss.detach())
        losses.append(total / batches)
        if progress is not None:
            progress(epoch + 1, losses[-1])
        with torch.no_grad():
            val_losses.append(float(torch.nn.functional.mse_loss(model(x_val), y_val)))
    return losses, val_losses


# ------------------------------------------------------------------------ the command line
def add_parser(commands: Any) -> None:
    """Register ``rnnkit explain`` on the CLI's subparsers."""
    from .help_format import DefaultsHelpFormatter
    summary = ("learning aids on the seed notebook's example: parameter formulas, shape "
               "traces, gates, memory over time; writes PNGs")
    parser = commands.add_parser("explain", help=summary, description=summary,
                                 formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--out", default="rnnkit-explain",
                        help="folder for the PNGs (default ./rnnkit-explain)")
    parser.add_argument("--steps", type=int, default=40,
                        help="length of the random sequences of the memory comparison")
    parser.add_argument("--recall-steps", type=int, default=20,
                        help="length of the sequences of the recall task")
    parser.add_argument("--epochs", type=int, default=100,
                        help="training epochs of the recall task (100 take about half a "
                             "minute; default 100)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def main(args: Any) -> int:
    try:
        run(args.out, steps=args.steps, recall_steps=args.recall_steps, epochs=args.epochs,
            seed=args.seed)
    except ImportError as error:  # matplotlib missing: say how to get it
        print(f"rnnkit explain: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"{error}", file=sys.stderr)
        return 2
    return 0
