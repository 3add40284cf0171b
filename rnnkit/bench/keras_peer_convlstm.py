"""Times the ConvLSTM2D workload in real Keras, for ``rnnkit bench --workloads CL --peer``.

Runs in the interpreter that has Keras (tf.keras 2 or Keras 3, any backend; never a
dependency of rnnkit) and prints one JSON line ``{"keras", "backend", "times"}``: the
seconds of one ``train_on_batch`` of ``Sequential([Input, ConvLSTM2D(filters, kernel,
padding="same", return_sequences=True, recurrent_activation="sigmoid")])`` with Adam and
the mean squared error over the whole output sequence, as ``convlstm.py`` times rnnkit.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", type=int, nargs=5, required=True,
                        help="batch frames rows cols channels")
    parser.add_argument("--filters", type=int, required=True)
    parser.add_argument("--kernel", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--min-sample-s", type=float, default=0.05)
    args = parser.parse_args()
    if args.threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    keras, backend = _keras()
    if args.threads and backend == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.threads and backend == "torch":
        import torch
        torch.set_num_threads(args.threads)
    batch, steps, rows, cols, channels = args.shape
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, rows, cols, channels)).astype("float32")
    y = rng.normal(size=(batch, steps, rows, cols, args.filters)).astype("float32")
    model = keras.Sequential([
        keras.Input((steps, rows, cols, channels)),
        keras.layers.ConvLSTM2D(args.filters, args.kernel, padding="same",
                                return_sequences=True, recurrent_activation="sigmoid")])
    model.compile(optimizer="adam", loss="mse")

    def work():
        model.train_on_batch(x, y)
    work()
    work()
    inner = 1
    while True:
        start = time.perf_counter()
        for _ in range(inner):
            work()
        if time.perf_counter() - start >= args.min_sample_s or inner >= 4096:
            break
        inner *= 2
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(inner):
            work()
        times.append((time.perf_counter() - start) / inner)
    print(json.dumps({"keras": keras.__version__, "backend": backend, "times": times}))


if __name__ == "__main__":
    main()
