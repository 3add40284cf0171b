"""What ``fit`` costs on top of a hand-written PyTorch training loop.

Workload W2: x (2048, 64, 8), y (2048, 1); LSTM(64) + Dense(1), Adam(1e-3), MSE, batch 32,
shuffled: one epoch is 64 training steps. Both sides use the same weights' shapes and
torch's fused LSTM; the torch loop is what a PyTorch user writes (randperm, slicing,
zero_grad/backward/step). Runs are interleaved (torch epoch, rnnkit epoch, ...) and the
result is the median of the per-pair ratios, so machine noise hits both sides alike.

    python benchmarks/fit_overhead.py [--repeats 15] [--threads N] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnkit import optimizers, utils  # noqa: E402
from rnnkit.layers import LSTM, Dense  # noqa: E402
from rnnkit.models import Sequential  # noqa: E402

N, T, D, H, BATCH = 2048, 64, 8, 64, 32


class TorchModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(D, H, batch_first=True)
        self.dense = torch.nn.Linear(H, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.dense(h[-1])


def torch_epoch(model, opt, x, y):
    model.train()
    perm = torch.randperm(len(x), device=x.device)
    xs, ys = x[perm], y[perm]
    for start in range(0, len(x), BATCH):
        xb, yb = xs[start:start + BATCH], ys[start:start + BATCH]
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
    return loss.item()  # one sync per epoch, as fit's epoch logs need


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    utils.set_random_seed(0)
    x = torch.randn(N, T, D, device=device)
    y = x[:, -8:, :2].sum(dim=(1, 2)).unsqueeze(1) * 0.1

    ref = TorchModel().to(device)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-3, eps=1e-7)
    model = Sequential([LSTM(H, input_shape=(T, D)), Dense(1)])
    model.build((None, T, D))
    model.to(device)
    model.compile(optimizer=optimizers.Adam(1e-3), loss="mse")

    for _ in range(2):  # warm-up: allocator, oneDNN/cuDNN plans
        torch_epoch(ref, ref_opt, x, y)
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    sync(device)
    ratios, t_torch, t_fit = [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        torch_epoch(ref, ref_opt, x, y)
        sync(device)
        a = time.perf_counter() - start
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        sync(device)
        b = time.perf_counter() - start
        t_torch.append(a)
        t_fit.append(b)
        ratios.append(b / a)
    print(f"W2 epoch (64 steps of batch 32, T=64, D=8, LSTM(64)+Dense(1), Adam) on {device}, "
          f"torch threads {torch.get_num_threads()}, {args.repeats} interleaved pairs")
    print(f"  hand-written torch loop: median {statistics.median(t_torch) * 1e3:.1f} ms/epoch")
    print(f"  rnnkit fit:              median {statistics.median(t_fit) * 1e3:.1f} ms/epoch")
    print(f"  fit / torch ratio:       median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); target <= 1.15")
    return 0


if __name__ == "__main__":
    sys.exit(main())
