"""``Lambda``: tf.keras 2.12 summaries and outputs, masks, shapes, and the file policy
(Keras's marshalled bytecode is refused; rnnkit saves functions by name only).

References: tests/fixtures/keras2_symbolic_ops/ (lambda_*.npz/.h5 recorded by tf.keras 2.12;
rnnkit_lambda.h5 written by rnnkit and loaded by tf.keras 2.12 with custom_objects).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import backend
from rnnkit.io import UnsafeConfigError
from rnnkit.layers import LSTM, Dense, Embedding, Lambda
from rnnkit.models import Model, Sequential, load_model

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_symbolic_ops"
REFS = json.loads((HERE / "models.json").read_text())
TOL = 2e-5


def last_step(t):
    return t[:, -1]


def scale(t, k):
    return t * k


def lambda_functional():
    inp = rnnkit.Input((None, 3))
    seq = LSTM(4, return_sequences=True)(inp)
    head = Lambda(lambda t: t[:, :2])(seq)
    last = Lambda(lambda t: t[:, -1] * 2.0)(seq)
    return Model(inp, [Dense(1)(last), head])


def lambda_sequential():
    return Sequential([
        LSTM(4, return_sequences=True, input_shape=(5, 3)),
        Lambda(lambda t: t[:, -1]),
        Lambda(lambda t, k: t * k, arguments={"k": 0.5}, output_shape=(4,)),
        Dense(1)])


def named_model():  # make_rnnkit_files.py's lambda_model
    inp = rnnkit.Input((5, 3))
    seq = LSTM(4, return_sequences=True)(inp)
    x = Lambda(last_step)(seq)
    x = Lambda(scale, arguments={"k": 2.0}, output_shape=(4,))(x)
    return Model(inp, Dense(1)(x))


def _arrays(name):
    z = np.load(HERE / f"{name}.npz")
    return z["x0"], [z[k] for k in sorted(z) if k.startswith("y")], \
        [z[k] for k in sorted(z) if k.startswith("w")]


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


@pytest.fixture(autouse=True)
def _fresh_names():
    backend.clear_session()


@pytest.mark.parametrize("build", [lambda_functional, lambda_sequential])
def test_summary_and_outputs_match_tf_keras_2(build):
    model = build()
    x, ys, ws = _arrays(build.__name__)
    model.set_weights(ws)
    assert _summary(model) == REFS[build.__name__]["summary"]
    got = model.predict(x, verbose=0)
    for g, want in zip(got if isinstance(got, list) else [got], ys, strict=True):
        np.testing.assert_allclose(g, want, atol=TOL)


def test_keras_made_lambda_file_is_refused_naming_the_layer():
    for name, layer in (("lambda_functional", "lambda_1"), ("lambda_sequential", "lambda")):
        with pytest.raises(UnsafeConfigError, match=rf"layer '{layer}' is a Lambda, which "
                                                    r"carries Python code; rnnkit never runs "
                                                    r"code from a file.*marshalled Python "
                                                    r"bytecode"):
            load_model(HERE / f"{name}.h5")


def test_weights_of_a_keras_lambda_model_load_into_the_model_rebuilt_in_code():
    model = lambda_functional()
    x, ys, _ = _arrays("lambda_functional")
    model.load_weights(HERE / "lambda_functional.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0)[0], ys[0], atol=TOL)


def test_rnnkit_lambda_file_loads_only_with_the_function_passed_in():
    path = HERE / "rnnkit_lambda.h5"
    with pytest.raises(UnsafeConfigError, match=r"layer 'lambda' is a Lambda whose function is "
                                                r"the Python function 'last_step' \(module "
                                                r"'__main__'\); rnnkit never imports or runs "
                                                r"code a file names.*custom_objects="
                                                r"\{'last_step': last_step\}"):
        load_model(path)
    model = load_model(path, custom_objects={"last_step": last_step, "scale": scale})
    x = _arrays("lambda_sequential")[0]
    keras2 = np.load(HERE / "rnnkit_files_keras2.npz")["lambda_y0"]  # tf.keras 2.12 read it
    np.testing.assert_allclose(model.predict(x, verbose=0), keras2, atol=TOL)
    assert json.loads((HERE / "rnnkit_files_keras2.json").read_text())["lambda"] == \
        _summary(model)


def test_save_and_load_by_name(tmp_path):
    model = named_model()
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    model.save(tmp_path / "m.h5")
    config = model.get_config()["layers"][2]["config"]
    assert {k: config[k] for k in ("function", "function_type", "arguments")} == \
        {"function": "last_step", "function_type": "function", "arguments": {}}
    loaded = load_model(tmp_path / "m.h5", custom_objects={"last_step": last_step,
                                                           "scale": scale})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_layer("lambda_1").arguments == {"k": 2.0}
    sequential = Sequential([LSTM(3, input_shape=(5, 3)), Lambda(scale, arguments={"k": -1.0})])
    sequential.save(tmp_path / "s.h5")
    again = load_model(tmp_path / "s.h5", custom_objects={"scale": scale})
    np.testing.assert_allclose(again.predict(x, verbose=0), sequential.predict(x, verbose=0))
    assert again.layers[1].function is scale


def test_anonymous_lambda_cannot_be_saved(tmp_path):
    model = Sequential([LSTM(2, input_shape=(3, 1)), Lambda(lambda t: t * 2)])
    with pytest.raises(ValueError, match=r'Lambda layer "lambda" cannot be saved: its function '
                                         r"is an anonymous <lambda>. rnnkit saves a Lambda's "
                                         r"function by name only, never as code"):
        model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "m.weights.h5")  # the weights alone are fine


def test_keras3_archive_with_a_lambda_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"Layer 'lambda' is a Lambda: rnnkit writes Lambda "
                                         r"layers only to tf.keras 2 .h5 files"):
        named_model().save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_from_config_without_a_function_is_clear():
    with pytest.raises(ValueError, match=r"Lambda layer 'f': its function 'last_step' is not "
                                         r"available. rnnkit never builds code from a config"):
        Lambda.from_config({"name": "f", "function": "last_step", "function_type": "function"})
    with pytest.raises(TypeError, match=r'Lambda layer "lambda": `function` must be callable'):
        Lambda("last_step")


# ---------------------------------------------------------------------- behaviour
def test_output_shape_inferred_with_unknown_dimensions():
    x = rnnkit.Input((None, 6))
    assert Lambda(lambda t: t[:, :2])(x).shape == (None, None, 6)
    assert Lambda(lambda t: t[:, -2])(x).shape == (None, 6)  # the size-1 run fails: ignored
    assert Lambda(lambda t: t.reshape(t.shape[0], -1, 2))(x).shape == (None, None, 2)
    two = Lambda(lambda t: [t, t.sum(-1)])(x)
    assert [o.shape for o in two] == [(None, None, 6), (None, None)]
    assert Lambda(lambda t: t, output_shape=lambda s: (s[0], 7))(x).shape == (None, 7)


def test_output_shape_that_cannot_be_inferred_is_clear():
    def broken(t):
        raise RuntimeError("boom")
    with pytest.raises(NotImplementedError, match=r"We could not automatically infer the shape "
                                                  r"of the Lambda's output \(layer \"lambda\", "
                                                  r".*RuntimeError: boom. Please specify "
                                                  r"`output_shape`"):
        Lambda(broken)(rnnkit.Input((3,)))


def test_masks_like_keras():
    ids = np.array([[1, 2, 0, 0]])
    inp = rnnkit.Input((4,))
    e = Embedding(5, 3, mask_zero=True)(inp)
    dropped = Lambda(lambda t: t * 2)(e)
    kept = Lambda(lambda t: t * 2, mask=lambda inputs, mask: mask)(e)
    seen = {}

    def uses_mask(t, mask=None):
        seen["mask"] = mask
        return t
    Lambda(uses_mask)(torch.ones(1, 4, 3))
    model = Model(inp, [dropped, kept, Lambda(uses_mask)(e)])
    a, b, _ = model(ids)
    assert getattr(a, "_keras_mask", None) is None
    assert b._keras_mask.tolist() == [[True, True, False, False]]
    assert seen["mask"].tolist() == [[True, True, False, False]]
    embedded = model.get_layer("embedding")(ids)
    Lambda(lambda t: t)(embedded)  # an identity function leaves its input's mask alone
    assert embedded._keras_mask.tolist() == [[True, True, False, False]]
    # A masked LSTM after `kept` skips the padding: its output equals the unpadded run.
    lstm = LSTM(2)
    out = Model(inp, lstm(kept))(ids)
    short = lstm(model.get_layer("embedding")(ids[:, :2]) * 2)
    np.testing.assert_allclose(out.detach().numpy(), short.detach().numpy(), atol=1e-6)


def test_list_inputs_training_flag_and_gradients():
    a, b = rnnkit.Input((3,)), rnnkit.Input((3,))
    calls = []

    def combine(ts, training=None):
        calls.append(training)
        return ts[0] * ts[1]

    layer = Lambda(combine)
    model = Model([a, b], Dense(1)(layer([a, b])))
    assert layer.output_shape == (None, 3)
    x = [torch.randn(4, 3), torch.randn(4, 3)]
    model(x, training=True).sum().backward()
    assert calls[-1] is True
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.weights)
    eager = layer([torch.ones(2, 3), torch.full((2, 3), 2.0)])
    assert eager.tolist() == [[2.0] * 3] * 2
    assert layer([np.ones((2, 3)), np.full((2, 3), 3.0)]).tolist() == [[3.0] * 3] * 2


def test_sequential_without_input_shape_builds_on_first_call():
    model = Sequential([Lambda(lambda t: t[:, ::2]), Dense(1)])
    assert tuple(model(np.ones((2, 6), dtype="float32")).shape) == (2, 1)
    assert tuple(model.layers[1].kernel.shape) == (3, 1)
