"""Module paths and names Keras 2 programs import (keras.utils.np_utils, keras.layers.core,
keras.optimizers.legacy, ...): each that tf.keras 2.12 has (program_api.json) exists here."""
import importlib
import json
from pathlib import Path

import pytest

import rnnkit

RECORD = json.loads((Path(__file__).resolve().parent / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())


@pytest.mark.parametrize("module", sorted(RECORD["module_paths"]))
def test_module_path_has_the_names(module):
    ours = importlib.import_module(module.replace("keras", "rnnkit", 1))
    for name, present in RECORD["module_paths"][module].items():
        if present:
            assert hasattr(ours, name), f"{module}.{name}"


def test_legacy_optimizers_match_tf_keras():
    want = RECORD["legacy_optimizers"]
    for name in want["names"]:
        if name != "Ftrl":  # not in rnnkit: docs/known-differences.md
            assert hasattr(rnnkit.optimizers.legacy, name), name
    assert rnnkit.optimizers.legacy.Adam(0.01, decay=1e-3).get_config() == want["adam_config"]
    assert rnnkit.optimizers.legacy.SGD(momentum=0.9).get_config() == want["sgd_config"]
    restored = rnnkit.optimizers.legacy.Adam.from_config(want["adam_config"])
    assert restored.get_config() == want["adam_config"]


def test_generic_utils_to_list_as_tf_keras():
    from rnnkit.utils.generic_utils import to_list, to_snake_case
    assert to_list([1]) == [1] and to_list((1, 2)) == [(1, 2)] and to_list(3) == [3]
    assert to_snake_case("SimpleRNN") == "simple_rnn"
