"""Side-by-side benchmarks: ``rnnkit bench`` (see ``suite.py``)."""
from .suite import WORKLOADS, main, run

__all__ = ["WORKLOADS", "main", "run"]
