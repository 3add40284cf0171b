"""rnnkit.backend's tensor functions against tf.keras 2.12's (fixtures/keras2_backend)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit import backend as K

HERE = Path(__file__).parent / "fixtures" / "keras2_backend"
CASES = json.loads((HERE / "cases.json").read_text())
VALUES = np.load(HERE / "values.npz")


def _args(case):
    name, found = case["case"], []
    for k, spec in enumerate(case["args"]):
        if "list" in spec:
            found.append([torch.as_tensor(VALUES[f"{name}_a{k}_{j}"])
                          for j in range(spec["list"])])
        elif "array" in spec:
            found.append(torch.as_tensor(VALUES[f"{name}_a{k}"]))
        else:
            value = spec["value"]
            found.append(tuple(value) if isinstance(value, list) else value)
    return found


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_backend_function_matches_tf_keras(case):
    kwargs = {k: tuple(v) if isinstance(v, list) and k in ("shape", "pattern", "padding")
              else v for k, v in case["kwargs"].items()}
    out = getattr(K, case["function"])(*_args(case), **kwargs)
    if "python" in case:
        expected = case["python"]
        assert (list(out) if isinstance(out, tuple) else out) == expected
        return
    expected = VALUES[f"{case['case']}_out"]
    got = K.get_value(out)
    assert got.shape == expected.shape
    assert str(got.dtype) == case["dtype"]
    np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                               rtol=1e-5, atol=1e-6)


def test_variables_set_and_get_value():
    v = K.variable(np.ones((2, 2)))
    assert isinstance(v, torch.nn.Parameter) and v.dtype == torch.float32
    K.set_value(v, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(K.get_value(v), [[1, 2], [3, 4]])
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"


def test_batch_dot_refuses_mismatched_axes():
    with pytest.raises(ValueError, match="batch_dot"):
        K.batch_dot(torch.ones(2, 3), torch.ones(2, 4))


def test_gradients_flow_through_backend_functions():
    x = torch.randn(2, 3, requires_grad=True)
    K.sum(K.square(K.tanh(x))).backward()
    assert x.grad is not None and x.grad.shape == (2, 3)
