"""``keras.optimizers.legacy``: tf.keras 2.12's ``OptimizerV2`` classes, which programs
import for their ``decay`` argument and older checkpoints (``keras.optimizers.legacy.Adam``).

They run rnnkit's optimisers (the same update formulas: tf.keras 2.12's legacy and new
optimisers share them, ``decay`` included as ``lr / (1 + decay * iterations)``); their
configs say ``is_legacy_optimizer: True`` and carry ``decay``, and their step counter is
the legacy ``iter`` variable. ``Ftrl`` is not in rnnkit. The legacy ``Nadam`` keeps
rnnkit's (tf.keras 2.12's new) momentum schedule: see docs/known-differences.md.
"""
from __future__ import annotations

import warnings
from typing import Any

from . import Adadelta as _Adadelta
from . import Adagrad as _Adagrad
from . import Adam as _Adam
from . import Adamax as _Adamax
from . import Nadam as _Nadam
from . import Optimizer as _Optimizer
from . import RMSprop as _RMSprop
from . import SGD as _SGD
from .variables import ScalarVariable

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "Adamax", "Nadam", "Adagrad", "Adadelta"]


class _Legacy:
    """What sets a legacy optimiser apart: its config and its ``iter`` variable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with warnings.catch_warnings():  # `decay` is the legacy optimisers' own argument
            warnings.filterwarnings("ignore", message="`decay` is deprecated",
                                    category=DeprecationWarning)
            super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def get_config(self) -> dict:
        """tf.keras 2.12's legacy layout: name, learning_rate, decay, then the optimiser's
        own keys; clipping keys only when set."""
        config = super().get_config()  # type: ignore[misc]
        config.pop("is_legacy_optimizer", None)
        legacy = {"name": config.pop("name"), "learning_rate": config.pop("learning_rate"),
                  "decay": self._decay}  # type: ignore[attr-defined]
        for key in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue"):
            if config.get(key) is None:
                config.pop(key, None)
        legacy.update(config)
        return legacy

    @property
    def iterations(self) -> ScalarVariable:
        return ScalarVariable("iter", "int64", lambda: self._iterations,  # type: ignore
                              self._assign_iterations)  # type: ignore[attr-defined]

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self._iterations = int(value)


def _legacy(base: type) -> type:
    cls = type(base.__name__, (_Legacy, base), {"__module__": __name__,
                                               "__doc__": f"tf.keras 2.12's legacy "
                                                          f"``{base.__name__}``."})
    return cls


Optimizer = _legacy(_Optimizer)
SGD = _legacy(_SGD)
RMSprop = _legacy(_RMSprop)
Adam = _legacy(_Adam)
Adamax = _legacy(_Adamax)
Nadam = _legacy(_Nadam)
Adagrad = _legacy(_Adagrad)
Adadelta = _legacy(_Adadelta)
