"""rnnkit.mixed_precision against tf.keras 2.12 (program_api.json)."""
import json
from pathlib import Path

import pytest
import torch

import rnnkit as keras
from rnnkit import mixed_precision

RECORD = json.loads((Path(__file__).resolve().parent / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())["mixed_precision"]


@pytest.fixture(autouse=True)
def reset_policy():
    yield
    mixed_precision.set_global_policy(None)


def test_names_and_policy_match_tf_keras():
    for name in RECORD["names"]:
        if name != "LossScaleOptimizer":  # see docs/known-differences.md
            assert hasattr(mixed_precision, name), name
    assert repr(mixed_precision.global_policy()) == RECORD["global_default"]
    policy = mixed_precision.Policy("mixed_float16")
    assert [repr(policy), policy.name, policy.compute_dtype, policy.variable_dtype] == \
        RECORD["policy"]
    with pytest.raises(ValueError) as caught:
        mixed_precision.Policy("float8")
    assert str(caught.value) == RECORD["bad_policy"]["message"]


def test_global_policy_reaches_new_layers():
    mixed_precision.set_global_policy("mixed_float16")
    assert repr(mixed_precision.global_policy()) == RECORD["global_after_set"]
    layer = keras.layers.Dense(2)
    assert [layer.dtype_policy, layer.dtype] == [RECORD["layer_under_global"][0],
                                                 RECORD["layer_under_global"][2]]
    inputs = keras.Input((3,))
    assert inputs.dtype == "float32"
    explicit = keras.layers.Dense(2, dtype="float32")
    assert explicit.dtype_policy == "float32"
    mixed_precision.set_global_policy(None)
    assert repr(mixed_precision.global_policy()) == RECORD["global_after_none"]
    assert keras.layers.Dense(2).dtype_policy == "float32"


def test_a_policy_object_as_a_layer_dtype():
    layer = keras.layers.Dense(2, dtype=mixed_precision.Policy("mixed_bfloat16"))
    assert layer.dtype_policy == "mixed_bfloat16"
    out = layer(torch.ones(1, 3))
    assert out.dtype == torch.bfloat16 and layer.kernel.dtype == torch.float32
