"""The cells on their own: ``cell(x_t, states) -> (output, new_states)``, the equations in
Keras gate order, ``state_size`` / ``output_size`` and ``get_initial_state``."""
import numpy as np
import pytest
import torch

from rnnkit.layers import GRUCell, LSTMCell, SimpleRNNCell

from cases import CASES

# the conformance table's configurations (tests/cases.py), 3 units
CELLS = [(case.name, (lambda case: lambda **kw: case.cell(3, **kw))(case),
          (lambda case: lambda **kw: case.layer(3, **kw))(case), case.n_states)
         for case in CASES]
IDS = [c[0] for c in CELLS]


def _randomise(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.weights:
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) - 0.5)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


@pytest.mark.parametrize("name, make_cell, make_layer, n_states", CELLS, ids=IDS)
def test_cell_call_returns_output_and_states(name, make_cell, make_layer, n_states):
    cell = make_cell()
    x = torch.randn(2, 4)
    states = [torch.randn(2, 3) for _ in range(n_states)]
    output, new_states = cell(x, states)
    assert cell.built and tuple(cell.kernel.shape[:1]) == (4,)
    assert output.shape == (2, 3)
    assert isinstance(new_states, list) and len(new_states) == n_states
    assert all(s.shape == (2, 3) for s in new_states)
    torch.testing.assert_close(output, new_states[0])  # the output is h
    assert not torch.allclose(new_states[0], states[0])
    # `cell.call` (as a custom RNN loop uses it) gives the same step.
    out2, states2 = cell.call(x, states)
    torch.testing.assert_close(out2, output)


@pytest.mark.parametrize("name, make_cell, make_layer, n_states", CELLS, ids=IDS)
def test_cell_step_equals_one_step_of_the_layer(name, make_cell, make_layer, n_states):
    layer = make_layer(return_state=True)
    layer.build((2, 1, 4))
    _randomise(layer)
    cell = make_cell()
    cell.build((2, 4))
    cell.set_weights(layer.get_weights())
    x = torch.randn(2, 1, 4)
    states = [torch.randn(2, 3) for _ in range(n_states)]
    expected = layer(x, initial_state=states)
    output, new_states = cell(x[:, 0], states)
    torch.testing.assert_close(output, expected[0])
    for got, want in zip(new_states, expected[1:]):
        torch.testing.assert_close(got, want)
    # Two cell steps equal a two-step layer.
    x2 = torch.randn(2, 2, 4)
    expected2 = layer(x2, initial_state=states)
    out_a, states_a = cell(x2[:, 0], states)
    out_b, states_b = cell(x2[:, 1], states_a)
    torch.testing.assert_close(out_b, expected2[0])


@pytest.mark.parametrize("make_cell", [lambda: SimpleRNNCell(3), lambda: GRUCell(3)])
def test_single_state_tensor_gives_single_new_state(make_cell):
    # tf.keras 2: `cell(x, h)` with a tensor (not a list) returns `(output, h_new)`.
    cell = make_cell()
    x, h = torch.randn(2, 4), torch.randn(2, 3)
    output, new_state = cell(x, h)
    assert isinstance(new_state, torch.Tensor)
    torch.testing.assert_close(new_state, cell(x, [h])[1][0])


def test_cell_states_default_to_zeros():
    cell = LSTMCell(3)
    x = torch.randn(2, 4)
    out, states = cell(x)
    out0, states0 = cell(x, cell.get_initial_state(2))
    torch.testing.assert_close(out, out0)


def test_simple_rnn_cell_equation():
    cell = SimpleRNNCell(3, activation="relu")
    cell.build((2, 4))
    _randomise(cell)
    x, h = np.random.default_rng(0).normal(size=(2, 4)), np.random.default_rng(1).normal(size=(2, 3))
    w, u, b = [p.astype(np.float64) for p in cell.get_weights()]
    expected = np.maximum(x @ w + h @ u + b, 0)
    out, _ = cell(torch.tensor(x, dtype=torch.float32), [torch.tensor(h, dtype=torch.float32)])
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-5)


def test_lstm_cell_equation_in_keras_gate_order():
    cell = LSTMCell(3)
    cell.build((2, 4))
    _randomise(cell)
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(2, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    w, u, b = [p.astype(np.float64) for p in cell.get_weights()]
    z = x @ w + h @ u + b
    i, f, g, o = _sigmoid(z[:, :3]), _sigmoid(z[:, 3:6]), np.tanh(z[:, 6:9]), _sigmoid(z[:, 9:])
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    out, (h_got, c_got) = cell(torch.tensor(x, dtype=torch.float32),
                               [torch.tensor(h, dtype=torch.float32),
                                torch.tensor(c, dtype=torch.float32)])
    np.testing.assert_allclose(h_got.detach().numpy(), h_new, atol=1e-5)
    np.testing.assert_allclose(c_got.detach().numpy(), c_new, atol=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_cell_equation_in_keras_gate_order(reset_after):
    cell = GRUCell(3, reset_after=reset_after)
    cell.build((2, 4))
    _randomise(cell)
    rng = np.random.default_rng(0)
    x, h = rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    w, u, b = [p.astype(np.float64) for p in cell.get_weights()]
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros(9))
    xw = x @ w + b_in
    if reset_after:
        rec = h @ u + b_rec
        z = _sigmoid(xw[:, :3] + rec[:, :3])
        r = _sigmoid(xw[:, 3:6] + rec[:, 3:6])
        hh = np.tanh(xw[:, 6:] + r * rec[:, 6:])
    else:
        z = _sigmoid(xw[:, :3] + h @ u[:, :3])
        r = _sigmoid(xw[:, 3:6] + h @ u[:, 3:6])
        hh = np.tanh(xw[:, 6:] + (r * h) @ u[:, 6:])
    expected = z * h + (1 - z) * hh
    out, _ = cell(torch.tensor(x, dtype=torch.float32), [torch.tensor(h, dtype=torch.float32)])
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-5)


def test_hard_sigmoid_is_keras_2():
    cell = LSTMCell(1, recurrent_activation="hard_sigmoid", activation=None, use_bias=False)
    cell.build((1, 1))
    with torch.no_grad():
        cell.kernel.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0]]))
        cell.recurrent_kernel.zero_()
    # z = 1 for every gate: hard_sigmoid(1) = 0.2 + 0.5 = 0.7 (Keras 3 would give 0.6667).
    _, (h, c) = cell(torch.ones(1, 1), [torch.zeros(1, 1), torch.zeros(1, 1)])
    torch.testing.assert_close(c, torch.tensor([[0.7]]))
    torch.testing.assert_close(h, torch.tensor([[0.49]]))


def test_state_and_output_sizes():
    assert SimpleRNNCell(5).state_size == 5
    assert GRUCell(5).state_size == 5
    assert list(LSTMCell(5).state_size) == [5, 5]
    for cell in (SimpleRNNCell(5), LSTMCell(5), GRUCell(5), GRUCell(5, reset_after=False)):
        assert cell.output_size == 5


@pytest.mark.parametrize("make_cell, n_states", [(lambda: SimpleRNNCell(4), 1),
                                                 (lambda: LSTMCell(4), 2),
                                                 (lambda: GRUCell(4), 1)])
def test_get_initial_state(make_cell, n_states):
    cell = make_cell()
    states = cell.get_initial_state(6)
    assert isinstance(states, list) and len(states) == n_states
    for s in states:
        assert s.shape == (6, 4) and s.dtype == torch.float32
        assert torch.equal(s, torch.zeros(6, 4))
    assert all(s.dtype == torch.float64 for s in cell.get_initial_state(2, torch.float64))
    # tf.keras 2 spellings: keyword batch_size / dtype names / inputs=.
    assert all(s.dtype == torch.float64
               for s in cell.get_initial_state(batch_size=2, dtype="float64"))
    from_inputs = cell.get_initial_state(inputs=torch.zeros(3, 7, dtype=torch.float64))
    assert [tuple(s.shape) for s in from_inputs] == [(3, 4)] * n_states


def test_float64_cell():
    cell = GRUCell(3, dtype="float64")
    out, states = cell(torch.randn(2, 4))
    assert out.dtype == torch.float64 and cell.kernel.dtype == torch.float64
    assert cell.get_initial_state(2)[0].dtype == torch.float64


def test_cell_weight_shapes_and_names():
    cell = GRUCell(3, name="gru_cell_x")
    cell.build((None, 4))
    assert [tuple(w.shape) for w in cell.weights] == [(4, 9), (3, 9), (2, 9)]
    assert cell.weight_names() == ["gru_cell_x/kernel:0", "gru_cell_x/recurrent_kernel:0",
                                   "gru_cell_x/bias:0"]
    assert cell.count_params() == 3 * 3 * (4 + 3 + 2)


@pytest.mark.parametrize("make_cell", [lambda: SimpleRNNCell(3, activation="relu"),
                                       lambda: LSTMCell(3, unit_forget_bias=False),
                                       lambda: GRUCell(3, reset_after=False)])
def test_cell_config_round_trip(make_cell):
    cell = make_cell()
    config = cell.get_config()
    clone = type(cell).from_config(config)
    assert clone.get_config() == config


def test_cell_config_keys():
    assert "implementation" not in SimpleRNNCell(2).get_config()
    assert LSTMCell(2).get_config()["implementation"] == 2
    assert GRUCell(2).get_config()["reset_after"] is True


def test_cell_input_must_be_one_step():
    with pytest.raises(ValueError, match=r"lstm_cell_y.*\(batch, features\).*\(2, 3, 4\)"):
        LSTMCell(3, name="lstm_cell_y")(torch.zeros(2, 3, 4))


def test_cell_dropout_only_in_training():
    cell = SimpleRNNCell(8, dropout=0.5)
    x, h = torch.ones(4, 8), torch.zeros(4, 8)
    inference, _ = cell(x, [h])
    torch.testing.assert_close(cell(x, [h], training=False)[0], inference)
    torch.manual_seed(0)
    assert not torch.allclose(cell(x, [h], training=True)[0], inference)
