"""Progress output as tf.keras 2.12 prints it: terminal bar (verbose=1), one line (verbose=2)."""
import re

import numpy as np
import pytest

from rnnkit import optimizers, utils
from rnnkit.layers import Dense
from rnnkit.models import Sequential
from rnnkit.training import progress
from rnnkit.training.progress import Progbar


def _fit(verbose, epochs=2, capsys=None, **kwargs):
    utils.set_random_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizers.SGD(0.1), "mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    model.fit(x, x[:, :1], batch_size=8, epochs=epochs, verbose=verbose, **kwargs)
    return capsys.readouterr().out


LINE2 = re.compile(r"^5/5 - \d+s - loss: \d\.\d{4} - mae: \d\.\d{4}( - val_loss: \d\.\d{4} - "
                   r"val_mae: \d\.\d{4})? - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step$")


def test_verbose_2_prints_one_clean_line_per_epoch(capsys):
    out = _fit(2, capsys=capsys)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert LINE2.match(lines[1]) and LINE2.match(lines[3]), lines
    assert "\r" not in out and "\b" not in out


def test_auto_is_plain_lines_when_not_a_terminal(capsys):
    out = _fit("auto", capsys=capsys, validation_split=0.2)
    assert "\r" not in out and "\b" not in out and "[" not in out
    assert re.search(r"^4/4 - \d+s - loss: .* - val_loss: .* - val_mae: ", out, re.M)


def test_auto_is_the_bar_on_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "interactive", lambda stream=None: True)
    assert progress.resolve_verbose("auto") == 1
    monkeypatch.setattr(progress, "interactive", lambda stream=None: False)
    assert progress.resolve_verbose("auto") == 2


def test_verbose_1_terminal_bar_redraws_in_place(capsys, monkeypatch):
    monkeypatch.setattr(progress, "interactive", lambda stream=None: True)
    out = _fit(1, epochs=1, capsys=capsys)
    assert "Epoch" not in out  # Keras prints "Epoch i/n" only when epochs > 1
    assert "\r" in out and "\b" in out
    final = out.split("\r")[-1]
    assert re.fullmatch(r"5/5 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: \d\.\d{4} - "
                        r"mae: \d\.\d{4}\n", final), repr(final)


def test_training_draws_with_the_utils_progbar():
    assert Progbar is utils.Progbar  # one implementation (rnnkit/utils/progbar.py)


def test_evaluate_and_predict_default_to_the_bar_off_a_terminal(capsys):
    # tf.keras 2.12: "auto" is 1 for evaluate and predict, in a log too; fit's "auto" is
    # rnnkit's one line per epoch off a terminal (docs/known-differences.md)
    utils.set_random_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    x = np.zeros((10, 3), "float32")
    model.evaluate(x, np.zeros((10, 1)), batch_size=4)
    model.predict(x)
    lines = capsys.readouterr().out.split("\n")
    assert re.fullmatch(r"\r1/3 \[=+>\.+\] - ETA: 0s - loss: 0\.0000e\+00\x08+"
                        r"(\r.*\x08+)*\r3/3 \[={30}\] - \d+s \d+(ms|us|s)/step - "
                        r"loss: 0\.0000e\+00", lines[0]), repr(lines[0])
    assert re.fullmatch(r"\r1/1 \[={30}\] - ETA: 0s\x08+\r1/1 \[={30}\] - \d+s "
                        r"\d+(ms|us|s)/step", lines[1]), repr(lines[1])
    assert lines[2:] == [""]


def test_evaluate_and_predict_progress(capsys):
    utils.set_random_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    x = np.zeros((10, 3), "float32")
    model.evaluate(x, np.zeros((10, 1)), batch_size=4, verbose=2)
    model.predict(x, batch_size=4, verbose=2)
    model.predict(x, verbose=0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"3/3 - \d+s - loss: .* - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step",
                        lines[0])
    assert re.fullmatch(r"3/3 - \d+s - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step", lines[1])


def test_bad_verbose_value():
    with pytest.raises(ValueError, match="verbose must be 0, 1, 2 or 'auto'"):
        progress.resolve_verbose(3)


class _Batches:
    """Re-iterable batches of unknown length (no __len__)."""

    def __iter__(self):
        x = np.zeros((4, 3), "float32")
        for _ in range(3):
            yield x, x[:, :1]


def test_unknown_length_is_counted_in_the_first_epoch_and_known_after(capsys):
    # tf.keras 2.12's ProgbarLogger draws "      1/Unknown" until the first epoch ends,
    # then keeps the count as its target
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(_Batches(), epochs=2, verbose=1)
    epochs = capsys.readouterr().out.split("Epoch 2/2\n")
    assert "\r      1/Unknown - " in epochs[0] and epochs[0].endswith("- loss: 0.0000e+00\n")
    assert "\r3/3 [==============================] - " in epochs[0]
    assert "Unknown" not in epochs[1] and epochs[1].startswith("\r1/3 [=========>")
