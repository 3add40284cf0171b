"""``add_loss``/``add_metric`` as tf.keras 2.12 has them: on symbolic tensors
(``model.add_loss(K.mean(h))`` adds AddLoss/AddMetric layers and summary rows), inside a
layer's ``call``, and a model compiled without a loss (a VAE) that ``fit``s without
targets (tests/fixtures/keras2_extension_api)."""
import numpy as np
import pytest

import rnnkit
from extension_scenarios import check


def test_add_loss_and_add_metric_match_tf_keras_2_12():
    check("add_loss_add_metric")


def test_compile_without_loss_trains_on_added_losses():
    check("compile_without_loss")


def test_no_loss_at_all_is_refused():
    model = rnnkit.Sequential([rnnkit.layers.Dense(1, input_shape=(3,))])
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss found"):
        model.fit(np.ones((2, 3)), np.ones((2, 1)), verbose=0)


def test_add_metric_needs_a_name():
    layer = rnnkit.layers.Dense(1)
    with pytest.raises(ValueError, match="name for your metric"):
        layer.add_metric(1.0)
    model = rnnkit.Model(*(lambda i: (i, rnnkit.layers.Dense(1)(i)))(rnnkit.Input((3,))))
    with pytest.raises(ValueError, match="name for your metric"):
        model.add_metric(rnnkit.backend.mean(model.outputs[0]))


def test_symbolic_loss_must_come_from_the_models_inputs():
    inp = rnnkit.Input((3,))
    model = rnnkit.Model(inp, rnnkit.layers.Dense(1)(inp))
    other = rnnkit.Input((3,))
    with pytest.raises(ValueError, match="not one of the model's `inputs`|not an input"):
        model.add_loss(rnnkit.backend.mean(other))
