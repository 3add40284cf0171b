"""Malformed Keras 3 functional graphs are refused as Keras refuses them (issue 16, item 6).

``output_layers: []`` loaded as a model with no weights whose ``predict`` returned ``[]``;
duplicate layer names and negative node or tensor indices were accepted.
"""
import json
import zipfile
from pathlib import Path

import pytest

from rnnkit.io import FileFormatError
from rnnkit.models import load_model

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "keras3_functional" / "encoder_decoder.keras"


def _config():
    with zipfile.ZipFile(SOURCE) as z:
        return json.loads(z.read("config.json"))


def _archive(tmp_path, config):
    with zipfile.ZipFile(SOURCE) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "graph.keras"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _layer(config, name):
    return next(e for e in config["config"]["layers"] if e["name"] == name)


def _history(config, name):
    return _layer(config, name)["inbound_nodes"][0]["args"][0]["config"]["keras_history"]


def _empty_outputs(c):
    c["config"]["output_layers"] = []


def _empty_inputs(c):
    c["config"]["input_layers"] = []


def _duplicate(c):
    _layer(c, "lstm_1")["name"] = "lstm"


def _negative_node(c):
    _history(c, "dense")[1] = -1


def _negative_tensor(c):
    _history(c, "dense")[2] = -1


def _node_out_of_range(c):
    _history(c, "dense")[1] = 3


def _unknown_layer(c):
    _history(c, "dense")[0] = "nowhere"


def _negative_output(c):
    c["config"]["output_layers"] = ["dense", 0, -1]


def _cycle(c):
    _history(c, "lstm")[0] = "dense"  # lstm <- dense <- bidirectional <- lstm_1 <- lstm


CASES = {
    "empty outputs": (_empty_outputs, r"'output_layers' is empty or malformed"),
    "empty inputs": (_empty_inputs, r"'input_layers' is empty or malformed"),
    "duplicate names": (_duplicate, r"two layers named 'lstm'; layer names must be unique"),
    "negative node": (_negative_node, r"refers to node -1, tensor 0 of layer 'bidirectional'; "
                                      r"indices must be >= 0"),
    "negative tensor": (_negative_tensor, r"node 0, tensor -1 of layer 'bidirectional'"),
    "node out of range": (_node_out_of_range, r"refers to node 3 of layer 'bidirectional', "
                                              r"which has 1 node"),
    "unknown layer": (_unknown_layer, r"refers to layer 'nowhere', which is not in"),
    "negative output index": (_negative_output, r"'output_layers' refers to node 0, tensor -1"),
    "cycle": (_cycle, r"broken or cyclic config"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_graphs_are_refused(tmp_path, case):
    change, message = CASES[case]
    config = _config()
    change(config)
    with pytest.raises(FileFormatError, match=message):
        load_model(_archive(tmp_path, config))


def test_the_unchanged_graph_still_loads(tmp_path):
    model = load_model(_archive(tmp_path, _config()))
    assert [layer.name for layer in model.layers][-1] == "dense"
