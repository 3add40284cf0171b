"""Optimiser surface beyond the recorded steps: names, lr, legacy args, errors, torch interop."""
import warnings

import numpy as np
import pytest
import torch

from rnnkit import optimizers
from rnnkit.optimizers import schedules


def _param(values=(1.0, -2.0)):
    return torch.nn.Parameter(torch.tensor(values))


def test_get_by_keras_name_with_keras_defaults():
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    adam = optimizers.get("Adam")
    assert adam.learning_rate == pytest.approx(0.001) and adam.epsilon == 1e-7
    assert optimizers.get("sgd").learning_rate == pytest.approx(0.01)
    assert optimizers.get("rmsprop").rho == 0.9


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'"):
        optimizers.get("adamm")


def test_unknown_argument_names_the_argument():
    with pytest.raises(TypeError, match="'betaa' is not a valid argument for Adam"):
        optimizers.Adam(betaa=0.5)


def test_learning_rate_readable_and_settable_and_lr_alias():
    opt = optimizers.SGD(learning_rate=0.5)
    p = _param()
    opt.learning_rate = 0.25
    assert opt.lr == 0.25
    p.grad = torch.tensor([1.0, 1.0])
    opt.step([p])
    np.testing.assert_allclose(p.detach().numpy(), [0.75, -2.25])


def test_legacy_lr_is_used_with_a_warning():
    # tf.keras 2.12 warns and then ignores `lr` (a known bug); rnnkit uses it.
    with pytest.warns(DeprecationWarning, match="`lr` is deprecated"):
        opt = optimizers.Adam(lr=0.05)
    assert opt.learning_rate == pytest.approx(0.05)


def test_legacy_decay_is_inverse_time_decay():
    with pytest.warns(DeprecationWarning, match="decay"):
        opt = optimizers.SGD(learning_rate=1.0, decay=0.5)
    p = _param((0.0,))
    for _ in range(2):
        p.grad = torch.tensor([1.0])
        opt.step([p])
    # steps use lr 1/(1+0) then 1/(1+0.5)
    assert p.item() == pytest.approx(-(1.0 + 1 / 1.5))


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm`"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_schedule_learning_rate_not_settable_but_readable():
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(1.0, 1, 0.5))
    assert opt.learning_rate == 1.0
    p = _param((0.0,))
    p.grad = torch.tensor([1.0])
    opt.step([p])
    assert opt.learning_rate == 0.5
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_piecewise_constant_needs_one_more_value_than_boundaries():
    with pytest.raises(ValueError, match="should be 1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_config_round_trip_with_schedule():
    opt = optimizers.Adam(learning_rate=schedules.CosineDecay(0.1, 10), amsgrad=True)
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(clone, optimizers.Adam) and clone.amsgrad
    assert clone.learning_rate == pytest.approx(0.1)


def test_frozen_or_gradless_params_are_skipped():
    opt = optimizers.Adam()
    a, b = _param(), _param()
    a.grad = torch.tensor([1.0, 1.0])
    opt.step([a, b])
    assert torch.equal(b.detach(), torch.tensor([1.0, -2.0]))
    assert opt.iterations == 1


def test_sgd_momentum_range_checked():
    with pytest.raises(ValueError, match="`momentum` must be between"):
        optimizers.SGD(momentum=1.5)


def test_adam_differs_from_torch_adam_by_epsilon_placement():
    # Keras: eps added to sqrt(v) after folding the bias corrections into the step size.
    p1, p2 = _param((1e-4,)), _param((1e-4,))
    keras_adam = optimizers.Adam(learning_rate=0.1, epsilon=0.1)
    torch_adam = torch.optim.Adam([p2], lr=0.1, eps=0.1)
    p1.grad = torch.tensor([1e-3])
    p2.grad = torch.tensor([1e-3])
    keras_adam.step([p1])
    torch_adam.step()
    alpha = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    m, v = 1e-4, 1e-9
    assert p1.item() == pytest.approx(1e-4 - alpha * m / (np.sqrt(v) + 0.1), rel=1e-4)
    assert abs(p1.item() - p2.item()) > 1e-6


@pytest.mark.parametrize("schedule", [
    schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0, cycle=True),
    schedules.CosineDecayRestarts(0.1, 5, t_mul=1.5, m_mul=0.8, alpha=0.1)])
def test_new_schedules_round_trip_and_drive_an_optimizer(schedule):
    rebuilt = schedules.deserialize(schedules.serialize(schedule))
    assert [rebuilt(t) for t in range(30)] == [schedule(t) for t in range(30)]
    w = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD(learning_rate=schedule)
    for step in range(3):
        w.grad = torch.ones(2)
        before = w.detach().clone()
        opt.apply_gradients([(w.grad, w)])
        assert torch.allclose(before - w.detach(), torch.full((2,), schedule(step)))


def test_new_schedules_refuse_bad_periods():
    with pytest.raises(ValueError, match=r"PolynomialDecay: decay_steps must be > 0, got 0"):
        schedules.PolynomialDecay(0.1, 0)
    with pytest.raises(ValueError, match=r"CosineDecayRestarts: first_decay_steps must be > 0"):
        schedules.CosineDecayRestarts(0.1, -1)
    with pytest.raises(ValueError, match=r"CosineDecayRestarts: t_mul must be > 0"):
        schedules.CosineDecayRestarts(0.1, 5, t_mul=0.0)
