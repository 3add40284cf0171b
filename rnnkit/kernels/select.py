"""Which kernel runs a recurrent layer, and why: the one place that chooses.

Four kernels compute the same thing (``tests/kernels`` holds them equal, forward and
backward):

* ``reference``: the plain loop (``reference.py``); runs every configuration.
* ``torch``: PyTorch's fused RNN ops (``fused_torch.py``): oneDNN LSTM on the CPU, cuDNN on CUDA.
* ``rnnkit``: rnnkit's GRU / SimpleRNN loop with a hand-written backward (``rnnkit_loop.py``);
  on the CPU it beats torch's per-op GRU and RNN loops. In float32 its steps run in C
  (``native/``) where a C compiler and torch's MKL are at hand, else in Python. Its LSTM
  loop (``lstm_loop.py``, C only) takes masked LSTMs, which torch runs as slow packed
  sequences, and unmasked ones where ``lstm_routing.json`` measured it faster than oneDNN.
* ``persistent``: the persistent CUDA kernels (``persistent/``, Triton, forward and
  backward): the recurrent weights stay on chip for all steps. ``auto`` takes it over cuDNN only where
  ``persistent/routing.json`` records it measured faster on this GPU.

``select_kernel`` picks one by configuration, device and mask: ``auto`` takes the fastest
kernel that supports the configuration. A layer's ``rnn_kernel`` attribute forces a
kernel; forcing one that cannot run the configuration raises with the reasons.
``select_kernel_cached`` remembers the choice per layer for unmasked calls, and
``select_bidirectional`` decides whether a ``Bidirectional`` runs both directions in one
torch call. A cell names the equations it computes in ``fast_path``; this module imports
no layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import functools

import torch

from .. import activations
from . import native
from .fused_torch import right_padded_lengths

KERNELS = ("auto", "reference", "torch", "rnnkit", "persistent")


@dataclass(frozen=True)
class KernelChoice:
    # "reference", "torch", "rnnkit" or "persistent" (for a Bidirectional: "torch", both
    # directions in one call, or "separate")
    name: str
    # the equations the chosen kernel runs, for every kernel but the reference loop:
    # "lstm", "gru", or SimpleRNN's activation "tanh" / "relu" ("" for the reference loop)
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


_TORCH_TWINS = {"tanh": (torch.tanh,), "sigmoid": (torch.sigmoid,),
                "relu": (torch.relu, torch.nn.functional.relu)}


def _name(fn) -> str:
    """The activation's Keras name if it is that very function (a user function that merely
    shares the name is not), else its repr: only known activations reach a fused kernel."""
    try:
        name = activations.serialize(fn)
        if activations.get(name) is fn or fn in _TORCH_TWINS.get(name, ()):
            return name
    except Exception:  # an anonymous callable: no fused kernel knows it
        pass
    return repr(fn)


def _cell_kind(cell) -> tuple[str, list[str]]:
    """The kernel kind of ``cell`` (see ``KernelChoice.kind``) and the reasons no fast
    kernel runs it (empty when one can).

    A cell says which fast kernels know its equations in its ``fast_path`` attribute
    ("lstm", "gru", "simple_rnn"; rnnkit's cells set it)."""
    fast_path = getattr(cell, "fast_path", "")
    if fast_path in ("lstm", "gru"):
        problems = []
        if _name(cell.activation) != "tanh":
            problems.append(f"activation is {_name(cell.activation)!r}, not 'tanh'")
        if _name(cell.recurrent_activation) != "sigmoid":
            problems.append(f"recurrent_activation is {_name(cell.recurrent_activation)!r}, "
                            "not 'sigmoid'")
        return fast_path, problems
    if fast_path == "simple_rnn":
        name = _name(cell.activation)
        if name in ("tanh", "relu"):
            return name, []
        return "", [f"activation is {name!r}, not 'tanh' or 'relu'"]
    return "", [f"{type(cell).__name__} is not one of rnnkit's cells"]


def _cached_cell_kind(cell) -> tuple[str, list[str]]:
    # The answer depends only on the activations: cache it per cell (calls are hot).
    key = (id(getattr(cell, "activation", None)), id(getattr(cell, "recurrent_activation", None)))
    cached = cell.__dict__.get("_kernel_kind_cache")
    if cached is None or cached[0] != key:
        cached = (key, _cell_kind(cell))
        cell.__dict__["_kernel_kind_cache"] = cached
    return cached[1]


def _cpu_lstm_dtype(inputs: torch.Tensor) -> torch.dtype:
    """The dtype torch's fused LSTM computes in for ``inputs``: autocast's when it is on."""
    if torch.is_autocast_enabled("cpu"):
        return torch.get_autocast_dtype("cpu")
    return inputs.dtype


@functools.lru_cache(maxsize=None)
def cpu_fused_lstm_accepts(dtype: torch.dtype) -> bool:
    """Whether torch's fused LSTM runs in ``dtype`` on this CPU. torch hands bfloat16 and
    float16 LSTMs to oneDNN, which refuses them on CPUs without the matching instructions
    (seen on an AVX2-only machine: "could not create a primitive descriptor"); asked once,
    on a tiny call under autocast, as the ``mixed_bfloat16`` policy makes it."""
    units, size = 8, 4
    x, h = torch.zeros(2, 2, size), torch.zeros(1, 2, units)
    weights = [torch.zeros(4 * units, size), torch.zeros(4 * units, units),
               torch.zeros(4 * units), torch.zeros(4 * units)]
    try:
        with torch.no_grad(), torch.autocast("cpu", dtype=dtype):
            torch._VF.lstm(x, (h, h), weights, True, 1, 0.0, False, False, True)
    except RuntimeError:
        return False
    return True


def unsupported(layer, kernel: str, mask: torch.Tensor | None, training: bool,
                device: torch.device, go_backwards: bool | None = None,
                inputs: torch.Tensor | None = None) -> list[str]:
    """Why ``kernel`` cannot run ``layer`` on this input (empty: it can).

    ``go_backwards`` overrides the layer's own (a fused Bidirectional reverses by itself)."""
    go_backwards = layer.go_backwards if go_backwards is None else go_backwards
    if kernel == "reference":
        return []
    cell = layer.cell
    kind, problems = _cached_cell_kind(cell)
    problems = list(problems)
    if not kind and not hasattr(cell, "recurrent_dropout"):
        return problems  # a user's cell or StackedRNNCells: "X is not one of rnnkit's cells"
    if training and cell.recurrent_dropout:
        problems.append("recurrent_dropout needs the per-step loop")
    if training and cell.dropout and cell.implementation == 1:
        problems.append("implementation=1 dropout uses one input mask per gate")
    if kernel == "torch":
        if kind == "gru" and not cell.reset_after:
            problems.append("GRU reset_after=False has no torch twin")
        if kind == "lstm" and device.type == "cpu" and inputs is not None:
            dtype = _cpu_lstm_dtype(inputs)
            if dtype in (torch.bfloat16, torch.float16) and not cpu_fused_lstm_accepts(dtype):
                problems.append(f"oneDNN's LSTM on this CPU refuses {dtype}")
        if mask is not None:
            if go_backwards:
                problems.append("a mask with go_backwards needs the per-step loop")
            elif right_padded_lengths(mask) is None:
                problems.append("the mask is not right-padded with a valid step in every row")
    elif kernel == "persistent":
        if not kind:
            return problems
        from .persistent.runner import unsupported as persistent_problems
        problems += persistent_problems(cell, kind, inputs, mask, training)
    elif kernel == "rnnkit":
        not_in_c = native_loop_reason(inputs)
        if kind == "lstm" and not_in_c:
            problems.append(f"rnnkit's LSTM loop runs in C only ({not_in_c})")
        if mask is not None and not_in_c:
            problems.append(f"rnnkit's loop takes a mask only in C ({not_in_c})")
    else:
        raise ValueError(f"Unknown kernel {kernel!r}; expected one of {KERNELS}.")
    return problems


def select_kernel(layer, inputs: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                  training: bool = False) -> KernelChoice:
    """The kernel ``layer`` uses for this call, with the reason."""
    device = inputs.device if inputs is not None else torch.device("cpu")
    forced = getattr(layer, "rnn_kernel", "auto")
    kind, _ = _cached_cell_kind(layer.cell)
    if forced != "auto":
        problems = unsupported(layer, forced, mask, training, device, inputs=inputs)
        if problems:
            raise ValueError(f"Layer {layer.name!r} cannot use the {forced!r} kernel: "
                             + "; ".join(problems) + ".")
        return KernelChoice(forced, kind, "forced by rnn_kernel")
    if inputs is not None and inputs.shape[0] == 0:
        return KernelChoice("reference", "", "an empty batch: nothing to speed up")
    # Fastest first (measured with benchmarks/): cuDNN on CUDA; on the CPU oneDNN for an
    # unmasked LSTM (a masked one leaves oneDNN for packed sequences: rnnkit's C loop),
    # rnnkit's loop for GRU, and for SimpleRNN when its loop runs in C or a backward may
    # follow (torch's one C++ loop beats rnnkit's Python loop for a forward alone).
    in_c = native_loop_reason(inputs) == ""
    # An unmasked LSTM leaves oneDNN for the C loop only where lstm_routing.json measured
    # the C loop faster near this shape.
    lstm_c, lstm_why = _lstm_route(layer, kind, inputs, mask, in_c, device)
    torch_first = device.type != "cpu" or (kind == "lstm" and not lstm_c
                                           and (mask is None or not in_c)) or (
        kind in ("tanh", "relu") and not torch.is_grad_enabled() and not in_c)
    preference = ["torch", "rnnkit"] if torch_first else ["rnnkit", "torch"]
    skipped = []
    if device.type == "cuda" and kind:
        persistent, why_not = persistent_choice(layer, kind, inputs, mask, training)
        if persistent is not None:
            return persistent
        skipped.append(f"not persistent: {why_not}")
    for kernel in preference:
        problems = unsupported(layer, kernel, mask, training, device, inputs=inputs)
        if not problems:
            loop = "in C" if in_c else f"in Python ({native_loop_reason(inputs)})"
            why = {"torch": f"fused torch {kind} ({'cuDNN' if device.type == 'cuda' else 'ATen/oneDNN'})",
                   "rnnkit": f"rnnkit {kind} loop {loop} with a batched backward"}[kernel]
            return KernelChoice(kernel, kind, "; ".join([why] + skipped + lstm_why))
        skipped.append(f"not {kernel}: " + "; ".join(problems))
    return KernelChoice("reference", "", "; ".join(skipped))


def select_kernel_cached(layer, inputs: torch.Tensor, mask: torch.Tensor | None,
                         training: bool) -> KernelChoice:
    """``select_kernel`` for a call, remembered on the layer for unmasked calls: their
    answer depends only on what the key below holds, and calls on small inputs are
    dominated by such overheads. A masked call is decided afresh (the mask's pattern
    matters)."""
    if mask is not None:
        return select_kernel(layer, inputs, mask, training)
    # Plain attributes, read directly: this runs every call (RNN keeps its cell in
    # ``_cell`` too, out of nn.Module's slower lookup).
    cell = layer.__dict__.get("_cell")
    cell = cell if cell is not None else layer.cell
    lstm = getattr(cell, "fast_path", "") == "lstm"
    cell = cell.__dict__
    # (the device itself in the key: its ``.type`` builds a new string at every read)
    device, forced, on_cpu = inputs.device, layer.rnn_kernel, inputs.is_cpu
    # Autocast is read by the persistent kernel's dtype check and, on the CPU, by an LSTM's
    # (oneDNN refuses some dtypes); the (costlier) question is asked only where they run.
    autocast = ((inputs.is_cuda or forced == "persistent") and torch.is_autocast_enabled()
                or on_cpu and lstm and torch.is_autocast_enabled("cpu"))
    key = (device,  # type and index: routing to the persistent kernel is per GPU
           inputs.shape[:2],  # batch and steps: the LSTM's C-loop routing reads the steps too
           inputs.dtype, training, torch.is_grad_enabled(), autocast,
           forced, layer.go_backwards, cell["dropout"], cell["recurrent_dropout"],
           cell["implementation"], cell["activation"], cell.get("recurrent_activation"),
           cell.get("reset_after"), cell["use_bias"],
           # the LSTM's CPU routing is measured per thread count (torch.set_num_threads
           # may change it between calls)
           torch.get_num_threads() if lstm and on_cpu else 0)
    cached = layer.__dict__.get("_kernel_cache")
    if cached is None or cached[0] != key:
        cached = (key, select_kernel(layer, inputs, None, training))
        layer.__dict__["_kernel_cache"] = cached
    return cached[1]


def select_bidirectional(forward, backward, inputs: torch.Tensor,
                         mask: torch.Tensor | None, training: bool) -> KernelChoice:
    """How a ``Bidirectional`` of ``forward`` and ``backward`` runs: both directions in one
    bidirectional torch call (``name="torch"``), or each on its own
    (``name="separate"``: each direction's ``select_kernel`` then decides), with the reason."""
    def separate(why: str) -> KernelChoice:
        return KernelChoice("separate", "", why)

    forward_cell, backward_cell = getattr(forward, "cell", None), getattr(backward, "cell", None)
    kind = _cached_cell_kind(forward_cell)[0] if forward_cell is not None else ""
    if not kind or type(forward_cell) is not type(backward_cell):
        return separate("the two directions are not the same rnnkit cell with a fused kernel")
    if getattr(forward, "rnn_kernel", None) != "auto" \
            or getattr(backward, "rnn_kernel", None) != "auto":
        return separate("a direction's rnn_kernel is set")
    if forward.go_backwards or not backward.go_backwards:
        return separate("the directions are not one forward and one backward")
    if forward.stateful or forward.time_major:
        return separate("a stateful or time-major layer runs each direction on its own")
    if training and (forward_cell.dropout or backward_cell.dropout):
        return separate("each direction draws its own dropout mask")
    if inputs.device.type == "cpu":
        if kind != "lstm":
            return separate(f"rnnkit's own {kind} loop beats torch's on the CPU, per direction")
        if inputs.dtype != torch.float32:
            return separate("torch 2.13 sends a bidirectional LSTM to oneDNN, which refuses "
                            f"{inputs.dtype}")
        if mask is not None and not native_loop_reason(inputs):
            return separate("rnnkit's C loop runs a masked LSTM faster than torch's packed "
                            "sequences, per direction")
    if kind != _cached_cell_kind(backward_cell)[0]:
        return separate("the two directions have different fused kernels")
    for layer in (forward, backward):
        problems = unsupported(layer, "torch", mask, bool(training), inputs.device,
                               go_backwards=False)
        if problems:
            return separate(f"not torch for {layer.name!r}: " + "; ".join(problems))
    where = "cuDNN" if inputs.device.type == "cuda" else "ATen/oneDNN"
    return KernelChoice("torch", kind, f"both directions in one fused torch {kind} call ({where})")


def _lstm_route(layer, kind, inputs, mask, in_c, device) -> tuple[bool, list[str]]:
    """Whether an unmasked LSTM call runs rnnkit's C loop rather than oneDNN, and why
    (``lstm_routing.py``: the measured table)."""
    if kind != "lstm" or mask is not None or not in_c or device.type != "cpu" or inputs is None:
        return False, []
    from .lstm_routing import decide
    mode = "train" if torch.is_grad_enabled() else "forward"
    steps = inputs.shape[1] if inputs.dim() == 3 else 1   # (B, T, D), as the batch above
    faster, why = decide(int(inputs.shape[0]), int(layer.cell.units), mode, int(steps),
                         torch.get_num_threads())
    return faster, [("C loop over oneDNN: " if faster else "oneDNN over the C loop: ") + why]


def native_loop_reason(inputs: torch.Tensor | None = None) -> str:
    """Why rnnkit's loop would run in Python rather than C for these inputs ("" if in C)."""
    if inputs is not None and (inputs.device.type != "cpu" or inputs.dtype != torch.float32):
        return f"the C loop takes float32 on the CPU, not {inputs.dtype} on {inputs.device.type}"
    return native.unavailable_reason()


def persistent_choice(layer, kind, inputs, mask, training) -> tuple[KernelChoice | None, str]:
    """The persistent kernel where it runs and was measured faster than cuDNN here; else
    ``(None, why not)``."""
    problems = unsupported(layer, "persistent", mask, training, inputs.device, inputs=inputs)
    if problems:
        return None, "; ".join(problems)
    from .persistent.routing import decide
    from .persistent.runner import persistent_cell

    faster, why = decide(torch.cuda.get_device_name(inputs.device),
                         persistent_cell(layer.cell, kind), inputs.dtype, inputs.shape[0],
                         layer.cell.units, "train" if torch.is_grad_enabled() else "forward")
    return (KernelChoice("persistent", kind, why), "") if faster else (None, why)
