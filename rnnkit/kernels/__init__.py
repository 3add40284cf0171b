"""How a sequence is run through a cell. ``reference`` is the plain loop every path must equal."""
from .reference import LoopResult, run_reference

__all__ = ["LoopResult", "run_reference"]
