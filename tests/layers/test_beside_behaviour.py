"""Behaviour of the layers beside the RNNs that the tf.keras 2.12 recordings do not pin:
channels_first (TensorFlow's CPU kernels refuse it, so it is checked against the
transposed channels_last call), training-mode noise, BatchNormalization's momentum and
freezing, ConvLSTM's stateful/dropout/cell paths, aliases, and the error messages
(tf.keras 2.12's wording, with the layer's name)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers
from rnnkit.models import Sequential

rng = np.random.default_rng(0)


def rand(*shape):
    return torch.tensor(rng.uniform(-1, 1, shape), dtype=torch.float32)


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a.detach()), np.asarray(b.detach()), atol=tol, rtol=1e-4)


# ------------------------------------------------------------------ channels_first
@pytest.mark.parametrize("make, shape", [
    (lambda f: layers.Conv1D(3, 3, padding="same", strides=2, data_format=f), (2, 9, 4)),
    (lambda f: layers.Conv2D(3, (3, 2), padding="same", data_format=f), (2, 5, 6, 2)),
    (lambda f: layers.Conv3D(2, 2, data_format=f), (2, 3, 4, 4, 2)),
    (lambda f: layers.MaxPooling2D(3, 2, padding="same", data_format=f), (2, 5, 6, 2)),
    (lambda f: layers.AveragePooling1D(3, 2, padding="same", data_format=f), (2, 8, 3)),
    (lambda f: layers.GlobalAveragePooling2D(data_format=f), (2, 4, 5, 3)),
    (lambda f: layers.Cropping2D(((1, 0), (0, 2)), data_format=f), (2, 4, 5, 3)),
    (lambda f: layers.ZeroPadding2D(1, data_format=f), (2, 4, 5, 3)),
    (lambda f: layers.UpSampling2D((2, 1), data_format=f), (2, 3, 4, 2)),
    (lambda f: layers.Conv1DTranspose(2, 3, strides=2, data_format=f), (2, 4, 3)),
])
def test_channels_first_equals_transposed_channels_last(make, shape):
    last, first = make("channels_last"), make("channels_first")
    x = rand(*shape)
    y_last = last(x)
    if last.weights:
        first(x.movedim(-1, 1))
        first.set_weights(last.get_weights())
    y_first = first(x.movedim(-1, 1))
    expected = y_last.movedim(-1, 1) if y_last.dim() > 2 else y_last
    close(y_first, expected)


def test_conv_lstm2d_channels_first_equals_channels_last():
    last = layers.ConvLSTM2D(2, 3, return_sequences=True)
    first = layers.ConvLSTM2D(2, 3, return_sequences=True, data_format="channels_first")
    x = rand(2, 3, 5, 5, 2)
    y = last(x)
    first(x.movedim(-1, 2))
    first.set_weights(last.get_weights())
    close(first(x.movedim(-1, 2)), y.movedim(-1, 2))
    assert first.compute_output_shape((None, 3, 2, 5, 5)) == (None, 3, 2, 3, 3)


# ------------------------------------------------------------------ BatchNormalization
def test_batch_norm_momentum_is_the_weight_of_the_old_statistics():
    layer = layers.BatchNormalization(momentum=0.75)
    x = rand(8, 3)
    layer(x, training=True)
    mean, var = x.mean(0), x.var(0, unbiased=False)  # 2-D input: biased variance, as tf.keras
    close(layer.moving_mean, 0.25 * mean)
    close(layer.moving_variance, 0.75 + 0.25 * var)


def test_batch_norm_inference_uses_moving_statistics_and_train_mode_the_batch():
    layer = layers.BatchNormalization(epsilon=0.0)
    x = rand(6, 4) * 3 + 1
    close(layer(x), x)  # fresh: mean 0, variance 1, gamma 1, beta 0
    layer.train()
    y = layer(x)
    close(y.mean(0), torch.zeros(4), tol=1e-5)
    close(y.var(0, unbiased=False), torch.ones(4), tol=1e-3)


def test_frozen_batch_norm_ignores_training_and_counts_as_non_trainable():
    layer = layers.BatchNormalization(trainable=False)
    x = rand(5, 3) + 2
    before = [w.detach().clone() for w in layer.weights] if layer.built else None
    y = layer(x, training=True)
    close(y, x / np.sqrt(1 + 1e-3))  # moving statistics (0, 1): inference mode
    assert before is None and float(layer.moving_mean.abs().sum()) == 0.0
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    layer.trainable = True
    layer(x, training=True)
    assert float(layer.moving_mean.abs().sum()) > 0


def test_batch_norm_statistics_take_no_gradient_and_optimizers_skip_them():
    layer = layers.BatchNormalization()
    layer(rand(4, 3))
    assert [p.requires_grad for p in layer.weights] == [True, True, False, False]


# ------------------------------------------------------------------ noise layers
def test_noise_layers_are_the_identity_outside_training():
    x = rand(4, 5, 6)
    for layer in (layers.SpatialDropout1D(0.5), layers.GaussianNoise(1.0),
                  layers.GaussianDropout(0.5), layers.AlphaDropout(0.5)):
        assert torch.equal(layer(x), x)


def test_spatial_dropout1d_drops_whole_channels():
    torch.manual_seed(0)
    x = torch.ones(8, 10, 16)
    y = layers.SpatialDropout1D(0.5)(x, training=True)
    per_channel = y.amax(1) - y.amin(1)  # every step of a channel is kept or dropped alike
    assert float(per_channel.abs().max()) == 0.0
    assert set(torch.unique(y).tolist()) == {0.0, 2.0}


def test_gaussian_noise_and_dropout_have_keras_moments():
    torch.manual_seed(0)
    x = torch.ones(200_000)
    noisy = layers.GaussianNoise(0.5)(x, training=True)
    assert abs(float(noisy.mean()) - 1) < 0.01 and abs(float(noisy.std()) - 0.5) < 0.01
    dropped = layers.GaussianDropout(0.2)(x, training=True)
    assert abs(float(dropped.mean()) - 1) < 0.01
    assert abs(float(dropped.std()) - np.sqrt(0.2 / 0.8)) < 0.01


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    torch.manual_seed(0)
    x = torch.randn(400_000)
    y = layers.AlphaDropout(0.3)(x, training=True)
    assert abs(float(y.mean())) < 0.01 and abs(float(y.std()) - 1) < 0.02


def test_activity_regularization_adds_its_penalty_per_sample():
    layer = layers.ActivityRegularization(l1=0.01, l2=0.02)
    x = rand(4, 3)
    assert torch.equal(layer(x), x)
    expected = (0.01 * x.abs().sum() + 0.02 * (x ** 2).sum()) / 4
    close(layer.losses[0], expected)


# ------------------------------------------------------------------ ConvLSTM
def test_conv_lstm_stateful_halves_equal_one_call():
    whole = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    halves = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True, stateful=True,
                               batch_input_shape=(2, None, 4, 4, 1))
    x = rand(2, 6, 4, 4, 1)
    y = whole(x)
    halves(x[:, :3])
    halves.set_weights(whole.get_weights())
    halves.reset_states()
    close(torch.cat([halves(x[:, :3]), halves(x[:, 3:])], 1), y)
    halves.reset_states()
    close(halves(x[:, :3]), y[:, :3])
    assert halves.states[0].shape == (2, 4, 4, 2)


def test_conv_lstm_cell_step_equals_a_one_step_layer():
    layer = layers.ConvLSTM2D(3, 3, padding="same", return_state=True)
    x = rand(2, 1, 5, 5, 2)
    out, h, c = layer(x)
    cell_out, (h2, c2) = layer.cell(x[:, 0], [torch.zeros(2, 5, 5, 3), torch.zeros(2, 5, 5, 3)])
    close(cell_out, out)
    close(h2, h)
    close(c2, c)


def test_conv_lstm_dropout_acts_only_in_training():
    torch.manual_seed(0)
    layer = layers.ConvLSTM1D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5)
    x = rand(2, 4, 6, 2)
    assert torch.equal(layer(x), layer(x))
    a, b = layer(x, training=True), layer(x, training=True)
    assert not torch.allclose(a, b)
    assert not torch.allclose(a, layer(x))


def test_conv_lstm_gate_order_and_forget_bias():
    layer = layers.ConvLSTM2D(4, 2)
    layer(rand(1, 2, 3, 3, 1))
    bias = layer.cell.bias.detach()
    assert torch.equal(bias[4:8], torch.ones(4)) and float(bias[:4].abs().sum()) == 0
    assert tuple(layer.cell.kernel.shape) == (2, 2, 1, 16)
    assert tuple(layer.cell.recurrent_kernel.shape) == (2, 2, 4, 16)


def test_conv_lstm_trains_in_a_sequential_model():
    rnnkit.utils.set_random_seed(0)
    model = Sequential([layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True,
                                          input_shape=(4, 6, 6, 1)),
                        layers.BatchNormalization(),
                        layers.Conv3D(1, 3, padding="same", activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = rng.uniform(0, 1, (8, 4, 6, 6, 1)).astype("float32")
    y = (x > 0.5).astype("float32")
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ------------------------------------------------------------------ aliases and configs
def test_keras_aliases_are_the_same_classes_and_load_from_configs():
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.Convolution1D is layers.Conv1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    layer = layers.deserialize({"class_name": "MaxPool1D", "config": {"pool_size": 3}})
    assert type(layer) is layers.MaxPooling1D and layer.pool_size == (3,)
    assert layers.serialize(layer)["class_name"] == "MaxPooling1D"


def test_default_names_follow_tf_keras_2():
    rnnkit.backend.clear_session()
    names = [layers.ConvLSTM2D(1, 1).name, layers.ConvLSTM2D(1, 1).name,
             layers.Conv1DTranspose(1, 1).name, layers.MaxPooling1D().name,
             layers.MultiHeadAttention(1, 1).name, layers.SpatialDropout1D(0.1).name]
    assert names == ["conv_lstm2d", "conv_lstm2d_1", "conv1d_transpose", "max_pooling1d",
                     "multi_head_attention", "spatial_dropout1d"]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, message", [
    (lambda: layers.Conv1D(2, 3, name="c")(np.zeros((2, 3))),
     'Input 0 of layer "c" is incompatible with the layer: expected min_ndim=3, found ndim=2. '
     "Full shape received: (2, 3)"),
    (lambda: layers.MaxPooling1D(name="p")(np.zeros((2, 3))),
     'Input 0 of layer "p" is incompatible with the layer: expected ndim=3, found ndim=2.'),
    (lambda: layers.ConvLSTM2D(2, 3, name="cl")(np.zeros((2, 3, 4, 4))),
     'Input 0 of layer "cl" is incompatible with the layer: expected ndim=5, found ndim=4.'),
    (lambda: layers.GlobalMaxPooling2D(name="g")(np.zeros((2, 3, 4))),
     "expected ndim=4, found ndim=3"),
    (lambda: layers.Conv1D(2, 3, padding="foo"), "the `padding` argument must be one of"),
    (lambda: layers.Conv1D(2, (3, 3)),
     "The `kernel_size` argument must be a tuple of 1 integers. Received: (3, 3)"),
    (lambda: layers.Conv1D(-2, 3), "Expected a strictly positive value. Received filters=-2."),
    (lambda: layers.BatchNormalization(axis=5)(np.zeros((2, 3))),
     "Expected 0 <= axis < inputs.rank (with inputs.rank=2). Received: axis=(5,)"),
    (lambda: layers.LayerNormalization(axis=5)(np.zeros((2, 3))),
     "Expected 0 <= axis < inputs.rank (with inputs.rank=2). Received: axis=(5,)"),
    (lambda: layers.Permute((1, 3)), "must be consecutive and start from 1. Received dims=(1, 3)"),
    (lambda: layers.SpatialDropout1D(1.5),
     "Invalid value 1.5 received for `rate`, expected a value between 0 and 1."),
    (lambda: layers.BatchNormalization(renorm=True), "`renorm` is not supported"),
    (lambda: layers.Conv1D(2, 3, strides=2, dilation_rate=2),
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: layers.UpSampling3D(name="u")(np.zeros((2, 3, 4, 5))),
     'Input 0 of layer "u" is incompatible with the layer: expected ndim=5, found ndim=4.'),
    (lambda: layers.Cropping3D(((2, 2), (0, 0), (0, 0)), name="c")(np.zeros((2, 3, 4, 5, 1))),
     'Cropping3D layer "c": `cropping` parameter ((2, 2), (0, 0), (0, 0)) is too large'),
    (lambda: layers.ZeroPadding3D((1, 2), name="z"),
     'ZeroPadding3D layer "z": `padding` should have 3 elements. Received: (1, 2).'),
    (lambda: layers.MultiHeadAttention(2, 3)(np.zeros((2, 3)), np.zeros((2, 3))),
     "`query` should be a (batch, time, features) tensor"),
])
def test_errors_name_the_layer_and_the_argument(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message.lower() in str(error.value).lower()


def test_wrong_channel_count_after_build():
    layer = layers.Conv1D(2, 3, name="c")
    layer(np.zeros((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3, but "
                                         r"received input with shape \(2, 5, 4\)"):
        layer(np.zeros((2, 5, 4), "float32"))
