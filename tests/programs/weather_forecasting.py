"""keras.io "Timeseries forecasting for weather prediction": normalised features,
timeseries_dataset_from_array with sampling_rate=6, LSTM(32), EarlyStopping and
ModelCheckpoint (synthetic sensor data in place of the Jena climate download)."""
import os
import tempfile

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
else:
    import rnnkit as keras

keras.utils.set_random_seed(7)
rng = np.random.default_rng(0)
t = np.arange(1200, dtype="float32")
features = np.stack([np.sin(t / 50), np.cos(t / 30), rng.normal(size=t.shape),
                     np.sin(t / 7) * 0.5], axis=1).astype("float32")
split_fraction = 0.715
train_split = int(split_fraction * int(features.shape[0]))
step, past, future = 6, 120, 12
learning_rate, batch_size, epochs = 0.001, 64, 2


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


features = normalize(features, train_split)
train_data = features[0: train_split - 1]
val_data = features[train_split:]
start = past + future
end = start + train_split
x_train = train_data
y_train = features[start:end][:, 1]
sequence_length = int(past / step)
dataset_train = keras.preprocessing.timeseries_dataset_from_array(
    x_train, y_train, sequence_length=sequence_length, sampling_rate=step,
    batch_size=batch_size)
x_end = len(val_data) - past - future
label_start = train_split + past + future
x_val = val_data[:x_end]
y_val = features[label_start:][:, 1]
dataset_val = keras.preprocessing.timeseries_dataset_from_array(
    x_val, y_val, sequence_length=sequence_length, sampling_rate=step, batch_size=batch_size)
for batch in dataset_train:
    inputs, targets = batch
print("SHAPE Input", tuple(inputs.shape))
print("SHAPE Target", tuple(targets.shape))
print("train batches", len(list(dataset_train)), "val batches", len(list(dataset_val)))

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(32)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
model.summary()
path_checkpoint = os.path.join(tempfile.mkdtemp(), "model_checkpoint.h5")
es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss", filepath=path_checkpoint, verbose=0, save_weights_only=True,
    save_best_only=True)
history = model.fit(dataset_train, epochs=epochs, validation_data=dataset_val,
                    callbacks=[es_callback, modelckpt_callback], verbose=0)
print("LOSS val", history.history["val_loss"][-1])
print("checkpoint written", os.path.exists(path_checkpoint))
for x, y in list(dataset_val)[:1]:
    print("SHAPE prediction", model.predict(x, verbose=0)[0].shape, tuple(y[0].shape))
