"""Every recorded tf.keras 2.12 layer case: outputs, states and gradients match real Keras.

Each case in ``fixtures/keras2/layers`` holds random (non-constant) weights, the input, the
optional initial state and mask, every returned tensor, and the gradients of
``sum_k sum(output_k * cotangent_k)`` with respect to the input, the weights and the
initial states.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit.layers as L

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras2"
CASES = json.loads((FIXTURES / "index.json").read_text())["cases"]

OUTPUT_TOL = 2e-5
GRAD_TOL = 2e-4


def _build_case(case):
    data = np.load(FIXTURES / "layers" / f"{case['name']}.npz")
    layer = getattr(L, case["layer"])(case["units"], **case["kwargs"])
    x = torch.tensor(data["x"], requires_grad=True)
    kwargs = {}
    states = []
    if case["initial_state"]:
        k = 0
        while f"initial_state_{k}" in data:
            states.append(torch.tensor(data[f"initial_state_{k}"], requires_grad=True))
            k += 1
        kwargs["initial_state"] = states
    if case["mask"]:
        kwargs["mask"] = torch.tensor(data["mask"])
    layer.build(tuple(data["x"].shape))
    layer.set_weights([data[f"weight_{name}"] for name in case["weights"]])
    return data, layer, x, states, kwargs


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_outputs_and_gradients_match_keras2(case):
    data, layer, x, states, kwargs = _build_case(case)
    outputs = layer(x, **kwargs)
    if case["n_outputs"] == 1:
        outputs = [outputs]
    assert len(outputs) == case["n_outputs"]
    for k, out in enumerate(outputs):
        np.testing.assert_allclose(out.detach().numpy(), data[f"output_{k}"], atol=OUTPUT_TOL,
                                   err_msg=f"output_{k}")

    objective = sum((out * torch.tensor(data[f"cotangent_{k}"])).sum()
                    for k, out in enumerate(outputs))
    objective.backward()
    np.testing.assert_allclose(x.grad.numpy(), data["grad_x"], atol=GRAD_TOL, err_msg="grad_x")
    for name, param in zip(case["weights"], layer.weights):
        np.testing.assert_allclose(param.grad.numpy(), data[f"grad_{name}"], atol=GRAD_TOL,
                                   err_msg=f"grad_{name}")
    for k, state in enumerate(states):
        np.testing.assert_allclose(state.grad.numpy(), data[f"grad_initial_state_{k}"],
                                   atol=GRAD_TOL, err_msg=f"grad_initial_state_{k}")


def test_every_case_is_covered():
    names = {p.stem for p in (FIXTURES / "layers").glob("case_*.npz")}
    assert names == {c["name"] for c in CASES}
    assert {c["layer"] for c in CASES} == {"SimpleRNN", "LSTM", "GRU"}
