"""``keras.utils.custom_object_scope`` & co.: naming user classes for configs and files.

A config (``model_from_json``, ``load_model``) builds only classes rnnkit knows; a user's
own layer or cell is found by name when it is passed as ``custom_objects={"Name": cls}``,
made known for a ``with custom_object_scope({...}):`` block, put in
``get_custom_objects()``, or decorated with ``@register_keras_serializable()``. The file
only names the class; nothing in it is imported or executed.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

from ..layers.serialization import CUSTOM_OBJECTS


def get_custom_objects() -> dict:
    """The global ``{name: class}`` dict; classes put in it are found by name everywhere."""
    return CUSTOM_OBJECTS


@contextlib.contextmanager
def custom_object_scope(*scopes: dict) -> Iterator[None]:
    """``with custom_object_scope({"AttentionCell": AttentionCell}): model_from_json(...)``."""
    saved = dict(CUSTOM_OBJECTS)
    try:
        for scope in scopes:
            CUSTOM_OBJECTS.update(scope or {})
        yield
    finally:
        CUSTOM_OBJECTS.clear()
        CUSTOM_OBJECTS.update(saved)


CustomObjectScope = custom_object_scope


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator: the class is found by its name (and by ``package>name``, Keras's key)."""
    def decorate(cls: Any) -> Any:
        registered = name or cls.__name__
        CUSTOM_OBJECTS[registered] = cls
        CUSTOM_OBJECTS[f"{package}>{registered}"] = cls
        cls._keras_registered_name = f"{package}>{registered}"
        return cls
    return decorate


def get_registered_name(obj: Any) -> str:
    return getattr(obj, "_keras_registered_name", getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects: dict | None = None,
                          module_objects: dict | None = None) -> Any:
    for table in (custom_objects or {}, CUSTOM_OBJECTS, module_objects or {}):
        if name in table:
            return table[name]
    return None


def serialize_keras_object(instance: Any) -> Any:
    """``{"class_name", "config"}`` of an object with ``get_config``; a function's name."""
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {"class_name": get_registered_name(type(instance)),
                "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance!r} since it doesn't implement "
                     "`get_config()`.")


def deserialize_keras_object(identifier: Any, module_objects: dict | None = None,
                             custom_objects: dict | None = None,
                             printable_module_name: str = "object") -> Any:
    """A class's instance from ``{"class_name", "config"}``, or a function by name, looked
    up only in the given tables and the registered custom objects."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls = get_registered_object(identifier.get("class_name"), custom_objects,
                                    module_objects)
        if cls is None:
            raise ValueError(f"Unknown {printable_module_name}: "
                             f"{identifier.get('class_name')!r}. Please ensure you are using a "
                             "`keras.utils.custom_object_scope` and that this object is "
                             "included in the scope.")
        config = identifier.get("config", {})
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    if isinstance(identifier, str):
        found = get_registered_object(identifier, custom_objects, module_objects)
        if found is None:
            raise ValueError(f"Unknown {printable_module_name}: {identifier!r}.")
        return found
    return identifier
