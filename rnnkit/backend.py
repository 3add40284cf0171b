"""Global state shared by layers and models: automatic names and the default float type.

tf.keras 2 names objects per snake-cased class name, zero-based: the first ``SimpleRNN``
is ``simple_rnn``, the next ``simple_rnn_1``; ``clear_session()`` starts the counts again.
"""
from __future__ import annotations

import contextlib
import gc
import re
from collections import defaultdict
from typing import Iterator

_name_counts: defaultdict[str, int] = defaultdict(int)
_floatx = "float32"


def to_snake_case(name: str) -> str:
    """``SimpleRNN`` -> ``simple_rnn``, ``TimeDistributed`` -> ``time_distributed`` (Keras rule)."""
    intermediate = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)  # as Keras 2.12 and 3
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


def unique_object_name(prefix: str) -> str:
    """Return ``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ..."""
    count = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


@contextlib.contextmanager
def names_given_back() -> Iterator[None]:
    """Automatic names drawn inside are given back on leaving: a throwaway build (such as
    ``load_model``'s size check on the meta device) leaves the next names as they were."""
    saved = dict(_name_counts)
    try:
        yield
    finally:
        _name_counts.clear()
        _name_counts.update(saved)


def clear_session() -> None:
    """Reset the automatic names (``sequential``, ``lstm``, ...) as ``keras.backend.clear_session``."""
    _name_counts.clear()
    gc.collect()


def floatx() -> str:
    return _floatx


def set_floatx(value: str) -> None:
    global _floatx
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"Unknown floatx type: {value!r}; expected float16, bfloat16, float32 or float64.")
    _floatx = value


# ``rnnkit.mixed_precision.set_global_policy``: the dtype policy of layers made without one.
_global_dtype_policy: str | None = None


def global_dtype_policy() -> str | None:
    return _global_dtype_policy


def set_global_dtype_policy(name: str | None) -> None:
    global _global_dtype_policy
    _global_dtype_policy = name


# The tensor functions of ``keras.backend`` (K.dot, K.batch_dot, K.sum, ...): kept in their
# own module, re-exported here so a Keras 2 program's `from rnnkit import backend as K` works.
from .backend_ops import *  # noqa: E402,F401,F403
from .backend_ops import __all__ as _ops_names  # noqa: E402
from .backend_rnn import rnn  # noqa: E402,F401
