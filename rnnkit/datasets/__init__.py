"""Datasets that ship inside rnnkit: nothing is ever downloaded.

- ``airline_passengers()``: 144 monthly totals 1949–1960 (Box & Jenkins series G).
- ``sunspots()``: yearly mean sunspot numbers 1700–2008 (NOAA NGDC, version 1 series).
- ``text_corpus()``: ~5 KB of public-domain English for character-level models.
- ``adding_problem``, ``copy_task``, ``delayed_recall``: generators of the classic memory
  tasks, whose length sets how far back a network must remember.

Sources and licences: ``rnnkit/datasets/data/README.md`` (all public domain).
"""
from .memory import adding_problem, copy_task, delayed_recall
from .series import Series, airline_passengers, load_series, sunspots, text_corpus

__all__ = ["Series", "airline_passengers", "sunspots", "text_corpus", "load_series",
           "adding_problem", "copy_task", "delayed_recall"]
