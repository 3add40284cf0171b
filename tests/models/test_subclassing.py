"""Subclassed layers and models, custom cells and train_step overrides, as Keras 2
programs write them (tf.keras 2.12's behaviour; the program corpus pins the printed form)."""
import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import backend as K
from rnnkit import layers


class TwoOut(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.score = layers.Dense(units)

    def call(self, values, query):
        weights = K.softmax(self.score(values + K.expand_dims(query, 1)), axis=1)
        return K.sum(weights * values, axis=1), weights


def test_custom_layer_shapes_come_from_running_call_and_tuples_unpack():
    keras.backend.clear_session()
    inp = keras.Input((7, 4))
    seq, h = layers.GRU(4, return_sequences=True, return_state=True)(inp)
    ctx, w = TwoOut(4)(seq, h)  # a positional tensor argument, two outputs
    assert ctx.shape == (None, 4) and w.shape == (None, 7, 4)
    model = keras.Model(inp, layers.Dense(2)(ctx))
    lines = []
    model.summary(print_fn=lines.append)
    row = next(line for line in lines if line.startswith(" two_out"))
    assert "((None, 4)," in row and "'gru[0][1]'" in lines[lines.index(row) + 1]
    assert model.predict(np.zeros((3, 7, 4)), verbose=0).shape == (3, 2)


class DeclaredList(TwoOut):
    """TwoOut that declares its shapes as a list, one of them wrong: tf.keras 2 traces call
    and ignores compute_output_shape in a functional model."""

    def compute_output_shape(self, input_shape):
        return [(None, 99), (None, 7, 4)]


def test_custom_layer_with_compute_output_shape_is_still_traced():
    keras.backend.clear_session()
    inp = keras.Input((7, 4))
    seq, h = layers.GRU(4, return_sequences=True, return_state=True)(inp)
    outputs = DeclaredList(4)(seq, h)
    assert isinstance(outputs, tuple)                    # the call's structure, not a list
    assert [t.shape for t in outputs] == [(None, 4), (None, 7, 4)]   # the call's shapes


def test_declared_shapes_are_the_fallback_when_call_cannot_run_on_random_tensors():
    class NeedsPositive(layers.Layer):
        def call(self, x):
            if bool((x <= 0).any()):
                raise ValueError("needs positive inputs")
            return K.sum(x, axis=1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[2])

    out = NeedsPositive()(keras.Input((5, 3)) - 1.0)
    assert out.shape == (None, 3)


def test_summary_prints_multiple_for_a_layer_called_on_other_shapes_in_another_model():
    keras.backend.clear_session()
    gru = layers.GRU(4, return_sequences=True, name="shared_gru")
    seq = keras.Input((5, 3))
    keras.Model(seq, gru(seq))                                     # (None, 5, 4)
    one_step = keras.Input(batch_shape=(1, 1, 3))
    second = keras.Model(one_step, gru(one_step))                  # (1, 1, 4)
    lines = []
    second.summary(print_fn=lines.append)
    row = next(line for line in lines if line.startswith(" shared_gru"))
    assert "multiple" in row                      # layer.output_shape over all its nodes


def test_custom_layer_in_sequential_changes_the_next_layers_size():
    class Pool(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 1), initializer="normal")
            self.b = self.add_weight(shape=(1,), trainable=False)

        def call(self, x):
            self.add_loss(0.5 * K.mean(K.square(self.w)))
            return K.sum(x * K.softmax(K.dot(x, self.w) + self.b, axis=1), axis=1)

    model = keras.Sequential([layers.LSTM(6, return_sequences=True, input_shape=(5, 3)),
                              Pool(), layers.Dense(1)])
    assert model.layers[1].output_shape == (None, 6)
    assert model.layers[2].kernel.shape == (6, 1)
    assert [tuple(w.shape) for w in model.non_trainable_weights] == [(1,)]
    model.compile("adam", "mse")
    model.fit(np.random.rand(8, 5, 3), np.random.rand(8, 1), verbose=0)
    assert len(model.losses) == 1


def test_input_spec_is_checked_with_keras_message():
    class Needs3D(layers.Layer):
        def __init__(self):
            super().__init__(name="needs")
            self.input_spec = layers.InputSpec(ndim=3)

    with pytest.raises(ValueError, match=r'Input 0 of layer "needs" is incompatible with the '
                                         r"layer: expected ndim=3, found ndim=2"):
        Needs3D()(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="expected ndim=3"):
        Needs3D()(keras.Input((5,)))


class TutorialModel(keras.Model):
    def __init__(self, vocab, units):
        super().__init__(self)  # the TensorFlow tutorial's form
        self.embedding = layers.Embedding(vocab, 4)
        self.gru = layers.GRU(units, return_sequences=True, return_state=True)
        self.dense = layers.Dense(vocab)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = self.embedding(inputs, training=training)
        if states is None:
            states = self.gru.get_initial_state(x)
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)
        return (x, states) if return_state else x


def test_subclassed_model_summary_fit_and_weights_at_a_checkpoint_path(tmp_path):
    model = TutorialModel(10, 6)
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    ids = np.random.randint(0, 10, (16, 6))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(ids[:, :-1], ids[:, 1:], epochs=1, verbose=0)  # labels 0..9 accepted
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(GRU)" in line and "multiple" in line for line in lines)
    path = tmp_path / "training_checkpoints" / "ckpt_1"
    path.parent.mkdir()
    model.save_weights(str(path))
    other = TutorialModel(10, 6)
    other.build((None, 5))
    other.load_weights(str(path))
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    out, state = other(ids[:1], return_state=True)
    assert tuple(out.shape) == (1, 6, 10) and tuple(state.shape) == (1, 6)


def test_train_step_override_with_compiled_loss_and_metrics():
    class Custom(keras.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            loss.backward()
            self.optimizer.apply_gradients((v.grad, v) for v in self.trainable_variables)
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inp = keras.Input((4, 2))
    model = Custom(inp, layers.Dense(1)(layers.SimpleRNN(3)(inp)))
    model.compile("sgd", "mse", metrics=["mae"])
    before = model.get_weights()[0].copy()
    history = model.fit(np.random.rand(16, 4, 2), np.random.rand(16, 1), epochs=2, verbose=0)
    assert sorted(history.history) == ["loss", "mae"] and len(history.history["loss"]) == 2
    assert not np.array_equal(before, model.get_weights()[0])


def test_user_cell_with_state_size_only_and_config_by_name():
    @keras.utils.register_keras_serializable()
    class Cell(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))

        def call(self, inputs, states):
            h = K.tanh(K.dot(inputs, self.kernel) + states[0])
            return h, h  # (output, state) without a list

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = keras.Sequential([layers.RNN(Cell(5), input_shape=(3, 2)), layers.Dense(1)])
    assert model.output_shape == (None, 1) and model.layers[0].output_shape == (None, 5)
    copy = keras.models.model_from_json(model.to_json())
    assert type(copy.layers[0].cell).__name__ == "Cell"
    assert copy.predict(np.zeros((2, 3, 2)), verbose=0).shape == (2, 1)


def test_get_initial_state_and_states():
    lstm = layers.LSTM(3, stateful=True, batch_input_shape=(2, 4, 5))
    states = lstm.get_initial_state(np.zeros((2, 4, 5), "float32"))
    assert [tuple(s.shape) for s in states] == [(2, 3), (2, 3)]
    lstm(np.ones((2, 4, 5), "float32"))
    lstm.reset_states(states=[np.ones((2, 3)), np.zeros((2, 3))])
    assert float(lstm.states[0].sum()) == 6.0


def test_fit_data_edges(recwarn):
    model = keras.Sequential([layers.LSTM(3, input_shape=(4, 1)), layers.Dense(2)])
    model.compile("adam", "mse")
    x_bool = np.random.rand(12, 4, 1) > 0.5
    model.fit(x_bool, np.zeros((12, 2), bool), batch_size=np.int64(4), verbose=0,
              validation_data=[x_bool[:4], np.zeros((4, 2))])
    model.fit(np.random.rand(12, 4), np.zeros((12, 2)), verbose=0)  # 2-D: axis added
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="Nothing was trained"):
        model.fit(x_bool, np.zeros((12, 2)), validation_data=(x_bool,), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    history = model.fit(x_bool, np.zeros((12, 2)), batch_size=4, epochs=3,
                        steps_per_epoch=50, verbose=0)
    assert history.epoch == [0]  # 9 batches (3 passes) then "ran out", as tf.keras 2.12
    assert any("ran out of data" in str(w.message) for w in recwarn)
    assert model.optimizer.iterations == 1 + 3 + 9
