"""The common Keras RNN mistakes: each raises (or warns) with a message that says what to
change, in tf.keras 2.12's words where it has clear ones; docs/common-mistakes.md is current."""
import pytest

import common_mistakes as mistakes

IDS = [c["id"] for c in mistakes.CASES]


def test_at_least_25_distinct_mistakes_that_raise():
    assert len(IDS) == len(set(IDS))
    raising = [c for c in mistakes.CASES if c.get("rnnkit", "raises") == "raises"]
    assert len(raising) >= 25
    assert set(IDS) == set(mistakes.KERAS)  # every case was recorded under tf.keras 2.12


@pytest.mark.parametrize("case", mistakes.CASES, ids=IDS)
def test_mistake(case):
    outcome = mistakes.run(case)
    keras = mistakes.KERAS[case["id"]]
    expected = case.get("rnnkit", "raises")
    if expected == "raises":
        assert outcome.error is not None, f"{case['id']}: rnnkit ran where it should raise"
        message = str(outcome.error)
        assert case["fix"] in message, f"the message does not say what to change: {message}"
        if keras["type"] in ("ValueError", "TypeError", "RuntimeError"):
            assert type(outcome.error).__name__ == keras["type"]
        else:  # TensorFlow's internal errors (InvalidArgumentError, KeyError) become clear ones
            assert isinstance(outcome.error, (ValueError, TypeError))
        if case["id"] in mistakes.KERAS_WORDS:
            assert mistakes.first_sentence(keras["keras_says"]) in mistakes.normalise(message)
    else:
        assert outcome.error is None, f"tf.keras 2.12 runs this; rnnkit raised {outcome.error!r}"
        assert not keras["raised"]
        if "out_shape" in keras:
            assert list(outcome.out.shape) == keras["out_shape"]
        if expected == "warns":
            assert any(case["fix"] in w for w in outcome.warned), outcome.warned
        else:
            assert outcome.warned == []


def test_the_doc_is_up_to_date():
    with open(mistakes.DOC, encoding="utf-8") as f:
        committed = f.read()
    assert committed == mistakes.render(), (
        "docs/common-mistakes.md is stale: run `python tests/layers/common_mistakes.py`")
