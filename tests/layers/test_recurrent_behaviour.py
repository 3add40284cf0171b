"""tf.keras 2 behaviour of SimpleRNN / LSTM / GRU / RNN beyond the recorded fixtures.

Each test pins one documented Keras 2 behaviour (``reference/keras-semantics.md`` §1–§3):
legacy shape arguments, automatic names, parameter counts, weight layout and initial values,
return_state, go_backwards, masking, time_major, stateful layers, dropout, dtypes, gradients,
the ``nn.Module`` surface, configs and weight round trips.

Masking is checked against a loop written here from the cell's single-step ``call``, so the
layer's hoisted input projection and its mask handling are both compared with the plain
Keras definition.
"""
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.layers import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
N_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}
ATOL = 1e-6


def _make(kind, units=3, **kwargs):
    """A layer of ``kind``; ``GRU_v1`` is a GRU with ``reset_after=False``."""
    if kind == "GRU_v1":
        return GRU(units, reset_after=False, **kwargs)
    return LAYERS[kind](units, **kwargs)


KINDS = ["SimpleRNN", "LSTM", "GRU", "GRU_v1"]


def _randomise(layer, seed=0):
    """Non-constant weights (with a non-zero bias) so that layout mistakes show."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.weights:
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) - 0.5)


def _x(b=3, t=5, d=4, seed=1, dtype=torch.float32):
    return torch.randn(b, t, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _explicit_loop(cell, x, states, mask=None, zero_output_for_mask=False):
    """Keras ``backend.rnn`` written out: one ``cell.call`` per step, masks as Keras applies
    them. Returns (outputs (B, T, H), last_output, states)."""
    states = list(states)
    outputs, previous = [], torch.zeros(x.shape[0], cell.output_size, dtype=x.dtype)
    for t in range(x.shape[1]):
        out, new_states = cell.call(x[:, t], states)
        if mask is not None:
            keep = mask[:, t].reshape(-1, 1)
            fallback = torch.zeros_like(out) if zero_output_for_mask else previous
            out = torch.where(keep, out, fallback)
            new_states = [torch.where(keep, n, s) for n, s in zip(new_states, states)]
        states = list(new_states)
        previous = out
        outputs.append(out)
    outputs = torch.stack(outputs, dim=1)
    return outputs, outputs[:, -1], states


# ---------------------------------------------------------------------------- legacy shapes
@pytest.mark.parametrize("kwargs, expected", [
    ({"input_length": 2, "input_dim": 10}, (None, 2, 10)),
    ({"input_shape": (2, 10)}, (None, 2, 10)),
    ({"input_shape": [2, 10]}, (None, 2, 10)),
    ({"batch_input_shape": (8, 2, 10)}, (8, 2, 10)),
    ({"batch_size": 8, "input_shape": (2, 10)}, (8, 2, 10)),
    ({"input_dim": 10}, (None, None, 10)),
    ({"input_length": 5}, (None, 5, None)),
])
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_legacy_shape_arguments(kind, kwargs, expected):
    layer = _make(kind, **kwargs)
    assert layer._batch_input_shape == expected
    assert layer.get_config()["batch_input_shape"] == expected


def test_no_shape_argument_means_no_batch_input_shape():
    layer = LSTM(3)
    assert layer._batch_input_shape is None
    assert "batch_input_shape" not in layer.get_config()


def test_legacy_shape_survives_config_round_trip():
    layer = LSTM(3, input_length=2, input_dim=10)
    clone = LSTM.from_config(layer.get_config())
    assert clone._batch_input_shape == (None, 2, 10)


# ---------------------------------------------------------------------------- names
def test_auto_names_are_zero_based_per_class_and_reset_by_clear_session():
    rnnkit.backend.clear_session()
    names = [SimpleRNN(2).name, SimpleRNN(2).name, LSTM(2).name, GRU(2).name, LSTM(2).name,
             RNN(SimpleRNNCell(2)).name]
    assert names == ["simple_rnn", "simple_rnn_1", "lstm", "gru", "lstm_1", "rnn"]
    rnnkit.backend.clear_session()
    assert SimpleRNN(2).name == "simple_rnn"
    assert LSTM(2, name="encoder").name == "encoder"


def test_weight_names_follow_keras_2():
    rnnkit.backend.clear_session()
    layer = LSTM(2)
    layer.build((None, 3, 4))
    assert layer.weight_names() == ["lstm/lstm_cell/kernel:0", "lstm/lstm_cell/recurrent_kernel:0",
                                    "lstm/lstm_cell/bias:0"]


# ---------------------------------------------------------------------------- weights
@pytest.mark.parametrize("d, h", [(1, 1), (4, 3), (10, 7)])
def test_param_counts(d, h):
    expected = {
        "SimpleRNN": h * (d + h + 1),
        "LSTM": 4 * h * (d + h + 1),
        "GRU": 3 * h * (d + h + 2),
        "GRU_v1": 3 * h * (d + h + 1),
    }
    for kind, count in expected.items():
        layer = _make(kind, h)
        layer.build((None, 5, d))
        assert layer.count_params() == count, kind


def test_param_counts_without_bias():
    for kind, gates in [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3), ("GRU_v1", 3)]:
        layer = _make(kind, 3, use_bias=False)
        layer.build((None, 5, 4))
        assert layer.count_params() == gates * 3 * (4 + 3), kind
        assert len(layer.weights) == 2


@pytest.mark.parametrize("kind, shapes", [
    ("SimpleRNN", [(4, 3), (3, 3), (3,)]),
    ("LSTM", [(4, 12), (3, 12), (12,)]),
    ("GRU", [(4, 9), (3, 9), (2, 9)]),
    ("GRU_v1", [(4, 9), (3, 9), (9,)]),
])
def test_weight_shapes_and_keras_order(kind, shapes):
    layer = _make(kind, 3)
    layer.build((None, 5, 4))
    assert [tuple(w.shape) for w in layer.weights] == shapes
    assert [n.rsplit("/", 1)[-1] for n in layer.weight_names()] == \
        ["kernel:0", "recurrent_kernel:0", "bias:0"]
    assert layer.weights[0] is layer.cell.kernel
    assert layer.weights[1] is layer.cell.recurrent_kernel
    assert layer.weights[2] is layer.cell.bias
    # Keras exposes the cell's weights on the layer too.
    assert layer.kernel is layer.cell.kernel


def test_unit_forget_bias():
    layer = LSTM(5)
    layer.build((None, 2, 3))
    bias = layer.cell.bias.detach()
    assert torch.equal(bias[:5], torch.zeros(5))
    assert torch.equal(bias[5:10], torch.ones(5))
    assert torch.equal(bias[10:], torch.zeros(10))

    plain = LSTM(5, unit_forget_bias=False)
    plain.build((None, 2, 3))
    assert torch.equal(plain.cell.bias.detach(), torch.zeros(20))

    # The forget ones sit between blocks drawn by the bias initialiser (not forced to zero).
    custom = LSTM(2, bias_initializer="ones")
    custom.build((None, 2, 3))
    assert torch.equal(custom.cell.bias.detach(), torch.ones(8))


@pytest.mark.parametrize("kind, gates", [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_initial_weights(kind, gates):
    torch.manual_seed(0)
    d, h = 10, 16
    layer = _make(kind, h)
    layer.build((None, 2, d))
    kernel = layer.cell.kernel.detach().double()
    recurrent = layer.cell.recurrent_kernel.detach().double()
    # Orthogonal on the whole (H, G*H) matrix: orthonormal rows.
    np.testing.assert_allclose((recurrent @ recurrent.T).numpy(), np.eye(h), atol=1e-5)
    if gates > 1:
        # ... which is not four (or three) orthogonal blocks.
        block = recurrent[:, :h]
        assert not np.allclose((block @ block.T).numpy(), np.eye(h), atol=1e-2)
    # glorot_uniform with the fans of the whole kernel (D, G*H), not per gate.
    limit = math.sqrt(6.0 / (d + gates * h))
    assert kernel.abs().max() <= limit
    assert kernel.abs().max() > 0.9 * limit
    assert abs(kernel.mean()) < 0.1 * limit


# ---------------------------------------------------------------------------- outputs / states
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_return_state(kind, return_sequences):
    layer = _make(kind, return_state=True, return_sequences=return_sequences)
    x = _x()
    result = layer(x)
    n_states = N_STATES.get(kind, 1)
    assert isinstance(result, list)
    assert len(result) == 1 + n_states
    output, states = result[0], result[1:]
    if return_sequences:
        assert output.shape == (3, 5, 3)
        torch.testing.assert_close(output[:, -1], states[0])
    else:
        assert output.shape == (3, 3)
        torch.testing.assert_close(output, states[0])
    for s in states:
        assert s.shape == (3, 3)
    assert layer.compute_output_shape((None, 5, 4)) == \
        [(None, 5, 3) if return_sequences else (None, 3)] + [(None, 3)] * n_states


@pytest.mark.parametrize("kind", KINDS)
def test_return_sequences_last_step_is_default_output(kind):
    seq = _make(kind, return_sequences=True)
    last = _make(kind)
    x = _x()
    seq.build(tuple(x.shape))
    last.build(tuple(x.shape))
    _randomise(seq)
    last.set_weights(seq.get_weights())
    torch.testing.assert_close(seq(x)[:, -1], last(x))


@pytest.mark.parametrize("kind", KINDS)
def test_go_backwards_equals_flipped_input(kind):
    backwards = _make(kind, return_sequences=True, return_state=True, go_backwards=True)
    forwards = _make(kind, return_sequences=True, return_state=True)
    x = _x()
    backwards.build(tuple(x.shape))
    forwards.build(tuple(x.shape))
    _randomise(backwards)
    forwards.set_weights(backwards.get_weights())
    got, expected = backwards(x), forwards(x.flip(1))
    # Outputs in processing order (not re-aligned to input time), as Keras returns them.
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)
    assert not torch.allclose(got[0], forwards(x)[0])


@pytest.mark.parametrize("kind", KINDS)
def test_initial_state_is_used(kind):
    layer = _make(kind, return_sequences=True)
    x = _x()
    layer.build(tuple(x.shape))
    _randomise(layer)
    states = [torch.randn(3, 3) for _ in range(N_STATES.get(kind, 1))]
    got = layer(x, initial_state=states)
    expected, _, _ = _explicit_loop(layer.cell, x, states)
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)
    assert not torch.allclose(got, layer(x))
    if len(states) == 1:  # a single tensor is accepted for a one-state layer
        torch.testing.assert_close(layer(x, initial_state=states[0]), got)


# ---------------------------------------------------------------------------- masks
MASK = torch.tensor([[True, True, True, False, False],     # right padding
                     [False, False, True, True, True],     # left padding
                     [True, False, True, False, True]])    # holes


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_masking_matches_keras_loop(kind, zero_output_for_mask):
    layer = _make(kind, return_sequences=True, return_state=True,
                  zero_output_for_mask=zero_output_for_mask)
    x = _x()
    layer.build(tuple(x.shape))
    _randomise(layer)
    states0 = [torch.randn(3, 3) for _ in range(N_STATES.get(kind, 1))]
    got = layer(x, mask=MASK, initial_state=states0)
    outputs, _, states = _explicit_loop(layer.cell, x, states0, MASK, zero_output_for_mask)
    torch.testing.assert_close(got[0], outputs, atol=ATOL, rtol=0)
    for g, e in zip(got[1:], states):
        torch.testing.assert_close(g, e, atol=ATOL, rtol=0)

    out = got[0]
    # Before the first valid step the output is zeros (even with a non-zero initial state).
    assert torch.equal(out[1, :2], torch.zeros(2, 3))
    if zero_output_for_mask:
        assert torch.equal(out[0, 3:], torch.zeros(2, 3))
        assert torch.equal(out[2, 1], torch.zeros(3))
    else:
        # A masked step repeats the previous output.
        torch.testing.assert_close(out[0, 3], out[0, 2])
        torch.testing.assert_close(out[0, 4], out[0, 2])
        torch.testing.assert_close(out[2, 1], out[2, 0])
    # The returned state is the state after the last valid step.
    torch.testing.assert_close(got[1][0], out[0, 2])


@pytest.mark.parametrize("kind", KINDS)
def test_masked_last_output_right_padding(kind):
    seq = _make(kind, return_sequences=True)
    last = _make(kind)
    zero_last = _make(kind, zero_output_for_mask=True)
    x = _x()
    for layer in (seq, last, zero_last):
        layer.build(tuple(x.shape))
    _randomise(seq)
    last.set_weights(seq.get_weights())
    zero_last.set_weights(seq.get_weights())
    full = seq(x, mask=MASK)
    out = last(x, mask=MASK)
    torch.testing.assert_close(out[0], full[0, 2])          # last valid step of a right-padded row
    torch.testing.assert_close(out, full[:, -1])
    # Keras (verified): with zero_output_for_mask a right-padded row's final output is zeros.
    out_zero = zero_last(x, mask=MASK)
    assert torch.equal(out_zero[0], torch.zeros(3))
    torch.testing.assert_close(out_zero[1], out[1])


@pytest.mark.parametrize("kind", KINDS)
def test_mask_with_go_backwards(kind):
    layer = _make(kind, return_sequences=True, go_backwards=True)
    forwards = _make(kind, return_sequences=True)
    x = _x()
    layer.build(tuple(x.shape))
    forwards.build(tuple(x.shape))
    _randomise(layer)
    forwards.set_weights(layer.get_weights())
    torch.testing.assert_close(layer(x, mask=MASK), forwards(x.flip(1), mask=MASK.flip(1)))


@pytest.mark.parametrize("kind", KINDS)
def test_all_true_mask_equals_no_mask(kind):
    layer = _make(kind, return_sequences=True, return_state=True)
    x = _x()
    layer.build(tuple(x.shape))
    _randomise(layer)
    for a, b in zip(layer(x, mask=torch.ones(3, 5, dtype=torch.bool)), layer(x)):
        torch.testing.assert_close(a, b)


def test_mask_accepts_numpy_list_and_int_tensors():
    layer = GRU(3, return_sequences=True)
    x = _x()
    expected = layer(x, mask=MASK)
    torch.testing.assert_close(layer(x, mask=MASK.numpy()), expected)
    torch.testing.assert_close(layer(x, mask=MASK.int().tolist()), expected)
    torch.testing.assert_close(layer(x, mask=MASK.float()), expected)


def test_mask_propagation():
    x = _x()
    seq = LSTM(3, return_sequences=True)
    assert torch.equal(seq(x, mask=MASK)._keras_mask, MASK)
    assert LSTM(3)(x, mask=MASK)._keras_mask is None
    # With return_state the states carry no mask.
    outs = LSTM(3, return_sequences=True, return_state=True)(x, mask=MASK)
    assert torch.equal(outs[0]._keras_mask, MASK)
    assert outs[1]._keras_mask is None and outs[2]._keras_mask is None
    # A mask travelling on the input (as from Embedding/Masking) is picked up and used.
    masked = x.clone()
    masked._keras_mask = MASK
    out = seq(masked)
    torch.testing.assert_close(out, seq(x, mask=MASK))
    assert torch.equal(out._keras_mask, MASK)
    assert seq(x)._keras_mask is None


# ---------------------------------------------------------------------------- time_major
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_time_major(kind, return_sequences):
    tm = _make(kind, time_major=True, return_sequences=return_sequences, return_state=True)
    bm = _make(kind, return_sequences=return_sequences, return_state=True)
    x = _x()
    bm.build(tuple(x.shape))
    tm.build(tuple(x.transpose(0, 1).shape))
    _randomise(bm)
    tm.set_weights(bm.get_weights())
    got, expected = tm(x.transpose(0, 1)), bm(x)
    if return_sequences:
        assert got[0].shape == (5, 3, 3)
        torch.testing.assert_close(got[0], expected[0].transpose(0, 1))
    else:
        torch.testing.assert_close(got[0], expected[0])
    for g, e in zip(got[1:], expected[1:]):
        torch.testing.assert_close(g, e)
    assert tm.compute_output_shape((5, None, 4))[0] == ((5, None, 3) if return_sequences
                                                         else (None, 3))


# ---------------------------------------------------------------------------- stateful
@pytest.mark.parametrize("kind", KINDS)
def test_stateful_continues_and_resets(kind):
    layer = _make(kind, return_sequences=True, stateful=True, batch_input_shape=(3, 3, 4))
    plain = _make(kind, return_sequences=True)
    x = _x(t=6)
    layer.build(layer._batch_input_shape)
    plain.build(tuple(x.shape))
    _randomise(layer)
    plain.set_weights(layer.get_weights())
    whole = plain(x)

    first, second = layer(x[:, :3]), layer(x[:, 3:])
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole, atol=ATOL, rtol=0)
    # The stored states are not weights.
    assert len(layer.weights) == 3

    layer.reset_states()
    assert all(torch.equal(s, torch.zeros_like(s)) for s in layer.states)
    torch.testing.assert_close(layer(x[:, :3]), whole[:, :3], atol=ATOL, rtol=0)

    states = [torch.randn(3, 3) for _ in range(N_STATES.get(kind, 1))]
    layer.reset_states(states)
    for s, e in zip(layer.states, states):
        torch.testing.assert_close(s, e)
    expected, _, _ = _explicit_loop(plain.cell, x[:, :3], states)
    torch.testing.assert_close(layer(x[:, :3]), expected, atol=ATOL, rtol=0)

    with pytest.raises(ValueError, match="batch size"):
        layer(x[:2])


def test_stateful_uses_initial_state_only_while_stored_states_are_zero():
    # tf.keras 2 (`base_rnn._process_inputs`): tf.cond(non_zero_count > 0, self.states, initial_state)
    layer = SimpleRNN(3, stateful=True, return_state=True)
    plain = SimpleRNN(3, return_state=True)
    x = _x(t=2)
    layer.build(tuple(x.shape))
    plain.build(tuple(x.shape))
    _randomise(layer)
    plain.set_weights(layer.get_weights())
    h0 = torch.randn(3, 3)
    _, h1 = layer(x, initial_state=[h0])
    torch.testing.assert_close(h1, plain(x, initial_state=[h0])[1])
    _, h2 = layer(x, initial_state=[h0])  # stored state is non-zero now: h0 is ignored
    torch.testing.assert_close(h2, plain(x, initial_state=[h1])[1])


def test_stateful_with_batch_size_and_input_shape():
    layer = LSTM(2, stateful=True, batch_size=4, input_shape=(3, 5))
    layer.build(layer._batch_input_shape)
    assert [tuple(s.shape) for s in layer.states] == [(4, 2), (4, 2)]


def test_stateful_states_do_not_keep_the_graph():
    layer = SimpleRNN(2, stateful=True)
    x = _x(b=2).requires_grad_()
    layer(x).sum().backward()
    assert not any(s.requires_grad for s in layer.states)
    layer(x).sum().backward()  # a second backward through a new call works


# ---------------------------------------------------------------------------- dropout
def _identity_simple_rnn(d, **kwargs):
    layer = SimpleRNN(d, activation=None, return_sequences=True, **kwargs)
    layer.build((None, 1, d))
    with torch.no_grad():
        layer.cell.kernel.copy_(torch.eye(d))
        layer.cell.recurrent_kernel.zero_()
        layer.cell.bias.zero_()
    return layer


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_only_when_training(kind):
    layer = _make(kind, return_sequences=True, dropout=0.5, recurrent_dropout=0.5)
    x = _x()
    inference = layer(x)
    torch.testing.assert_close(layer(x, training=False), inference)
    torch.testing.assert_close(layer(x), inference)  # a layer starts in eval mode
    torch.manual_seed(0)
    trained = layer(x, training=True)
    assert not torch.allclose(trained, inference)
    layer.train()
    torch.manual_seed(1)
    assert not torch.allclose(layer(x), inference)
    layer.eval()
    torch.testing.assert_close(layer(x), inference)


def test_input_dropout_is_variational():
    torch.manual_seed(0)
    layer = _identity_simple_rnn(64, dropout=0.5)
    x = torch.ones(4, 6, 64)
    out = layer(x, training=True)
    # h_t = x_t * mask: one mask per sequence, the same at every time step.
    for t in range(1, 6):
        assert torch.equal(out[:, t], out[:, 0])
    values = set(out.unique().tolist())
    assert values <= {0.0, 2.0} and values == {0.0, 2.0}  # inverted dropout scaling
    # ... but different for each sample, and for each call.
    assert not torch.equal(out[0, 0], out[1, 0])
    assert not torch.equal(layer(x, training=True), out)


def test_recurrent_dropout_is_variational():
    torch.manual_seed(0)
    layer = SimpleRNN(64, activation=None, return_sequences=True, recurrent_dropout=0.5)
    layer.build((None, 1, 1))
    with torch.no_grad():
        layer.cell.kernel.zero_()
        layer.cell.recurrent_kernel.copy_(torch.eye(64))
        layer.cell.bias.zero_()
    out = layer(torch.zeros(4, 3, 1), initial_state=[torch.ones(4, 64)], training=True)
    mask = out[:, 0]  # h_1 = 1 * m
    assert set(mask.unique().tolist()) == {0.0, 2.0}
    torch.testing.assert_close(out[:, 1], mask * mask)        # the same mask at step 2 ...
    torch.testing.assert_close(out[:, 2], mask * mask * mask)  # ... and step 3


def test_recurrent_dropout_forces_implementation_1():
    for kind in ("LSTM", "GRU", "GRU_v1"):
        assert _make(kind, recurrent_dropout=0.2, implementation=2).cell.implementation == 1
        assert _make(kind, recurrent_dropout=0.2).get_config()["implementation"] == 1
        assert _make(kind, dropout=0.2).cell.implementation == 2
        assert _make(kind, implementation=1).cell.implementation == 1


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "GRU_v1"])
def test_implementation_1_and_2_agree_without_dropout(kind):
    one, two = _make(kind, implementation=1, return_sequences=True), \
        _make(kind, implementation=2, return_sequences=True)
    x = _x()
    one.build(tuple(x.shape))
    two.build(tuple(x.shape))
    _randomise(one)
    two.set_weights(one.get_weights())
    torch.testing.assert_close(one(x), two(x))


def test_dropout_rates_are_clipped_and_rate_one_is_a_no_op():
    layer = SimpleRNN(3, dropout=1.5, recurrent_dropout=-0.5)
    assert layer.dropout == 1.0 and layer.recurrent_dropout == 0.0
    x = _x()
    torch.testing.assert_close(layer(x, training=True), layer(x))


# ---------------------------------------------------------------------------- sizes, dtypes
@pytest.mark.parametrize("kind", KINDS)
def test_empty_batch(kind):
    layer = _make(kind, return_state=True)
    result = layer(torch.zeros(0, 5, 4))
    assert [tuple(r.shape) for r in result] == [(0, 3)] * (1 + N_STATES.get(kind, 1))
    seq = _make(kind, return_sequences=True)
    assert seq(torch.zeros(0, 5, 4), mask=torch.zeros(0, 5, dtype=torch.bool)).shape == (0, 5, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_float64_dtype_argument(kind):
    layer = _make(kind, dtype="float64", return_state=True)
    result = layer(_x())  # a float32 input is cast to the layer's dtype, as Keras autocasts
    assert all(r.dtype == torch.float64 for r in result)
    assert all(w.dtype == torch.float64 for w in layer.weights)
    assert layer.dtype == "float64"
    assert layer.get_config()["dtype"] == "float64"


@pytest.mark.parametrize("kind", KINDS)
def test_double_and_to_after_build(kind):
    layer = _make(kind, return_sequences=True)
    x = _x()
    reference = layer(x)
    layer.double()
    assert all(w.dtype == torch.float64 for w in layer.weights)
    out = layer(x.double())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), reference, atol=1e-5, rtol=0)
    layer.to(torch.float32)
    assert layer(x).dtype == torch.float32


def test_double_before_build():
    layer = LSTM(3)
    layer.double()
    assert layer(_x().double()).dtype == torch.float64
    assert all(w.dtype == torch.float64 for w in layer.weights)


def _gradcheck_layer(kind):
    layer = _make(kind, 2, return_sequences=True, return_state=True)
    layer.build((2, 3, 2))
    _randomise(layer)
    layer.double()
    return layer


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_float64(kind):
    layer = _gradcheck_layer(kind)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    states = [torch.randn(2, 2, dtype=torch.float64, generator=gen, requires_grad=True)
              for _ in range(N_STATES.get(kind, 1))]

    def run(x, *states):
        return tuple(layer(x, initial_state=list(states)))

    assert torch.autograd.gradcheck(run, (x, *states))
    # And through a mask (masked steps carry the state).
    mask = torch.tensor([[True, False, True], [False, True, True]])
    assert torch.autograd.gradcheck(
        lambda x, *s: tuple(layer(x, mask=mask, initial_state=list(s))), (x, *states))


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_every_weight(kind):
    layer = _make(kind, return_sequences=True)
    layer(_x()).square().sum().backward()
    for w in layer.weights:
        assert w.grad is not None and w.grad.abs().sum() > 0


# ---------------------------------------------------------------------------- nn.Module surface
@pytest.mark.parametrize("kind", KINDS)
def test_layers_are_modules(kind):
    layer = _make(kind)
    layer.build((None, 5, 4))
    assert isinstance(layer, torch.nn.Module)
    params = list(layer.parameters())
    assert len(params) == len(layer.weights)
    assert all(p is w for p, w in zip(params, layer.weights))
    assert all(isinstance(w, torch.nn.Parameter) for w in layer.weights)
    state = layer.state_dict()
    assert len(state) == len(layer.weights)
    for value, w in zip(state.values(), layer.weights):
        assert torch.equal(value, w.detach())
    # load_state_dict writes the Keras weights.
    other = _make(kind)
    other.build((None, 5, 4))
    other.load_state_dict(state)
    for a, b in zip(other.get_weights(), layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_trainable_false():
    layer = LSTM(3, trainable=False)
    layer.build((None, 2, 4))
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 3
    assert not any(p.requires_grad for p in layer.parameters())
    assert layer.get_config()["trainable"] is False

    layer = GRU(3)
    layer.build((None, 2, 4))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    assert not any(p.requires_grad for p in layer.parameters())
    layer.trainable = True
    assert len(layer.trainable_weights) == 3
    assert all(p.requires_grad for p in layer.parameters())


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_list_and_tensor_inputs(kind):
    layer = _make(kind)
    x = _x()
    expected = layer(x)
    for value in (x.numpy(), x.numpy().astype(np.float64), x.tolist()):
        out = layer(value)
        assert isinstance(out, torch.Tensor)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, expected)
    states = [np.zeros((3, 3))] * N_STATES.get(kind, 1)
    torch.testing.assert_close(layer(x.numpy(), initial_state=states), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_get_and_set_weights_round_trip(kind):
    source, target = _make(kind), _make(kind)
    source.build((None, 5, 4))
    target.build((None, 5, 4))
    _randomise(source)
    weights = source.get_weights()
    assert all(isinstance(w, np.ndarray) for w in weights)
    target.set_weights(weights)
    for a, b in zip(target.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    x = _x()
    torch.testing.assert_close(target(x), source(x))
    # get_weights returns copies.
    weights[0][...] = 0
    assert not np.array_equal(source.get_weights()[0], weights[0])


def test_weights_constructor_argument():
    source = LSTM(3)
    source.build((None, 5, 4))
    _randomise(source)
    clone = LSTM(3, weights=source.get_weights())
    x = _x()
    torch.testing.assert_close(clone(x), source(x))


# ---------------------------------------------------------------------------- configs
@pytest.mark.parametrize("kind, kwargs", [
    ("SimpleRNN", {"activation": "relu", "return_sequences": True, "go_backwards": True}),
    ("LSTM", {"recurrent_activation": "hard_sigmoid", "unit_forget_bias": False,
              "return_state": True, "dropout": 0.1}),
    ("GRU", {"reset_after": False, "use_bias": False, "stateful": True,
             "batch_input_shape": (3, 5, 4)}),
    ("GRU", {"time_major": True, "recurrent_dropout": 0.2, "zero_output_for_mask": True,
             "kernel_regularizer": "l2"}),
])
def test_config_round_trip(kind, kwargs):
    layer = LAYERS[kind](3, **kwargs)
    config = layer.get_config()
    json.dumps(config)  # a config is plain JSON
    for key, value in kwargs.items():
        if key not in ("kernel_regularizer", "batch_input_shape"):
            assert config[key] == value, key
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    shape = (5, 3, 4) if kwargs.get("time_major") else (3, 5, 4)
    x = torch.randn(shape)
    layer.build(shape)
    clone.build(shape)
    _randomise(layer)
    clone.set_weights(layer.get_weights())
    a, b = layer(x), clone(x)
    for u, v in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        torch.testing.assert_close(u, v)


def test_config_keys_match_keras_2():
    rnnkit.backend.clear_session()
    config = LSTM(3).get_config()
    assert set(config) == {
        "name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards",
        "stateful", "unroll", "time_major", "units", "activation", "recurrent_activation",
        "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "implementation"}
    assert config["kernel_initializer"] == {"class_name": "GlorotUniform",
                                            "config": {"seed": None}}
    assert config["activation"] == "tanh"
    assert set(GRU(3).get_config()) - set(config) == {"reset_after"}


def test_deserialize_keras2_config_from_fixture():
    models = json.loads((FIXTURES / "keras2" / "models.json").read_text())["models"]
    found = 0
    for model in models:
        for entry in model["layers"]:
            if entry["class"] in LAYERS:
                layer = rnnkit.layers.deserialize({"class_name": entry["class"],
                                                   "config": entry["config"]})
                assert type(layer) is LAYERS[entry["class"]]
                config = layer.get_config()
                for key, value in entry["config"].items():
                    expected = tuple(value) if key == "batch_input_shape" else value
                    assert config[key] == expected, (entry["class"], key)
                found += 1
    assert found >= 3


def test_deserialize_keras3_lstm_config():
    archive = zipfile.ZipFile(FIXTURES / "keras3" / "k3_lstm_dense.keras")
    model_config = json.loads(archive.read("config.json"))
    entry = next(layer for layer in model_config["config"]["layers"]
                 if layer["class_name"] == "LSTM")
    layer = rnnkit.layers.deserialize(entry)
    assert type(layer) is LSTM
    assert layer.name == "lstm"
    assert layer.units == 16
    assert layer.cell.unit_forget_bias and not layer.return_sequences
    expected = LSTM(16, name="lstm")
    assert layer.get_config() == expected.get_config()
    x = _x(d=4)
    layer.build(tuple(x.shape))
    expected.build(tuple(x.shape))
    _randomise(expected)
    layer.set_weights(expected.get_weights())
    torch.testing.assert_close(layer(x), expected(x))


# ---------------------------------------------------------------------------- RNN(cell)
@pytest.mark.parametrize("cell_cls, layer_cls, kwargs", [
    (SimpleRNNCell, SimpleRNN, {}),
    (LSTMCell, LSTM, {}),
    (GRUCell, GRU, {}),
    (GRUCell, GRU, {"reset_after": False}),
])
def test_rnn_of_cell_equals_layer(cell_cls, layer_cls, kwargs):
    generic = RNN(cell_cls(4, **kwargs), return_sequences=True, return_state=True)
    layer = layer_cls(4, return_sequences=True, return_state=True, **kwargs)
    x = _x()
    generic.build(tuple(x.shape))
    layer.build(tuple(x.shape))
    _randomise(layer)
    generic.set_weights(layer.get_weights())
    for a, b in zip(generic(x, mask=MASK), layer(x, mask=MASK)):
        torch.testing.assert_close(a, b)
    config = generic.get_config()
    clone = RNN.from_config(config)
    assert type(clone.cell) is cell_cls
    assert clone.get_config() == config


def test_rnn_with_custom_cell():
    class MinimalCell(torch.nn.Module):
        """A Keras-style user cell: ``call(x_t, states)`` and ``state_size``."""
        state_size = 2
        output_size = 2

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.full((4, 2), 0.1))

        def call(self, x, states):
            h = torch.tanh(x @ self.w + states[0])
            return h, [h]

    cell = MinimalCell()
    layer = RNN(cell, return_sequences=True)
    x = _x()
    expected, _, _ = _explicit_loop(cell, x, [torch.zeros(3, 2)])
    torch.testing.assert_close(layer(x), expected)
