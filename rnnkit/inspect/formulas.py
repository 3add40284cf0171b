"""Parameter formulas: where every number in ``model.summary()`` comes from.

``explain(model)`` gives, for each layer, the count written as a formula with the layer's
own numbers filled in (``3 × (10 + 3 + 1) = 42``), what the letters stand for
(``units × (input features + units + bias)``) and every weight matrix with its shape and
role (``kernel (10, 3)``: input features → units). The formula's value is computed from
the same numbers the text shows, so a formula that disagreed with ``count_params()`` would
be caught by the tests, which compare the two for every layer type and every flag that
changes the count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers.base import Layer
from ..layers.cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell
from ..layers.core import Dense, Embedding
from ..layers.recurrent import RNN
from ..layers.wrappers import Bidirectional, TimeDistributed
from .formulas_beside import beside_parts

__all__ = ["LayerFormula", "Explanation", "explain", "explain_layer"]

_TIMES = "×"


@dataclass
class WeightInfo:
    """One weight: its Keras name, shape and what it connects."""
    name: str
    shape: tuple[int, ...]
    meaning: str

    def __str__(self) -> str:
        return f"{self.name} {self.shape}: {self.meaning}"


@dataclass
class LayerFormula:
    """The parameter count of one layer as a formula.

    ``formula`` is the arithmetic with the numbers filled in (``3 × (10 + 3 + 1)``),
    ``legend`` the same formula in words, ``count`` its value."""
    name: str
    class_name: str
    formula: str
    legend: str
    count: int
    weights: list[WeightInfo] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"{self.name} ({self.class_name}): "
        if self.formula:
            head += f"{self.formula} = {self.count}"
        else:
            head += str(self.count)
        out = [head]
        if self.legend:
            out.append(f"    {self.legend}")
        out += [f"    {w}" for w in self.weights]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass
class Explanation:
    """``explain(model)``: one ``LayerFormula`` per layer, printable."""
    name: str
    layers: list[LayerFormula]

    @property
    def total(self) -> int:
        return sum(layer.count for layer in self.layers)

    def lines(self) -> list[str]:
        out = [f'Parameters of "{self.name}", explained:']
        for layer in self.layers:
            out += layer.lines()
        out.append(f"Total: {' + '.join(str(l.count) for l in self.layers) or '0'} = "
                   f"{self.total:,}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)


# ------------------------------------------------------------------------ the formulas
_GATES = {SimpleRNNCell: (1, ""), LSTMCell: (4, "i, f, c, o"), GRUCell: (3, "z, r, h")}


def _cell_formula(cell: RecurrentCell) -> tuple[str, str, int, list[WeightInfo]]:
    """``G × H × (D + H + b)`` for a Keras cell, with its weights."""
    gates, names = next(((g, n) for cls, (g, n) in _GATES.items() if isinstance(cell, cls)),
                        (cell.n_gates, ""))
    units, features = cell.units, cell.kernel.shape[0]
    two_biases = isinstance(cell, GRUCell) and cell.reset_after
    biases = (2 if two_biases else 1) if cell.use_bias else 0
    terms = [str(features), str(units)] + ([str(biases)] if biases else [])
    words = ["input features", "units"]
    if biases == 2:
        words.append("2 biases: input and recurrent")
    elif biases == 1:
        words.append("bias")
    inner = f"({' + '.join(terms)})"
    formula = (f"{units} {_TIMES} {inner}" if gates == 1
               else f"{gates} {_TIMES} {units} {_TIMES} {inner}")
    gate_words = "" if gates == 1 else f"{gates} gates ({names}) × " if names \
        else f"{gates} gates × "
    legend = f"{gate_words}units × ({' + '.join(words)})"
    count = gates * units * (features + units + biases)
    blocks = "units" if gates == 1 else f"{gates} gates × units ({names})" if names \
        else f"{gates} gates × units"
    weights = [WeightInfo("kernel", (features, gates * units), f"input features → {blocks}"),
               WeightInfo("recurrent_kernel", (units, gates * units),
                          f"previous h → {blocks}")]
    if cell.use_bias:
        if two_biases:
            weights.append(WeightInfo("bias", (2, gates * units),
                                      "row 0: input bias, row 1: recurrent bias (reset_after)"))
        else:
            per = "one per unit" if gates == 1 else f"one per gate and unit ({names})" \
                if names else "one per gate and unit"
            weights.append(WeightInfo("bias", (gates * units,), per))
    return formula, legend, count, weights


def _generic(layer: Layer) -> tuple[str, str, int, list[WeightInfo]]:
    """Any other layer: the sum of its weights' sizes, each as a product of its shape."""
    weights = list(layer.weights)
    if not weights:
        return "", "no weights", 0, []
    names = [n.rsplit("/", 1)[-1].split(":")[0] for n in layer.weight_names()]
    parts, infos, count = [], [], 0
    for name, p in zip(names, weights):
        shape = tuple(p.shape)
        parts.append(f" {_TIMES} ".join(str(d) for d in shape) or "1")
        infos.append(WeightInfo(name, shape, "weight"))
        count += p.numel()
    return " + ".join(parts), "sum of the weight shapes", count, infos


def _rnn_formula(layer: RNN) -> tuple[str, str, int, list[WeightInfo]]:
    if isinstance(layer.cell, RecurrentCell) and layer.cell.built:
        return _cell_formula(layer.cell)
    return _generic(layer)


def _parts(layer: Layer) -> tuple[str, str, int, list[WeightInfo]]:
    if not layer.built:
        return "", "not built yet: no weights", 0, []
    if isinstance(layer, RNN):
        return _rnn_formula(layer)
    if isinstance(layer, Dense):
        features, units = layer.kernel.shape
        weights = [WeightInfo("kernel", (features, units), "input features → units")]
        if layer.use_bias:
            weights.append(WeightInfo("bias", (units,), "one per unit"))
            return (f"{features} {_TIMES} {units} + {units}", "input features × units + bias",
                    features * units + units, weights)
        return f"{features} {_TIMES} {units}", "input features × units", features * units, weights
    if isinstance(layer, Embedding):
        return (f"{layer.input_dim} {_TIMES} {layer.output_dim}",
                "vocabulary size (input_dim) × vector size (output_dim)",
                layer.input_dim * layer.output_dim,
                [WeightInfo("embeddings", (layer.input_dim, layer.output_dim),
                            "one vector per id")])
    if isinstance(layer, Bidirectional):
        f_formula, f_legend, f_count, f_weights = _parts(layer.forward_layer)
        b_formula, b_legend, b_count, b_weights = _parts(layer.backward_layer)
        weights = [WeightInfo(f"forward {w.name}", w.shape, w.meaning) for w in f_weights]
        weights += [WeightInfo(f"backward {w.name}", w.shape, w.meaning) for w in b_weights]
        if f_formula == b_formula and f_count == b_count:
            return (f"2 {_TIMES} {f_formula}" if f_formula else "0",
                    f"2 directions (forward and backward copies) × [{f_legend}]; the merge "
                    "mode adds no weights", 2 * f_count, weights)
        return (f"({f_formula}) + ({b_formula})",
                f"forward [{f_legend}] + backward [{b_legend}]", f_count + b_count, weights)
    if isinstance(layer, TimeDistributed):
        formula, legend, count, weights = _parts(layer.layer)
        return (formula, f"{legend}; the same weights at every time step", count,
                weights)
    beside = beside_parts(layer, WeightInfo)  # convolution, normalisation, attention, ConvLSTM
    if beside is not None:
        return beside
    if hasattr(layer, "layers"):  # a nested model: the sum of its layers
        inner = [explain_layer(sub) for sub in layer.layers]
        formula = " + ".join(str(sub.count) for sub in inner)
        return formula, "sum of its layers", sum(sub.count for sub in inner), []
    return _generic(layer)


def explain_layer(layer: Layer) -> LayerFormula:
    """The parameter formula of one layer."""
    if not isinstance(layer, Layer):
        raise TypeError(f"explain_layer() takes an rnnkit layer, got {type(layer).__name__}.")
    formula, legend, count, weights = _parts(layer)
    return LayerFormula(layer.name, type(layer).__name__, formula, legend, count, weights)


def explain(model: Any) -> Explanation:
    """Every layer's parameter count as a formula with its numbers filled in.

    ``model`` is a ``Sequential`` (built) or a single layer. Print the result, or read
    ``.layers[k].formula`` / ``.count`` / ``.weights``."""
    if not isinstance(model, Layer):
        raise TypeError("rnnkit.explain() takes an rnnkit model or layer, got "
                        f"{type(model).__name__}.")
    if hasattr(model, "layers"):
        if not model.built:
            raise ValueError(f"rnnkit.explain(): model {model.name!r} is not built yet, so its "
                             "layers have no weights to explain. Give the first layer an "
                             "`input_shape`, call `model.build(shape)`, or call the model once.")
        return Explanation(model.name, [explain_layer(layer) for layer in model.layers])
    return Explanation(model.name, [explain_layer(model)])
