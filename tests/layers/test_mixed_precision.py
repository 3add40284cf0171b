"""Keras mixed-precision policies: float32 weights, half-precision compute and outputs."""
import numpy as np
import pytest
import torch

from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN
from rnnkit.models import Sequential


@pytest.mark.parametrize("make", [LSTM, GRU, SimpleRNN])
def test_mixed_bfloat16_keeps_float32_weights_and_computes_in_bfloat16(make):
    full = Sequential([make(8, input_shape=(6, 3)), Dense(2)])
    mixed = Sequential([make(8, input_shape=(6, 3), dtype="mixed_bfloat16"),
                        Dense(2, dtype="mixed_bfloat16")])
    mixed.set_weights(full.get_weights())
    assert all(w.dtype == np.float32 for w in mixed.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")
    out = mixed(x)
    assert out.dtype == torch.bfloat16
    np.testing.assert_allclose(out.float().detach().numpy(), full(x).detach().numpy(), atol=5e-2)
    assert mixed.layers[0].get_config()["dtype"] == "mixed_bfloat16"
    assert mixed.layers[0].dtype == "float32"
    assert Sequential.from_config(mixed.get_config()).layers[0].dtype_policy == "mixed_bfloat16"
