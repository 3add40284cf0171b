"""``rnnkit summary FILE`` and ``rnnkit convert IN OUT``."""
import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.cli import main
from rnnkit.models import load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KERAS2 = FIXTURES / "keras2" / "models"
SUMMARIES = {m["name"]: m["summary"]
             for m in json.loads((FIXTURES / "keras2" / "models.json").read_text())["models"]}


@pytest.mark.parametrize("name", ["lstm_dense", "gru_stack", "embed_lstm", "bidir"])
def test_summary_of_a_keras2_h5_prints_what_tf_keras_printed(name, capsys):
    assert main(["summary", str(KERAS2 / f"{name}.h5")]) == 0
    assert capsys.readouterr().out.rstrip("\n") == SUMMARIES[name].rstrip("\n")


def test_summary_of_a_keras3_archive(capsys):
    assert main(["summary", str(FIXTURES / "keras3" / "k3_lstm_dense.keras")]) == 0
    out = capsys.readouterr().out
    assert "lstm (LSTM)                 (None, 16)                1344" in out
    assert "Total params: 1,361" in out


def test_summary_of_a_weights_only_file_lists_the_arrays(capsys):
    assert main(["summary", str(KERAS2 / "lstm_dense.weights.h5")]) == 0
    out = capsys.readouterr().out
    assert "weights only (no architecture)" in out
    assert "_layer_checkpoint_dependencies/lstm/cell/vars/0: (4, 128)" in out
    assert "Total params: 4,769" in out  # 4·32·(4+32+1) + 32 + 1


def test_summary_of_a_bad_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert main(["summary", str(bad)]) == 2
    assert "rnnkit summary: error:" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["out.keras", "out.h5"])
def test_convert_between_formats(tmp_path, target, capsys):
    source = KERAS2 / "bidir.h5"
    assert main(["convert", str(source), str(tmp_path / target)]) == 0
    data = np.load(KERAS2 / "bidir.npz")
    np.testing.assert_allclose(load_model(tmp_path / target).predict(data["x"], verbose=0),
                               data["y"], atol=2e-5)


def test_convert_to_and_from_rnnkit_npz(tmp_path, capsys):
    """The help promises .npz both ways (rnnkit train's model.weights.npz into .keras)."""
    data = np.load(KERAS2 / "bidir.npz")
    native = tmp_path / "model.weights.npz"
    assert main(["convert", str(KERAS2 / "bidir.h5"), str(native)]) == 0
    assert main(["convert", str(native), str(tmp_path / "back.keras")]) == 0
    for path in (native, tmp_path / "back.keras"):
        np.testing.assert_allclose(load_model(path).predict(data["x"], verbose=0),
                                   data["y"], atol=2e-5)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    assert ".npz" in capsys.readouterr().out


def test_convert_weights_only_with_like(tmp_path, capsys):
    target = tmp_path / "w.weights.h5"
    assert main(["convert", str(KERAS2 / "lstm_dense.weights.h5"), str(target),
                 "--like", str(KERAS2 / "lstm_dense.h5")]) == 0
    model = load_model(KERAS2 / "lstm_dense.h5")
    for layer in model.layers:
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    model.load_weights(target)
    data = np.load(KERAS2 / "lstm_dense.npz")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=2e-5)
    assert main(["convert", str(KERAS2 / "lstm_dense.weights.h5"), str(tmp_path / "x.keras")]) == 2
    assert "holds weights only" in capsys.readouterr().err
