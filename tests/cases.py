"""The recurrent layer configurations the checks run on, listed once.

Each ``Case`` is one configuration of SimpleRNN, LSTM or GRU; the kernel parity, cell,
gate, interop, simulator and Triton tests draw their cases from ``CASES`` (by ``select``),
so a configuration added here reaches every one of them. ``kind`` is the kernel kind
``select_kernel`` gives it (``KernelChoice.kind``), ``persistent`` the persistent kernel's
cell name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnkit.layers import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

_CELLS = {SimpleRNN: SimpleRNNCell, LSTM: LSTMCell, GRU: GRUCell}


@dataclass(frozen=True)
class Case:
    name: str
    layer_class: type
    options: dict = field(default_factory=dict)   # constructor arguments beside ``units``
    kind: str = ""          # KernelChoice.kind: "tanh", "relu", "lstm" or "gru"
    persistent: str = ""    # the persistent kernel's cell name
    gate_names: tuple = ()  # inspect.gates' names of the gates, in Keras order

    def layer(self, units: int, **kwargs: Any):
        return self.layer_class(units, **self.options, **kwargs)

    def cell(self, units: int, **kwargs: Any):
        return _CELLS[self.layer_class](units, **self.options, **kwargs)

    @property
    def n_states(self) -> int:
        return 2 if self.layer_class is LSTM else 1

    def __repr__(self) -> str:  # the test ids
        return self.name


_SIMPLE_GATES = ("pre_activation",)
_LSTM_GATES = ("i", "f", "c_tilde", "o")
_GRU_GATES = ("z", "r", "h_tilde")

CASES = (
    Case("simple_tanh", SimpleRNN, {}, "tanh", "tanh", _SIMPLE_GATES),
    Case("simple_relu", SimpleRNN, {"activation": "relu"}, "relu", "relu", _SIMPLE_GATES),
    Case("simple_nobias", SimpleRNN, {"use_bias": False}, "tanh", "tanh", _SIMPLE_GATES),
    Case("lstm", LSTM, {}, "lstm", "lstm", _LSTM_GATES),
    Case("lstm_nobias", LSTM, {"use_bias": False}, "lstm", "lstm", _LSTM_GATES),
    Case("gru", GRU, {}, "gru", "gru", _GRU_GATES),
    Case("gru_reset_before", GRU, {"reset_after": False}, "gru", "gru_reset_before",
         _GRU_GATES),
    Case("gru_nobias", GRU, {"use_bias": False}, "gru", "gru", _GRU_GATES),
)
BY_NAME = {case.name: case for case in CASES}


def select(*names: str) -> list[Case]:
    """The cases named, in the order given (a test that runs a few picks them here)."""
    return [BY_NAME[name] for name in names]


def with_bias() -> list[Case]:
    """One case per distinct set of equations: the configurations with a bias."""
    return [case for case in CASES if case.options.get("use_bias", True)]
