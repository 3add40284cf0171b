"""The layers beside the RNNs against recorded tf.keras 2.12 runs (tests/fixtures/keras2_beside).

Per recorded case: the constructor arguments give the recorded config once built, the
recorded config builds the same layer, the weights have Keras's names and shapes, and the
outputs and gradients (inference mode; training mode for BatchNormalization, with its
moving statistics after the call) equal tf.keras 2.12's.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_beside"
CASES = json.loads((HERE / "layers.json").read_text())
OUT_TOL, GRAD_TOL = 2e-5, 2e-4


def _plain(value):
    return json.loads(json.dumps(value, default=list))


def _load(case):
    return dict(np.load(HERE / "layers" / f"{case['name']}.npz"))


def _run(layer, case, data, training):
    xs = [torch.tensor(data[f"x{k}"], requires_grad=True) for k in range(len(case["input_shapes"]))]
    kwargs = {"training": training}
    if "mask" in data:
        kwargs["mask"] = torch.tensor(data["mask"])
    if "attention_mask" in data:
        kwargs["attention_mask"] = torch.tensor(data["attention_mask"])
    if "s0" in data:
        kwargs["initial_state"] = [torch.tensor(data["s0"]), torch.tensor(data["s1"])]
    if "use_causal_mask" in case["call"]:
        kwargs["use_causal_mask"] = True
    if case["return_attention_scores"]:
        kwargs["return_attention_scores"] = True
    if isinstance(layer, layers.MultiHeadAttention):
        out = layer(*xs, **kwargs)
    else:
        out = layer(xs[0], **kwargs)
    return xs, list(out) if isinstance(out, (list, tuple)) else [out]


def _check(layer, case, data, prefix):
    training = prefix == "t"
    xs, outs = _run(layer, case, data, training)
    loss = 0
    for k, out in enumerate(outs):
        np.testing.assert_allclose(out.detach().numpy(), data[f"{prefix}y{k}"], atol=OUT_TOL,
                                   rtol=1e-4, err_msg=f"{case['name']} {prefix}y{k}")
        loss = loss + (out * torch.tensor(data[f"{prefix}cot{k}"])).sum()
    trainable = layer.trainable_weights
    grads = torch.autograd.grad(loss, xs + trainable, allow_unused=True)
    for k in range(len(xs)):
        np.testing.assert_allclose(grads[k].numpy(), data[f"{prefix}gx{k}"], atol=GRAD_TOL,
                                   rtol=1e-3, err_msg=f"{case['name']} {prefix}gx{k}")
    for k, g in enumerate(grads[len(xs):]):
        g = np.zeros(trainable[k].shape, "float32") if g is None else g.numpy()
        np.testing.assert_allclose(g, data[f"{prefix}gw{k}"], atol=GRAD_TOL, rtol=1e-3,
                                   err_msg=f"{case['name']} {prefix}gw{k}")


def _built(case, data, from_config=None):
    rnnkit.backend.clear_session()
    if from_config:
        layer = layers.deserialize({"class_name": case["class_name"], "config": from_config})
    else:
        layer = getattr(layers, case["class_name"])(**case["kwargs"])
    xs, _ = _run(layer, case, data, False)  # builds
    layer.set_weights([data[f"w{k}"] for k in range(len(case["weight_names"]))])
    return layer


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_outputs_and_gradients_match_tf_keras(case):
    data = _load(case)
    layer = _built(case, data)
    assert layer.weight_names() == case["weight_names"]
    assert [list(w.shape) for w in layer.weights] == case["weight_shapes"]
    trainable_names = [n for n, w in zip(layer.weight_names(), layer.weights)
                       if any(w is t for t in layer.trainable_weights)]
    assert trainable_names == case["trainable_weight_names"]
    _check(layer, case, data, "")
    if case["train"]:
        layer = _built(case, data)
        _check(layer, case, data, "t")
        for k, w in enumerate(layer.weights):  # moving statistics after one training call
            np.testing.assert_allclose(w.detach().numpy(), data[f"tw{k}"], atol=OUT_TOL,
                                       rtol=1e-4, err_msg=f"{case['name']} tw{k}")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_config_matches_tf_keras_and_round_trips(case):
    data = _load(case)
    layer = _built(case, data)
    expected = _plain(case["config"])
    got = _plain(layer.get_config())
    if case["class_name"] == "MultiHeadAttention":  # tf.keras 2 wrote the shapes as text there
        for key in ("query_shape", "key_shape", "value_shape"):
            expected[key] = json.loads(expected[key].replace("(", "[").replace(")", "]"))
    assert got == expected
    again = _built(case, data, from_config=expected)
    assert _plain(again.get_config()) == got
    if case["kwargs"].get("invert"):
        # tf.keras 2.12 leaves `invert` out of Normalization's config: from it, a layer
        # that normalises (as tf.keras 2.12's from_config gives)
        assert again.invert is False
        return
    _check(again, case, data, "")


def test_output_shapes_match_the_calls():
    for case in CASES:
        data = _load(case)
        layer = _built(case, data)
        shapes = [tuple(s) for s in case["input_shapes"]]
        if isinstance(layer, layers.MultiHeadAttention):
            layer._return_scores = case["return_attention_scores"]
            expected = layer.compute_output_shape(shapes)
        else:
            expected = layer.compute_output_shape(shapes[0])
        expected = expected if isinstance(expected, list) else [expected]
        assert [list(s) for s in expected] == case["output_shapes"], case["name"]
