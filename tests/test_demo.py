"""``rnnkit demo`` runs the seed notebook and prints the summaries tf.keras 2 printed."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit import demo

SEED = (Path(__file__).parent / "fixtures" / "seed_notebook.txt").read_text()


def _summaries(text):
    """The summary blocks of a transcript, without the '=' rules the notebook export lost."""
    blocks = re.findall(r'Model: "[^"]*"\n_+\n.*?Non-trainable params: [\d,]+\n_+', text, re.S)
    return ["\n".join(l for l in b.splitlines() if not set(l) <= {"="}) for b in blocks]


@pytest.fixture(scope="module")
def transcript():
    parts = []
    demo.run(write=parts.append)
    return "".join(parts)


def test_demo_prints_every_cell(transcript):
    for label, _, _ in demo.CELLS:
        assert f"{label}:\n" in transcript


def test_demo_summaries_match_the_notebook(transcript):
    ours, theirs = _summaries(transcript), _summaries(SEED)
    assert len(ours) == len(theirs) == 4
    # The notebook built two models in cells its export lacks, so its third and fourth
    # models are sequential_4 and sequential_5 where a fresh run has sequential_2 and _3.
    renamed = [theirs[0], theirs[1], theirs[2].replace("sequential_4", "sequential_2"),
               theirs[3].replace("sequential_5", "sequential_3")]
    assert ours == renamed


def test_demo_shapes_match_the_notebook(transcript):
    for expected in ["(1, 4, 5)", "shape=(1, 4, 3), dtype=float32", "shape=(1, 3), dtype=float32"]:
        assert expected in transcript
    # The lines that print `.shape` (NumPy's and a layer output's) read as in the notebook.
    shape_lines = lambda text: re.findall(r"^.*shape : .*$", text, re.M)
    ours = [l for l in shape_lines(transcript) if "print(" not in l]
    theirs = [l for l in shape_lines(SEED) if "print(" not in l]
    assert "hidden(output) shape : (1, 3)" in ours
    assert ours == theirs
    # Every printed tensor has a shape the notebook printed too.
    assert set(re.findall(r"shape=\(.*?\), dtype", transcript)) == set(re.findall(r"shape=\(.*?\), dtype", SEED))


def _tensor_layouts(text, prefix):
    """Each printed tensor with its numbers replaced by N: the layout without the values."""
    blocks = re.findall(rf"^{re.escape(prefix)}\(.*?, dtype=\w+\)", text, re.S | re.M)
    return [re.sub(r" +", "", re.sub(r"-?\d+\.\d*(?:e[-+]\d+)?", "N ", b[len(prefix):]))
            for b in blocks]  # spaces pad the numbers to a common width: dropped


def test_demo_tensors_print_as_in_the_notebook(transcript):
    # The layer outputs print themselves (no print override): TensorFlow's layout, values on
    # their own lines when they need several, with `tensor` for TensorFlow's `tf.Tensor`.
    ours, theirs = _tensor_layouts(transcript, "tensor"), _tensor_layouts(SEED, "tf.Tensor")
    assert len(ours) == 15
    assert ours == theirs


def test_cli_demo_runs():
    # The limit only catches a hang: the demo takes ~40 s on two idle cores, and the
    # newcomer run of the whole suite (load ~10 on 2 cores) took it past 120 s.
    result = subprocess.run([sys.executable, "-m", "rnnkit", "demo"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert 'Model: "sequential"' in result.stdout
    assert "Total params: 48" in result.stdout
