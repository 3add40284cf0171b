"""Keras layers on PyTorch: every layer is a ``torch.nn.Module``."""
from .base import Layer
from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .core import Activation, Dense, Dropout, Embedding, Input, InputLayer, Masking
from .recurrent import GRU, LSTM, RNN, SimpleRNN
from .serialization import deserialize, register, serialize
from .wrappers import Bidirectional, TimeDistributed

__all_layer_classes__ = (SimpleRNNCell, LSTMCell, GRUCell, RNN, SimpleRNN, LSTM, GRU, Dense,
                         Embedding, Masking, Dropout, Activation, InputLayer, Bidirectional,
                         TimeDistributed)

__all__ = ["Layer", "SimpleRNNCell", "LSTMCell", "GRUCell", "RNN", "SimpleRNN", "LSTM", "GRU",
           "Dense", "Embedding", "Masking", "Dropout", "Activation", "Input", "InputLayer",
           "Bidirectional", "TimeDistributed", "deserialize", "serialize", "register"]
