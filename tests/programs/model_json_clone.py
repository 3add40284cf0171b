"""Saving architectures: to_json / model_from_json, get_config / from_config,
model_from_config and clone_model for Sequential and functional RNN models."""
import json
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(15)
model = keras.Sequential([layers.GRU(8, input_shape=(5, 3), return_sequences=True),
                          layers.LSTM(4), layers.Dense(2, activation="softmax")])
json_string = model.to_json()
config = json.loads(json_string)
print("json keys", sorted(config), config["class_name"], config["keras_version"])
print("layers", [l["class_name"] for l in config["config"]["layers"]])
restored = keras.models.model_from_json(json_string)
restored.summary()
again = keras.models.model_from_config({"class_name": "Sequential",
                                        "config": model.get_config()})
print("params", again.count_params() == model.count_params())
clone = keras.models.clone_model(model)
clone.summary()
x = np.random.rand(4, 5, 3).astype("float32")
print("same weights", all(np.array_equal(a, b)
                          for a, b in zip(clone.get_weights(), model.get_weights())))
clone.set_weights(model.get_weights())
print("same predictions", np.allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0)))

inp = keras.Input((None, 3))
seq, h = layers.GRU(6, return_sequences=True, return_state=True)(inp)
out = layers.Dense(1)(layers.SimpleRNN(4)(seq))
functional = keras.Model(inp, [out, h])
functional_json = functional.to_json()
print("functional class", json.loads(functional_json)["class_name"])
f2 = keras.models.model_from_json(functional_json)
f2.summary()
f3 = keras.models.clone_model(functional)
print("SHAPE clone outputs", [o.shape for o in f3.predict(x, verbose=0)])
print("config round trip", keras.Model.from_config(functional.get_config()).count_params())
