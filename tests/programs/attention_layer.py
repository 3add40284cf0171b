"""A custom Bahdanau attention layer (the NMT-with-attention tutorials' pattern): a
subclassed Layer with sub-layers, two inputs (one passed positionally) and two outputs
unpacked in the functional API, plus a layer with add_weight and add_loss."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":

    from tensorflow import keras
    from tensorflow.keras import backend as K
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import backend as K
    from rnnkit import layers

keras.utils.set_random_seed(13)


class BahdanauAttention(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.W1 = layers.Dense(units)
        self.W2 = layers.Dense(units)
        self.V = layers.Dense(1)

    def call(self, values, query):
        query_with_time_axis = K.expand_dims(query, 1)
        score = self.V(K.tanh(self.W1(values) + self.W2(query_with_time_axis)))
        attention_weights = K.softmax(score, axis=1)
        context_vector = attention_weights * values
        context_vector = K.sum(context_vector, axis=1)
        return context_vector, attention_weights


class AttentionPooling(layers.Layer):
    def __init__(self, penalty=0.01, **kwargs):
        super().__init__(**kwargs)
        self.penalty = penalty

    def build(self, input_shape):
        self.w = self.add_weight(name="att_weight", shape=(input_shape[-1], 1),
                                 initializer="normal")
        self.b = self.add_weight(name="att_bias", shape=(1,), initializer="zeros",
                                 trainable=False)
        super().build(input_shape)

    def call(self, x):
        e = K.tanh(K.dot(x, self.w) + self.b)
        a = K.softmax(K.squeeze(e, axis=-1))
        self.add_loss(self.penalty * K.mean(K.square(a)))
        return K.sum(x * K.expand_dims(a, -1), axis=1)

    def get_config(self):
        config = super().get_config()
        config.update({"penalty": self.penalty})
        return config


inputs = keras.Input(shape=(12,), dtype="int32")
x = layers.Embedding(100, 16)(inputs)
sequence, state = layers.GRU(16, return_sequences=True, return_state=True)(x)
context, weights = BahdanauAttention(10)(sequence, state)
pooled = AttentionPooling()(sequence)
merged = layers.concatenate([context, pooled])
outputs = layers.Dense(3, activation="softmax")(merged)
model = keras.Model(inputs, outputs)
model.summary()
print("SHAPE weights", tuple(weights.shape))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
rng = np.random.default_rng(0)
x_data = rng.integers(1, 100, (64, 12))
y_data = x_data[:, 0] % 3
h = model.fit(x_data, y_data, batch_size=16, epochs=2, verbose=0)
print("LOSS fit", h.history["loss"][-1])
print("losses", len(model.losses))
print("non-trainable", [tuple(w.shape) for w in model.non_trainable_weights])
attention_model = keras.Model(inputs, [context, weights])
ctx, w = attention_model.predict(x_data[:4], verbose=0)
print("SHAPE attention outputs", ctx.shape, w.shape)
