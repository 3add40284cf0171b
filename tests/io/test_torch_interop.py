"""Layers to and from torch.nn.LSTM / GRU / RNN, through rnnkit.kernels.torch_layout."""
import numpy as np
import pytest
import torch

from rnnkit import backend
from rnnkit.kernels import torch_layout
from rnnkit.io.torch_interop import from_torch, to_torch
from rnnkit.layers import GRU, LSTM, Bidirectional

from cases import CASES

X = np.random.default_rng(0).normal(size=(3, 7, 5)).astype("float32")

# every configuration of the conformance table (tests/cases.py) with a torch twin, and the
# bidirectional wrappers
TWINS = [case for case in CASES if case.persistent != "gru_reset_before"]
LAYERS = [(lambda case: lambda: case.layer(4, return_sequences=True))(case) for case in TWINS] + [
    lambda: Bidirectional(GRU(3, return_sequences=True)),
    lambda: Bidirectional(LSTM(3, return_sequences=True)),
]
IDS = [case.name for case in TWINS] + ["bi_gru", "bi_lstm"]


def _randomise(layer):
    rng = np.random.default_rng(1)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_to_torch_computes_the_same_sequence(make):
    backend.clear_session()
    layer = make()
    layer.build((None, 7, 5))
    _randomise(layer)  # random biases too: gate order and bias split errors show
    module = to_torch(layer)
    with torch.no_grad():
        expected = layer(X).numpy()
        got, _ = module(torch.as_tensor(X))
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)
    back = from_torch(module, return_sequences=True)
    np.testing.assert_allclose(back(X).detach().numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN])
def test_from_torch_keeps_a_torch_module_s_numbers(cls):
    torch.manual_seed(0)
    module = cls(5, 6, batch_first=True)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()  # bias_hh nonzero: the Keras side must fold it in correctly
        ref, _ = module(torch.as_tensor(X))
    layer = from_torch(module)
    np.testing.assert_allclose(layer(X).detach().numpy(), ref[:, -1].numpy(), atol=1e-5)


def test_weight_maps_round_trip_and_gate_order():
    rng = np.random.default_rng(2)
    units = 3
    kernel = rng.normal(size=(5, 3 * units)).astype("float32")
    recurrent = rng.normal(size=(units, 3 * units)).astype("float32")
    bias = rng.normal(size=(2, 3 * units)).astype("float32")
    w_ih, w_hh, b_ih, b_hh = torch_layout.keras_to_torch_gru(kernel, recurrent, bias)
    # torch's first block is the reset gate r, Keras's second block.
    np.testing.assert_array_equal(w_ih[:units].numpy(), kernel[:, units:2 * units].T)
    np.testing.assert_array_equal(b_hh[units:2 * units].numpy(), bias[1, :units])
    k2, r2, b2 = torch_layout.torch_to_keras_gru(w_ih, w_hh, b_ih, b_hh)
    for a, b in ((k2, kernel), (r2, recurrent), (b2, bias)):
        np.testing.assert_array_equal(a.numpy(), b)
    lk, lr, lb = torch_layout.torch_to_keras_lstm(*torch_layout.keras_to_torch_lstm(kernel, recurrent, bias[0]))
    np.testing.assert_array_equal(lb.numpy(), bias[0])


def test_weight_maps_are_differentiable():
    kernel = torch.randn(5, 8, requires_grad=True)
    w_ih, _, _, _ = torch_layout.keras_to_torch_lstm(kernel, torch.randn(2, 8), torch.randn(8))
    w_ih.sum().backward()
    assert kernel.grad is not None and torch.all(kernel.grad == 1)


def test_gru_without_reset_after_is_refused():
    layer = GRU(3, reset_after=False)
    layer.build((None, 4, 2))
    with pytest.raises(ValueError, match=r"'gru(_\d+)?' \(GRU\) has no torch.nn.GRU equivalent: "
                                         r"reset_after=False"):
        to_torch(layer)
    with pytest.raises(ValueError, match="reset_after=False"):
        torch_layout.keras_to_torch_gru(np.zeros((2, 9)), np.zeros((3, 9)), np.zeros(9), reset_after=False)


def test_unconvertible_layers_and_modules_are_refused():
    layer = LSTM(3, go_backwards=True)
    layer.build((None, 4, 2))
    with pytest.raises(ValueError, match="go_backwards=True"):
        to_torch(layer)
    hard = LSTM(3, recurrent_activation="hard_sigmoid")
    hard.build((None, 4, 2))
    with pytest.raises(ValueError, match="recurrent_activation='hard_sigmoid'"):
        to_torch(hard)
    with pytest.raises(ValueError, match="num_layers=2"):
        from_torch(torch.nn.LSTM(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="proj_size"):
        from_torch(torch.nn.LSTM(2, 3, proj_size=2))
