"""Keras layers on PyTorch: every layer is a ``torch.nn.Module``."""
from .base import Layer
from .cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .core import Activation, Dense, Dropout, Embedding, Input, InputLayer, Masking
from .recurrent import GRU, LSTM, RNN, SimpleRNN
from .serialization import deserialize, register, serialize
from .wrappers import Bidirectional, TimeDistributed, Wrapper
from .abstract_rnn_cell import AbstractRNNCell
from .add_loss import AddLoss, AddMetric  # built by model.add_loss(t); known to configs
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .merging import add, average, concatenate, dot, maximum, minimum, multiply, subtract
from .reshaping import Flatten, RepeatVector, Reshape
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from .attention import AdditiveAttention, Attention
from .lambda_layer import Lambda
from .ops import SlicingOpLambda, TFOpLambda
from .beside import *  # noqa: F401,F403 - convolution, pooling, normalisation, ... (issue 15)
from .beside import BESIDE_CLASSES, BESIDE_NAMES
from .input_spec import InputSpec

__all_layer_classes__ = (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, RNN, SimpleRNN, LSTM, GRU, Dense,
                         Embedding, Masking, Dropout, Activation, InputLayer, Bidirectional,
                         TimeDistributed, Add, Average, Concatenate, Dot, Maximum, Minimum,
                         Multiply, Subtract, Flatten, RepeatVector, Reshape,
                         GlobalAveragePooling1D, GlobalMaxPooling1D, AdditiveAttention, Attention,
                         Lambda, TFOpLambda, SlicingOpLambda, AddLoss, AddMetric) + BESIDE_CLASSES

__all__ = ["Layer", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells", "RNN", "SimpleRNN", "LSTM", "GRU",
           "Dense", "Embedding", "Masking", "Dropout", "Activation", "Input", "InputLayer",
           "Bidirectional", "TimeDistributed", "deserialize", "serialize", "register",
           "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
           "Flatten", "RepeatVector", "Reshape", "GlobalAveragePooling1D",
           "GlobalMaxPooling1D", "AdditiveAttention", "Attention", "Lambda", "TFOpLambda",
           "SlicingOpLambda", "InputSpec", "Wrapper", "AbstractRNNCell", "add", "average",
           "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"] + BESIDE_NAMES
