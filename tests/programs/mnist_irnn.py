"""The Keras 2 examples folder's mnist_irnn (Le et al. 2015, "A Simple Way to Initialize
Recurrent Networks of Rectified Linear Units"): a ReLU SimpleRNN whose recurrent kernel
starts as the identity, RMSprop with gradient clipping, images read row by row. Small
random "images" stand in for MNIST."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import initializers
    from tensorflow.keras.layers import Dense, Activation, SimpleRNN
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.optimizers import RMSprop
else:
    import rnnkit as keras
    from rnnkit import initializers
    from rnnkit.layers import Dense, Activation, SimpleRNN
    from rnnkit.models import Sequential
    from rnnkit.optimizers import RMSprop

keras.utils.set_random_seed(21)
batch_size = 16
num_classes = 10
epochs = 2
hidden_units = 32
learning_rate = 1e-4
clip_norm = 1.0

rng = np.random.default_rng(3)
x_train = rng.random((96, 12, 12)).astype("float32")
y_train = rng.integers(0, num_classes, 96)
x_test = rng.random((32, 12, 12)).astype("float32")
y_test = rng.integers(0, num_classes, 32)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)
print("SHAPE y_train", y_train.shape)

print("Evaluate IRNN...")
model = Sequential()
model.add(SimpleRNN(hidden_units,
                    kernel_initializer=initializers.RandomNormal(stddev=0.001),
                    recurrent_initializer=initializers.Identity(gain=1.0),
                    activation="relu",
                    input_shape=x_train.shape[1:]))
model.add(Dense(num_classes))
model.add(Activation("softmax"))
rmsprop = RMSprop(learning_rate=learning_rate, clipnorm=clip_norm)
model.compile(loss="categorical_crossentropy", optimizer=rmsprop, metrics=["accuracy"])
model.summary()
recurrent = model.layers[0].get_weights()[1]
print("identity recurrent kernel:", bool(np.allclose(recurrent, np.eye(hidden_units))))
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0,
                    validation_data=(x_test, y_test))
print("history keys:", sorted(history.history))
print("LOSS fit", history.history["loss"][-1])
scores = model.evaluate(x_test, y_test, verbose=0)
print("LOSS IRNN test score", scores[0])
print("IRNN test accuracy in [0, 1]:", 0.0 <= scores[1] <= 1.0)
print("SHAPE predict", model.predict(x_test[:5], verbose=0).shape)
