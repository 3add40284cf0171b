"""Keras 2 programs (tests/programs/) run unchanged under rnnkit and print what tf.keras
2.12 printed (tests/fixtures/keras2_programs/, recorded with record_programs.py there).

Every line must be identical (summaries, parameter counts, shapes, history keys, JSON
facts) except ``LOSS`` lines: training starts from other random weights than TensorFlow's,
so a loss must be finite and within a range of tf.keras 2.12's value. Progress lines
(``3/3 [====...] - 0s 3ms/step - loss: 0.1234``) are compared as a terminal shows them (the
last redraw of each line) with their times and metric values masked. The programs run in
subprocesses, two at a time, once for the whole module.
"""
import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "tests" / "programs"
FIXTURES = ROOT / "tests" / "fixtures" / "keras2_programs"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.txt"))


def _run(name: str, workdir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, KERAS_IMPL="rnnkit", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    done = subprocess.run([sys.executable, str(PROGRAMS / f"{name}.py")], env=env,
                          cwd=workdir, capture_output=True, timeout=600)
    # bytes decoded as printed: text mode would turn the bars' "\r" into newlines
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(),
                                       done.stderr.decode())


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("programs")
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(NAMES, pool.map(lambda n: _run(n, workdir), NAMES)))


def loss_close(ours: float, keras: float) -> bool:
    """A loss within tf.keras 2.12's range: same scale, not the same digits."""
    return math.isfinite(ours) and abs(ours - keras) <= 0.35 * abs(keras) + 0.15


PROGRESS = re.compile(r"^\s*\d+/(\d+|Unknown)( \[| - )")


def shown(text: str) -> list[str]:
    """The lines a terminal shows (each line's last redraw); progress lines with their times
    and metric values masked (the weights start from other random values)."""
    lines = []
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        line = line.split("\r")[-1].replace("\b", "").rstrip(" ") if "\r" in line else line
        if PROGRESS.match(line):
            line = re.sub(r"\d+(?:s|ms|us)/(step|epoch|sample)", r"T/\1", line)
            line = re.sub(r" - \d+s\b", " - Ts", line)
            line = re.sub(r"ETA: [\d:]+s?", "ETA: T", line)
            line = re.sub(r": -?\d+\.\d+(e[-+]\d+)?", ": X", line)
        lines.append(line)
    return lines


def compare(ours: str, keras: str) -> list[str]:
    problems = []
    a, b = shown(ours), shown(keras)
    if len(a) != len(b):
        problems.append(f"{len(a)} lines printed, tf.keras 2.12 printed {len(b)}")
    for k, (mine, theirs) in enumerate(zip(a, b)):
        if theirs.startswith("LOSS "):
            label, value = theirs.rsplit(" ", 1)
            try:
                my_label, my_value = mine.rsplit(" ", 1)
                ok = my_label == label and loss_close(float(my_value), float(value))
            except ValueError:
                ok = False
            if not ok:
                problems.append(f"line {k + 1}: {mine!r} is not close to {theirs!r}")
        elif mine != theirs:
            problems.append(f"line {k + 1}: {mine!r} != tf.keras 2.12's {theirs!r}")
    return problems


def test_the_corpus_is_large_enough():
    assert len(NAMES) >= 15
    assert {p.stem for p in PROGRAMS.glob("*.py")} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_program_prints_what_tf_keras_printed(results, name):
    done = results[name]
    assert done.returncode == 0, done.stderr[-3000:]
    problems = compare(done.stdout, (FIXTURES / f"{name}.txt").read_bytes().decode())
    assert not problems, "\n".join(problems[:20])


def test_compare_catches_a_changed_summary_and_a_far_loss():
    keras = "Total params: 1,748\nLOSS fit 0.69\n"
    assert compare(keras, keras) == []
    assert compare("Total params: 1,749\nLOSS fit 0.69\n", keras)
    assert compare("Total params: 1,748\nLOSS fit 3.5\n", keras)
    assert compare("Total params: 1,748\nLOSS fit nan\n", keras)


def test_compare_masks_progress_times_and_values_but_not_the_format():
    keras = ("\r1/2 [==============>...............] - ETA: 1s - loss: 0.5\b\b\b\r2/2 "
             "[==============================] - 2s 13ms/step - loss: 0.4741\nEpoch 1/2\n"
             "3/3 - 1s - loss: 0.7049 - val_loss: 0.0864 - 143ms/epoch - 72ms/step\n")
    ours = ("\r1/2 [==============>...............] - ETA: 0s - loss: 0.2\b\b\b\r2/2 "
            "[==============================] - 0s 850us/step - loss: 0.3012\nEpoch 1/2\n"
            "3/3 - 0s - loss: 0.6049 - val_loss: 0.1864 - 43ms/epoch - 2s/step\n")
    assert compare(ours, keras) == []
    assert compare(ours.replace("2/2", "1/2"), keras)
    assert compare(ours.replace(" - loss: 0.3012", ""), keras)
    assert compare(ours.replace("3/3 - 0s", "3/3 [===] - 0s"), keras)
