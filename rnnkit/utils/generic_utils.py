"""``keras.utils.generic_utils``: the Keras 2 module path of ``to_list``, ``to_snake_case``
and ``Progbar`` (``from keras.utils.generic_utils import Progbar``)."""
from __future__ import annotations

from typing import Any

from ..backend import to_snake_case

__all__ = ["to_list", "to_snake_case"]


def to_list(x: Any) -> list:
    """``x`` as a list: a list stays as it is, anything else (a tuple too) is ``[x]``."""
    if isinstance(x, list):
        return x
    return [x]


def __getattr__(name: str) -> Any:
    if name == "Progbar":  # rnnkit.utils.Progbar, where the package has it
        from .. import utils
        if "Progbar" in vars(utils):
            return vars(utils)["Progbar"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
