"""Every documented misuse of a recurrent layer raises a clear error naming the layer and/or
the argument (tf.keras 2 wording where Keras has one), never a torch crash from deep inside."""
import re

import numpy as np
import pytest
import torch

from rnnkit.layers import GRU, LSTM, RNN, LSTMCell, SimpleRNN

LAYERS = [SimpleRNN, LSTM, GRU]


def _built(cls, units=3, shape=(2, 5, 4), **kwargs):
    layer = cls(units, **kwargs)
    layer.build(shape)
    return layer


@pytest.mark.parametrize("cls", LAYERS)
def test_unknown_keyword(cls):
    with pytest.raises(TypeError, match=rf"{cls.__name__}.*'foo'|'foo'.*{cls.__name__}"):
        cls(3, foo=1)
    with pytest.raises(TypeError, match="'time_majr'"):
        cls(3, time_majr=True)


def test_unknown_keyword_on_rnn_and_cell():
    with pytest.raises(TypeError, match="'foo'"):
        RNN(LSTMCell(2), foo=1)
    with pytest.raises(TypeError, match="'foo'"):
        LSTMCell(2, foo=1)


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("units", [0, -1, 2.5, "3", None, True])
def test_invalid_units(cls, units):
    with pytest.raises(ValueError, match=r"`units`.*positive integer"):
        cls(units)


def test_numpy_integer_units_are_accepted():
    layer = LSTM(np.int64(3))
    assert layer.units == 3 and type(layer.units) is int
    assert layer(np.zeros((1, 2, 4))).shape == (1, 3)


@pytest.mark.parametrize("cls", LAYERS)
def test_wrong_rank(cls):
    layer = cls(3, name="my_rnn")
    message = ('Input 0 of layer "my_rnn" is incompatible with the layer: expected ndim=3, '
               "found ndim=2. Full shape received: (2, 8)")
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=4"):
        layer(torch.zeros(2, 3, 4, 5))
    assert not layer.built  # a rejected input builds nothing


@pytest.mark.parametrize("cls", LAYERS)
def test_feature_size_differs_from_built_weights(cls):
    layer = _built(cls, name="enc")
    message = ('Input 0 of layer "enc" is incompatible with the layer: expected '
               "shape=(None, None, 4), found shape=(2, 5, 6)")
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(torch.zeros(2, 5, 6))


def test_unknown_feature_size_cannot_build():
    with pytest.raises(ValueError, match=r"lstm.*last dimension"):
        LSTM(3, name="lstm_x").build((None, 5, None))


@pytest.mark.parametrize("cls, n_states", [(SimpleRNN, 1), (LSTM, 2), (GRU, 1)])
def test_initial_state_wrong_count(cls, n_states):
    layer = _built(cls, name="layer_a")
    x = torch.zeros(2, 5, 4)
    wrong = [torch.zeros(2, 3)] * (n_states + 1)
    with pytest.raises(ValueError, match=rf"'layer_a' has {n_states} state\(s\) but was passed "
                                         rf"{n_states + 1} initial states"):
        layer(x, initial_state=wrong)
    if n_states == 2:
        with pytest.raises(ValueError, match=r"'layer_a' has 2 state\(s\) but was passed 1"):
            layer(x, initial_state=torch.zeros(2, 3))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("shape", [(2, 4), (3, 3), (2, 3, 1)])
def test_initial_state_wrong_shape(cls, shape):
    layer = _built(cls, name="layer_b")
    states = [torch.zeros(shape)] + [torch.zeros(2, 3)] * (1 if cls is LSTM else 0)
    with pytest.raises(ValueError, match=re.escape(
            f"'layer_b': initial states[0] should have shape (2, 3), got {shape}")):
        layer(torch.zeros(2, 5, 4), initial_state=states)


@pytest.mark.parametrize("mask_shape", [(2, 4), (3, 5), (2, 5, 1), (5,)])
def test_mask_wrong_shape(mask_shape):
    layer = _built(GRU, name="gru_m")
    with pytest.raises(ValueError, match=re.escape(
            f"'gru_m': the mask should have shape (batch, timesteps) = (2, 5), got {mask_shape}")):
        layer(torch.zeros(2, 5, 4), mask=torch.ones(mask_shape, dtype=torch.bool))


@pytest.mark.parametrize("cls", LAYERS)
def test_stateful_needs_batch_size(cls):
    layer = cls(3, stateful=True, name="stateful_rnn", input_shape=(5, 4))
    with pytest.raises(ValueError, match=r"'stateful_rnn'.*stateful.*batch size"):
        layer.build((None, 5, 4))
    with pytest.raises(ValueError, match=r"'stateful_rnn'.*batch size"):
        layer.reset_states()


def test_stateful_batch_size_mismatch():
    layer = _built(LSTM, shape=(2, 5, 4), stateful=True, name="st")
    with pytest.raises(ValueError, match=r"'st'.*stateful.*Expected batch size: 2.*received "
                                         r"batch size: 3"):
        layer(torch.zeros(3, 5, 4))
    with pytest.raises(ValueError, match=re.escape("'st': states[1] should have shape (2, 3)")):
        layer.reset_states([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"'st' has 2 state\(s\) but was passed 1 states"):
        layer.reset_states([np.zeros((2, 3))])


def test_reset_states_on_a_layer_that_is_not_stateful():
    with pytest.raises(AttributeError, match=r"'plain' must be stateful"):
        _built(SimpleRNN, name="plain").reset_states()


def test_set_weights_wrong_count():
    layer = _built(LSTM, name="lstm_w")
    with pytest.raises(ValueError, match=r"'lstm_w' expects 3 weights .*kernel.*recurrent_kernel"
                                         r".*bias.*received 2"):
        layer.set_weights(layer.get_weights()[:2])
    unbuilt = LSTM(3, name="lstm_u")
    with pytest.raises(ValueError, match=r"'lstm_u' expects 0 weights.*received 3"):
        unbuilt.set_weights(layer.get_weights())


def test_set_weights_wrong_shape_changes_nothing():
    layer = _built(GRU, name="gru_w")
    before = layer.get_weights()
    new = [np.ones_like(w) for w in before]
    new[2] = np.ones(9)  # reset_after=True needs a (2, 9) bias
    with pytest.raises(ValueError, match=r"'gru_w' weight gru_w/gru_cell\w*/bias:0 has shape "
                                         r"\(2, 9\).*shape \(9,\)"):
        layer.set_weights(new)
    # The kernel and recurrent kernel, which came first and were fine, were not written.
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", LAYERS)
def test_zero_time_steps(cls):
    layer = cls(3, name="empty_t")
    with pytest.raises(ValueError, match=r"'empty_t'.*0 time steps"):
        layer(torch.zeros(2, 0, 4))
    time_major = cls(3, name="empty_tm", time_major=True)
    with pytest.raises(ValueError, match=r"'empty_tm'.*0 time steps"):
        time_major(torch.zeros(0, 2, 4))


def test_count_params_before_build():
    with pytest.raises(ValueError, match=r"`count_params` on layer 'lstm_c'.*isn't built"):
        LSTM(3, name="lstm_c").count_params()


@pytest.mark.parametrize("cls", LAYERS)
def test_input_shape_and_input_length_together(cls):
    with pytest.raises(TypeError, match=rf"'input_length'.*{cls.__name__}"):
        cls(3, input_shape=(2, 10), input_length=2)
    with pytest.raises(TypeError, match=r"'input_length'"):
        cls(3, batch_input_shape=(1, 2, 10), input_length=2)


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("implementation", [0, 3])
def test_invalid_implementation(cls, implementation):
    with pytest.raises(ValueError, match=rf"`implementation` must be 1 or 2, got {implementation}"):
        cls(3, implementation=implementation)


@pytest.mark.parametrize("argument", ["activation", "recurrent_activation"])
def test_unknown_activation(argument):
    with pytest.raises(ValueError, match=r"Unknown activation function: 'tanhh'"):
        LSTM(3, **{argument: "tanhh"})


def test_unknown_initializer():
    with pytest.raises(ValueError, match=r"glorot_unifrom"):
        LSTM(3, kernel_initializer="glorot_unifrom")


def test_rnn_needs_a_cell():
    with pytest.raises(ValueError, match=r"`cell` should have a `call` method and a "
                                         r"`state_size`"):
        RNN(torch.nn.Linear(2, 2))
