"""``keras.mixed_precision``: ``Policy``, ``set_global_policy`` and ``global_policy``.

rnnkit layers take a per-layer dtype policy already (``Dense(4, dtype="mixed_float16")``:
float32 weights, float16 compute through ``torch.autocast``). ``set_global_policy`` gives
that policy to every layer created afterwards without a ``dtype`` of its own, as tf.keras
2.12 does; ``set_global_policy(None)`` (or ``"float32"``) goes back to ``floatx()``.
"""
from __future__ import annotations

from typing import Any

from . import backend

__all__ = ["Policy", "global_policy", "set_global_policy"]

_NAMES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")


class Policy:
    """A dtype policy: ``compute_dtype`` for the maths, ``variable_dtype`` for the weights."""

    def __init__(self, name: str) -> None:
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str) or name not in _NAMES:
            raise ValueError(f"Cannot convert value {name} to a mixed precision Policy. "
                             f"Valid policies include 'mixed_float16', 'mixed_bfloat16', and "
                             f"the name of any dtype such as 'float32'.")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._name.replace("mixed_", "")

    @property
    def variable_dtype(self) -> str:
        return "float32" if self._name.startswith("mixed_") else self._name

    def __repr__(self) -> str:
        return f'<Policy "{self._name}">'

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Policy) and other.name == self.name

    __hash__ = object.__hash__

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> "Policy":
        return cls(config["name"])


def global_policy() -> Policy:
    """The policy new layers get: the one set, or ``floatx()`` (tf.keras 2.12)."""
    return Policy(backend.global_dtype_policy() or backend.floatx())


def set_global_policy(policy: Any) -> None:
    """``set_global_policy("mixed_float16")``; ``None`` resets it to ``floatx()``."""
    if policy is None:
        backend.set_global_dtype_policy(None)
        return
    policy = policy if isinstance(policy, Policy) else Policy(policy)
    backend.set_global_dtype_policy(policy.name)
