"""Parameter formulas: the text evaluates to ``count_params()`` for every layer and flag."""
import pytest
import torch

import rnnkit
from rnnkit.inspect import explain, explain_layer
from rnnkit.layers import (GRU, LSTM, RNN, Activation, Bidirectional, Dense, Dropout, Embedding,
                           GRUCell, LSTMCell, Masking, SimpleRNN, SimpleRNNCell, TimeDistributed)
from rnnkit.models import Sequential

from cases import CASES as RNN_CASES


class PlainCell(torch.nn.Module):
    """A user cell with only ``call`` and ``state_size``: the generic formula applies."""
    state_size = 2

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(7, 2))

    def call(self, x, states):
        h = torch.tanh(x @ self.w[:5] + states[0] @ self.w[5:])
        return h, [h]


SEQ = (None, 6, 5)   # (batch, time, features)
# the conformance table's recurrent configurations (tests/cases.py), then the rest
CASES = [(case.name, (lambda case: lambda: case.layer(4))(case), SEQ) for case in RNN_CASES] + [
    ("lstm_no_forget_bias", lambda: LSTM(4, unit_forget_bias=False), SEQ),
    ("gru_reset_before_no_bias", lambda: GRU(4, reset_after=False, use_bias=False), SEQ),
    ("rnn_simple_cell", lambda: RNN(SimpleRNNCell(2)), SEQ),
    ("rnn_lstm_cell", lambda: RNN(LSTMCell(2)), SEQ),
    ("rnn_gru_cell", lambda: RNN(GRUCell(2, reset_after=False)), SEQ),
    ("rnn_plain_cell", lambda: RNN(PlainCell()), SEQ),
    ("dense", lambda: Dense(7), (None, 5)),
    ("dense_no_bias", lambda: Dense(7, use_bias=False), (None, 5)),
    ("dense_on_sequence", lambda: Dense(2), SEQ),
    ("embedding", lambda: Embedding(50, 6), (None, 6)),
    ("bidirectional_concat", lambda: Bidirectional(LSTM(3)), SEQ),
    ("bidirectional_sum", lambda: Bidirectional(GRU(3), merge_mode="sum"), SEQ),
    ("bidirectional_none", lambda: Bidirectional(SimpleRNN(3, return_sequences=True),
                                                 merge_mode=None), SEQ),
    ("bidirectional_gru_reset_before", lambda: Bidirectional(GRU(3, reset_after=False),
                                                             merge_mode="ave"), SEQ),
    ("bidirectional_other_backward", lambda: Bidirectional(
        LSTM(3), backward_layer=LSTM(5, go_backwards=True)), SEQ),
    ("time_distributed_dense", lambda: TimeDistributed(Dense(4)), SEQ),
    ("time_distributed_no_bias", lambda: TimeDistributed(Dense(4, use_bias=False)), SEQ),
    ("masking", lambda: Masking(), SEQ),
    ("dropout", lambda: Dropout(0.5), SEQ),
    ("activation", lambda: Activation("relu"), SEQ),
]


def _evaluate(formula: str) -> int:
    # The text is plain arithmetic: digits, spaces, + × ( ).
    assert set(formula) <= set("0123456789 +×()"), formula
    return eval(formula.replace("×", "*")) if formula else 0


@pytest.mark.parametrize("name, make, shape", CASES, ids=[c[0] for c in CASES])
def test_formula_equals_count_params(name, make, shape):
    layer = make()
    layer._maybe_build(shape)
    info = explain_layer(layer)
    assert info.count == layer.count_params()
    assert _evaluate(info.formula) == layer.count_params()
    # The weights listed are the layer's own, in Keras order and shapes.
    assert [w.shape for w in info.weights] == [tuple(p.shape) for p in layer.weights]


@pytest.mark.parametrize("units, features, use_bias, reset_after", [
    (3, 10, True, True), (5, 2, False, True), (4, 7, True, False), (1, 1, False, False)])
def test_gru_formula_shape_of_the_text(units, features, use_bias, reset_after):
    layer = GRU(units, use_bias=use_bias, reset_after=reset_after)
    layer._maybe_build((None, 3, features))
    biases = (2 if reset_after else 1) if use_bias else 0
    inner = " + ".join(str(v) for v in [features, units] + ([biases] if biases else []))
    assert explain_layer(layer).formula == f"3 × {units} × ({inner})"


def test_seed_notebook_simple_rnn_42():
    model = Sequential()
    model.add(SimpleRNN(3, input_length=2, input_dim=10))
    info = explain(model).layers[0]
    assert f"{info.formula} = {info.count}" == "3 × (10 + 3 + 1) = 42"
    assert info.legend == "units × (input features + units + bias)"
    assert [str(w).split(":")[0] for w in info.weights] == [
        "kernel (10, 3)", "recurrent_kernel (3, 3)", "bias (3,)"]


def test_lstm_and_bidirectional_texts():
    model = Sequential([Bidirectional(LSTM(3), input_shape=(4, 5)), Dense(1)])
    first, second = explain(model).layers
    assert first.formula == "2 × 4 × 3 × (5 + 3 + 1)" and first.count == 216
    assert "4 gates (i, f, c, o)" in first.legend and "merge mode adds no weights" in first.legend
    assert second.formula == "6 × 1 + 1"


def test_merge_modes_do_not_change_the_formula():
    texts = set()
    for mode in ("concat", "sum", "mul", "ave", None):
        layer = Bidirectional(GRU(3), merge_mode=mode)
        layer._maybe_build(SEQ)
        texts.add(explain_layer(layer).formula)
    assert texts == {"2 × 3 × 3 × (5 + 3 + 2)"}


def test_model_explanation_totals_and_nested_model():
    inner = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    model = Sequential([Dense(3, input_shape=(5,)), inner])
    explanation = explain(model)
    assert explanation.total == model.count_params()
    assert explanation.layers[1].formula == "16 + 10"
    assert str(explanation).splitlines()[-1] == f"Total: 18 + 26 = {model.count_params()}"


def test_unbuilt_layer_in_a_model_counts_zero():
    layer = Dense(3)
    info = explain_layer(layer)
    assert info.count == 0 and "not built" in info.legend


def test_summary_explain_appends_and_default_is_unchanged():
    model = Sequential([SimpleRNN(3, input_shape=(2, 10)), Dense(1)])
    plain, default, explained = [], [], []
    model.summary(print_fn=plain.append)
    model.summary(print_fn=default.append, explain=False)
    model.summary(print_fn=explained.append, explain=True)
    assert plain == default
    assert explained[:len(plain)] == plain
    extra = explained[len(plain):]
    assert extra[0] == f'Parameters of "{model.name}", explained:'
    assert f"{model.layers[0].name} (SimpleRNN): 3 × (10 + 3 + 1) = 42" in extra
    assert extra[-1] == "Total: 42 + 4 = 46"


def test_top_level_explain_is_the_same_function():
    assert rnnkit.explain is explain


def test_explain_errors_name_what_was_expected():
    with pytest.raises(TypeError, match=r"rnnkit.explain\(\) takes an rnnkit model or layer, "
                                        r"got list"):
        explain([SimpleRNN(3)])
    model = Sequential([SimpleRNN(3)])
    with pytest.raises(ValueError, match=r"model 'sequential.*' is not built yet"):
        explain(model)
