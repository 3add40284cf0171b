"""Learning aids: what an RNN computes and what it remembers.

* ``explain(model)``: every layer's parameter count as a formula with its numbers
  (``3 × (10 + 3 + 1) = 42``) and its weight matrices; also ``model.summary(explain=True)``.
* ``trace(model, x)``: each layer's input and output shapes (and states), axes named.
* ``gates(layer, x)``: hidden states, gates and cell states at every step, recorded from the
  layer's own cell.
* ``memory(model, x)``: how much each input step still moves the final output.
* ``explore(model, x, labels, path=...)``: one self-contained web page with all of it,
  interactive (heatmaps, one step's equations, memory curves, hypothesis search).
* ``rnnkit.inspect.plots``: the figures (matplotlib, imported only when a plot is asked for).
"""
from .explore import Exploration, explore
from .formulas import Explanation, LayerFormula, explain, explain_layer
from .gates import GateTrace, gates
from .memory import MemoryCurve, memory
from .trace import Trace, TraceRow, trace

__all__ = ["explain", "explain_layer", "Explanation", "LayerFormula", "trace", "Trace",
           "TraceRow", "gates", "GateTrace", "memory", "MemoryCurve", "explore", "Exploration"]
