"""The functional API: Input, layers on KerasTensors, Model with several inputs and outputs,
shared layers, masks along the graph, nested models, weights, configs, training, errors."""
import json

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import backend
from rnnkit import layers as L
from rnnkit.models import KerasTensor, Model, Sequential

Input = rnnkit.Input


@pytest.fixture(autouse=True)
def _seed():
    rnnkit.utils.set_random_seed(3)


def test_layer_calls_on_keras_tensors_give_keras_shapes():
    x = Input((None, 4))
    assert isinstance(x, KerasTensor) and x.shape == (None, None, 4)
    seq, h, c = L.LSTM(5, return_sequences=True, return_state=True)(x)
    assert (seq.shape, h.shape, c.shape) == ((None, None, 5), (None, 5), (None, 5))
    assert seq._keras_history.tensor_index == 0 and c._keras_history.tensor_index == 2
    assert L.Dense(3)(seq).shape == (None, None, 3)
    assert "shape=(None, None, 4)" in repr(x) and "input_" in repr(x)
    ids = Input((7,), dtype="int32")
    emb = L.Embedding(10, 3, mask_zero=True)(ids)
    assert ids.dtype == "int32" and emb.shape == (None, 7, 3) and emb._has_mask
    assert L.LSTM(2, return_sequences=True)(emb)._has_mask
    assert not L.LSTM(2)(emb)._has_mask


def test_multiple_inputs_and_outputs_list_and_dict():
    rnnkit.backend.clear_session()  # the GRU is looked up by its automatic name below
    a, b = Input((6, 3), name="a"), Input((4,), name="b")
    h = L.GRU(5)(a)
    both = L.Concatenate()([h, b])
    out1, out2 = L.Dense(2, name="first")(both), L.Dense(1, name="second")(h)
    model = Model([a, b], [out1, out2])
    assert model.input_names == ["a", "b"] and model.output_names == ["first", "second"]
    xa, xb = np.random.rand(3, 6, 3).astype("f"), np.random.rand(3, 4).astype("f")
    y1, y2 = model([xa, xb])
    d1, d2 = model({"b": xb, "a": xa})
    assert torch.equal(y1, d1) and torch.equal(y2, d2)
    # The same numbers as running the layers by hand.
    gru, cat, first = model.get_layer("gru"), model.get_layer(index=3), model.get_layer("first")
    expected = first(cat([gru(xa), torch.as_tensor(xb)]))
    torch.testing.assert_close(y1, expected)
    p1, p2 = model.predict([xa, xb], batch_size=2, verbose=0)
    np.testing.assert_allclose(p1, y1.detach().numpy(), atol=1e-6)
    assert p2.shape == (3, 1)
    with pytest.raises(ValueError, match=r'"model.*" expects 2 input\(s\), but it received 1'):
        model(xa)
    with pytest.raises(ValueError, match=r"missing data for input\(s\) \['b'\]"):
        model({"a": xa})


def test_shared_layer_shares_weights_and_gradients():
    a, b = Input((5, 2)), Input((5, 2))
    shared = L.LSTM(3)
    diff = L.Subtract()([shared(a), shared(b)])
    model = Model([a, b], L.Dense(1, name="head")(diff))
    assert len(model.weights) == 5  # LSTM's three once, Dense's two
    x = torch.randn(4, 5, 2)
    out = model([x, x])
    assert torch.allclose(out, model.get_layer("head")(torch.zeros(4, 3)))  # same weights
    model([x, torch.randn(4, 5, 2)]).sum().backward()
    assert shared.cell.kernel.grad is not None and shared.cell.kernel.grad.abs().sum() > 0


def test_initial_state_wiring_equals_manual_calls():
    enc_in, dec_in = Input((None, 3)), Input((None, 2))
    encoder = L.LSTM(4, return_state=True)
    decoder = L.LSTM(4, return_sequences=True)
    _, h, c = encoder(enc_in)
    model = Model([enc_in, dec_in], decoder(dec_in, initial_state=[h, c]))
    xe, xd = torch.randn(2, 6, 3), torch.randn(2, 3, 2)
    _, h_val, c_val = encoder(xe)
    torch.testing.assert_close(model([xe, xd]), decoder(xd, initial_state=[h_val, c_val]))
    # The Keras 2 list form rnn([x, h, c]) is the same call.
    other = Model([enc_in, dec_in], decoder([dec_in, h, c]))
    torch.testing.assert_close(other([xe, xd]), model([xe, xd]))


def test_masks_travel_along_the_graph():
    ids = Input((None,), dtype="int32")
    emb = L.Embedding(12, 4, mask_zero=True)
    lstm = L.LSTM(3, return_sequences=True)
    pooled = L.GlobalAveragePooling1D()(lstm(emb(ids)))
    model = Model(ids, pooled)
    x = np.array([[3, 5, 0, 0, 0], [1, 2, 4, 0, 0]])
    got = model(x)
    # By hand: mean over the valid steps of each row, unpadded.
    for row, length in ((0, 2), (1, 3)):
        seq = lstm(emb(x[row:row + 1, :length]))
        torch.testing.assert_close(got[row], seq[0].mean(0))
    seq_out = Model(ids, lstm(emb(ids)))(x)
    assert seq_out._keras_mask.tolist() == (x != 0).tolist()


def test_nested_models_are_layers():
    inner_in = Input((4,))
    inner = Model(inner_in, L.Dense(3, activation="tanh")(inner_in), name="inner")
    stack = Sequential([L.Dense(2)], name="stack")
    x = Input((4,))
    out = stack(inner(x))
    outer = Model(x, out)
    assert [la.name for la in outer.layers] == [x._keras_history.layer.name, "inner", "stack"]
    data = torch.randn(5, 4)
    torch.testing.assert_close(outer(data), stack(inner(data)))
    assert outer.count_params() == 4 * 3 + 3 + 3 * 2 + 2
    config = json.loads(json.dumps(outer.get_config()))
    assert config["layers"][2]["inbound_nodes"] == [[["inner", 1, 0, {}]]]
    clone = Model.from_config(config)
    clone.set_weights(outer.get_weights())
    torch.testing.assert_close(clone(data), outer(data))


def test_weights_in_keras_order_and_set_weights():
    a = Input((3,))
    d1, d2 = L.Dense(2, name="d1"), L.Dense(1, name="d2")
    model = Model(a, d2(d1(a)))
    assert model.weight_names() == ["d1/kernel:0", "d1/bias:0", "d2/kernel:0", "d2/bias:0"]
    values = [np.full(w.shape, i, dtype="f") for i, w in enumerate(model.weights)]
    model.set_weights(values)
    assert [float(w.flatten()[0]) for w in model.get_weights()] == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="expects 4 weights"):
        model.set_weights(values[:3])


def test_config_round_trip_through_deserialize():
    q, v = Input((3, 4)), Input((5, 4))
    att, scores = L.Attention(use_scale=True)([q, v], return_attention_scores=True)
    model = Model([q, v], [L.Flatten()(att), scores])
    config = json.loads(json.dumps({"class_name": "Functional", "config": model.get_config()}))
    clone = rnnkit.layers.deserialize(config)
    assert isinstance(clone, Model) and [la.name for la in clone.layers] == \
        [la.name for la in model.layers]
    clone.set_weights(model.get_weights())
    xs = [torch.randn(2, 3, 4), torch.randn(2, 5, 4)]
    for got, want in zip(clone(xs), model(xs)):
        torch.testing.assert_close(got, want)


def test_fit_and_evaluate_a_functional_model():
    x = Input((8, 1))
    model = Model(x, L.Dense(1)(L.GRU(8)(x)))
    data = np.random.rand(64, 8, 1).astype("f")
    target = data.mean(axis=1)
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.01), loss="mse")
    before = model.evaluate(data, target, verbose=0)
    model.fit(data, target, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(data, target, verbose=0) < before * 0.5


def test_sequential_takes_an_input_tensor():
    a = Sequential([Input((6, 3)), L.LSTM(4)])
    b = Sequential()
    b.add(Input((6, 3)))
    b.add(L.LSTM(4))
    assert a.output_shape == b.output_shape == (None, 4)
    with pytest.raises(TypeError, match="can take only the tensor of an Input"):
        Sequential().add(L.Dense(2)(Input((3,))))


def test_graph_errors_name_what_is_wrong():
    x = Input((5, 3))
    with pytest.raises(ValueError, match=r'Input 0 of layer "lstm.*expected ndim=3, found ndim=2'):
        L.LSTM(2)(Input((3,)))
    with pytest.raises(TypeError, match="not this operator"):
        x @ x  # + - * / ** and indexing make op layers (tests/models/test_symbolic_ops.py)
    with pytest.raises(ValueError, match="must come from `rnnkit.Input`"):
        Model(L.Dense(2)(x), x)
    other = Input((5, 3))
    with pytest.raises(ValueError, match="graph disconnected"):
        Model(x, L.Add()([x, other]))
    with pytest.raises(ValueError, match=r'The name "same" is used 2 times'):
        Model(x, L.Dense(1, name="same")(L.Dense(2, name="same")(x)))
    with pytest.raises(TypeError, match="mix of symbolic inputs"):
        L.Add()([x, torch.zeros(1, 5, 3)])
    with pytest.raises(ValueError, match="pass both `inputs` and `outputs`"):
        Model(inputs=x)


def test_subclassed_model_runs_its_call():
    class Twice(Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, inputs):
            return self.dense(self.dense(inputs))

    model = Twice()
    assert model.name.startswith("twice")
    assert model(torch.ones(3, 2)).shape == (3, 2)


def test_functional_names_and_summary_of_a_chain():
    backend.clear_session()
    x = Input((4, 2))
    model = Model(x, L.SimpleRNN(3)(x))
    assert model.name == "model" and Model(x, L.Dense(1)(x)).name == "model_1"
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[4] == " input_1 (InputLayer)        [(None, 4, 2)]            0         "
    assert len(lines[1]) == 65  # a plain chain gets the sequential layout, as in Keras


def test_fit_with_two_outputs_dicts_and_per_output_losses():
    a, b = Input((6, 2), name="seq"), Input((3,), name="extra")
    h = L.LSTM(8)(a)
    both = L.Concatenate()([h, b])
    value = L.Dense(1, name="value")(both)
    label = L.Dense(3, activation="softmax", name="label")(both)
    model = Model([a, b], [value, label])
    xa, xb = np.random.rand(64, 6, 2).astype("f"), np.random.rand(64, 3).astype("f")
    y_value = xa.sum(axis=(1, 2))[:, None] / 6
    y_label = np.eye(3, dtype="f")[xb.argmax(1)]
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.02),
                  loss={"value": "mse", "label": "categorical_crossentropy"},
                  loss_weights={"value": 2.0, "label": 1.0}, metrics={"label": ["accuracy"]})
    history = model.fit({"seq": xa, "extra": xb}, {"value": y_value, "label": y_label},
                        epochs=12, batch_size=16, verbose=0)
    logs = history.history
    assert list(logs) == ["loss", "value_loss", "label_loss", "label_accuracy"]
    # The total is the weighted sum of the parts (no regularisers here).
    np.testing.assert_allclose(logs["loss"][-1], 2 * logs["value_loss"][-1] +
                               logs["label_loss"][-1], rtol=1e-4)
    assert logs["loss"][-1] < logs["loss"][0]
    result = model.evaluate([xa, xb], [y_value, y_label], verbose=0, return_dict=True)
    assert set(result) == {"loss", "value_loss", "label_loss", "label_accuracy"}
    with pytest.raises(ValueError, match=r"unknown output name\(s\) \['nope'\]"):
        model.compile(loss={"nope": "mse"})
    with pytest.raises(ValueError, match="has 2 outputs but `loss` has 3 entries"):
        model.compile(loss=["mse"] * 3)


def test_save_h5_and_weights_round_trip(tmp_path):
    """A tf.keras 2 '.h5' file: the Functional config and the weights in tf.keras 2's
    layout (such files, written from the recorded models, load in tf.keras 2.12 and predict
    what it recorded)."""
    from rnnkit.io.saving import read_config
    enc_in, dec_in = Input((None, 3)), Input((None, 2))
    _, h, c = L.LSTM(4, return_state=True)(enc_in)
    seq = L.LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    model = Model([enc_in, dec_in], L.Dense(2)(seq))
    path = str(tmp_path / "s2s.h5")
    model.save(path)
    config = read_config(path)
    assert config["class_name"] == "Functional"
    clone = rnnkit.layers.deserialize(config)
    clone.load_weights(path)
    xs = [torch.randn(2, 5, 3), torch.randn(2, 3, 2)]
    torch.testing.assert_close(clone(xs), model(xs))
    weights_path = str(tmp_path / "s2s_weights.h5")
    model.save_weights(weights_path)
    other = Model.from_config(model.get_config())
    other.load_weights(weights_path)
    torch.testing.assert_close(other(xs), model(xs))
    model.save(str(tmp_path / "s2s.keras"))  # Keras 3 archive: tests/io/test_keras3_functional.py
    torch.testing.assert_close(rnnkit.models.load_model(str(tmp_path / "s2s.keras"))(xs), model(xs))


def test_per_output_metric_lists_and_validation_split():
    a = Input((5, 2))
    h = L.GRU(4)(a)
    model = Model(a, [L.Dense(1, name="r")(h), L.Dense(2, activation="softmax", name="c")(h)])
    model.compile("adam", ["mse", "categorical_crossentropy"], metrics=[["mae"], ["accuracy"]])
    x = np.random.rand(40, 5, 2).astype("f")
    targets = [x.sum((1, 2))[:, None], np.eye(2, dtype="f")[np.random.randint(0, 2, 40)]]
    history = model.fit(x, targets, epochs=1, verbose=0, validation_split=0.2)
    assert list(history.history) == ["loss", "r_loss", "c_loss", "r_mae", "c_accuracy",
                                     "val_loss", "val_r_loss", "val_c_loss", "val_r_mae",
                                     "val_c_accuracy"]
    model.compile("adam", ["mse", "categorical_crossentropy"], metrics=["mae"])  # for each
    assert list(model.fit(x, targets, epochs=1, verbose=0).history) == \
        ["loss", "r_loss", "c_loss", "r_mae", "c_mae"]


def test_layer_input_and_output_are_the_first_calls_tensors():
    a = Input((5, 2))
    lstm = L.LSTM(3, return_state=True)
    seq, h, c = lstm(a)
    lstm(Input((5, 2)))  # a second call: `output` stays the first call's
    assert lstm.input is a and lstm.output == [seq, h, c]
    assert a._keras_history.layer.input is a and a._keras_history.layer.output is a
    model = Model(a, L.Dense(1)(seq))
    assert model.input is a and model.layers[1].output[1] is h
    with pytest.raises(AttributeError):
        L.Dense(2).output


def test_from_config_can_build_the_weights_on_the_meta_device():
    x = Input((4, 3))
    model = Model(x, L.Dense(2)(L.GRU(5)(x)))
    meta = Model.from_config(model.get_config(), build_device="meta")
    assert all(p.device.type == "meta" for p in meta.weights)
    assert [tuple(p.shape) for p in meta.weights] == [tuple(p.shape) for p in model.weights]
    broken = model.get_config()
    gru = broken["layers"][1]["name"]
    broken["layers"][1]["inbound_nodes"] = [[[gru, 0, 0, {}]]]  # the GRU fed by itself
    with pytest.raises(ValueError, match="a broken or cyclic config"):
        Model.from_config(broken)
