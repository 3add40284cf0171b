"""A/B: the GRU / SimpleRNN forward's recurrent products through rnnkit's packed product
(``rnnkit_loop.PACKED_BATCH``) against MKL's sgemm, interleaved in one run.

    python benchmarks/rnn_packed_ab.py [--rounds 7] [--threads 1] [--shapes 1x2000x256x256 ...]

Shapes are BxTxDxH; the layer runs without autograd on calls longer than the one-call path
(``STREAM_ROWS``), as W6 does. Prints the median per-round ratio packed / sgemm per cell.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnnkit.kernels import rnnkit_loop
from rnnkit.layers import GRU, SimpleRNN

CELLS = {"gru": (GRU, {}), "gru-reset-before": (GRU, {"reset_after": False}),
         "simple_rnn": (SimpleRNN, {})}


def _time(call, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        call()
    return (time.perf_counter() - start) / inner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shapes", nargs="+", default=["1x2000x256x256", "1x200x64x64",
                                                         "4x500x128x128", "8x500x128x128"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    packed_batch = rnnkit_loop.PACKED_BATCH
    for text in args.shapes:
        batch, steps, features, units = map(int, text.split("x"))
        x = torch.randn(batch, steps, features)
        for name, (cls, flags) in CELLS.items():
            layer = cls(units, **flags)
            layer.rnn_kernel = "rnnkit"

            def call():
                with torch.no_grad():
                    layer(x)
            settings = {"packed": max(packed_batch, batch), "sgemm": 0}
            times = {k: [] for k in settings}
            for key, value in settings.items():   # warm up both
                rnnkit_loop.PACKED_BATCH = value
                call()
            inner = max(1, int(0.1 / max(_time(call, 1), 1e-6)))
            for _ in range(args.rounds):
                for key, value in settings.items():
                    rnnkit_loop.PACKED_BATCH = value
                    times[key].append(_time(call, inner))
            rnnkit_loop.PACKED_BATCH = packed_batch
            ratio = statistics.median(a / b for a, b in zip(times["packed"], times["sgemm"]))
            print(f"{text:16s} {name:18s} packed {statistics.median(times['packed']) * 1e3:8.3f} ms"
                  f"  sgemm {statistics.median(times['sgemm']) * 1e3:8.3f} ms  ratio {ratio:.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
