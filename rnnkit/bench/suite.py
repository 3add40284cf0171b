"""Side-by-side speed of rnnkit's layers against plain PyTorch (and Keras when installed).

Every row times rnnkit and its peers in the same run, interleaved (A, B, A, B, ...), and
reports medians and the ratio rnnkit / peer: the machines are shared and noisy, so only
ratios measured together mean anything. Workloads are (batch, timesteps, features, units):

    W1 (1, 4, 5, 3)        the seed's tiny case: one layer call (autograd on)
    W2 (32, 64, 8, 64)     forecasting: a training step (forward, backward, Adam)
    W3 (64, 200, 128, 128) text classification: a training step
    W4 (64, 100, 512, 512) a training step
    W5 (16, 1024, 768, 768) GPU only: a training step
    W6 (1, 2000, 256, 256) streaming inference: forward without autograd
    W7 (1, 1, 64, 256)     streaming one step per call: a stateful layer (batch 1) called on
                           each new step without autograd; torch's peer is nn.LSTMCell (or
                           nn.GRUCell, nn.RNNCell) carrying its state by hand
    W3m                    W3 with variable lengths (half to all of the steps, right-padded):
                           rnnkit with a Keras mask, torch with packed sequences
    CL  (8, 10, 1, 40)     ConvLSTM2D on 10 frames of 40x40x1, 40 filters, 3x3: a training
                           step against a hand-written torch ConvLSTM (``convlstm.py``)

Usage: ``rnnkit bench [--workloads W1 W2] [--cells lstm gru simple_rnn] [--repeats 7]
[--threads N] [--json out.json] [--device cpu|cuda] [--peer LABEL=PYTHON[:BACKEND]]``
(or ``python benchmarks/run.py ...`` from a checkout).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from ..layers import GRU, LSTM, Dense, SimpleRNN
from . import convlstm
from .peer_process import run_peer_script

WORKLOADS = {
    "W1": ((1, 4, 5, 3), "call"),
    "W2": ((32, 64, 8, 64), "train"),
    "W3": ((64, 200, 128, 128), "train"),
    "W4": ((64, 100, 512, 512), "train"),
    "W5": ((16, 1024, 768, 768), "train"),
    "W6": ((1, 2000, 256, 256), "infer"),
    "W7": ((1, 1, 64, 256), "stream"),
    "W3m": ((64, 200, 128, 128), "train"),
    "CL": ((8, 10, 1, 40), "train"),   # D: input channels, H: filters (convlstm.py)
}
MASKED = {"W3m"}   # variable-length workloads
WHAT = {  # one line per workload, for the help and the table's legend
    "W1": "the seed's tiny case: one layer call (autograd on)",
    "W2": "forecasting: a training step (forward, backward, Adam)",
    "W3": "text classification: a training step",
    "W4": "large layers: a training step",
    "W5": "GPU only: a long training step",
    "W6": "streaming inference: forward without autograd",
    "W7": "streaming one step per call: a stateful layer (batch 1), against nn.LSTMCell, "
          "nn.GRUCell or nn.RNNCell",
    "W3m": "W3 with lengths 100-200: rnnkit with a Keras mask, torch with packed sequences",
    "CL": convlstm.WHAT,
}
QUICK = {"workloads": ["W1", "W2"], "repeats": 3}  # about half a minute on 2 CPU cores
# Below this, the matmul floor and the share of peak are noise (call overhead dominates).
TINY_FLOOR_MS = 0.05


def _lengths(batch: int, steps: int, device) -> torch.Tensor:
    """Each sequence's length, from half the steps to all of them (fixed across runs)."""
    generator = torch.Generator().manual_seed(0)
    return torch.randint(steps // 2, steps + 1, (batch,), generator=generator).to(device)
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}
RNNKIT = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}
TORCH = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "simple_rnn": torch.nn.RNN}
TORCH_CELLS = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "simple_rnn": torch.nn.RNNCell}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def forward_flops(cell: str, shape: tuple[int, int, int, int]) -> float:
    batch, steps, features, units = shape
    return 2.0 * GATES[cell] * units * (features + units) * batch * steps


def train_floor_flops(cell: str, shape: tuple[int, int, int, int]) -> float:
    """The matrix products any implementation of one training step must do, in FLOPs.

    Input projection and recurrence forward, the gradient back through the recurrence (none
    into the initial state: it needs no gradient), and the two weight gradients; no input
    gradient (the benchmark's inputs need none, and neither rnnkit nor torch computes one).
    Divided by the measured matmul peak this is the fp32 floor of a training step."""
    batch, steps, features, units = shape
    return 2.0 * batch * GATES[cell] * units * (steps * (2 * features + 3 * units) - units)


def matmul_peak(device: torch.device, size: int = 1024, repeats: int = 20) -> float:
    """The machine's measured float32 matrix-product rate (FLOP/s), the yardstick for shares:
    the best of many products, so that a busy moment on a shared machine does not lower it."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats + 1):
        _sync(device)
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 / best


class Contender:
    """One way of running a workload: ``step()`` does one timed unit of work."""

    def __init__(self, name: str, step: Callable[[], None], kernel: str = "") -> None:
        self.name, self.step, self.times = name, step, []
        self.kernel = kernel   # which kernel ran, and why (rnnkit's select_kernel)


def _rnnkit_contender(cell: str, shape, mode: str, device, masked: bool = False) -> Contender:
    batch, steps, features, units = shape
    if mode == "stream":
        return _stream_contender(cell, shape, device)
    layer = RNNKIT[cell](units).to(device)
    head = Dense(1).to(device)
    x = torch.randn(batch, steps, features, device=device)
    y = torch.randn(batch, 1, device=device)
    mask = None
    if masked:  # a Keras mask, as Embedding(mask_zero=True) or Masking makes it
        mask = torch.arange(steps, device=device)[None, :] < _lengths(batch, steps, device)[:, None]
    layer(x, mask=mask)
    head(layer(x, mask=mask))
    contender = _contender("rnnkit", lambda: layer(x, mask=mask),
                           lambda: head(layer(x, mask=mask)), layer, head, y, mode)
    with torch.set_grad_enabled(mode != "infer"):
        contender.kernel = str(layer.select_kernel(x, mask=mask))
    return contender


def _torch_contender(cell: str, shape, mode: str, device, masked: bool = False) -> Contender:
    batch, steps, features, units = shape
    if mode == "stream":
        return _torch_stream_contender(cell, shape, device)
    module = TORCH[cell](features, units, batch_first=True).to(device)
    head = torch.nn.Linear(units, 1).to(device)
    x = torch.randn(batch, steps, features, device=device)
    y = torch.randn(batch, 1, device=device)
    if masked:  # plain PyTorch's way with variable lengths: packed sequences
        lengths = _lengths(batch, steps, device).cpu()

        def call():
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                             enforce_sorted=False)
            return module(packed)

        def forward():   # the last hidden state of each sequence (h_n, batch order restored)
            final = call()[1]
            return head((final[0] if isinstance(final, tuple) else final)[-1])
        return _contender("torch", call, forward, module, head, y, mode)

    def forward():
        return head(module(x)[0][:, -1])
    return _contender("torch", lambda: module(x), forward, module, head, y, mode)


def _stream_contender(cell: str, shape, device) -> Contender:
    """A stateful layer called on one new step at a time, without autograd."""
    batch, steps, features, units = shape
    layer = RNNKIT[cell](units, stateful=True, batch_input_shape=(batch, steps, features)).to(device)
    x = torch.randn(batch, steps, features, device=device)

    def step():
        with torch.no_grad():
            layer(x)
    step()
    with torch.no_grad():
        kernel = str(layer.select_kernel(x))
    return Contender("rnnkit", step, kernel)


def _torch_stream_contender(cell: str, shape, device) -> Contender:
    """torch's cell module carrying its state by hand: the least a torch user writes."""
    batch, steps, features, units = shape
    module = TORCH_CELLS[cell](features, units).to(device)
    x = torch.randn(batch, features, device=device)
    state = [None]

    def step():
        with torch.no_grad():
            state[0] = module(x, state[0])
    return Contender("torch", step)


def _contender(name, call, forward, body, head, y, mode) -> Contender:
    if mode == "call":
        return Contender(name, call)
    if mode == "infer":
        def infer():
            with torch.no_grad():
                call()
        return Contender(name, infer)
    optimizer = torch.optim.Adam(list(body.parameters()) + list(head.parameters()), lr=1e-3)

    def train():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(forward(), y)
        loss.backward()
        optimizer.step()
    return Contender(name, train)


def time_interleaved(contenders: list[Contender], repeats: int, device: torch.device,
                     min_sample_s: float = 0.05) -> None:
    """Time the contenders in turn, ``repeats`` rounds; each sample lasts ``min_sample_s``+."""
    for c in contenders:  # warm up: first calls allocate, pick algorithms, fill caches
        c.step()
        c.step()
    inner = 1
    while True:  # calibrate on the first contender so that one sample is long enough
        _sync(device)
        start = time.perf_counter()
        for _ in range(inner):
            contenders[0].step()
        _sync(device)
        if time.perf_counter() - start >= min_sample_s or inner >= 4096:
            break
        inner *= 2
    for _ in range(repeats):
        for c in contenders:
            _sync(device)
            start = time.perf_counter()
            for _ in range(inner):
                c.step()
            _sync(device)
            c.times.append((time.perf_counter() - start) / inner)


def median_ratio(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios: robust to load that drifts between rounds."""
    return statistics.median(x / y for x, y in zip(a, b))


def time_peer(python: str, backend: str | None, cell: str, shape, mode: str, repeats: int,
              threads: int) -> dict:
    """Run ``keras_peer.py`` in another interpreter (one that has Keras) for the same work."""
    return run_peer_script(python, backend, "keras_peer.py", [
        "--cell", cell, "--shape", *map(str, shape), "--mode", mode, "--repeats", str(repeats),
        "--threads", str(threads)])


def run(workloads: list[str], cells: list[str], repeats: int, device: torch.device,
        peers: dict[str, tuple[str, str | None]] | None = None) -> dict:
    peak = matmul_peak(device)
    rows = []
    for workload in workloads:
        shape, mode = WORKLOADS[workload]
        if workload == "W5" and device.type != "cuda":
            continue
        if workload in convlstm.SHAPES:  # one row, not one per cell
            rows.append(convlstm.run_row(workload, repeats, device, peers))
            print(convlstm.format_row(rows[-1]), flush=True)
            continue
        for cell in cells:
            masked = workload in MASKED
            contenders = [_rnnkit_contender(cell, shape, mode, device, masked),
                          _torch_contender(cell, shape, mode, device, masked)]
            time_interleaved(contenders, repeats, device)
            medians = {c.name: statistics.median(c.times) for c in contenders}
            flops = forward_flops(cell, shape) * (3 if mode == "train" else 1)  # per call
            needed = (train_floor_flops(cell, shape) if mode == "train"
                      else forward_flops(cell, shape))
            peer_columns = {}
            # Keras peers time unmasked sequences only: no peer columns for masked workloads
            for label, (python, backend) in ({} if masked else peers or {}).items():
                # A separate process, timed right after its rnnkit row: not interleaved.
                peer = time_peer(python, backend, cell, shape, mode, repeats,
                                 torch.get_num_threads())
                peer_ms = statistics.median(peer["times"]) * 1e3
                peer_columns[label] = {"ms": peer_ms, "keras": peer["keras"],
                                       "backend": peer["backend"],
                                       "ratio": medians["rnnkit"] * 1e3 / peer_ms}
            rows.append({
                "workload": workload, "cell": cell, "mode": mode, "shape": list(shape),
                "rnnkit_ms": medians["rnnkit"] * 1e3, "torch_ms": medians["torch"] * 1e3,
                "ratio_vs_torch": median_ratio(contenders[0].times, contenders[1].times),
                "rnnkit_gflops": flops / medians["rnnkit"] / 1e9,
                "share_of_peak": flops / medians["rnnkit"] / peak,
                "floor_ms": needed / peak * 1e3,   # the products alone at the matmul peak
                "rnnkit_kernel": contenders[0].kernel,
                "peers": peer_columns,
            })
            print(_format_row(rows[-1]), flush=True)
    return {"device": _device_name(device), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "matmul_peak_gflops": peak / 1e9,
            "python": platform.python_version(), "rows": rows}


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU"


HEADER = (f"{'work':4} {'cell':10} {'mode':5} {'rnnkit ms':>10} {'torch ms':>10} "
          f"{'ratio':>6} {'GFLOP/s':>8} {'% peak':>7} {'floor ms':>9}")


def workload_lines(workloads: list[str]) -> list[str]:
    """'W2 (B=32, T=64, D=8, H=64): forecasting: ...' for each workload of a run."""
    lines = []
    for name in workloads:
        batch, steps, features, units = WORKLOADS[name][0]
        lines.append(f"  {name:4} (B={batch}, T={steps}, D={features}, H={units}): {WHAT[name]}")
    return lines


LEGEND = ("B, T, D, H: batch, time steps, features, units. ms: the median of the rounds; "
          "ratio: the median over rounds of rnnkit's time / torch's time in the same round "
          "(below 1: rnnkit is faster; on a busy machine it can differ from the ratio of the "
          "two medians, and is the number to trust). GFLOP/s and % peak: "
          "rnnkit's rate against this machine's measured matmul peak; floor ms: the matrix "
          f"products alone at that peak ('-' where a workload is too small, under "
          f"{TINY_FLOOR_MS} ms, for them to mean anything).")


def _format_row(row: dict) -> str:
    tiny = row["floor_ms"] < TINY_FLOOR_MS
    rate = (f"{'-':>8} {'-':>7} {'-':>9}" if tiny else
            f"{row['rnnkit_gflops']:8.2f} {100 * row['share_of_peak']:6.1f}% "
            f"{row['floor_ms']:9.3f}")
    text = (f"{row['workload']:4} {row['cell']:10} {row['mode']:5} {row['rnnkit_ms']:10.3f} "
            f"{row['torch_ms']:10.3f} {row['ratio_vs_torch']:6.2f} {rate}")
    for label, peer in row.get("peers", {}).items():
        text += f"  {label} {peer['ms']:.3f} ms (rnnkit/{label} {peer['ratio']:.3f})"
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnkit bench", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0].replace("\n", " ") + "\n\nworkloads:\n"
        + "\n".join(workload_lines(list(WORKLOADS))),
        epilog="A first look: rnnkit bench --quick (W1 and W2, 3 repeats, about half a "
               "minute on two cores).")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: --workloads W1 W2 --repeats 3 (unless given)")
    parser.add_argument("--workloads", nargs="+", default=None, choices=sorted(WORKLOADS),
                        metavar="W", help="workloads to time, from: " + " ".join(WORKLOADS)
                        + " (default: W1 W2 W3 W6)")
    parser.add_argument("--cells", nargs="+", default=list(GATES), choices=list(GATES),
                        help="layers to time (default: all three)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved rounds per row; the median is reported (default 7)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cpu or cuda (default: cuda when available, else cpu)")
    parser.add_argument("--threads", type=int,
                        help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--peer", action="append", default=[], metavar="LABEL=PYTHON[:BACKEND]",
                        help="also time real Keras in another interpreter, e.g. "
                             "tf-keras=/venvs/tf212/bin/python or keras3-torch=/venvs/k3/bin/python:torch")
    parser.add_argument("--json", metavar="PATH",
                        help="also write the results, with every column, to this JSON file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workloads is None:
        args.workloads = QUICK["workloads"] if args.quick else ["W1", "W2", "W3", "W6"]
    if args.repeats is None:
        args.repeats = QUICK["repeats"] if args.quick else 7
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print("workloads:")
    print("\n".join(workload_lines(args.workloads)))
    print(LEGEND)
    print()
    print(HEADER)
    peers = {}
    for spec in args.peer:
        label, _, target = spec.partition("=")
        python, _, backend = target.partition(":")
        peers[label] = (python, backend or None)
    result = run(args.workloads, args.cells, args.repeats, device, peers)
    print(f"device: {result['device']}; torch {result['torch']}; {result['threads']} threads; "
          f"matmul peak {result['matmul_peak_gflops']:.1f} GFLOP/s")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
