"""rnnkit.backend.rnn (K.rnn) against tf.keras 2.12's (fixtures/keras2_backend/rnn_values.npz,
recorded by record_rnn.py from the step functions of rnn_cases.py, which both run)."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit import backend as K

HERE = Path(__file__).parent / "fixtures" / "keras2_backend"
sys.path.insert(0, str(HERE))
from rnn_cases import cases  # noqa: E402

sys.path.remove(str(HERE))
VALUES = np.load(HERE / "rnn_values.npz")
INPUTS = {name[3:]: VALUES[name] for name in VALUES.files if name.startswith("in_")}
CASES = cases(K, INPUTS)


def _run_case(name):
    step, inputs, states, kwargs = CASES[name]
    if inputs is None:   # the context step reads the energy step's outputs
        inputs = _run_case("attention_energy")[1]
    return K.rnn(step, inputs, states, **kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rnn_matches_tf_keras(name):
    last, outputs, states = _run_case(name)
    np.testing.assert_allclose(outputs.numpy(), VALUES[f"{name}_outputs"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last.numpy(), VALUES[f"{name}_last"], rtol=1e-5, atol=1e-6)
    recorded = sorted(k for k in VALUES.files if k.startswith(f"{name}_state") and
                      not k.endswith("_type"))
    assert len(states) == len(recorded)
    for k, state in enumerate(states):
        np.testing.assert_allclose(state.numpy(), VALUES[f"{name}_state{k}"], rtol=1e-5,
                                   atol=1e-6)
    assert type(states).__name__ == str(VALUES[f"{name}_states_type"])


def test_rnn_gradients_reach_the_step_functions_weights():
    torch.manual_seed(0)
    x, h0 = torch.randn(2, 4, 3), torch.randn(2, 5)
    w = torch.randn(3, 5, requires_grad=True)
    u = torch.randn(5, 5, requires_grad=True)

    def step(x_t, states):
        h = torch.tanh(x_t @ w + states[0] @ u)
        return h, [h]

    mask = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 1]], dtype=torch.bool)
    last, outputs, _ = K.rnn(step, x, [h0], mask=mask)
    (outputs.sum() + last.sum()).backward()
    got = w.grad.clone(), u.grad.clone()
    w.grad = u.grad = None
    # the same recurrence written out: a masked step keeps h and repeats the output
    h, total = h0, 0
    for t in range(4):
        new = torch.tanh(x[:, t] @ w + h @ u)
        h = torch.where(mask[:, t, None], new, h)
        total = total + h.sum()
    (total + h.sum()).backward()
    torch.testing.assert_close(got[0], w.grad)
    torch.testing.assert_close(got[1], u.grad)


def test_rnn_with_numpy_inputs_and_an_integer_mask():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    step = lambda x_t, states: (x_t + states[0], [x_t + states[0]])  # noqa: E731
    mask = np.array([[1, 0, 1], [1, 1, 0]])
    last, outputs, states = K.rnn(step, x, [np.zeros((2, 4), "float32")], mask=mask)
    expected_row0 = [x[0, 0], x[0, 0], x[0, 0] + x[0, 2]]
    np.testing.assert_allclose(outputs.numpy()[0], expected_row0)
    np.testing.assert_allclose(states[0].numpy()[1], x[1, 0] + x[1, 1])
    assert outputs.dtype == torch.float32


def test_rnn_errors_name_the_argument():
    step = lambda x_t, states: (x_t, [x_t])  # noqa: E731
    with pytest.raises(ValueError, match=r"K\.rnn: `inputs` must be at least 3-D .*\(2, 3\)"):
        K.rnn(step, torch.zeros(2, 3), [torch.zeros(2, 3)])
    with pytest.raises(ValueError, match=r"K\.rnn: `mask` must be \(batch, time\)"):
        K.rnn(step, torch.zeros(2, 3, 1), [torch.zeros(2, 1)], mask=torch.ones(3, 2))
    with pytest.raises(ValueError, match=r"same number of time steps; got \[3, 4\]"):
        K.rnn(step, [torch.zeros(2, 3, 1), torch.zeros(2, 4, 1)], [torch.zeros(2, 1)])


def test_unrolled_masked_backwards_zero_output_is_the_loops_answer():
    # tf.keras 2.12's unrolled loop zeroes these outputs by the mask in forward order
    # (docs/known-differences.md); rnnkit's unrolled loop gives its while loop's answer
    step, inputs, states, kwargs = CASES["mask_backwards_zero"]
    last, outputs, _ = K.rnn(step, inputs, states, unroll=True, **kwargs)
    np.testing.assert_allclose(outputs.numpy(), VALUES["mask_backwards_zero_outputs"],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last.numpy(), VALUES["mask_backwards_zero_last"], rtol=1e-5,
                               atol=1e-6)
