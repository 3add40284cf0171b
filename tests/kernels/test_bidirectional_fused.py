"""Bidirectional run as one fused bidirectional torch call equals the two layers run apart."""
import numpy as np
import pytest
import torch

from rnnkit.kernels import KernelChoice, native
from rnnkit.layers import GRU, LSTM, Bidirectional, SimpleRNN


def _pair(make, merge_mode, return_sequences, return_state):
    torch.manual_seed(0)
    layer = Bidirectional(make(return_sequences=return_sequences, return_state=return_state),
                          merge_mode=merge_mode)
    return layer


def _outputs(layer, x, mask, initial_state, separate):
    for sub in (layer.forward_layer, layer.backward_layer):
        sub.rnn_kernel = "reference" if separate else "auto"
    x = x.clone().requires_grad_(True)
    states = None if initial_state is None else [s.clone().requires_grad_(True) for s in initial_state]
    out = layer(x, mask=mask, initial_state=states)
    outs = out if isinstance(out, list) else [out]
    torch.manual_seed(1)
    loss = sum((o * torch.randn(o.shape, dtype=o.dtype)).sum() for o in outs)
    layer.zero_grad()
    loss.backward()
    return [o.detach() for o in outs] + [x.grad] + [w.grad.clone() for w in layer.weights] \
        + ([s.grad for s in states] if states else [])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_fused_bidirectional_lstm_equals_separate_layers(merge_mode, return_sequences, masked):
    layer = _pair(lambda **kw: LSTM(4, **kw), merge_mode, return_sequences, True)
    x = torch.randn(3, 6, 2)
    layer(x)
    with torch.no_grad():
        for w in layer.weights:
            w.add_(0.1 * torch.randn_like(w))
    mask = None
    if masked:
        mask = torch.arange(6)[None] < torch.tensor([6, 2, 4])[:, None]
    initial = [torch.randn(3, 4) for _ in range(4)]
    # a mask with rnnkit's C loops at hand: each direction runs there (torch's packed
    # sequences are slower); else one bidirectional torch call
    expect_fused = mask is None or native.loops() is None
    choice = layer.select_kernel(x, mask, False)
    assert (choice.name == "torch") == expect_fused, choice
    if not expect_fused:
        assert choice.reason == ("rnnkit's C loop runs a masked LSTM faster than torch's "
                                 "packed sequences, per direction")
    fused = _outputs(layer, x, mask, initial, separate=False)
    separate = _outputs(layer, x, mask, initial, separate=True)
    assert len(fused) == len(separate)
    for a, b in zip(fused, separate):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=2e-6)


def test_float64_on_the_cpu_runs_the_directions_apart():
    layer = Bidirectional(LSTM(4, dtype="float64"))
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    layer(x)
    choice = layer.select_kernel(x)
    assert choice.name == "separate" and "oneDNN, which refuses torch.float64" in choice.reason


def test_cpu_gru_and_simple_rnn_stay_on_rnnkit_loops():
    x = torch.randn(2, 5, 3)
    for make in (lambda: GRU(4, return_sequences=True), lambda: SimpleRNN(4)):
        layer = Bidirectional(make())
        layer(x)
        choice = layer.select_kernel(x)
        assert choice.name == "separate"
        assert choice.reason.startswith("rnnkit's own ") and "loop beats torch's on the CPU" \
            in choice.reason


def test_dropout_in_training_runs_the_directions_apart():
    layer = Bidirectional(LSTM(4, dropout=0.5))
    x = torch.randn(2, 5, 3)
    layer(x)
    assert layer.select_kernel(x, training=True) \
        == KernelChoice("separate", "", "each direction draws its own dropout mask")
    assert layer.select_kernel(x, training=False) == KernelChoice(
        "torch", "lstm", "both directions in one fused torch lstm call (ATen/oneDNN)")


def test_a_forced_kernel_or_a_user_cell_runs_the_directions_apart():
    x = torch.randn(2, 5, 3)
    layer = Bidirectional(LSTM(4))
    layer(x)
    layer.forward_layer.rnn_kernel = "reference"
    assert layer.select_kernel(x).reason == "a direction's rnn_kernel is set"
    layer = Bidirectional(LSTM(4, activation="relu"))
    layer(x)
    choice = layer.select_kernel(x)
    assert choice.name == "separate" and "activation is 'relu', not 'tanh'" in choice.reason
