"""preprocessing.sequence.skipgrams and make_sampling_table against tf.keras 2.12's
(fixtures/keras2_skipgrams/skipgrams.json, recorded by record_skipgrams.py there)."""
import json
import random
from pathlib import Path

import numpy as np
import pytest

from rnnkit.preprocessing.sequence import make_sampling_table, skipgrams

RECORD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_skipgrams"
                     / "skipgrams.json").read_text())


@pytest.mark.parametrize("case", RECORD["cases"], ids=lambda c: f"seed{c['seed_random']}")
def test_skipgrams_match_tf_keras_after_the_same_random_seed(case):
    kwargs = dict(case["kwargs"])
    if kwargs.get("sampling_table") == "table":
        kwargs["sampling_table"] = make_sampling_table(**RECORD["case_table"])
    random.seed(case["seed_random"])
    couples, labels = skipgrams(RECORD["sequence"], **kwargs)
    assert couples == case["couples"] and labels == case["labels"]
    assert random.random() == case["next_random"]   # the same number of draws


@pytest.mark.parametrize("entry", RECORD["tables"], ids=lambda e: str(e["size"]))
def test_sampling_table_matches_tf_keras(entry):
    got = make_sampling_table(entry["size"], entry["sampling_factor"])
    np.testing.assert_allclose(got, entry["table"], rtol=1e-12)
