"""Keras 2 ``keras.preprocessing`` paths: ``sequence`` (``pad_sequences``,
``TimeseriesGenerator``) and ``text`` (the legacy ``Tokenizer``)."""
from . import sequence, text
from .sequence import timeseries_dataset_from_array  # keras.preprocessing has it too

__all__ = ["sequence", "text", "timeseries_dataset_from_array"]
