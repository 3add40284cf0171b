"""``keras.utils.data_utils``: the Keras 2 module path of ``Sequence`` and ``pad_sequences``."""
from .sequences import Sequence, pad_sequences

__all__ = ["Sequence", "pad_sequences"]
