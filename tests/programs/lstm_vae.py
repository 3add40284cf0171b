"""An LSTM variational autoencoder (the "Building Autoencoders in Keras" blog's sequence
VAE, Keras 2 style): encoder LSTM to z_mean / z_log_sigma, a sampling Lambda, RepeatVector
and a decoder LSTM; the KL term and the reconstruction error built from keras.backend
functions on the symbolic tensors and given to vae.add_loss; compile without a loss, fit
without targets; the encoder as a model of its own."""
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

keras.utils.set_random_seed(37)
timesteps, input_dim, intermediate_dim, latent_dim = 10, 2, 16, 3
t = np.linspace(0, 4 * np.pi, 200)
phases = np.random.default_rng(37).uniform(0, np.pi, (64, 1))
x_train = np.stack([np.sin(t[:timesteps] + phases), np.cos(t[:timesteps] + phases)],
                   axis=-1).astype("float32")
print("SHAPE x_train", x_train.shape)

inputs = keras.Input(shape=(timesteps, input_dim))
h = layers.LSTM(intermediate_dim)(inputs)
z_mean = layers.Dense(latent_dim)(h)
z_log_sigma = layers.Dense(latent_dim)(h)


def sampling(args):
    z_mean, z_log_sigma = args
    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0., stddev=0.1)
    return z_mean + K.exp(z_log_sigma) * epsilon


z = layers.Lambda(sampling)([z_mean, z_log_sigma])
decoder_h = layers.LSTM(intermediate_dim, return_sequences=True)
decoder_mean = layers.TimeDistributed(layers.Dense(input_dim))
h_decoded = layers.RepeatVector(timesteps)(z)
h_decoded = decoder_h(h_decoded)
x_decoded_mean = decoder_mean(h_decoded)

vae = keras.Model(inputs, x_decoded_mean)
encoder = keras.Model(inputs, z_mean)

reconstruction_loss = K.mean(K.square(inputs - x_decoded_mean))
kl_loss = -0.5 * K.mean(1 + z_log_sigma - K.square(z_mean) - K.exp(z_log_sigma))
vae.add_loss(reconstruction_loss + 0.1 * kl_loss)
vae.add_metric(kl_loss, name="kl_loss")
vae.compile(optimizer="adam")
vae.summary()
history = vae.fit(x_train, x_train, epochs=3, batch_size=16, verbose=0)
print("history keys:", sorted(history.history))
print("LOSS vae", history.history["loss"][-1])
history = vae.fit(x_train, epochs=1, batch_size=16, verbose=0)
print("LOSS vae without targets", history.history["loss"][-1])
print("LOSS evaluate", vae.evaluate(x_train, verbose=0)[0])
print("SHAPE encoded", encoder.predict(x_train[:5], verbose=0).shape)
print("SHAPE reconstructed", vae.predict(x_train[:5], verbose=0).shape)
