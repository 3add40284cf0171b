"""Models: ``Sequential`` (a functional ``Model`` comes with the functional-API work)."""
from .sequential import Sequential

__all__ = ["Sequential"]
