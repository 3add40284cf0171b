"""Shared by the explorer's tests: the issue's big page, made once per session."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def big_page_model_and_data():
    """100 sequences of 200 steps, an LSTM of 128 units (the issue's size), and its page."""
    import rnnkit
    from rnnkit.inspect import explore
    from rnnkit.layers import LSTM, Dense
    from rnnkit.models import Sequential

    rnnkit.utils.set_random_seed(0)
    model = Sequential([LSTM(128, input_shape=(200, 1)), Dense(1)])
    t = np.arange(300, dtype=np.float32)
    x = np.stack([np.sin((t[k:k + 200] + k) / 9.0) for k in range(100)])[..., None]
    return model, x, explore(model, x, max_bytes=5_000_000)
