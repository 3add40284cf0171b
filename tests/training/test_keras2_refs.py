"""Losses, optimiser steps, schedules and metrics against recorded tf.keras 2.12 values
(``tests/fixtures/record_training_refs.py`` wrote them)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit import losses, metrics, optimizers
from rnnkit.optimizers import schedules

REFS = json.loads((Path(__file__).parents[1] / "fixtures" / "keras2_training" / "refs.json")
                  .read_text())


def _id(case):
    return f"{case['class_name']}-{json.dumps(case['kwargs'], sort_keys=True)}"


def _y_true(case):
    dtype = np.int64 if case["class_name"].startswith("Sparse") else np.float32
    return np.asarray(case["y_true"], dtype=dtype)


@pytest.mark.parametrize("case", REFS["losses"], ids=_id)
def test_loss_matches_keras(case):
    y_true, y_pred = _y_true(case), np.asarray(case["y_pred"], np.float32)
    sw = np.asarray(case["sample_weight"], np.float32)
    cls = getattr(losses, case["class_name"])
    assert float(cls(**case["kwargs"])(y_true, y_pred)) == pytest.approx(case["value"], rel=1e-5,
                                                                           abs=1e-6)
    assert float(cls(**case["kwargs"])(y_true, y_pred, sample_weight=sw)) == pytest.approx(
        case["weighted"], rel=1e-5, abs=1e-6)
    assert float(cls(reduction="sum", **case["kwargs"])(y_true, y_pred)) == pytest.approx(
        case["sum"], rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(cls(reduction="none", **case["kwargs"])(y_true, y_pred).numpy(),
                               case["none"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", REFS["optimizers"], ids=_id)
def test_optimizer_steps_match_keras(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = schedules.deserialize(kwargs["learning_rate"])
    opt = getattr(optimizers, case["class_name"])(**kwargs)
    params = [torch.nn.Parameter(torch.tensor(v, dtype=torch.float32)) for v in case["init"]]
    for grads, expected in zip(case["grads"], case["steps"]):
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step(params)
        for p, e in zip(params, expected):
            np.testing.assert_allclose(p.detach().numpy(), e, rtol=2e-5, atol=2e-6)
    assert opt.iterations == len(case["steps"])


@pytest.mark.parametrize("case", REFS["optimizers"], ids=_id)
def test_optimizer_defaults_match_keras(case):
    ours = getattr(optimizers, case["class_name"])().get_config()
    for key, value in case["config_defaults"].items():
        if key in ours and value is not None and key != "name":
            assert ours[key] == pytest.approx(value, rel=1e-6), key


@pytest.mark.parametrize("case", REFS["schedules"], ids=_id)
def test_schedule_matches_keras(case):
    schedule = getattr(schedules, case["class_name"])(**case["kwargs"])
    np.testing.assert_allclose([schedule(t) for t in case["steps"]], case["values"], rtol=1e-6)


@pytest.mark.parametrize("case", REFS["metrics"], ids=_id)
def test_metric_matches_keras_over_two_batches(case):
    dtype = np.int64 if case["class_name"].startswith("Sparse") else np.float32
    y, p = np.asarray(case["y_true"], dtype), np.asarray(case["y_pred"], np.float32)
    sw = np.asarray(case["sample_weight"], np.float32)
    m = getattr(metrics, case["class_name"])(**case["kwargs"])
    m.update_state(y[:8], p[:8])
    m.update_state(y[8:], p[8:])
    assert m.result() == pytest.approx(case["value"], rel=1e-5, abs=1e-6)
    m.reset_state()
    m.update_state(y[:8], p[:8], sample_weight=sw[:8])
    m.update_state(y[8:], p[8:], sample_weight=sw[8:])
    assert m.result() == pytest.approx(case["weighted"], rel=1e-5, abs=1e-6)
