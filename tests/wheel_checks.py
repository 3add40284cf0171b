"""What a user does first with an installed rnnkit; run by tests/test_wheel.py inside a fresh
venv that has only the built wheel (never the source tree) as its rnnkit.

    python -I wheel_checks.py VENV_PREFIX SOURCE_TREE FIXTURE.h5 FIXTURE.npz

Each check prints one line; any failure raises, so the exit status says whether all passed.
"""
import os
import sys
from pathlib import Path


def check_rnnkit_is_the_installed_one(prefix: Path, source_tree: Path) -> None:
    import importlib.metadata

    on_path = [p for p in sys.path if p and Path(p).resolve().is_relative_to(source_tree)]
    assert not on_path, f"the source tree is on sys.path: {on_path}"
    import rnnkit
    package = Path(rnnkit.__file__).resolve()
    assert package.is_relative_to(prefix), f"rnnkit imported from {package}, not from {prefix}"
    distribution = importlib.metadata.distribution("rnnkit")
    assert Path(distribution.locate_file("")).resolve().is_relative_to(prefix), distribution
    assert distribution.version == rnnkit.__version__, (distribution.version, rnnkit.__version__)
    assert (package.parent / "py.typed").is_file(), "py.typed missing from the installed package"
    print(f"rnnkit {rnnkit.__version__} imported from {package.parent}")


def check_keras_h5_loads(h5_path: Path, npz_path: Path) -> None:
    import numpy as np

    from rnnkit.models import load_model
    model = load_model(h5_path)
    reference = np.load(npz_path)
    difference = np.abs(model.predict(reference["x"], verbose=0) - reference["y"]).max()
    assert difference < 2e-5, f"{h5_path.name} predicts {difference} away from Keras"
    print(f"{h5_path.name} loaded, max |rnnkit - Keras| = {difference:.2g}")


def check_c_loops_build_from_the_installed_source(prefix: Path, cache: Path) -> None:
    import torch

    from rnnkit.kernels import native
    from rnnkit.layers import GRU
    source = native._SOURCE.resolve()
    assert source.is_relative_to(prefix) and source.is_file(), f"C source at {source}"
    if os.environ.get("WHEEL_CHECK_C_LOOPS") == "0":  # no C compiler here: the fallback
        assert native.loops() is None and native.unavailable_reason(), "expected no C loops"
        print(f"C loops not built here: {native.unavailable_reason()}")
        return
    assert native.cache_dir().resolve().is_relative_to(cache), native.cache_dir()
    assert native.loops() is not None, f"C loops unavailable: {native.unavailable_reason()}"
    built = list(native.cache_dir().glob("rnn_loops-*.so"))
    assert len(built) == 1, f"expected one freshly built library, found {built}"
    layer = GRU(4)  # a training call runs the C forward and backward
    output = layer(torch.randn(3, 5, 2), training=True)
    output.sum().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)
    print(f"C loops compiled from {source} into {built[0]}")


def check_short_fit() -> None:
    import numpy as np

    from rnnkit import datasets, utils
    from rnnkit.layers import LSTM, Dense
    from rnnkit.models import Sequential
    utils.set_random_seed(0)
    series = datasets.airline_passengers().values  # package data: read from the wheel's files
    series = (series - series.mean()) / series.std()
    x = np.stack([series[i:i + 12] for i in range(len(series) - 12)])[..., None]
    y = series[12:, None]
    model = Sequential([LSTM(8, input_shape=(12, 1)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 3 and np.isfinite(losses).all() and losses[-1] < losses[0], losses
    print(f"fit: loss {losses[0]:.3f} -> {losses[-1]:.3f} over 3 epochs")


def main() -> None:
    prefix, source_tree = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    h5_path, npz_path = Path(sys.argv[3]), Path(sys.argv[4])
    check_rnnkit_is_the_installed_one(prefix, source_tree)
    check_keras_h5_loads(h5_path, npz_path)
    check_c_loops_build_from_the_installed_source(prefix,
                                                  Path(os.environ["RNNKIT_CACHE"]).resolve())
    check_short_fit()


if __name__ == "__main__":
    main()
