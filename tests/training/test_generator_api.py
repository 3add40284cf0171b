"""fit_generator / evaluate_generator / predict_generator: tf.keras 2.12's deprecation
warnings (program_api.json), and they train, evaluate and predict as fit & co. do."""
import json
import warnings
from pathlib import Path

import numpy as np

import rnnkit as keras

RECORD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())["generator_methods"]


def test_generator_methods_warn_and_work():
    keras.backend.clear_session()
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")

    def gen():
        while True:
            yield x, y

    before = model.evaluate(x, y, verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit_generator(gen(), steps_per_epoch=2, epochs=3, verbose=0)
        after = model.evaluate_generator(gen(), steps=2)
        predicted = model.predict_generator(gen(), steps=2)
    assert [[w.category.__name__, str(w.message)] for w in caught
            if "deprecated" in str(w.message)] == RECORD["warnings"]
    assert len(history.history["loss"]) == 3 and after < before
    assert list(predicted.shape) == RECORD["predict_shape"]
    np.testing.assert_allclose(predicted[:4], model.predict(x, verbose=0), atol=1e-6)
