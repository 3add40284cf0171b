"""Byte-exact tests of the tf.keras 2.12 ``model.summary()`` text formatter."""

import json
from pathlib import Path

import pytest

from rnnkit.models.summary import format_shape, format_summary

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2" / "models.json"


def _load_models():
    with open(FIXTURE, encoding="utf-8") as f:
        data = json.load(f)
    assert data["keras"].startswith("2.12")
    return {m["name"]: m for m in data["models"]}


MODELS = _load_models()

# Rows written by hand (layer name/class, output shape, param count) for every
# model of the fixture; the formatter must reproduce the recorded text exactly.
ROWS = {
    "seed_in3": [("simple_rnn (SimpleRNN)", (None, 3), 42)],
    "seed_in4": [("simple_rnn (SimpleRNN)", (None, 3), 42)],
    "seed_in7": [("simple_rnn (SimpleRNN)", (8, 3), 42)],
    "seed_in9": [
        ("simple_rnn (SimpleRNN)", (None, 10, 3), 27),
        ("simple_rnn_1 (SimpleRNN)", (None, 10, 3), 21),
    ],
    "lstm_dense": [
        ("lstm (LSTM)", (None, 32), 4736),
        ("dense (Dense)", (None, 1), 33),
    ],
    "gru_stack": [
        ("gru (GRU)", (None, 12, 16), 1008),
        ("gru_1 (GRU)", (None, 8), 624),
        ("dense (Dense)", (None, 2), 18),
    ],
    "embed_lstm": [
        ("embedding (Embedding)", (None, 15, 8), 800),
        ("lstm (LSTM)", (None, 12), 1008),
        ("dense (Dense)", (None, 1), 13),
    ],
    "bidir": [
        ("bidirectional (Bidirectional)", (None, 9, 12), 576),
        ("bidirectional_1 (Bidirectional)", (None, 8), 432),
        ("dense (Dense)", (None, 3), 27),
    ],
    "timedist": [
        ("simple_rnn (SimpleRNN)", (None, 6, 7), 70),
        ("time_distributed (TimeDistributed)", (None, 6, 2), 16),
    ],
    "masking": [
        ("masking (Masking)", (None, 8, 3), 0),
        ("lstm (LSTM)", (None, 5), 180),
        ("dropout (Dropout)", (None, 5), 0),
        ("dense (Dense)", (None, 1), 6),
    ],
}


def test_every_fixture_model_has_rows():
    assert set(ROWS) == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fixture_summary_exact(name):
    rows = [(lbl, format_shape(shape), str(params)) for lbl, shape, params in ROWS[name]]
    total = sum(p for _, _, p in ROWS[name])
    lines = format_summary("sequential", rows, total, 0)
    assert "\n".join(lines) == MODELS[name]["summary"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fixture_lines_have_line_length(name):
    rows = [(lbl, format_shape(shape), params) for lbl, shape, params in ROWS[name]]
    lines = format_summary("sequential", rows, 1, 0)
    for line in lines[1:-4]:
        assert len(line) == 65, repr(line)


def test_int_params_same_as_str():
    a = format_summary("m", [("lstm (LSTM)", "(None, 32)", 4736)], 4736, 0)
    b = format_summary("m", [("lstm (LSTM)", "(None, 32)", "4736")], 4736, 0)
    assert a == b


def test_bidir_wrapping_lines():
    lines = format_summary(
        "sequential",
        [("bidirectional (Bidirectional)", "(None, 9, 12)", "576")],
        576, 0)
    assert lines[4] == " bidirectional (Bidirectiona  (None, 9, 12)            576       "
    assert lines[5] == " l)" + " " * 62
    assert lines[6] == " " * 65
    assert lines[7] == "=" * 65


def test_keras_212_reference_example():
    # keras-semantics.md §4.1 (b)
    rows = [
        ("simple_rnn (SimpleRNN)", "(None, 10, 32)", "1312"),
        ("lstm (LSTM)", "(None, 10, 16)", "3136"),
        ("gru (GRU)", "(None, 8)", "624"),
        ("dense (Dense)", "(None, 1)", "9"),
    ]
    expected = "\n".join([
        'Model: "sequential"',
        "_________________________________________________________________",
        " Layer (type)                Output Shape              Param #   ",
        "=================================================================",
        " simple_rnn (SimpleRNN)      (None, 10, 32)            1312      ",
        "                                                                 ",
        " lstm (LSTM)                 (None, 10, 16)            3136      ",
        "                                                                 ",
        " gru (GRU)                   (None, 8)                 624       ",
        "                                                                 ",
        " dense (Dense)               (None, 1)                 9         ",
        "                                                                 ",
        "=================================================================",
        "Total params: 5,081",
        "Trainable params: 5,081",
        "Non-trainable params: 0",
        "_________________________________________________________________",
    ])
    assert "\n".join(format_summary("sequential", rows, 5081, 0)) == expected


def test_long_name_and_multi_output_shape_wrap():
    shape = format_shape([(None, 10, 32), (None, 32)])
    assert shape == "[(None, 10, 32), (None, 32)]"
    lines = format_summary(
        "sequential",
        [("a_very_long_recurrent_layer_name (SimpleRNN)", shape, 1312)],
        1312, 0)
    row = lines[4:7]
    assert row == [
        " a_very_long_recurrent_layer  [(None, 10, 32),         1312      ",
        " _name (SimpleRNN)            (None, 32)]                        ",
        " " * 65,
    ]
    assert lines[7] == "=" * 65
    assert all(len(line) == 65 for line in row)


def test_three_way_shape_list_wraps_per_shape():
    shape = format_shape([(None, 4), (None, 4), (None, 4)])
    lines = format_summary("s", [("lstm (LSTM)", shape, 128)], 128, 0)
    assert lines[4:8] == [
        " lstm (LSTM)                 [(None, 4),               128       ",
        "                              (None, 4),                         ",
        "                              (None, 4)]                         ",
        " " * 65,
    ]


def test_totals_thousands_separators_and_non_trainable():
    lines = format_summary("big", [("x (Dense)", "(None, 1)", 1234567)], 1234567, 1000)
    assert lines[0] == 'Model: "big"'
    assert lines[-4:] == [
        "Total params: 1,235,567",
        "Trainable params: 1,234,567",
        "Non-trainable params: 1,000",
        "_" * 65,
    ]


def test_no_layers():
    assert format_summary("empty", [], 0, 0) == [
        'Model: "empty"',
        "_" * 65,
        " Layer (type)                Output Shape              Param #   ",
        "=" * 65,
        "=" * 65,
        "Total params: 0",
        "Trainable params: 0",
        "Non-trainable params: 0",
        "_" * 65,
    ]


def test_custom_line_length_fraction_positions():
    # positions [0.4, 0.8, 1.0] * 80 -> [32, 64, 80]
    lines = format_summary("m", [("lstm (LSTM)", "(None, 32)", 4736)], 4736, 0,
                           line_length=80, positions=[0.4, 0.8, 1.0])
    assert lines[1] == "_" * 80
    assert lines[2] == " Layer (type)" + " " * 19 + "Output Shape" + " " * 20 + "Param #" + " " * 9
    assert lines[4] == " lstm (LSTM)" + " " * 20 + "(None, 32)" + " " * 22 + "4736" + " " * 12
    assert lines[5] == " " * 80
    assert lines[-1] == "_" * 80
    assert all(len(x) == 80 for x in lines[1:7])


def test_fraction_positions_are_truncated_like_keras():
    # int(70 * 0.45) == 31, int(70 * 0.85) == 59
    lines = format_summary("m", [("d (Dense)", "(None, 1)", 2)], 2, 0, line_length=70)
    assert lines[4] == " d (Dense)" + " " * 21 + "(None, 1)" + " " * 19 + "2" + " " * 10


def test_absolute_positions_and_narrow_columns():
    # absolute positions (last > 1) are used as is; col 0 cut at 10 - 0 - 2 = 8,
    # col 1 at 20 - 10 - 2 = 8, last col at 30 - 20 = 10
    lines = format_summary("m", [("lstm_1 (LSTM)", "(None, 10, 32)", "12345678901")],
                           0, 0, line_length=30, positions=[10, 20, 30])
    assert lines[2:4] == [" Layer (t  Output S  Param #  ", " ype)     hape" + " " * 16]
    assert lines[5:9] == [
        # Keras never truncates its padding: the 2-space spacer after an
        # over-full column pushes the next column (and the line) one further
        " lstm_1 (  (None, 1  1234567890",
        " LSTM)    0, 32)    1" + " " * 9,
        " " * 30,
        "=" * 30,
    ]


def test_show_trainable_column():
    lines = format_summary("m", [("lstm (LSTM)", "(None, 32)", 4736, "Y")], 4736, 0,
                           show_trainable=True)
    assert lines[1] == "_" * 76
    assert lines[2] == (" Layer (type)                Output Shape              "
                        "Param #   Trainable  ")
    assert lines[4] == (" lstm (LSTM)                 (None, 32)                "
                        "4736      Y          ")
    assert lines[5] == " " * 76


def test_wrong_field_count_rejected():
    with pytest.raises(ValueError):
        format_summary("m", [("a (B)", "(None, 1)")], 0, 0)
    with pytest.raises(ValueError):
        format_summary("m", [("a (B)", "(None, 1)", 1)], 1, 0, sequential_like=False)


def test_functional_layout():
    # Layout of tf.keras 2.12 print_summary for non-sequential models:
    # line_length 98, positions [.33, .55, .67, 1.0] -> [32, 53, 65, 98];
    # "Connected to" is str() of the list of "name[node][tensor]" strings and
    # breaks after "'," like the other columns.
    rows = [
        ("input_1 (InputLayer)", "[(None, 8, 3)]", 0, []),
        ("lstm (LSTM)", format_shape([(None, 4), (None, 4), (None, 4)]), 128,
         ["input_1[0][0]"]),
        ("concatenate (Concatenate)", "(None, 8)", 0, ["lstm[0][1]", "lstm[0][2]"]),
        ("dense (Dense)", "(None, 1)", 9, "['concatenate[0][0]']"),
    ]
    pad = " " * 32
    expected = [
        'Model: "model"',
        "_" * 98,
        " Layer (type)" + " " * 19 + "Output Shape" + " " * 9 + "Param #" + " " * 5
        + "Connected to" + " " * 21,
        "=" * 98,
        " input_1 (InputLayer)" + " " * 11 + "[(None, 8, 3)]" + " " * 7 + "0" + " " * 11
        + "[]" + " " * 31,
        " " * 98,
        " lstm (LSTM)" + " " * 20 + "[(None, 4)," + " " * 10 + "128" + " " * 9
        + "['input_1[0][0]']" + " " * 16,
        pad + " (None, 4)," + " " * 55,
        pad + " (None, 4)]" + " " * 55,
        " " * 98,
        " concatenate (Concatenate)" + " " * 6 + "(None, 8)" + " " * 12 + "0" + " " * 11
        + "['lstm[0][1]'," + " " * 19,
        pad + " " * 33 + " 'lstm[0][2]']" + " " * 19,
        " " * 98,
        " dense (Dense)" + " " * 18 + "(None, 1)" + " " * 12 + "9" + " " * 11
        + "['concatenate[0][0]']" + " " * 12,
        " " * 98,
        "=" * 98,
        "Total params: 137",
        "Trainable params: 137",
        "Non-trainable params: 0",
        "_" * 98,
    ]
    assert all(len(x) == 98 for x in expected[1:-4])
    assert format_summary("model", rows, 137, 0, sequential_like=False) == expected


@pytest.mark.parametrize("shape, text", [
    ((None, 10, 3), "(None, 10, 3)"),
    ((8, 3), "(8, 3)"),
    ((None,), "(None,)"),
    ((), "()"),
    ([None, 10], "(None, 10)"),
    ([(None, 4), (None, 4), (None, 4)], "[(None, 4), (None, 4), (None, 4)]"),
    ([(None, 10, 32), [None, 32]], "[(None, 10, 32), (None, 32)]"),
    ([(None,), (None, 2)], "[(None,), (None, 2)]"),
    ({"a": (None, 4)}, "{'a': (None, 4)}"),
    ("multiple", "multiple"),
    ("?", "?"),
])
def test_format_shape(shape, text):
    assert format_shape(shape) == text


def test_format_shape_integer_like_dims():
    np = pytest.importorskip("numpy")
    assert format_shape((None, np.int64(5))) == "(None, 5)"
    assert format_shape(np.array([2, 3])) == "(2, 3)"
    torch = pytest.importorskip("torch")
    assert format_shape(torch.Size([4, 7, 3])) == "(4, 7, 3)"
    assert format_shape([torch.Size([4, 3]), torch.Size([4, 2])]) == "[(4, 3), (4, 2)]"
