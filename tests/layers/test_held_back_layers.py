"""The tf.keras 2.12 layers added for issue 15's held-back check (activation layers,
Normalization / Rescaling / Identity, the 2-D and 3-D transposed, depthwise and separable
convolutions): what the recorded cases in test_beside_keras2.py / test_beside_models.py do
not cover: ``adapt`` against tf.keras 2.12's, masks, names and errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import layers

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_beside"


def test_adapt_gives_tf_keras_mean_variance_and_count():
    data = dict(np.load(HERE / "models" / "normalized_lstm.npz"))
    names = json.loads((HERE / "models.json").read_text())["normalized_lstm"]["weight_names"]
    assert names[:3] == ["normalization/mean:0", "normalization/variance:0",
                         "normalization/count:0"]
    layer = layers.Normalization(input_shape=(6, 3))
    layer.adapt(data["adapt_x"])   # 40 samples: batches of 32 and 8, combined as Keras does
    for k, w in enumerate(layer.weights):
        np.testing.assert_allclose(w.detach().numpy(), data[f"w{k:03d}"], rtol=1e-5, atol=1e-5)
    assert layer.count.dtype == torch.int64 and int(layer.count) == 40 * 6


def test_adapt_on_batches_equals_adapt_on_the_array_and_normalises():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 4, 2)).astype("float32")
    whole, pieces = layers.Normalization(), layers.Normalization()
    whole.adapt(x)
    pieces.adapt(iter([x[:20], x[20:]]))
    torch.testing.assert_close(whole.mean, pieces.mean)
    torch.testing.assert_close(whole.variance, pieces.variance)
    y = whole(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 1)), 1.0, atol=1e-4)
    # the inverse maps it back
    back = layers.Normalization(invert=True)
    back.build((None, 4, 2))
    back.set_weights(whole.get_weights())
    np.testing.assert_allclose(back(y).numpy(), x, atol=1e-4)


def test_softmax_mask_keeps_masked_positions_out():
    x = torch.tensor([[1.0, 2.0, 3.0]])
    y = layers.Softmax()(x, mask=torch.tensor([[True, False, True]]))
    assert float(y[0, 1]) < 1e-6
    torch.testing.assert_close(y[0, [0, 2]], torch.softmax(torch.tensor([1.0, 3.0]), 0))


def test_activation_layers_pass_masks_on_and_have_keras_names():
    rnnkit.backend.clear_session()
    names = [layers.ReLU().name, layers.LeakyReLU().name, layers.PReLU().name,
             layers.ELU().name, layers.ThresholdedReLU().name, layers.Softmax().name,
             layers.Conv2DTranspose(1, 1).name, layers.SeparableConv2D(1, 1).name,
             layers.DepthwiseConv2D(1).name, layers.Identity().name]
    assert names == ["re_lu", "leaky_re_lu", "p_re_lu", "elu", "thresholded_re_lu", "softmax",
                     "conv2d_transpose", "separable_conv2d", "depthwise_conv2d", "identity"]
    # the padding mask passes through: padded steps change nothing
    model = rnnkit.models.Sequential([layers.Embedding(5, 3, mask_zero=True),
                                      layers.LeakyReLU(), layers.PReLU(shared_axes=[1]),
                                      layers.LSTM(2)])
    np.testing.assert_allclose(model.predict(np.array([[1, 2, 0, 0]]), verbose=0),
                               model.predict(np.array([[1, 2]]), verbose=0), atol=1e-6)
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose


@pytest.mark.parametrize("call, message", [
    (lambda: layers.ReLU(threshold=-0.5, name="r"),
     'ReLU layer "r": threshold of a ReLU layer cannot be a negative value. Received: -0.5'),
    (lambda: layers.LeakyReLU(alpha="x", name="l"), "`alpha` must be a number"),
    (lambda: layers.Normalization(mean=1.0, name="n"),
     "both `mean` and `variance` must be set"),
    (lambda: layers.Normalization(axis=0, name="n"), "the batch axis cannot be normalized"),
    (lambda: layers.Normalization(mean=1.0, variance=1.0, name="n").adapt(np.ones((2, 3))),
     "`adapt` cannot be used"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2, name="t"),
     "must be greater than output padding"),
    (lambda: layers.PReLU(shared_axes=[0], name="p"), "the batch axis cannot be shared"),
])
def test_errors_name_the_layer_and_the_argument(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError)) as error:
        call()
    assert message in str(error.value)


class _MinimalRNNCell(layers.AbstractRNNCell):
    """tf.keras 2.12's docstring example of AbstractRNNCell."""

    def __init__(self, units, **kwargs):
        self.units = units
        super().__init__(**kwargs)

    @property
    def state_size(self):
        return self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        output = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return output, output


def test_a_cell_subclassing_abstract_rnn_cell_runs_in_rnn():
    x = np.random.default_rng(1).normal(size=(2, 4, 5)).astype("float32")
    layer = layers.RNN(_MinimalRNNCell(3), return_sequences=True)
    y = layer(x).detach().numpy()
    kernel, recurrent = (w.detach().numpy() for w in layer.weights)
    h = np.zeros((2, 3), "float32")
    for t in range(4):
        h = x[:, t] @ kernel + h @ recurrent
        np.testing.assert_allclose(y[:, t], h, rtol=1e-5, atol=1e-6)
    zeros = _MinimalRNNCell(3).get_initial_state(batch_size=2, dtype="float32")
    assert tuple(zeros.shape) == (2, 3) and not zeros.any()
