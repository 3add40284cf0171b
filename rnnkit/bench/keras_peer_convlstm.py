"""Times the ConvLSTM2D workload in real Keras, for ``rnnkit bench --workloads CL --peer``.

Runs in the interpreter that has Keras (tf.keras 2 or Keras 3, any backend; never a
dependency of rnnkit) and prints one JSON line ``{"keras", "backend", "times"}``: the
seconds of one ``train_on_batch`` of ``Sequential([Input, ConvLSTM2D(filters, kernel,
padding="same", return_sequences=True, recurrent_activation="sigmoid")])`` with Adam and
the mean squared error over the whole output sequence, as ``convlstm.py`` times rnnkit.
"""
from __future__ import annotations

import argparse

import numpy as np

# run as a script beside keras_peer.py (its folder is on sys.path), in Keras's interpreter
from keras_peer import keras_with_threads, report, time_work


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
    keras, backend = keras_with_threads(args.threads)
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
    report(keras, backend, time_work(work, args.repeats, args.min_sample_s))


if __name__ == "__main__":
    main()
