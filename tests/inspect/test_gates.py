"""``gates()`` reproduces the layer: outputs and states equal, masks and go_backwards too."""
import numpy as np
import pytest
import torch

from rnnkit.inspect import gates, trace
from rnnkit.kernels import run_reference
from rnnkit.layers import GRU, LSTM, RNN, Bidirectional, Dense, LSTMCell, SimpleRNN
from rnnkit.models import Sequential

from cases import CASES

# the conformance table's configurations (tests/cases.py), 4 units
LAYERS = [(case.name, (lambda case: lambda **kw: case.layer(4, **kw))(case), case.gate_names)
          for case in CASES]
IDS = [c[0] for c in LAYERS]
FLAGS = [
    ("plain", {}, False),
    ("masked", {}, True),
    ("go_backwards", {"go_backwards": True}, False),
    ("masked_go_backwards", {"go_backwards": True}, True),
    ("masked_zero_output", {"zero_output_for_mask": True}, True),
]


def _randomise(layer, x):
    layer._maybe_build(tuple(x.shape))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in layer.weights:  # random biases too, so no gate hides behind a zero
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.6)
    return layer


def _data(dtype=torch.float64):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 7, 5, generator=gen, dtype=dtype)
    # Masks with leading, trailing and inner gaps, and one sequence fully valid.
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1, 1], [1, 1, 1, 0, 1, 0, 0]],
                        dtype=torch.bool)
    return x, mask


@pytest.mark.parametrize("flag, kwargs, masked", FLAGS, ids=[f[0] for f in FLAGS])
@pytest.mark.parametrize("name, make, gate_names", LAYERS, ids=IDS)
def test_gates_reproduce_the_layer(name, make, gate_names, flag, kwargs, masked):
    x, mask = _data()
    mask = mask if masked else None
    layer = _randomise(make(return_sequences=True, return_state=True, dtype="float64", **kwargs),
                       x)
    outputs, *states = layer(x, mask=mask)
    traced = gates(layer, x, mask=mask)
    # The layer may run a fused kernel: equal to float64 rounding.
    torch.testing.assert_close(traced.outputs, outputs, rtol=0, atol=1e-12)
    for got, want in zip(traced.final_states, states):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    torch.testing.assert_close(traced.last_output, outputs[:, -1], rtol=0, atol=1e-12)
    # Against the reference loop itself (the cell's own step): bit for bit.
    ref = run_reference(layer.cell, x, layer.cell.get_initial_state(3, torch.float64),
                        mask=mask, go_backwards=layer.go_backwards,
                        zero_output_for_mask=layer.zero_output_for_mask)
    assert torch.equal(traced.outputs, ref.outputs)
    assert all(torch.equal(a, b) for a, b in zip(traced.final_states, ref.states))
    # The state after the last step is the layer's final state.
    for k, state_name in enumerate(layer.cell.state_names):
        assert torch.equal(traced.states[state_name][:, -1], traced.final_states[k])
    assert tuple(traced.gates) == gate_names
    expected_order = np.arange(7)[::-1] if layer.go_backwards else np.arange(7)
    np.testing.assert_array_equal(traced.time_index, expected_order)
    if masked:  # a masked step's gate values are NaN, the valid ones are numbers
        step_mask = mask.flip(1) if layer.go_backwards else mask
        for values in traced.gates.values():
            assert torch.isnan(values[~step_mask]).all()
            assert not torch.isnan(values[step_mask]).any()
        assert torch.equal(traced.mask, step_mask)


def test_float32_layer_matches_to_float32_rounding():
    x, mask = _data(torch.float32)
    layer = _randomise(LSTM(4, return_sequences=True), x)
    torch.testing.assert_close(gates(layer, x, mask=mask).outputs, layer(x, mask=mask))


def test_lstm_gates_satisfy_the_equations():
    x, _ = _data()
    layer = _randomise(LSTM(4, dtype="float64"), x)
    t = gates(layer, x)
    c_prev = torch.cat([torch.zeros_like(t["c"][:, :1]), t["c"][:, :-1]], dim=1)
    torch.testing.assert_close(t["c"], t["f"] * c_prev + t["i"] * t["c_tilde"])
    torch.testing.assert_close(t["h"], t["o"] * torch.tanh(t["c"]))
    for gate in ("i", "f", "o"):
        assert ((t[gate] > 0) & (t[gate] < 1)).all()


def test_gru_and_simple_rnn_gates_satisfy_the_equations():
    x, _ = _data()
    gru = _randomise(GRU(4, dtype="float64"), x)
    t = gates(gru, x)
    h_prev = torch.cat([torch.zeros_like(t.h[:, :1]), t.h[:, :-1]], dim=1)
    torch.testing.assert_close(t.h, t["z"] * h_prev + (1 - t["z"]) * t["h_tilde"])
    rnn = _randomise(SimpleRNN(4, dtype="float64"), x)
    s = gates(rnn, x)
    torch.testing.assert_close(s.h, torch.tanh(s["pre_activation"]))


def test_initial_state_time_major_and_generic_rnn():
    x, _ = _data()
    layer = RNN(LSTMCell(4), return_sequences=True)
    layer._maybe_build(tuple(x.shape))
    layer = _randomise(layer.double(), x)
    h0, c0 = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(gates(layer, x, initial_state=[h0, c0]).outputs,
                               layer(x, initial_state=[h0, c0]), rtol=0, atol=1e-12)
    tm = SimpleRNN(4, return_sequences=True, time_major=True, dtype="float64")
    xt = x.transpose(0, 1)
    _randomise(tm, xt)
    torch.testing.assert_close(gates(tm, xt).outputs, tm(xt).transpose(0, 1),
                               rtol=0, atol=1e-12)


def test_stateful_layer_starts_from_its_states_and_keeps_them():
    x, _ = _data()
    layer = _randomise(LSTM(4, stateful=True, batch_input_shape=(3, 7, 5), dtype="float64"), x)
    layer(x)  # the stored states are now non-zero
    stored = [s.clone() for s in layer.states]
    traced = gates(layer, x)
    assert all(torch.equal(a, b) for a, b in zip(layer.states, stored))
    torch.testing.assert_close(traced.last_output, layer(x), rtol=0, atol=1e-12)


def test_mask_carried_by_the_input_and_gates_of_a_model_layer():
    from rnnkit.layers import Masking
    x, _ = _data()
    x[1, :2] = 0.0
    model = Sequential([Masking(input_shape=(7, 5), dtype="float64"),
                        GRU(4, return_sequences=True, dtype="float64")])
    rows = trace(model, x).rows
    t = gates(model.layers[1], rows[1].input)  # the Masking output carries the mask
    assert torch.isnan(t["z"][1, :2]).all()
    torch.testing.assert_close(t.outputs, model(x), rtol=0, atol=1e-12)


def test_gates_errors_say_what_to_pass():
    with pytest.raises(TypeError, match=r"gates\(\) takes one recurrent layer .* got Dense"):
        gates(Dense(3), np.zeros((1, 2, 3)))
    with pytest.raises(TypeError, match="pass `layer.forward_layer`"):
        gates(Bidirectional(LSTM(3)), np.zeros((1, 2, 3)))
    with pytest.raises(TypeError, match=r"model\.layers\[k\]"):
        gates(Sequential([LSTM(3)]), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r'layer "lstm.*" takes a \(batch, time, features\) '
                                         r"input; got shape \(2, 3\)"):
        gates(LSTM(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"should have shape \(batch, time\) = \(1, 2\), "
                                         r"got \(1, 3\)"):
        gates(LSTM(3), np.zeros((1, 2, 3)), mask=np.ones((1, 3), dtype=bool))
    with pytest.raises(KeyError, match=r"'f': this trace of SimpleRNNCell has gates "
                                       r"\['pre_activation'\]"):
        gates(SimpleRNN(3), np.zeros((1, 2, 3)))["f"]
