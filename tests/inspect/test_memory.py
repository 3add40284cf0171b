"""``memory()``: exact Jacobian norms, ablation, and the SimpleRNN-vs-LSTM fall-off."""
import numpy as np
import pytest
import torch

from rnnkit import utils
from rnnkit.inspect import memory
from rnnkit.layers import LSTM, Dense, Embedding, SimpleRNN
from rnnkit.models import Sequential


def test_gradient_curve_is_the_jacobian_norm():
    utils.set_random_seed(3)
    model = Sequential([LSTM(3, input_shape=(5, 2), return_sequences=True), Dense(2)])
    x = torch.randn(4, 5, 2)
    curve = memory(model, x)
    expected = np.zeros(5)
    for b in range(4):
        jac = torch.autograd.functional.jacobian(lambda s: model(s[None])[0, -1], x[b])
        # (outputs, T, D): the Frobenius norm per input step
        expected += jac.pow(2).sum(dim=(0, 2)).sqrt().numpy() / 4
    np.testing.assert_allclose(curve.gradient, expected, rtol=1e-5)
    assert curve.label == model.name and curve.ablation is None


def test_ablation_curve_by_hand():
    utils.set_random_seed(4)
    layer = SimpleRNN(3)
    x = torch.randn(3, 4, 2)
    curve = memory(layer, x, ablation=True)
    with torch.no_grad():
        base = layer(x)
        moved = x.clone()
        moved[:, 1] = 0
        expected = (layer(moved) - base).norm(dim=-1).mean()
    assert curve.ablation[1] == pytest.approx(float(expected), rel=1e-6)
    shuffled = memory(layer, x, ablation=True, replace="shuffle")
    with torch.no_grad():
        moved = x.clone()
        moved[:, 2] = x.roll(1, dims=0)[:, 2]
        expected = (layer(moved) - base).norm(dim=-1).mean()
    assert shuffled.ablation[2] == pytest.approx(float(expected), rel=1e-6)


def test_simple_rnn_forgets_faster_than_lstm_at_initialisation():
    """The seed notebook's "old memories fade", measured: 40 random steps, untrained
    (Keras initialisers), 16 sequences, three seeds. The numbers are in docs/learning-aids.md."""
    for seed in range(3):
        utils.set_random_seed(seed)
        x = torch.randn(16, 40, 4)
        rnn = memory(SimpleRNN(8), x, ablation=True)
        lstm = memory(LSTM(8), x, ablation=True)
        for measure in ("gradient", "ablation"):
            assert rnn.decay_per_step(measure=measure) < lstm.decay_per_step(measure=measure)
            # 20 steps back, the LSTM keeps at least 5x more of the input's influence
            assert lstm.retention(20, measure) > 5 * rnn.retention(20, measure)
        # ... while the newest inputs matter to both
        assert rnn.retention(1) > 0.3 and lstm.retention(1) > 0.3


def test_curve_helpers():
    from rnnkit.inspect import MemoryCurve
    curve = MemoryCurve("toy", np.array([0.125, 0.25, 0.5, 1.0]))
    np.testing.assert_array_equal(curve.distance, [3, 2, 1, 0])
    assert curve.retention(2) == 0.25 and curve.decay_per_step() == pytest.approx(0.5)
    np.testing.assert_allclose(curve.relative(), [0.125, 0.25, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"distance must be in \[0, 3\], got 4"):
        curve.retention(4)
    with pytest.raises(ValueError, match="has no ablation curve"):
        curve.retention(1, "ablation")


def test_weights_and_stateful_states_are_left_alone():
    utils.set_random_seed(5)
    layer = LSTM(3, stateful=True, batch_input_shape=(2, 4, 2))
    x = torch.randn(2, 4, 2)
    layer(x)
    stored = [s.clone() for s in layer.states]
    weights = [w.copy() for w in layer.get_weights()]
    memory(layer, x, ablation=True)
    assert all(torch.equal(a, b) for a, b in zip(layer.states, stored))
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), weights))


def test_memory_errors():
    model = Sequential([Embedding(10, 3, input_length=4), LSTM(2)])
    with pytest.raises(ValueError, match=r"needs a float \(batch, time, features\) input; got a "
                                         r"torch.int64 tensor of shape \(2, 4\)"):
        memory(model, np.ones((2, 4), dtype=int))
    with pytest.raises(ValueError, match="replace must be 'zeros' or 'shuffle', got 'noise'"):
        memory(LSTM(2), np.zeros((2, 3, 1)), ablation=True, replace="noise")
    with pytest.raises(ValueError, match="needs a batch of at least 2"):
        memory(LSTM(2), np.zeros((1, 3, 1)), ablation=True, replace="shuffle")
    with pytest.raises(TypeError, match=r"memory\(\) takes an rnnkit model or layer, got str"):
        memory("lstm", np.zeros((1, 3, 1)))


def test_per_sequence_curves_and_one_output_unit():
    """``per_sequence`` holds each sequence's own curve (``gradient`` is their mean);
    ``output=k`` measures the influence on output unit k alone, by hand here."""
    utils.set_random_seed(4)
    model = Sequential([LSTM(4, input_shape=(6, 3)), Dense(3)])
    x = torch.randn(5, 6, 3)
    curve = memory(model, x)
    assert curve.per_sequence.shape == (5, 6)
    np.testing.assert_allclose(curve.per_sequence.mean(axis=0), curve.gradient, rtol=1e-12)
    for k in range(3):
        one = memory(model, x, output=k)
        for s in range(5):
            xs = x[s:s + 1].clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model(xs)[0, k], xs)
            np.testing.assert_allclose(one.per_sequence[s], g[0].norm(dim=-1).numpy(),
                                       rtol=1e-5, atol=1e-9)
    # all outputs: the root of the sum of the units' squares, per sequence
    squares = sum(memory(model, x, output=k).per_sequence ** 2 for k in range(3))
    np.testing.assert_allclose(curve.per_sequence, np.sqrt(squares), rtol=1e-5)
