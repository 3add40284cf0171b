"""``rnnkit.utils.Progbar`` prints what tf.keras 2.12's ``keras.utils.Progbar`` printed for
the same update sequences under the same fake clock (tests/fixtures/keras2_progbar/,
recorded by record.py there from cases.py): every byte, ``\\r`` and ``\\b`` included."""
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.utils import Progbar
from rnnkit.utils import progbar as progbar_module

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_progbar"
RECORDED = json.loads((HERE / "progbar.json").read_text())
START = 1000.0  # record.py's clock origin


def replay(monkeypatch, kwargs, steps, stream=None):
    clock = [START]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    out = stream or io.StringIO()
    bar = Progbar(**kwargs, stream=out)
    for at, method, args, call_kwargs in steps:
        clock[0] = START + at
        getattr(bar, method)(*args, **call_kwargs)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(RECORDED["cases"]))
def test_progbar_prints_what_tf_keras_printed(monkeypatch, name):
    case = RECORDED["cases"][name]
    assert replay(monkeypatch, case["kwargs"], case["steps"]) == case["output"]


def test_the_recording_covers_both_verbosities_and_an_unknown_target():
    kwargs = [case["kwargs"] for case in RECORDED["cases"].values()]
    assert {k.get("verbose", 1) for k in kwargs} == {0, 1, 2}
    assert any(k["target"] is None for k in kwargs)
    assert any(k.get("stateful_metrics") for k in kwargs)


def test_unknown_target_with_verbose_2_prints_the_count_instead_of_failing(monkeypatch):
    # tf.keras 2.12 fails with a TypeError from log10(None) (recorded); rnnkit prints the
    # line with the steps it counted as the target
    case = RECORDED["errors"]["verbose2_unknown_target"]
    assert case["error"].startswith("TypeError")
    out = replay(monkeypatch, case["kwargs"], case["steps"])
    assert out == "3/3 - 0s - loss: 0.5000 - 500ms/epoch - 167ms/step\n"


def test_writes_to_stdout_by_default(monkeypatch, capsys):
    clock = [START]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    bar = rnnkit.utils.Progbar(2)
    clock[0] += 0.2
    bar.add(2, [("loss", torch.tensor(0.25))])  # torch values are read as numbers
    assert capsys.readouterr().out == ("\r2/2 [==============================] - 0s "
                                       "100ms/step - loss: 0.2500\n")


def test_off_posix_without_a_terminal_each_draw_starts_a_new_line(monkeypatch):
    # Keras's rule for a Windows pipe: no in-place redraw, a newline before each draw
    monkeypatch.setattr(progbar_module, "_redraws_in_place", lambda stream: False)
    case = RECORDED["cases"]["add"]
    out = replay(monkeypatch, case["kwargs"], case["steps"])
    assert "\r" not in out and "\b" not in out
    assert out.startswith("\n1/4 [") and out.count("\n") == 4


def test_array_values_are_averaged_as_numpy_means(monkeypatch):
    out = replay(monkeypatch, {"target": 1}, [(0.5, "update", [1, [["m", np.array([1., 3.])]]],
                                                {})])
    assert out.endswith(" - m: 2.0000\n")
