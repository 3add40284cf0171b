"""plot_model / model_to_dot: tf.keras 2.12's ImportError without Graphviz
(program_api.json), DOT text of the layer graph, rendering with `dot` where present."""
import json
import shutil
import sys
from pathlib import Path

import pytest

import rnnkit as keras
from rnnkit import layers
from rnnkit.utils import vis_utils

RECORD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())


def test_dot_text_of_a_sequential_and_a_functional_model():
    keras.backend.clear_session()
    model = keras.Sequential([layers.LSTM(4, input_shape=(5, 3)), layers.Dense(2)])
    text = keras.utils.model_to_dot(model, show_shapes=True)
    assert 'n0 [label="{lstm_input|InputLayer|' in text
    assert "{(?, 5, 3)|(?, 4)}" in text and "n0 -> n1;" in text and "n1 -> n2;" in text
    a, b = keras.Input((5, 3)), keras.Input((5, 3))
    merged = layers.Concatenate()([layers.GRU(2)(a), layers.GRU(2)(b)])
    graph = keras.Model([a, b], layers.Dense(1)(merged))
    text = keras.utils.model_to_dot(graph)
    names = [layer.name for layer in graph.layers]
    concat = names.index("concatenate")
    assert sum(f"-> n{concat};" in line for line in text.splitlines()) == 2


def test_without_graphviz_tf_keras_import_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delitem(sys.modules, "IPython.core.magics.namespace", raising=False)
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ImportError) as caught:
        keras.utils.plot_model(model, str(tmp_path / "model.png"))
    assert str(caught.value) == RECORD["plot_model_without_graphviz"]["message"]
    keras.utils.plot_model(model, str(tmp_path / "model.dot"))  # DOT text needs no Graphviz
    assert (tmp_path / "model.dot").read_text().startswith("digraph G {")


def test_renders_with_dot(monkeypatch, tmp_path):
    calls = []

    def fake_run(args, input, check, capture_output):
        calls.append(args)
        Path(args[args.index("-o") + 1]).write_bytes(b"png")

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(vis_utils.subprocess, "run", fake_run)
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    keras.utils.plot_model(model, str(tmp_path / "model.png"), show_shapes=True)
    assert calls and calls[0][:2] == ["/usr/bin/dot", "-Tpng"]
