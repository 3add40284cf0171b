"""fit, evaluate and predict print what tf.keras 2.12 printed off a terminal
(tests/fixtures/keras2_progbar/model_progress.txt, recorded by record.py there from
model_progress.py, which runs here under rnnkit with stdout to a pipe).

The same model with the same weights gives the same losses to the printed digits; times
differ, so they are masked, and the bar's in-between redraws (how many depends on speed)
are compared as a terminal shows them: the text after the last ``\\r`` of each line.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "fixtures" / "keras2_progbar"
KERAS = (HERE / "model_progress.txt").read_bytes().decode()


def shown(text: str) -> str:
    """What a terminal shows: each line's last redraw, times and long floats masked."""
    lines = []
    for line in text.split("\n"):
        line = line.split("\r")[-1].replace("\b", "").rstrip(" ")
        line = re.sub(r"\d+(?:s|ms|us)/(step|epoch|sample)", r"T/\1", line)
        line = re.sub(r" - \d+s\b", " - Ts", line)
        line = re.sub(r"ETA: [\d:]+s?", "ETA: T", line)
        line = re.sub(r"(\d\.\d{5})\d+", r"\1", line)  # float32 read as float64 or not
        lines.append(line)
    return "\n".join(lines)


def redraws_are_erased(text: str) -> bool:
    """Every redraw after the first is preceded by one ``\\b`` per character drawn before
    (trailing padding excepted), and each bar starts with ``\\r``, as Keras draws it."""
    for line in text.split("\n"):
        if "\r" not in line:
            continue
        first, *draws = line.split("\r")
        if first:
            return False
        for draw in draws[:-1]:
            body = draw.rstrip("\b")
            if len(draw) - len(body) != len(body.rstrip(" ")):
                return False
    return True


@pytest.fixture(scope="module")
def ours():
    env = dict(os.environ, KERAS_IMPL="rnnkit", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(HERE / "model_progress.py")], env=env,
                          cwd=HERE, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done.stdout.decode()


def test_the_recording_has_bars_redrawn_in_place():
    assert KERAS.count("\r") >= 8 and redraws_are_erased(KERAS)
    assert "1/1 [==============================] - ETA: 0s\b" in KERAS


def test_fit_evaluate_predict_print_what_tf_keras_printed(ours):
    assert shown(ours) == shown(KERAS)


def test_bars_are_drawn_as_keras_draws_them(ours):
    assert redraws_are_erased(ours)
    # predict() and evaluate() default to the bar ("auto" is 1), also off a terminal
    predict_default = ours.split("== predict()\n")[1].split("\n")[0]
    assert predict_default.startswith("\r1/1 [") and predict_default.endswith("/step")


def test_shown_masks_times_but_not_counts_or_metrics():
    line = "\r1/3 [=>..] - ETA: 9s\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\r3/3 [====] - 5s 8ms/step - loss: 0.6752"
    assert shown(line) == "3/3 [====] - Ts T/step - loss: 0.6752"
    assert shown(line) != shown(line.replace("0.6752", "0.6753"))
    assert shown(line) != shown(line.replace("3/3", "2/3"))
    assert redraws_are_erased(line)
    assert not redraws_are_erased(line.replace("\b\r", "\r"))
