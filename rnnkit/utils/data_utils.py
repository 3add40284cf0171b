"""``keras.utils.data_utils``: the Keras 2 module path of ``Sequence``, ``pad_sequences``,
``get_file`` and its hash and archive helpers."""
from .downloads import extract_archive as _extract_archive
from .downloads import get_file, hash_file as _hash_file, validate_file
from .sequences import Sequence, pad_sequences

__all__ = ["Sequence", "get_file", "pad_sequences", "validate_file"]
