"""Every bad input in ``bad_input_cases.CASES`` raises its clear error and leaves the
model (weights, optimizer step count) unchanged; ``docs/bad-inputs.md`` is up to date."""
import contextlib
import io

import numpy as np
import pytest

import bad_input_cases as cases


def test_at_least_30_distinct_cases():
    ids = [c[0] for c in cases.CASES]
    assert len(ids) == len(set(ids)) >= 30
    assert len({c[2] for c in cases.CASES}) == len(ids)  # no call tried twice


@pytest.mark.parametrize("case", cases.CASES, ids=[c[0] for c in cases.CASES])
def test_bad_input_raises_clear_error_and_keeps_weights(case):
    _, kind, code, error_type, text = case
    model = cases.make_model(kind)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error_type) as info, contextlib.redirect_stdout(io.StringIO()):
        eval(code, cases.namespace(model))
    assert text in str(info.value)
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_the_model_still_trains_after_a_refused_input():
    model = cases.make_model("mse")
    ns = cases.namespace(model)
    with pytest.raises(ValueError):
        model.fit(ns["x_nan"], ns["y"], check_finite=True, verbose=0)
    history = model.fit(ns["x"], ns["y"], epochs=2, verbose=0, check_finite=True)
    assert len(history.history["loss"]) == 2 and model.optimizer.iterations == 2


def test_check_finite_is_opt_in():
    model = cases.make_model("mse")
    ns = cases.namespace(model)
    history = model.fit(ns["x_nan"], ns["y"], verbose=0)  # Keras does not look: NaN loss
    assert np.isnan(history.history["loss"][0])


def test_ignore_class_labels_pass_the_range_check():
    from rnnkit import losses
    model = cases.make_model("sparse")
    model.compile("adam", losses.SparseCategoricalCrossentropy(ignore_class=-1))
    ns = cases.namespace(model)
    model.fit(ns["x"], np.array([0, 1, 2, -1, 0, 1, 2, 0]), verbose=0)
    assert model.optimizer.iterations == 1


def test_the_committed_table_is_up_to_date():
    with open(cases.DOC) as f:
        committed = f.read()
    assert committed == cases.render(), (
        "docs/bad-inputs.md is stale: run `python tests/training/bad_input_cases.py`")
