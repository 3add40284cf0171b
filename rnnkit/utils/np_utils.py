"""``keras.utils.np_utils``: the Keras 2 module path of ``to_categorical`` and ``normalize``
(``from keras.utils.np_utils import to_categorical`` in many Keras 2 programs)."""
from .data_tuples import normalize
from .sequences import to_categorical

__all__ = ["to_categorical", "normalize"]
