"""rnnkit.activations: Keras 2 formulas, names, get/serialize."""
import math

import numpy as np
import pytest
import torch

from rnnkit import activations

X = torch.linspace(-6.0, 6.0, 97, dtype=torch.float64)


def test_hard_sigmoid_is_keras2_not_torch():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0])
    expected = torch.tensor([0.0, 0.3, 0.5, 0.7, 1.0])
    torch.testing.assert_close(activations.hard_sigmoid(x), expected)
    # torch's (and Keras 3's) x/6 + 1/2 gives 0.6667 at 1: the Keras 2 slope is 0.2.
    assert not torch.allclose(activations.hard_sigmoid(x), torch.nn.functional.hardsigmoid(x))
    torch.testing.assert_close(activations.hard_sigmoid(X), torch.clamp(0.2 * X + 0.5, 0, 1))


@pytest.mark.parametrize("name, formula", [
    ("tanh", lambda x: np.tanh(x)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("linear", lambda x: x),
    ("relu", lambda x: np.maximum(x, 0)),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
    ("softplus", lambda x: np.log(np.exp(x) + 1)),
    ("softsign", lambda x: x / (np.abs(x) + 1)),
    ("exponential", lambda x: np.exp(x)),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("silu", lambda x: x / (1 + np.exp(-x))),
    ("gelu", lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    ("mish", lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
])
def test_elementwise_formulas(name, formula):
    got = activations.get(name)(X)
    np.testing.assert_allclose(got.numpy(), formula(X.numpy()), rtol=1e-10, atol=1e-12)


def test_keras_docstring_values():
    # Values printed in tf.keras 2's own docstrings (float32).
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(activations.gelu(x).numpy(),
                               [-0.00404951, -0.15865529, 0.0, 0.8413447, 2.9959507], atol=1e-6)
    np.testing.assert_allclose(activations.gelu(x, approximate=True).numpy(),
                               [-0.00363752, -0.15880796, 0.0, 0.841192, 2.9963627], atol=1e-6)
    foo = torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
    assert activations.relu(foo).tolist() == [0, 0, 0, 5, 10]
    assert activations.relu(foo, alpha=0.5).tolist() == [-5, -2.5, 0, 5, 10]
    assert activations.relu(foo, max_value=5.0).tolist() == [0, 0, 0, 5, 5]
    assert activations.relu(foo, threshold=5.0).tolist() == [0, 0, 0, 0, 10]
    # alpha together with a threshold and a cap (the general Keras backend path)
    assert activations.relu(foo, alpha=0.5, max_value=8.0, threshold=1.0).tolist() == \
        [-5.5, -3.0, -0.5, 5.0, 8.0]


def test_softmax_and_log_softmax_use_the_last_axis():
    x = torch.randn(3, 4, 5, dtype=torch.float64)
    s = activations.softmax(x)
    torch.testing.assert_close(s.sum(-1), torch.ones(3, 4, dtype=torch.float64))
    torch.testing.assert_close(s, torch.exp(x) / torch.exp(x).sum(-1, keepdim=True))
    torch.testing.assert_close(activations.softmax(x, axis=1).sum(1), torch.ones(3, 5, dtype=torch.float64))
    torch.testing.assert_close(activations.log_softmax(x), torch.log(s))


def test_accepts_numpy_and_lists():
    out = activations.tanh(np.array([0.0, 1.0]))
    assert isinstance(out, torch.Tensor)
    torch.testing.assert_close(out, torch.tanh(torch.tensor([0.0, 1.0], dtype=torch.float64)))
    assert activations.sigmoid([0, 0]).tolist() == [0.5, 0.5]


def test_get_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    assert activations.get(torch.tanh) is torch.tanh
    my = lambda x: x * 2  # noqa: E731
    assert activations.get(my) is my
    with pytest.raises(TypeError, match="Could not interpret"):
        activations.get(42)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "softmax",
                                  "log_softmax", "elu", "selu", "softplus", "softsign",
                                  "exponential", "swish", "gelu", "mish", "relu6", "leaky_relu"])
def test_name_round_trip(name):
    fn = activations.get(name)
    assert activations.serialize(fn) == name
    assert activations.get(activations.serialize(fn)) is fn


def test_serialize_aliases_and_user_functions():
    assert activations.get("silu") is activations.swish
    assert activations.serialize(activations.silu) == "swish"
    assert activations.serialize(activations.get(None)) == "linear"

    def my_activation(x):
        return x

    assert activations.serialize(my_activation) == "my_activation"
    # torch's own functions carry Keras-compatible names
    assert activations.serialize(torch.tanh) == "tanh"
    assert activations.get(activations.serialize(torch.sigmoid)) is activations.sigmoid
    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(torch.nn.Tanh())


def test_get_from_keras_dicts():
    keras3 = {"module": "keras.activations", "class_name": "function", "config": "tanh",
              "registered_name": "tanh"}
    assert activations.get(keras3) is activations.tanh
    assert activations.get({"class_name": "relu", "config": {}}) is activations.relu
    assert activations.get({"class_name": "sigmoid"}) is activations.sigmoid
    with pytest.raises(ValueError, match="no config"):
        activations.get({"class_name": "relu", "config": {"alpha": 0.1}})
    with pytest.raises(ValueError, match="Unknown activation function: 'LeakyReLU'"):
        activations.get({"class_name": "LeakyReLU", "config": {}})


def test_unknown_name_message_names_it_and_lists_known():
    with pytest.raises(ValueError) as err:
        activations.get("tanhh")
    message = str(err.value)
    assert "'tanhh'" in message
    for known in ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "softmax"):
        assert known in message
