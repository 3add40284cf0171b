"""Fuzz every file format rnnkit reads: mutations of real files, each load bounded.

Five formats: a tf.keras 2 model ``.h5``, a Keras 3 ``.weights.h5``, a Keras 3 ``.keras``
archive, rnnkit's own model ``.npz`` and the ``BackupAndRestore`` backup. Each is saved
from a small model, then mutated (truncated anywhere, random bytes overwritten, a block
zeroed or set to 0xff, a chunk duplicated) and loaded. Allowed outcomes: the file loads, or
an rnnkit ``FileFormatError``; a weights-into-model or backup load that fails must leave
the model's weights as they were. Anything else (another exception, a crash, a hang, a
memory blow-up: the test runs this in a child with time and memory limits) is a bug.

    python tests/io/fuzz_formats.py [mutations per format]    # prints the counts
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np


def _mutations(data: bytes, rng: np.random.Generator, count: int):
    size = len(data)
    kinds = ["truncate", "flip", "flip", "block", "duplicate"]
    for index in range(count):
        how = kinds[index % len(kinds)]
        buf = bytearray(data)
        if how == "truncate":
            buf = buf[:int(rng.integers(0, size))]
        elif how == "flip":
            for pos in rng.integers(0, size, size=int(rng.integers(1, 9))):
                buf[pos] = int(rng.integers(0, 256))
        elif how == "block":
            start, length = int(rng.integers(0, size)), int(rng.integers(1, 512))
            buf[start:start + length] = bytes([int(rng.choice([0, 255]))]) * len(buf[start:start + length])
        else:
            start, length = int(rng.integers(0, size)), int(rng.integers(1, 256))
            buf[start:start] = buf[start:start + length]
        yield how, bytes(buf)


def run(per_format: int, seed: int = 20261207) -> dict:
    from rnnkit import backend
    from rnnkit.io import FileFormatError
    from rnnkit.layers import LSTM, Dense
    from rnnkit.models import Sequential, load_model
    from rnnkit.training import backup
    import warnings

    warnings.simplefilter("ignore")  # "optimizer state not restored" for damaged slots
    backend.clear_session()
    model = Sequential([LSTM(8, input_shape=(5, 3)), Dense(2)])
    model.compile("adam", "mse")
    x, y = np.random.rand(16, 5, 3).astype("float32"), np.random.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    folder = tempfile.mkdtemp(prefix="rnnkit-fuzz-")
    sources = {}
    for name, save in [("model.h5", model.save), ("model.keras", model.save),
                       ("w.weights.h5", model.save_weights), ("model.npz", model.save),
                       ("backup.npz", lambda p: backup.save(model, p, 1, {"loss": [0.1]}, [0]))]:
        path = os.path.join(folder, name)
        save(path)
        with open(path, "rb") as f:
            sources[name] = f.read()
    loaders = {
        "model.h5": lambda p: load_model(p),
        "model.keras": lambda p: load_model(p),
        "model.npz": lambda p: load_model(p),
        "w.weights.h5": lambda p: model.load_weights(p),
        "backup.npz": lambda p: backup.restore(model, p),
    }
    rng = np.random.default_rng(seed)
    counts, bugs, slowest = {}, [], 0.0
    for name, data in sources.items():
        tried = refused = loaded = 0
        for how, mutated in _mutations(data, rng, per_format):
            path = os.path.join(folder, "fuzz-" + name)
            with open(path, "wb") as f:
                f.write(mutated)
            before = model.get_weights()
            start = time.perf_counter()
            try:
                loaders[name](path)
                loaded += 1
            except FileFormatError as error:
                refused += 1
                if not str(error):
                    bugs.append(f"{name} {how}: an empty message")
                if name in ("w.weights.h5", "backup.npz") and not all(
                        np.array_equal(a, b) for a, b in zip(before, model.get_weights())):
                    bugs.append(f"{name} {how}: refused but the weights changed")
            except Exception as error:  # anything else is a loader bug
                bugs.append(f"{name} {how}: {type(error).__name__}: {error}"[:300])
            slowest = max(slowest, time.perf_counter() - start)
            tried += 1
            model.set_weights(before)
        counts[name] = {"tried": tried, "refused": refused, "loaded": loaded}
    return {"counts": counts, "bugs": bugs, "slowest": slowest}


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    for name, c in result["counts"].items():
        print(f"{name:14s} tried {c['tried']:5d}  refused {c['refused']:5d}  loaded {c['loaded']:5d}")
    print(f"slowest load {result['slowest']:.2f} s; bugs: {len(result['bugs'])}")
    for bug in result["bugs"][:30]:
        print("  ", bug)
