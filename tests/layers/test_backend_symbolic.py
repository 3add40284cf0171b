"""``keras.backend`` functions on symbolic tensors record tf.keras 2.12's op layers
(``tf.math.reduce_mean`` with ``axis``/``keepdims``, ``tf.math.square`` ...; ``K.sqrt`` as
``tf.math.maximum`` then ``tf.math.sqrt``): same configs, summaries and values
(tests/fixtures/keras2_extension_api)."""
import pytest

import rnnkit
from extension_scenarios import check


def test_backend_functions_on_symbolic_tensors_match_tf_keras_2_12():
    check("backend_on_symbolic")


def test_a_bad_axis_is_refused():
    with pytest.raises(ValueError, match="axis"):
        rnnkit.backend.mean(rnnkit.Input((4, 3)), axis="last")


def test_functions_without_an_op_layer_say_what_works():
    x = rnnkit.Input((3,))
    y = rnnkit.layers.Dense(3)(x)
    with pytest.raises(TypeError, match=r"keras.losses function got a symbolic.*K.mean"):
        rnnkit.losses.mse(x, y)
    with pytest.raises(TypeError, match=r"keras.backend function got a symbolic.*Lambda"):
        rnnkit.backend.dot(x, y)
