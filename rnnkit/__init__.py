"""rnnkit: Keras 2 style recurrent networks (SimpleRNN, LSTM, GRU) on PyTorch.

    from rnnkit.models import Sequential
    from rnnkit.layers import SimpleRNN, LSTM, GRU
"""
from . import activations, backend, constraints, initializers, layers, models, regularizers, utils
from . import inspect
from . import callbacks, datasets, losses, metrics, optimizers, preprocessing
from . import mixed_precision
from .inspect import explain
from .layers import Input
from .models import Model, Sequential  # `import rnnkit as keras`: keras.Sequential

# The one place the version is written: pyproject.toml reads it from here (setuptools "attr").
__version__ = "0.2.0.dev0"

__all__ = ["activations", "backend", "constraints", "initializers", "layers", "models",
           "regularizers", "utils", "Input", "Model", "Sequential", "inspect", "explain", "callbacks", "datasets",
           "losses", "metrics", "optimizers", "preprocessing", "mixed_precision", "__version__"]
