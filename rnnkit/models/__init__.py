"""Models: ``Sequential`` (a functional ``Model`` comes with the functional-API work)."""
from .sequential import Sequential
from ..io.saving import load_model

__all__ = ["Sequential", "load_model"]
