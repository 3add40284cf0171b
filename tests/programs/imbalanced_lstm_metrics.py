"""Classification on imbalanced data, as TensorFlow's tutorial writes it, with an LSTM over
windows: the METRICS list (TruePositives ... FalseNegatives, BinaryAccuracy, Precision,
Recall, AUC for ROC and PR), an output bias initialized to log(pos / neg), the initial
loss, class weights, fit with validation data at verbose=2, metrics_names and
evaluate(return_dict=True)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
else:
    import rnnkit as keras

keras.utils.set_random_seed(21)
rng = np.random.default_rng(21)
timesteps, features, samples = 12, 3, 400
x = rng.standard_normal((samples, timesteps, features)).astype("float32")
labels = (x[:, -3:, 0].mean(axis=1) > 1.0).astype("float32")   # about 4 % positive
x_train, y_train = x[:300], labels[:300]
x_val, y_val = x[300:350], labels[300:350]
x_test, y_test = x[350:], labels[350:]
neg, pos = np.bincount(y_train.astype(int))
total = neg + pos
print(f"Examples: Total: {total} Positive: {pos} ({100 * pos / total:.2f}% of total)")

METRICS = [
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.BinaryAccuracy(name="accuracy"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
    keras.metrics.AUC(name="auc"),
    keras.metrics.AUC(name="prc", curve="PR"),
]


def make_model(metrics=METRICS, output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential([
        keras.layers.LSTM(16, input_shape=(timesteps, features)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid", bias_initializer=output_bias),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss=keras.losses.BinaryCrossentropy(), metrics=metrics)
    return model


initial_bias = np.log([pos / neg])
print("initial bias:", initial_bias)
model = make_model(output_bias=initial_bias)
model.summary()
results = model.evaluate(x_train, y_train, batch_size=100, verbose=0)
print("LOSS initial", results[0])
print("evaluate returns", len(results), "values")

weight_for_0 = (1 / neg) * (total / 2.0)
weight_for_1 = (1 / pos) * (total / 2.0)
class_weight = {0: weight_for_0, 1: weight_for_1}
print(f"Weight for class 0: {weight_for_0:.2f}")
print(f"Weight for class 1: {weight_for_1:.2f}")
weighted_model = make_model(output_bias=initial_bias)
history = weighted_model.fit(x_train, y_train, batch_size=100, epochs=3,
                             validation_data=(x_val, y_val), class_weight=class_weight,
                             verbose=2)
print("history keys:", sorted(history.history))
print("LOSS weighted", history.history["loss"][-1])
print("metrics_names:", weighted_model.metrics_names)
scores = weighted_model.evaluate(x_test, y_test, batch_size=100, verbose=0, return_dict=True)
print("evaluate keys:", sorted(scores))
counts = [scores[k] for k in ("tp", "fp", "tn", "fn")]
print("counts add up to the test set:", int(round(sum(counts))) == len(y_test))
