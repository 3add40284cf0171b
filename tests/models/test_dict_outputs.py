"""A custom layer returning a dict in a functional model; a model whose outputs are a
dict (compile and fit take dicts by those keys), as in tf.keras 2.12
(tests/fixtures/keras2_extension_api)."""
import pytest

import rnnkit
from extension_scenarios import check


def test_dict_outputs_match_tf_keras_2_12():
    check("dict_outputs")


def test_a_layer_returning_something_else_is_refused():
    class Odd(rnnkit.layers.Layer):
        def call(self, x):
            return "not a tensor"

    with pytest.raises(TypeError, match="returned a str"):
        Odd()(rnnkit.Input((3,)))
