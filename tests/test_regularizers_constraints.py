"""rnnkit.regularizers and rnnkit.constraints: Keras 2 formulas, configs, get/serialize."""
import json

import numpy as np
import pytest
import torch

from rnnkit import constraints, regularizers

W = torch.tensor([[1.0, -2.0], [3.0, -4.0]])   # sum|w| = 10, sum w^2 = 30


# ---------------------------------------------------------------------------- regularizers
def test_penalty_values():
    assert regularizers.L1(0.1)(W).item() == pytest.approx(1.0)
    assert regularizers.L2(0.5)(W).item() == pytest.approx(15.0)
    assert regularizers.L1L2(l1=0.1, l2=0.5)(W).item() == pytest.approx(16.0)
    assert regularizers.L1L2()(W).item() == 0.0
    assert regularizers.L2()(W).item() == pytest.approx(0.3)       # default l2 = 0.01
    assert regularizers.get("l1_l2")(W).item() == pytest.approx(0.4)  # the string means 0.01 / 0.01
    assert regularizers.l1_l2(l1=0.1, l2=0.0)(W).item() == pytest.approx(1.0)
    out = regularizers.L2(0.5)(W)
    assert out.shape == () and out.dtype == torch.float32
    assert regularizers.L2(0.5)(W.double()).dtype == torch.float64
    assert regularizers.L1(0.5)(np.array([[-1.0, 2.0]])).item() == pytest.approx(1.5)


def test_penalty_gradient():
    w = W.clone().requires_grad_(True)
    regularizers.L1L2(l1=0.1, l2=0.5)(w).backward()
    torch.testing.assert_close(w.grad, 0.1 * torch.sign(W) + 2 * 0.5 * W)


def test_factors_are_stored_as_keras_stores_them():
    # tf.keras 2 casts factors to float32 and writes float(...) of that in configs.
    assert regularizers.L2().get_config() == {"l2": 0.009999999776482582}
    assert regularizers.L1(0.5).get_config() == {"l1": 0.5}
    assert regularizers.L1L2(l2=0.25).get_config() == {"l1": 0.0, "l2": 0.25}
    assert regularizers.L1(l=0.25).get_config() == {"l1": 0.25}       # old keyword
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    with pytest.raises(TypeError, match="not recognized"):
        regularizers.L2(l3=1.0)
    with pytest.raises(ValueError, match="not a valid regularization penalty"):
        regularizers.L2(float("nan"))
    with pytest.raises(ValueError, match="not a valid regularization penalty"):
        regularizers.L1("0.1")


@pytest.mark.parametrize("name, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.009999999776482582}),
    ("L1", regularizers.L1, {"l1": 0.009999999776482582}),
    ("l2", regularizers.L2, {"l2": 0.009999999776482582}),
    ("L2", regularizers.L2, {"l2": 0.009999999776482582}),
    ("l1_l2", regularizers.L1L2, {"l1": 0.009999999776482582, "l2": 0.009999999776482582}),
    ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
])
def test_regularizer_names(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.02),
                                 regularizers.L1L2(0.1, 0.2), regularizers.l1_l2()])
def test_regularizer_round_trip(reg):
    config = regularizers.serialize(reg)
    assert set(config) == {"class_name", "config"}
    again = regularizers.get(config)
    assert type(again) is type(reg) and regularizers.serialize(again) == config
    assert json.loads(json.dumps(config)) == config
    torch.testing.assert_close(again(W), reg(W))


def test_regularizer_get_forms():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.1)
    assert regularizers.get(reg) is reg
    assert regularizers.serialize(None) is None
    keras3 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.05},
              "registered_name": None}
    assert regularizers.get(keras3)(W).item() == pytest.approx(1.5)
    keras2 = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.009999999776482582}}
    assert regularizers.serialize(regularizers.get(keras2)) == keras2

    def my_penalty(w):
        return w.sum()

    assert regularizers.get(my_penalty) is my_penalty
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        regularizers.get("l3")
    with pytest.raises(TypeError, match="'l3'"):
        regularizers.get({"class_name": "L1L2", "config": {"l1": 0.1, "l3": 0.1}})


# ---------------------------------------------------------------------------- constraints
EPS = 1e-7
M = torch.tensor([[3.0, 0.5], [4.0, 0.5]], dtype=torch.float64)   # column norms 5 and 0.7071


def test_max_norm():
    out = constraints.MaxNorm(max_value=2)(M)
    norms = torch.linalg.vector_norm(M, dim=0)
    torch.testing.assert_close(out, M * (norms.clamp(0, 2) / (EPS + norms)))
    assert torch.linalg.vector_norm(out[:, 0]).item() == pytest.approx(2.0, abs=1e-6)
    torch.testing.assert_close(out[:, 1], M[:, 1], atol=1e-6, rtol=0)   # under the cap: kept
    rows = constraints.MaxNorm(max_value=1.0, axis=1)(M)                # per row now
    assert torch.linalg.vector_norm(rows, dim=1).max().item() == pytest.approx(1.0, abs=1e-6)
    whole = constraints.MaxNorm(max_value=1.0, axis=[0, 1])(M)          # a list of axes
    assert torch.linalg.vector_norm(whole).item() == pytest.approx(1.0, abs=1e-6)


def test_unit_norm_and_non_neg_and_min_max_norm():
    out = constraints.UnitNorm()(M)
    torch.testing.assert_close(out, M / (EPS + torch.linalg.vector_norm(M, dim=0, keepdim=True)))
    np.testing.assert_allclose(torch.linalg.vector_norm(out, dim=0).numpy(), [1.0, 1.0], atol=1e-6)

    neg = torch.tensor([[-1.0, 2.0], [0.0, -3.5]])
    assert constraints.NonNeg()(neg).tolist() == [[0.0, 2.0], [0.0, 0.0]]

    strict = constraints.MinMaxNorm(min_value=1.0, max_value=2.0)(M)
    np.testing.assert_allclose(torch.linalg.vector_norm(strict, dim=0).numpy(), [2.0, 1.0], atol=1e-6)
    half = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(M)
    np.testing.assert_allclose(torch.linalg.vector_norm(half, dim=0).numpy(),
                               [0.5 * 2 + 0.5 * 5, 0.5 * 1 + 0.5 * 0.5 ** 0.5], atol=1e-6)


def test_epsilon_is_keras_backend_epsilon():
    # Keras divides by (1e-7 + norm): a column of norm 1e-7 is only halved, a zero column stays 0.
    tiny = torch.tensor([[1e-7, 0.0], [0.0, 0.0]], dtype=torch.float64)
    assert constraints.UnitNorm()(tiny).tolist() == [[pytest.approx(0.5), 0.0], [0.0, 0.0]]
    assert constraints.MaxNorm(max_value=2)(tiny)[0, 0].item() == pytest.approx(0.5e-7)
    assert not torch.isnan(constraints.MinMaxNorm(1.0, 2.0)(tiny)).any()


def test_constraint_configs_exact():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.NonNeg().get_config() == {}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.MinMaxNorm().get_config() == {
        "min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}


@pytest.mark.parametrize("name, cls", [
    ("max_norm", constraints.MaxNorm), ("maxnorm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
    ("non_neg", constraints.NonNeg), ("nonneg", constraints.NonNeg), ("NonNeg", constraints.NonNeg),
    ("unit_norm", constraints.UnitNorm), ("unitnorm", constraints.UnitNorm),
    ("min_max_norm", constraints.MinMaxNorm), ("MinMaxNorm", constraints.MinMaxNorm),
])
def test_constraint_names(name, cls):
    assert type(constraints.get(name)) is cls


@pytest.mark.parametrize("con", [constraints.MaxNorm(3, axis=1), constraints.NonNeg(),
                                 constraints.UnitNorm(axis=[0, 1]),
                                 constraints.MinMaxNorm(0.5, 2.0, 0.7, 1)])
def test_constraint_round_trip(con):
    config = constraints.serialize(con)
    again = constraints.get(config)
    assert type(again) is type(con) and constraints.serialize(again) == config
    torch.testing.assert_close(again(M), con(M))


def test_constraint_get_forms():
    assert constraints.get(None) is None
    con = constraints.NonNeg()
    assert constraints.get(con) is con
    keras3 = {"module": "keras.constraints", "class_name": "MaxNorm",
              "config": {"max_value": 1.5, "axis": 0}, "registered_name": None}
    got = constraints.get(keras3)
    assert type(got) is constraints.MaxNorm and got.max_value == 1.5
    clip = lambda w: w.clamp(-1, 1)  # noqa: E731
    assert constraints.get(clip) is clip
    with pytest.raises(ValueError) as err:
        constraints.get("max_norms")
    assert "'max_norms'" in str(err.value) and "max_norm" in str(err.value)
