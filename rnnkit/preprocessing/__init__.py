"""Keras 2 ``keras.preprocessing`` paths: ``sequence`` (``pad_sequences``,
``TimeseriesGenerator``) and ``text`` (the legacy ``Tokenizer``)."""
from . import sequence, text

__all__ = ["sequence", "text"]
