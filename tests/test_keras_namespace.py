"""`import rnnkit as keras` gives what tf.keras 2.12's `keras` namespace gives a
sequence-model program: every public name recorded from tf.keras 2.12's dir() (fixtures/
keras2_namespace/names.json, record_namespace.py) exists here, or is listed with a reason in
not_provided.json (docs/known-differences.md)."""
import inspect
import json
from pathlib import Path

import pytest

import rnnkit as keras

HERE = Path(__file__).parent / "fixtures" / "keras2_namespace"
NAMES = json.loads((HERE / "names.json").read_text())
NOT_PROVIDED = json.loads((HERE / "not_provided.json").read_text())


def _module(path):
    obj = keras
    if path != "keras":
        for part in path.split("."):
            obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("path", sorted(NAMES))
def test_every_tf_keras_name_is_here_or_documented(path):
    module = _module(path)
    left_out = set(NOT_PROVIDED.get(path, {}).get("names", []))
    missing = [n for n in NAMES[path] if not hasattr(module, n) and n not in left_out]
    assert not missing, f"keras.{path} lacks {missing}"
    assert left_out <= set(NAMES[path])  # the list names only real tf.keras names
    # (submodules are left out: `rnnkit.export`, say, is an attribute of the package only
    # once something has imported it, and is not Keras's `export` either)
    provided = sorted(n for n in left_out
                      if hasattr(module, n) and not inspect.ismodule(getattr(module, n)))
    assert not provided, f"keras.{path}: {provided} are provided now; take them off the list"


def test_what_a_program_uses_first_is_here():
    for name in ("Sequential", "Model", "Input", "layers", "models", "optimizers", "losses",
                 "metrics", "callbacks", "utils", "preprocessing", "backend", "initializers",
                 "regularizers", "constraints", "activations"):
        assert hasattr(keras, name), name
    assert keras.optimizers.schedules.ExponentialDecay
    assert keras.preprocessing.sequence.pad_sequences and keras.preprocessing.text.Tokenizer
    assert keras.preprocessing.timeseries_dataset_from_array is \
        keras.utils.timeseries_dataset_from_array
    assert keras.Sequential is keras.models.Sequential and keras.Model is keras.models.Model


def test_the_documented_list_is_short_for_sequence_modules():
    for path in ("activations", "initializers"):
        assert not NOT_PROVIDED.get(path, {}).get("names")
