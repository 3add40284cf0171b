"""``summary(expand_nested=..., show_trainable=..., layer_range=...)`` against tf.keras 2.12.

The models are built by the same code that recorded the texts
(tests/fixtures/keras2_summaries_nested/models.py, run by its record.py with tf.keras 2.12),
here with rnnkit's names; the printed lines must be identical."""
import importlib.util
import json
import re
from pathlib import Path

import pytest

import rnnkit
from rnnkit import backend
from rnnkit import layers as L
from rnnkit.models import Model, Sequential
from rnnkit.models.summary import Nested, format_summary

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_summaries_nested"
_spec = importlib.util.spec_from_file_location("keras2_summaries_nested_models",
                                               HERE / "models.py")
MODELS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(MODELS)
RECORDED = json.loads((HERE / "summaries.json").read_text(encoding="utf-8"))


def build(builder):
    backend.clear_session()
    return builder(L, Sequential, Model, rnnkit.Input)


def printed(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


@pytest.mark.parametrize("name,builder,kwargs", MODELS.CASES, ids=[c[0] for c in MODELS.CASES])
def test_summary_matches_tf_keras_2_12(name, builder, kwargs):
    recorded = RECORDED["cases"][name]
    assert recorded["kwargs"] == json.loads(json.dumps(kwargs))
    assert printed(build(builder), **kwargs) == recorded["summary"]


def test_every_case_was_recorded():
    assert sorted(RECORDED["cases"]) == sorted(c[0] for c in MODELS.CASES)


def test_expand_nested_boxes_each_level():
    lines = printed(build(MODELS.two_levels), expand_nested=True)
    deepest = [line for line in lines if line.startswith("|| ") and "(" in line]
    assert [line.split()[1] for line in deepest] == ["dense", "dense_1"]
    assert all(len(line) == 65 and line.endswith("||") for line in deepest)
    assert printed(build(MODELS.two_levels)) != lines  # off by default


@pytest.mark.parametrize("bad", RECORDED["bad_ranges"], ids=lambda b: repr(b["layer_range"]))
def test_bad_layer_range_raises_keras_message(bad):
    kind, message = bad["error"].split(": ", 1)
    assert kind == "ValueError"
    model = build(MODELS.func_in_func)
    lines = []
    with pytest.raises(ValueError, match=re.escape(message)):
        model.summary(print_fn=lines.append, layer_range=bad["layer_range"])
    assert lines == []  # nothing printed before the error, as Keras


def test_bad_layer_range_on_sequential():
    model = build(MODELS.seq_in_seq)
    with pytest.raises(ValueError, match=r"do not match the layer names in the model\. "
                                         r"Received: \('lstm', 'gru'\)"):
        model.summary(layer_range=("lstm", "gru"))  # nested layers are not searched


def test_nested_row_with_wrong_field_count_names_the_columns():
    with pytest.raises(ValueError, match=r"has 2 fields, expected 3 \(Layer \(type\), "
                                         r"Output Shape, Param #\)"):
        format_summary("m", [Nested(("a (Sequential)", "(None, 2)", "3"),
                                    [("b (Dense)", "(None, 2)")])], 3, 0)
