"""The bad inputs tried on ``fit``/``evaluate``/``predict``: one table that both
``test_bad_inputs.py`` runs and ``docs/bad-inputs.md`` is generated from.

Regenerate the doc after changing a case or a message:
``python tests/training/bad_input_cases.py``.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys

import numpy as np
import torch

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "bad-inputs.md")

# (id, model, code run with `m` the compiled model, expected error type, text the message
# must contain — the argument's name). `model` is "mse" (LSTM(4) -> Dense(1), regression)
# or "sparse" (LSTM(4) -> Dense(3), sparse_categorical_crossentropy). x: (8, 5, 3) float32.
CASES = [
    ("x-strings", "mse", 'm.fit(np.full((8, 5, 3), "a"), y)', TypeError, "`x` has dtype <U1"),
    ("x-objects", "mse", "m.fit(np.array([object()] * 8), y)", TypeError,
     "`x` has dtype object"),
    ("x-complex", "mse", "m.fit(x.astype(np.complex64), y)", TypeError, "`x` has dtype complex64"),
    ("x-complex-tensor", "mse", "m.fit(torch.zeros(8, 5, 3, dtype=torch.complex64), y)",
     TypeError, "`x` has dtype torch.complex64"),
    ("x-a-filename", "mse", 'm.fit("train.csv", y)', TypeError, "`x` must be a NumPy array"),
    ("y-strings", "mse", 'm.fit(x, np.array(["cat"] * 8))', TypeError, "`y` has dtype"),
    ("x-ragged-list", "mse", "m.fit([[[0.1, 0.2, 0.3]], [[0.1, 0.2]]], [[1.0], [0.0]])",
     ValueError, "`x` is a ragged nested list"),
    ("y-ragged-list", "mse", "m.fit(x[:2], [[1.0], [0.0, 1.0]])", ValueError,
     "`y` is a ragged nested list"),
    ("x-y-lengths", "mse", "m.fit(x, y[:5])", ValueError,
     "Data cardinality is ambiguous: x sizes: 8, y sizes: 5"),
    ("sample-weight-length", "mse", "m.fit(x, y, sample_weight=np.ones(3))", ValueError,
     "sample_weight sizes: 3"),
    ("sample-weight-rank", "mse", "m.fit(x, y, sample_weight=np.ones((8, 5, 1)))", ValueError,
     "`sample_weight` must have shape (samples,) or (samples, timesteps)"),
    ("x-empty", "mse", "m.fit(x[:0], y[:0])", ValueError, "`x` is empty"),
    ("x-nan", "mse", "m.fit(x_nan, y, check_finite=True)", ValueError,
     "`x` contains 1 non-finite"),
    ("x-inf", "mse", "m.fit(np.where(x > 0.9, np.inf, x), y, check_finite=True)", ValueError,
     "`x` contains"),
    ("y-nan", "mse", "m.fit(x, np.full((8, 1), np.nan), check_finite=True)", ValueError,
     "`y` contains 8 non-finite"),
    ("sample-weight-inf", "mse",
     "m.fit(x, y, sample_weight=np.array([1, 1, np.inf, 1, 1, 1, 1, 1]), check_finite=True)",
     ValueError, "`sample_weight` contains 1 non-finite"),
    ("validation-x-nan", "mse", "m.fit(x, y, validation_data=(x_nan, y), check_finite=True)",
     ValueError, "`val_x` contains"),
    ("generator-batch-nan", "mse", "m.fit(iter([(x_nan, y)]), check_finite=True)", ValueError,
     "`x (batch 0)` contains"),
    ("batch-size-zero", "mse", "m.fit(x, y, batch_size=0)", ValueError,
     "`batch_size` must be an integer >= 1, got 0"),
    ("batch-size-negative", "mse", "m.fit(x, y, batch_size=-3)", ValueError,
     "`batch_size` must be an integer >= 1, got -3"),
    ("batch-size-float", "mse", "m.fit(x, y, batch_size=2.5)", ValueError,
     "`batch_size` must be an integer"),
    ("validation-split-above-1", "mse", "m.fit(x, y, validation_split=1.5)", ValueError,
     "`validation_split` must be a float in [0, 1)"),
    ("validation-split-negative", "mse", "m.fit(x, y, validation_split=-0.1)", ValueError,
     "`validation_split` must be a float in [0, 1)"),
    ("validation-split-one", "mse", "m.fit(x, y, validation_split=1.0)", ValueError,
     "`validation_split` must be a float in [0, 1)"),
    ("validation-split-too-small-data", "mse", "m.fit(x[:1], y[:1], validation_split=0.5)",
     ValueError, "validation_split=0.5"),
    ("validation-split-generator", "mse", "m.fit(iter([(x, y)]), validation_split=0.2)",
     ValueError, "`validation_split` is only supported for Tensors or NumPy arrays"),
    ("epochs-negative", "mse", "m.fit(x, y, epochs=-1)", ValueError,
     "`epochs` must be an integer >= 0"),
    ("epochs-string", "mse", 'm.fit(x, y, epochs="10")', ValueError,
     "`epochs` must be an integer"),
    ("initial-epoch-negative", "mse", "m.fit(x, y, initial_epoch=-1)", ValueError,
     "`initial_epoch` must be an integer >= 0"),
    ("steps-per-epoch-zero", "mse", "m.fit(x, y, steps_per_epoch=0)", ValueError,
     "`steps_per_epoch` must be an integer >= 1"),
    ("validation-steps-zero", "mse", "m.fit(x, y, validation_data=(x, y), validation_steps=0)",
     ValueError, "`validation_steps` must be an integer >= 1"),
    ("validation-freq-zero", "mse", "m.fit(x, y, validation_data=(x, y), validation_freq=0)",
     ValueError, "`validation_freq` must be an integer >= 1"),
    ("validation-freq-epochs", "mse",
     "m.fit(x, y, validation_data=(x, y), validation_freq=[0, 2])", ValueError,
     "`validation_freq` must be a positive int"),
    ("validation-lengths", "mse", "m.fit(x, y, validation_data=(x, y[:3]))", ValueError,
     "val_x sizes: 8, val_y sizes: 3"),
    ("validation-data-4-items", "mse", "m.fit(x, y, validation_data=(x, y, y[:, 0], y))",
     ValueError, "it must contain either 2 items"),
    ("y-with-generator", "mse", "m.fit(iter([(x, y)]), y)", ValueError,
     "`y` argument is not supported"),
    ("x-feature-size", "mse", "m.fit(np.zeros((8, 5, 4), np.float32), y)", ValueError,
     "expected shape=(None, 5, 3), found shape=(8, 5, 4)"),
    ("x-rank", "mse", "m.fit(np.zeros((8, 5), np.float32), y)", ValueError,
     "expected ndim=3, found ndim=2"),
    ("class-weight-list", "mse", "m.fit(x, y, class_weight=[1.0, 2.0])", ValueError,
     "`class_weight` must be a dict"),
    ("sparse-label-too-large", "sparse", "m.fit(x, np.array([0, 1, 2, 5, 0, 1, 2, 0]))",
     ValueError, "received a label value of 5 which is outside the valid range of [0, 3)"),
    ("sparse-label-negative", "sparse", "m.fit(x, np.array([0, 1, 2, -1, 0, 1, 2, 0]))",
     ValueError, "received a label value of -1"),
    ("sparse-label-fraction", "sparse", "m.fit(x, np.array([0, 1.5, 2, 1, 0, 1, 2, 0]))",
     ValueError, "must hold integer class indices"),
    ("sparse-label-generator", "sparse", "m.fit(iter([(x, np.full(8, 3))]))", ValueError,
     "received a label value of 3"),
    ("sparse-validation-label", "sparse",
     "m.fit(x, np.zeros(8), validation_data=(x, np.full(8, 7)))", ValueError,
     "`val_y`: received a label value of 7"),
    ("evaluate-lengths", "mse", "m.evaluate(x, y[:3])", ValueError, "x sizes: 8, y sizes: 3"),
    ("evaluate-empty", "mse", "m.evaluate(x[:0], y[:0])", ValueError, "`x` is empty"),
    ("evaluate-batch-size", "mse", "m.evaluate(x, y, batch_size=0)", ValueError,
     "evaluate: `batch_size` must be an integer >= 1"),
    ("evaluate-nan", "mse", "m.evaluate(x_nan, y, check_finite=True)", ValueError,
     "evaluate: `x` contains"),
    ("evaluate-sparse-label", "sparse", "m.evaluate(x, np.full(8, 3))", ValueError,
     "received a label value of 3"),
    ("predict-string", "mse", 'm.predict("hello")', TypeError, "predict: `x` must be"),
    ("evaluate-y-strings", "mse", 'm.evaluate(x, np.array(["a"] * 8))', TypeError,
     "evaluate: `y` has dtype <U1"),
    ("predict-batch-size", "mse", "m.predict(x, batch_size=-1)", ValueError,
     "predict: `batch_size` must be an integer >= 1"),
    ("predict-steps", "mse", "m.predict(x, steps=0)", ValueError,
     "predict: `steps` must be an integer >= 1"),
    ("predict-nan", "mse", "m.predict(x_nan, check_finite=True)", ValueError,
     "predict: `x` contains 1 non-finite"),
    ("predict-ragged", "mse", "m.predict([[[0.1, 0.2, 0.3]], [[0.1, 0.2]]])", ValueError,
     "`x` is a ragged nested list"),
    ("mask-shape", "mse",
     "m(torch.as_tensor(x), mask=torch.ones(8, 4, dtype=torch.bool))", ValueError,
     "the mask should have shape (batch, timesteps) = (8, 5), got (8, 4)"),
]


def make_model(kind: str):
    from rnnkit import layers as L
    from rnnkit.models import Sequential
    torch.manual_seed(0)
    units, loss = (1, "mse") if kind == "mse" else (3, "sparse_categorical_crossentropy")
    # fixed names: the messages (and the doc) must not depend on how many layers exist
    model = Sequential([L.LSTM(4, input_shape=(5, 3), name="lstm"),
                        L.Dense(units, name="dense")], name="model")
    model.compile("adam", loss)
    return model


def namespace(model) -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((8, 5, 3), dtype=np.float32)
    x_nan = x.copy()
    x_nan[2, 3, 1] = np.nan
    return {"m": model, "np": np, "torch": torch, "x": x, "x_nan": x_nan,
            "y": rng.random((8, 1), dtype=np.float32)}


def run_case(case) -> BaseException | None:
    """Run one case on a fresh model; the exception it raised (None if it raised none)."""
    _, kind, code, _, _ = case
    model = make_model(kind)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            eval(code, namespace(model))
    except Exception as e:  # noqa: BLE001 - the table records whatever was raised
        return e
    return None


def render() -> str:
    lines = ["# Bad inputs and the errors they give", "",
             "Generated by `python tests/training/bad_input_cases.py` from the cases that",
             "`tests/training/test_bad_inputs.py` runs; each leaves the model's weights and",
             "optimizer unchanged. `m` is a compiled `Sequential([LSTM(4), Dense(1)])`",
             "(mse) or `Sequential([LSTM(4), Dense(3)])` (sparse_categorical_crossentropy);",
             "`x` is a float32 array of shape (8, 5, 3), `y` (8, 1), `x_nan` is `x` with one",
             "NaN. `check_finite=True` is rnnkit's opt-in NaN/inf check.", "",
             "| # | case | call | error |", "|---|---|---|---|"]
    for i, case in enumerate(CASES, 1):
        error = run_case(case)
        text = "(no error)" if error is None else \
            f"{type(error).__name__}: {error}".replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {i} | {case[0]} | `{case[2]}` | {text} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = render()
    with open(DOC, "w") as f:
        f.write(text)
    print(f"wrote {len(CASES)} cases to {os.path.normpath(DOC)}", file=sys.stderr)
