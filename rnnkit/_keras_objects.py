"""Reading and writing Keras's serialised objects: initialisers, regularisers, constraints.

The three families resolve identifiers the same way (a name, a Keras 2 or Keras 3
``{"class_name", "config"}`` dict, an instance, a class, or any callable) and serialise
to the same Keras 2 dict; ``KerasObjects`` does it once for all of them.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

# Keys that newer Keras 3 writes into a config with the value None (for example
# GlorotUniform's "input_axes"/"output_axes"); None means "Keras 2 behaviour", so they are
# dropped. A non-None value asks for something rnnkit does not do, and is refused.
_KERAS3_OPTIONAL_KEYS = frozenset({"input_axes", "output_axes"})


def _split_keras_dict(identifier: dict, kind: str) -> tuple[str, dict]:
    """``(class_name, config)`` of a Keras 2 ``{"class_name", "config"}`` dict or a Keras 3
    one (which adds ``module``, ``registered_name``, ``shared_object_id``; those are ignored)."""
    if "class_name" not in identifier:
        raise ValueError(f"Could not interpret {kind} config {identifier!r}: "
                         "it has no 'class_name' key.")
    config = identifier.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValueError(f"Could not interpret {kind} config {identifier!r}: "
                         "'config' must be a dict.")
    return identifier["class_name"], dict(config)


def _lookup(name: Any, table: dict, kind: str) -> Any:
    if isinstance(name, str) and name in table:
        return table[name]
    # The "...V2" compatibility aliases would only clutter the list.
    known = ", ".join(sorted(n for n in table if not n.endswith("V2")))
    raise ValueError(f"Unknown {kind}: {name!r}. Known {kind}s: {known}.")


def _instantiate(factory: Callable, config: dict, kind: str) -> Any:
    """``factory(**config)``, dropping what Keras writes but rnnkit does not take.

    ``dtype`` is dropped as Keras's own ``from_config`` drops it; Keras 3's optional keys
    are dropped when None. Any other unknown key is an error naming the key.
    """
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs = {}
    name = getattr(factory, "__name__", repr(factory))
    for key, value in config.items():
        if key in params or takes_any:
            kwargs[key] = value
        elif key == "dtype":
            continue
        elif key in _KERAS3_OPTIONAL_KEYS:
            if value is not None:
                raise ValueError(f"{name}: the Keras 3 option {key}={value!r} is not supported "
                                 "by rnnkit (only None, the Keras 2 behaviour).")
        else:
            accepted = ", ".join(k for k, p in params.items() if p.kind is not p.VAR_KEYWORD)
            raise TypeError(f"Unexpected key {key!r} in the config of {kind} {name} "
                            f"(accepted: {accepted or 'none'}).")
    return factory(**kwargs)


class KerasObjects:
    """``deserialize`` / ``get`` / ``serialize`` for one family of Keras objects."""

    def __init__(self, kind: str, registry: dict, base: type, identifier_kind: str | None = None):
        self.kind, self.registry, self.base = kind, registry, base
        self.identifier_kind = identifier_kind or kind

    def deserialize(self, config: str | dict) -> Any:
        """An object from a name or a Keras 2/3 dict."""
        if isinstance(config, str):
            return _lookup(config, self.registry, self.kind)()
        class_name, params = _split_keras_dict(config, self.kind)
        return _instantiate(_lookup(class_name, self.registry, self.kind), params, self.kind)

    def get(self, identifier: Any) -> Any:
        """None, a name, a Keras dict, an instance, a class (instantiated, as Keras does) or
        any callable."""
        if identifier is None or isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if inspect.isclass(identifier):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.identifier_kind} identifier: {identifier!r}")

    def serialize(self, obj: Any) -> dict | str | None:
        """The Keras 2 dict ``{"class_name": ..., "config": ...}`` (a plain function: its
        name, which is what Keras 2's legacy serialiser writes)."""
        if obj is None:
            return None
        if hasattr(obj, "get_config"):
            return {"class_name": type(obj).__name__, "config": obj.get_config()}
        if callable(obj) and hasattr(obj, "__name__"):
            return obj.__name__
        raise ValueError(f"Cannot serialize {self.kind} {obj!r}: it has no get_config().")
