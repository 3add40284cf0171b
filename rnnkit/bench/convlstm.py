"""The ConvLSTM2D workload of ``rnnkit bench`` (issue 15): next-frame prediction's layer.

``CL``: batch 8, 10 frames of 40×40×1, ``ConvLSTM2D(40, 3×3, padding="same",
return_sequences=True)``, one training step (forward, backward, Adam) on the mean squared
error of the whole output sequence. All contenders compute the same math, with the sigmoid
as the recurrent activation (a plain PyTorch ConvLSTM's; tf.keras 2's default
``hard_sigmoid`` costs about the same).

Its peer is a ConvLSTM written plainly as a PyTorch user writes it (channels first, one
``conv2d`` over the concatenated input and state per step, ``torch.stack`` of the outputs),
timed interleaved with rnnkit in the same run, one step per round; the row gives wall-time
and CPU-time (``time.process_time``) ratios: on a shared, oversubscribed machine the CPU
time is the steadier one. tf.keras 2.12 and Keras 3 time the same model in their own
interpreters (``--peer``), through ``keras_peer_convlstm.py`` (wall time).
"""
from __future__ import annotations

import os
import statistics
import time

import torch
import torch.nn.functional as F

from ..layers import ConvLSTM2D
from .peer_process import run_peer_script

# name -> ((batch, frames, rows, cols, channels), filters, kernel size)
SHAPES = {"CL": ((8, 10, 40, 40, 1), 40, 3)}
WHAT = ("ConvLSTM2D(40, 3x3, same, return_sequences) on 10 frames of 40x40x1: a training "
        "step, against a hand-written torch ConvLSTM")


class TorchConvLSTM(torch.nn.Module):
    """The ConvLSTM a PyTorch user writes: one convolution over ``[x_t, h]`` per step."""

    def __init__(self, in_channels: int, filters: int, kernel: int) -> None:
        super().__init__()
        self.filters = filters
        self.conv = torch.nn.Conv2d(in_channels + filters, 4 * filters, kernel,
                                    padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # x: (B, T, C, H, W)
        batch, steps, _, rows, cols = x.shape
        h = x.new_zeros(batch, self.filters, rows, cols)
        c = torch.zeros_like(h)
        outputs = []
        for t in range(steps):
            z = self.conv(torch.cat([x[:, t], h], dim=1))
            i, f, g, o = z.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


def _train_step(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor):
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.mse_loss(module(x), y).backward()
        optimizer.step()
    return step


def contenders(name: str, device: torch.device):
    """``[rnnkit, torch]`` Contenders for workload ``name``."""
    from .suite import Contender
    (batch, steps, rows, cols, channels), filters, kernel = SHAPES[name]
    generator = torch.Generator().manual_seed(0)
    x_last = torch.randn(batch, steps, rows, cols, channels, generator=generator).to(device)
    y_last = torch.randn(batch, steps, rows, cols, filters, generator=generator).to(device)
    layer = ConvLSTM2D(filters, kernel, padding="same", return_sequences=True,
                       recurrent_activation="sigmoid").to(device)
    layer(x_last)  # builds
    module = TorchConvLSTM(channels, filters, kernel).to(device)
    x_first = x_last.permute(0, 1, 4, 2, 3).contiguous()   # a torch user's layout
    y_first = y_last.permute(0, 1, 4, 2, 3).contiguous()
    return [Contender("rnnkit", _train_step(layer, x_last, y_last)),
            Contender("torch", _train_step(module, x_first, y_first))]


def time_peer(python: str, backend: str | None, name: str, repeats: int, threads: int) -> dict:
    """``keras_peer_convlstm.py`` in another interpreter (one with Keras), same work."""
    (batch, steps, rows, cols, channels), filters, kernel = SHAPES[name]
    return run_peer_script(python, backend, "keras_peer_convlstm.py", [
        "--shape", *map(str, (batch, steps, rows, cols, channels)), "--filters", str(filters),
        "--kernel", str(kernel), "--repeats", str(repeats), "--threads", str(threads)])


def time_steps(pair: list, repeats: int, device: torch.device) -> dict[str, list[float]]:
    """Interleaved rounds of one training step each (a step lasts seconds on a CPU): wall
    times in ``Contender.times`` and the process's CPU time per step, returned by name.
    On a shared, oversubscribed CPU the CPU time is the steadier measure of the work."""
    from .suite import _sync
    for c in pair:   # warm up: first calls allocate and pick algorithms
        c.step()
        c.step()
    cpu: dict[str, list[float]] = {c.name: [] for c in pair}
    for _ in range(repeats):
        for c in pair:
            _sync(device)
            wall, used = time.perf_counter(), time.process_time()
            c.step()
            _sync(device)
            cpu[c.name].append(time.process_time() - used)
            c.times.append(time.perf_counter() - wall)
    return cpu


def run_row(name: str, repeats: int, device: torch.device,
            peers: dict[str, tuple[str, str | None]] | None = None) -> dict:
    """One JSON row for ``rnnkit bench``: rnnkit and the torch ConvLSTM interleaved, then
    each Keras peer in its own process (right after: not interleaved)."""
    from .suite import median_ratio
    pair = contenders(name, device)
    cpu = time_steps(pair, repeats, device)
    medians = {c.name: statistics.median(c.times) for c in pair}
    peer_columns = {}
    for label, (python, backend) in (peers or {}).items():
        peer = time_peer(python, backend, name, repeats, torch.get_num_threads())
        peer_ms = statistics.median(peer["times"]) * 1e3
        peer_columns[label] = {"ms": peer_ms, "keras": peer["keras"],
                               "backend": peer["backend"],
                               "ratio": medians["rnnkit"] * 1e3 / peer_ms}
    (batch, steps, rows, cols, channels), filters, kernel = SHAPES[name]
    return {"workload": name, "cell": "conv_lstm2d", "mode": "train",
            "shape": [batch, steps, rows, cols, channels], "filters": filters,
            "kernel_size": [kernel, kernel],
            "rnnkit_ms": medians["rnnkit"] * 1e3, "torch_ms": medians["torch"] * 1e3,
            "ratio_vs_torch": median_ratio(pair[0].times, pair[1].times),
            "rnnkit_cpu_ms": statistics.median(cpu["rnnkit"]) * 1e3,
            "torch_cpu_ms": statistics.median(cpu["torch"]) * 1e3,
            "cpu_ratio_vs_torch": median_ratio(cpu["rnnkit"], cpu["torch"]),
            "rounds": {"rnnkit_ms": [t * 1e3 for t in pair[0].times],
                       "torch_ms": [t * 1e3 for t in pair[1].times],
                       "rnnkit_cpu_ms": [t * 1e3 for t in cpu["rnnkit"]],
                       "torch_cpu_ms": [t * 1e3 for t in cpu["torch"]]},
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "peers": peer_columns}


def format_row(row: dict) -> str:
    text = (f"{row['workload']:4} {row['cell']:10} {row['mode']:5} {row['rnnkit_ms']:10.3f} "
            f"{row['torch_ms']:10.3f} {row['ratio_vs_torch']:6.2f} {'-':>8} {'-':>7} {'-':>9}"
            f"  CPU time ratio {row['cpu_ratio_vs_torch']:.3f}")
    for label, peer in row.get("peers", {}).items():
        text += f"  {label} {peer['ms']:.3f} ms (rnnkit/{label} {peer['ratio']:.3f})"
    return text
