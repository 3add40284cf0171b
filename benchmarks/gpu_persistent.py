"""The persistent kernel on a GPU, in one go: parity, a race stress loop, timings vs cuDNN.

    PYTHONPATH=. python benchmarks/gpu_persistent.py --out DIR      # ~4 minutes on an H200

1. Parity: every cell (LSTM, GRU both reset modes, SimpleRNN tanh/relu) in float32,
   bfloat16 and float16 (autocast, as the Keras mixed policies run), with one program
   and with several, against the float64 reference loop on the CPU. Passes when the
   largest error is within 1e-5 (float32) or 1e-2 (half types) of max |reference|.
   Then the gradients of every cell the same way, within 1e-4
   (float32) or 5e-2 (half types) of max |reference gradient|.
2. Stress: one multi-program configuration 200 times; a deterministic kernel gives the
   same bits every time, so any difference is a race in the exchange or the barrier.
3. Timing: the issue's W5 (16, 1024, 768, 768) and W6 (1, 2000, 256, 256) for LSTM and
   GRU per dtype, forward (no grad) and train (forward + backward), persistent kernel
   against cuDNN (``rnn_kernel="torch"``) in the same run, medians of CUDA-event timings.

Writes DIR/persistent_parity.txt, DIR/persistent_bench.json and DIR/routing.json (rows
for ``rnnkit/kernels/persistent/routing.json``: review, then copy). ``--quick`` runs tiny
shapes only (CI runs it on the CPU under TRITON_INTERPRET=1 to keep the script working).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnkit.layers import GRU, LSTM, SimpleRNN  # noqa: E402

CELLS = {"lstm": (LSTM, {}), "gru": (GRU, {}), "gru_reset_before": (GRU, {"reset_after": False}),
         "tanh": (SimpleRNN, {}), "relu": (SimpleRNN, {"activation": "relu"})}
DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
TOLERANCE = {"float32": 1e-5, "bfloat16": 1e-2, "float16": 1e-2}
WORKLOADS = {"W5": (16, 1024, 768, 768), "W6": (1, 2000, 256, 256)}


def build(cell: str, units: int, features: int, device: str, **options):
    kind, extra = CELLS[cell]
    layer = kind(units, return_sequences=True, **extra, **options)
    layer.build((None, None, features))
    return layer.to(device)


def float64_copy(layer, x):
    """The layer with the same weights in float64 on the CPU, run by the reference loop."""
    cpu = type(layer).from_config(dict(layer.get_config(), dtype="float64"))
    cpu.build(tuple(x.shape))
    cpu.set_weights([w.astype("float64") for w in layer.get_weights()])
    cpu.rnn_kernel = "reference"
    return cpu


def reference(layer, x):
    with torch.no_grad():
        return float64_copy(layer, x)(x.double().cpu())


def run(layer, x, kernel: str, dtype_name: str, train: bool = False):
    """The layer's outputs; with ``train`` also a backward pass (parameters' .grad set)."""
    layer.rnn_kernel = kernel
    autocast = DTYPES[dtype_name]
    with torch.set_grad_enabled(train), torch.autocast(
            x.device.type, dtype=autocast or torch.bfloat16, enabled=autocast is not None):
        out = layer(x)
    if train:
        layer.zero_grad(set_to_none=True)
        (out.float() * _weights(out)).sum().backward()
    return out


def _weights(like):
    return torch.linspace(-1, 2, like.numel(), device=like.device).view(like.shape)


def reference_gradients(layer, x):
    cpu = float64_copy(layer, x)
    out = cpu(x.double().cpu())
    (out * _weights(out).double()).sum().backward()
    return [p.grad for p in cpu.parameters()]


def cases(device: str, quick: bool, shapes):
    """``(label, dtype name, layer, x)`` for every cell, dtype and shape, seeded alike."""
    for cell in CELLS:
        for dtype_name in (["float32"] if quick and device == "cpu" else DTYPES):
            for batch, steps, features, units in ([(2, 6, 5, 8)] if quick else shapes):
                torch.manual_seed(0)
                layer = build(cell, units, features, device)
                x = torch.randn(batch, steps, features, device=device)
                yield f"{cell:16} {dtype_name:8} B={batch:<3} H={units:<4}", dtype_name, layer, x


def gradient_parity(device: str, quick: bool, log) -> int:
    failures = 0
    for label, dtype_name, layer, x in cases(device, quick, [(1, 40, 32, 64), (8, 40, 32, 256)]):
        want = reference_gradients(layer, x)
        try:
            run(layer, x, "persistent", dtype_name, train=True)
        except (ValueError, RuntimeError) as error:
            log(f"grad {label} SKIP {error}")
            continue
        error = max(((p.grad.double().cpu() - w).abs().max() / max(1.0, w.abs().max())).item()
                    for p, w in zip(layer.parameters(), want))
        ok = error <= (1e-4 if dtype_name == "float32" else 5e-2)
        failures += not ok
        log(f"grad {label} max rel err {error:.2e} {'ok' if ok else 'FAIL'}")
    return failures


def parity(device: str, quick: bool, log) -> int:
    failures = 0
    shapes = [(1, 40, 32, 64), (8, 40, 32, 256), (16, 30, 64, 768)]
    for label, dtype_name, layer, x in cases(device, quick, shapes):
        want = reference(layer, x)
        start = time.perf_counter()
        try:
            got = run(layer, x, "persistent", dtype_name)
        except (ValueError, RuntimeError) as error:
            log(f"{label} SKIP {error}")
            continue
        error = (got.double().cpu() - want).abs().max().item()
        ok = error <= TOLERANCE[dtype_name] * max(1.0, want.abs().max().item())
        failures += not ok
        log(f"{label} max err {error:.2e} {'ok' if ok else 'FAIL'} "
            f"({time.perf_counter() - start:.1f} s with compile)")
    return failures


def stress(device: str, quick: bool, log) -> int:
    batch, steps, features, units = (2, 4, 3, 8) if quick else (4, 200, 64, 512)
    torch.manual_seed(0)
    layer = build("lstm", units, features, device)
    x = torch.randn(batch, steps, features, device=device)
    first = run(layer, x, "persistent", "bfloat16" if device == "cuda" else "float32")
    dtype_name = "bfloat16" if device == "cuda" else "float32"
    repeats = 3 if quick else 200
    differing = sum(not torch.equal(first, run(layer, x, "persistent", dtype_name))
                    for _ in range(repeats))
    log(f"stress: lstm forward B={batch} H={units}: {differing} of {repeats} repeats differ "
        f"{'ok' if differing == 0 else 'FAIL (a race)'}")
    run(layer, x, "persistent", dtype_name, train=True)
    first_grads = [p.grad.clone() for p in layer.parameters()]
    train_repeats = 3 if quick else 50
    differing_grads = 0
    for _ in range(train_repeats):
        run(layer, x, "persistent", dtype_name, train=True)
        differing_grads += any(not torch.equal(a, p.grad)
                               for a, p in zip(first_grads, layer.parameters()))
    log(f"stress: lstm train B={batch} H={units}: {differing_grads} of {train_repeats} "
        f"repeats differ {'ok' if differing_grads == 0 else 'FAIL (a race)'}")
    return int(differing > 0) + int(differing_grads > 0)


def timed(function, repeats: int, device: str) -> float:
    """Median milliseconds of ``function()`` over ``repeats`` after two warm-up calls."""
    function()
    function()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            function()
            end.record()
            torch.cuda.synchronize()
            times.append(begin.elapsed_time(end))
        else:
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def bench(device: str, quick: bool, log) -> list[dict]:
    gpu = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    workloads = {"tiny": (2, 8, 4, 8)} if quick else WORKLOADS
    rows = []
    repeats = 1 if quick else 10
    for mode in ("forward", "train"):
        for name, (batch, steps, features, units) in workloads.items():
            for cell in ("lstm", "gru"):
                for dtype_name in (["float32"] if quick and device == "cpu" else DTYPES):
                    torch.manual_seed(0)
                    layer = build(cell, units, features, device)
                    x = torch.randn(batch, steps, features, device=device)
                    train = mode == "train"
                    try:
                        ours = timed(lambda: run(layer, x, "persistent", dtype_name, train),
                                     repeats, device)
                    except (ValueError, RuntimeError) as error:
                        log(f"{mode} {name} {cell:4} {dtype_name:8} persistent SKIP {error}")
                        continue
                    cudnn = timed(lambda: run(layer, x, "torch", dtype_name, train),
                                  repeats, device)
                    row = {"gpu": gpu, "mode": mode, "workload": name, "cell": cell,
                           "dtype": dtype_name, "batch": batch, "steps": steps,
                           "units": units, "persistent_ms": ours, "cudnn_ms": cudnn,
                           "persistent_us_per_step": ours * 1e3 / steps,
                           "cudnn_us_per_step": cudnn * 1e3 / steps}
                    rows.append(row)
                    log(f"{mode:7} {name} {cell:4} {dtype_name:8} persistent {ours:8.3f} ms "
                        f"({row['persistent_us_per_step']:.2f} us/step)  cuDNN {cudnn:8.3f} ms "
                        f"({row['cudnn_us_per_step']:.2f} us/step)  speed-up {cudnn / ours:5.2f}x")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for the results")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, for CI")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = []

    def log(line):
        print(line, flush=True)
        lines.append(line)

    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        log(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, "
            f"cuDNN {torch.backends.cudnn.version()}")
    failures = (parity(args.device, args.quick, log)
                + gradient_parity(args.device, args.quick, log)
                + stress(args.device, args.quick, log))
    (out / "persistent_parity.txt").write_text("\n".join(lines) + "\n")
    rows = bench(args.device, args.quick, log)
    (out / "persistent_bench.json").write_text(json.dumps(rows, indent=1) + "\n")
    routing = [{key: row[key] for key in ("gpu", "mode", "cell", "dtype", "batch", "units",
                                          "persistent_ms", "cudnn_ms")} for row in rows]
    (out / "routing.json").write_text(json.dumps(routing, indent=1) + "\n")
    log(f"{failures} parity or stress failures")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
