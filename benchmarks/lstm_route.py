"""Measure where rnnkit's LSTM loop in C beats torch's oneDNN LSTM, and write the routing
table ``rnnkit/kernels/lstm_routing.json`` that ``select_kernel`` reads.

For each (batch, units, mode) the same rnnkit ``LSTM`` layer runs with ``rnn_kernel``
"rnnkit" (the C loop) and "torch" (oneDNN), interleaved round by round; the row keeps the
median of the per-round ratios. ``train`` is forward + backward of a sum (autograd on),
``forward`` a call under ``torch.no_grad()``. Each row carries the thread count it was
measured at (oneDNN parallelises differently from the C loop, so the winner can change with
it); ``--write`` replaces the rows of this thread count and modes and keeps the others. Run on
a quiet machine, once per thread count:

    PYTHONPATH=. python benchmarks/lstm_route.py --repeats 7 --threads 1 --write
    PYTHONPATH=. python benchmarks/lstm_route.py --repeats 7 --threads 2 --write
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path

import torch

from rnnkit.bench.suite import Contender, median_ratio, time_interleaved
from rnnkit.layers import LSTM

# (batch, steps, features, units, mode): the bench workloads' shapes and a few around them
GRID = [(1, 4, 5, 3, "train"), (8, 64, 8, 32, "train"), (32, 64, 8, 64, "train"),
        (32, 100, 64, 128, "train"), (64, 200, 128, 128, "train"), (64, 50, 256, 256, "train"),
        (64, 100, 512, 512, "train"), (1, 200, 32, 64, "train"),
        (1, 4, 5, 3, "forward"), (1, 2000, 256, 256, "forward"), (1, 500, 64, 64, "forward"),
        (32, 64, 8, 64, "forward"), (64, 200, 128, 128, "forward"),
        (64, 100, 512, 512, "forward"), (1, 1, 64, 256, "forward")]
TABLE = Path(__file__).resolve().parents[1] / "rnnkit" / "kernels" / "lstm_routing.json"


def _contender(kernel: str, batch, steps, features, units, mode) -> Contender:
    torch.manual_seed(0)
    layer = LSTM(units, return_sequences=True)
    layer.rnn_kernel = kernel
    x = torch.randn(batch, steps, features)
    layer(x)

    def train():
        layer.zero_grad(set_to_none=True)
        layer(x).sum().backward()

    def forward():
        with torch.no_grad():
            layer(x)
    return Contender(kernel, train if mode == "train" else forward)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", action="store_true", help=f"write {TABLE.name}")
    parser.add_argument("--busy", action="store_true",
                        help="--write even when the load average says other work shares the cores")
    parser.add_argument("--modes", nargs="+", default=["train", "forward"],
                        help="measure these modes only (--write keeps the table's other rows)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # oneDNN's threads spin at their barriers: on shared cores it slows by 10x and more
    # (measured at 2 threads, load 5 on 2 cores), which would route every shape wrongly.
    spare = (os.cpu_count() or 1) - args.threads
    load_before = os.getloadavg()[0]
    rows = []
    for batch, steps, features, units, mode in GRID:
        if mode not in args.modes:
            continue
        contenders = [_contender(k, batch, steps, features, units, mode) for k in ("rnnkit", "torch")]
        time_interleaved(contenders, args.repeats, torch.device("cpu"))
        ratio = median_ratio(contenders[0].times, contenders[1].times)
        rows.append({"threads": args.threads, "batch": batch, "units": units, "steps": steps,
                     "features": features, "mode": mode, "ratio": round(ratio, 3),
                     "c_loop_ms": round(statistics.median(contenders[0].times) * 1e3, 4),
                     "onednn_ms": round(statistics.median(contenders[1].times) * 1e3, 4)})
        print(rows[-1], flush=True)
    load_after = os.getloadavg()[0]
    print(f"load average {load_before:.2f} at the start, {load_after:.2f} at the end "
          f"(this run's own {args.threads} thread(s) included); {os.cpu_count()} cores", flush=True)
    others = max(load_before, load_after - args.threads)   # the load of other work
    if args.write and others > spare + 0.5 and not args.busy:
        raise SystemExit(f"not written: other work's load ({others:.2f}) leaves less than "
                         f"{args.threads} free core(s); rerun on a quiet machine (or pass --busy)")
    if args.write:
        if TABLE.exists():
            kept = [row for row in json.loads(TABLE.read_text())["rows"]
                    if row["mode"] not in args.modes or row.get("threads", 1) != args.threads]
            rows = kept + rows
        rows.sort(key=lambda row: (row.get("threads", 1), row["mode"] != "train"))
        TABLE.write_text(json.dumps({
            "about": "rnnkit LSTM C loop time / oneDNN time, median of interleaved rounds, "
                     "per thread count (benchmarks/lstm_route.py)",
            "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                       f"{args.repeats} rounds",
            "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
