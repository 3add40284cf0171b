"""Times one workload in real Keras, for ``run.py --peer``: tf.keras 2 or Keras 3 (any backend).

Runs in the interpreter that has Keras installed (never a dependency of rnnkit) and prints
one JSON line: ``{"keras": version, "backend": ..., "times": [seconds per unit of work]}``.
The work matches ``run.py``: ``call`` is one eager layer call, ``train`` one
``train_on_batch`` of ``Sequential([Input, layer, Dense(1)])`` with Adam and MSE, ``infer``
one eager model call without training, ``stream`` one eager call of a stateful layer on a
single new step (batch 1).
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _keras():
    try:  # Keras 3 (its own package) first, then tf.keras 2
        import keras
        if int(keras.__version__.split(".")[0]) >= 3:
            return keras, keras.backend.backend()
    except ImportError:
        pass
    import tensorflow as tf
    return tf.keras, "tensorflow"


def keras_with_threads(threads: int):
    """``(keras module, backend name)``, with the intra-op threads set to ``threads`` (0:
    the library's own choice) before the backend starts its pools."""
    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    keras, backend = _keras()
    if threads and backend == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if threads and backend == "torch":
        import torch
        torch.set_num_threads(threads)
    return keras, backend


def time_work(work, repeats: int, min_sample_s: float) -> list[float]:
    """Seconds per call of ``work``: two warm-up calls, then ``repeats`` samples of as many
    calls as make one sample last ``min_sample_s`` (timer resolution)."""
    work()
    work()
    inner = 1
    while True:
        start = time.perf_counter()
        for _ in range(inner):
            work()
        if time.perf_counter() - start >= min_sample_s or inner >= 4096:
            break
        inner *= 2
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            work()
        times.append((time.perf_counter() - start) / inner)
    return times


def report(keras, backend: str, times: list[float]) -> None:
    print(json.dumps({"keras": keras.__version__, "backend": backend, "times": times}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", required=True, choices=["lstm", "gru", "simple_rnn"])
    parser.add_argument("--shape", type=int, nargs=4, required=True)
    parser.add_argument("--mode", required=True, choices=["call", "train", "infer", "stream"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--min-sample-s", type=float, default=0.05)
    args = parser.parse_args()
    keras, backend = keras_with_threads(args.threads)
    batch, steps, features, units = args.shape
    layer_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
                   "simple_rnn": keras.layers.SimpleRNN}[args.cell]
    x = np.random.default_rng(0).normal(size=(batch, steps, features)).astype("float32")
    y = np.zeros((batch, 1), dtype="float32")
    if args.mode == "stream":   # the layer keeps its state from call to call
        layer = layer_class(units, stateful=True)

        def work():
            layer(x)
    elif args.mode == "call":
        layer = layer_class(units)

        def work():
            layer(x)
    else:
        model = keras.Sequential([keras.Input((steps, features)), layer_class(units),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        if args.mode == "train":
            def work():
                model.train_on_batch(x, y)
        else:
            def work():
                model(x, training=False)
    report(keras, backend, time_work(work, args.repeats, args.min_sample_s))


if __name__ == "__main__":
    main()
