"""Keras 2 (tf.keras 2.12) optimisers on torch parameters, with Keras's update formulas.

The update rules are written out as tf.keras 2.12's ``keras/optimizers/*.py`` write them,
because several differ from ``torch.optim``: Keras ``Adam`` adds ``epsilon`` to ``sqrt(v)``
after folding the bias corrections into the step size ("epsilon hat"); Keras ``RMSprop``
puts ``epsilon`` *inside* the square root; Keras ``Adagrad`` starts its accumulator at 0.1.
Defaults are Keras's (``epsilon=1e-7``; ``RMSprop`` ``rho=0.9``; ``learning_rate`` 0.01 for
``SGD``, 0.001 elsewhere).

Each optimiser keeps its slots per parameter and applies ``apply_gradients(grads_and_vars)``
or, PyTorch style, ``step(params)`` from ``param.grad``. Clipping (``clipnorm`` per gradient,
``global_clipnorm`` over all, ``clipvalue``) and decoupled ``weight_decay`` (``var -= var *
wd * lr``, before the update, as Keras 2.12 does) live in the base class. ``state.py`` reads
and writes the step count and slots in the order Keras files store them.
"""
from __future__ import annotations

import inspect
import math
import warnings
from typing import Any, Iterable

import torch

from . import schedules
from .schedules import LearningRateSchedule
from .variables import ScalarVariable

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax", "Adagrad",
           "Adadelta", "schedules", "legacy", "get", "serialize", "deserialize"]


class Optimizer:
    """Base class: learning rate (float or schedule), clipping, weight decay, slots."""

    _defaults: dict[str, Any] = {}

    def __init__(self, name: str, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, **kwargs: Any) -> None:
        legacy_lr = kwargs.pop("lr", None)
        if legacy_lr is not None:
            warnings.warn(f"`lr` is deprecated in Keras optimizer, please use `learning_rate` "
                          f"({type(self).__name__}(learning_rate={legacy_lr!r})).",
                          DeprecationWarning, stacklevel=3)
            learning_rate = legacy_lr
        # `decay` was the Keras 2 legacy optimisers' time-based decay: lr / (1 + decay * t).
        self._decay = float(kwargs.pop("decay", 0.0) or 0.0)
        if self._decay:
            warnings.warn(f"`decay` is deprecated in Keras optimizers; {type(self).__name__} "
                          "applies it as lr / (1 + decay * iterations), as the legacy "
                          "optimisers did. Use a LearningRateSchedule instead.",
                          DeprecationWarning, stacklevel=3)
        kwargs.pop("is_legacy_optimizer", None)
        for key in kwargs:
            raise TypeError(f"{key!r} is not a valid argument for {type(self).__name__}; "
                            f"valid arguments are {sorted(self._arg_names())}.")
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._iterations = 0
        self._slots: dict[int, dict[str, torch.Tensor]] = {}
        self._set_lr(learning_rate)

    @classmethod
    def _arg_names(cls) -> set[str]:
        names = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
        return names | {"clipnorm", "clipvalue", "global_clipnorm", "weight_decay"}

    # ------------------------------------------------------------------ learning rate
    def _set_lr(self, value: Any) -> None:
        if isinstance(value, dict):
            value = schedules.deserialize(value)
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        try:
            self._learning_rate = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__}: learning_rate must be a number or a "
                            f"LearningRateSchedule, got {value!r}.") from None

    def _current_lr(self) -> float:
        lr = self._learning_rate
        lr = float(lr(self._iterations)) if callable(lr) else lr
        if self._decay:
            lr = lr / (1.0 + self._decay * self._iterations)
        return lr

    @property
    def learning_rate(self) -> ScalarVariable:
        """The learning rate as a Keras variable (``K.set_value``, ``.assign``, ``float()``,
        ``.numpy()``); it reads and writes the number the next step uses. With a schedule,
        tf.keras 2.12's ``current_learning_rate``: the schedule's value, not settable."""
        scheduled = isinstance(self._learning_rate, LearningRateSchedule)
        return ScalarVariable("current_learning_rate" if scheduled else "learning_rate",
                              "float32", self._current_lr, self._assign_lr)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, ScalarVariable):
            value = value.numpy()
        if isinstance(self._learning_rate, LearningRateSchedule) and not isinstance(
                value, LearningRateSchedule):
            raise TypeError(_NOT_SETTABLE)
        self._set_lr(value)

    def _assign_lr(self, value: float) -> None:
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(_NOT_SETTABLE)
        # float32, as the Keras variable holds it: K.get_value gives back what was stored
        self._learning_rate = float(value)

    @property
    def iterations(self) -> ScalarVariable:
        """The step count as tf.keras 2.12's int64 ``iteration`` variable."""
        return ScalarVariable("iteration", "int64", lambda: self._iterations,
                              self._assign_iterations)

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self._iterations = int(value)

    def _assign_iterations(self, value: Any) -> None:
        self._iterations = int(value)

    lr = learning_rate  # Keras 2 spelling: `model.optimizer.lr`

    # ------------------------------------------------------------------ applying
    def step(self, params: Iterable[torch.nn.Parameter]) -> None:
        """Apply ``param.grad`` to every parameter that has one (a PyTorch-style step)."""
        pairs = [(p.grad, p) for p in params if p.grad is not None]
        self.apply_gradients(pairs)

    @torch.no_grad()
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, torch.Tensor]]) -> int:
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            return self._iterations
        grads = self._clip([torch.as_tensor(g, dtype=v.dtype, device=v.device)
                            for g, v in pairs])
        lr = self._current_lr()
        variables = [var for _, var in pairs]
        all_slots = []
        for var in variables:
            if self.weight_decay:
                var.sub_(var * (self.weight_decay * lr))
            slots = self._slots.get(id(var))
            if slots is None:
                slots = self._slots[id(var)] = self._create_slots(var)
            all_slots.append(slots)
        if not self._update_group(variables, grads, all_slots, lr):
            for var, g, slots in zip(variables, grads, all_slots):
                self._update(var, g, slots, lr)
        self._iterations += 1
        return self._iterations

    def _update_group(self, variables, grads, slots, lr) -> bool:
        """The same update for all variables at once (torch ``_foreach`` ops, a few kernel
        launches instead of a few per variable); False where a subclass has none."""
        return False

    def _clip(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.clipnorm is not None:
            grads = [g * torch.clamp(self.clipnorm / _l2(g), max=1.0) for g in grads]
        if self.global_clipnorm is not None:
            total = torch.sqrt(sum(torch.sum(g * g) for g in grads))
            scale = self.global_clipnorm / torch.maximum(total, torch.tensor(self.global_clipnorm,
                                                                              dtype=total.dtype))
            grads = [g * scale for g in grads]
        if self.clipvalue is not None:
            grads = [torch.clamp(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _create_slots(self, var: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def _update(self, var, grad, slots, lr) -> None:
        raise NotImplementedError

    def variables(self) -> list[torch.Tensor]:
        return [t for slots in self._slots.values() for t in slots.values()]

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        lr = self._learning_rate
        config = {"name": self.name, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                  "clipvalue": self.clipvalue, "is_legacy_optimizer": False,
                  "learning_rate": schedules.serialize(lr)
                  if isinstance(lr, LearningRateSchedule) else lr}
        for key in self._defaults:
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self._current_lr()!r})"


_NOT_SETTABLE = ("This optimizer was created with a `LearningRateSchedule` object as its "
                 "`learning_rate` constructor argument, hence its learning rate is not settable. "
                 "If you need the learning rate to be settable, you should instantiate the "
                 "optimizer with a float `learning_rate` argument.")


def _l2(g: torch.Tensor) -> torch.Tensor:
    # tf.clip_by_norm: g * clip_norm / max(||g||, clip_norm); a zero gradient stays zero.
    return torch.clamp(torch.sqrt(torch.sum(g * g)), min=1e-30)


class SGD(Optimizer):
    """``m = momentum*m - lr*g``; ``var += m`` (nesterov: ``var += momentum*m - lr*g``)."""

    _defaults = {"momentum": 0.0, "nesterov": False}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be between [0, 1]. Received: momentum={momentum}")
        super().__init__(name, learning_rate, **kwargs)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _create_slots(self, var):
        return {"m": torch.zeros_like(var)} if self.momentum else {}

    def _update(self, var, g, s, lr):
        if not self.momentum:
            var.sub_(g * lr)
            return
        m = s["m"]
        m.mul_(self.momentum).sub_(g * lr)
        if self.nesterov:
            var.add_(m * self.momentum - g * lr)
        else:
            var.add_(m)


class RMSprop(Optimizer):
    """``v = rho*v + (1-rho)*g²``; ``var -= lr*g / sqrt(v + eps)`` (eps inside the root)."""

    _defaults = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name="RMSprop", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def _create_slots(self, var):
        slots = {"velocity": torch.zeros_like(var)}
        if self.momentum:
            slots["momentum"] = torch.zeros_like(var)
        if self.centered:
            slots["average_gradient"] = torch.zeros_like(var)
        return slots

    def _update(self, var, g, s, lr):
        v = s["velocity"]
        v.mul_(self.rho).add_(g * g * (1 - self.rho))
        if self.centered:
            avg = s["average_gradient"]
            avg.mul_(self.rho).add_(g * (1 - self.rho))
            denominator = v - avg * avg + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = lr * g * torch.rsqrt(denominator)
        if self.momentum:
            s["momentum"].mul_(self.momentum).add_(increment)
            var.sub_(s["momentum"])
        else:
            var.sub_(increment)


class Adam(Optimizer):
    """``alpha = lr*sqrt(1-b2^t)/(1-b1^t)``; ``var -= alpha*m / (sqrt(v) + eps)``."""

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="Adam", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)

    def _create_slots(self, var):
        slots = {"m": torch.zeros_like(var), "v": torch.zeros_like(var)}
        if self.amsgrad:
            slots["vhat"] = torch.zeros_like(var)
        return slots

    def _update(self, var, g, s, lr):
        t = self._iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m, v = s["m"], s["v"]
        m.add_((g - m) * (1 - self.beta_1))
        v.add_((g * g - v) * (1 - self.beta_2))
        if self.amsgrad:
            torch.maximum(s["vhat"], v, out=s["vhat"])
            v = s["vhat"]
        var.sub_((m * alpha) / (torch.sqrt(v) + self.epsilon))

    def _update_group(self, variables, grads, slots, lr):
        if self.amsgrad or len({(v.device, v.dtype) for v in variables}) != 1:
            return False
        t = self._iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        ms, vs = [s["m"] for s in slots], [s["v"] for s in slots]
        torch._foreach_lerp_(ms, grads, 1 - self.beta_1)       # m += (g - m) * (1 - b1)
        torch._foreach_lerp_(vs, torch._foreach_mul(grads, grads), 1 - self.beta_2)
        denominators = torch._foreach_sqrt(vs)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_addcdiv_(variables, ms, denominators, value=-alpha)
        return True


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): ``var -= var*wd*lr`` first."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("Missing value of `weight_decay` which is required and must be a "
                             "float value.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum and tf.keras 2.12's ``beta_1 (1 - 0.96 ** t / 2)`` schedule."""

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Nadam", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self._u_product = 1.0
        self._u_product_step = -1

    def _create_slots(self, var):
        return {"m": torch.zeros_like(var), "v": torch.zeros_like(var)}

    def _update(self, var, g, s, lr):
        t = self._iterations + 1
        # tf.keras 2.12 uses 0.96 ** t here (the legacy Nadam had 0.96 ** (0.004 t)).
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        # The running product of u is shared by all variables and advances once a step.
        if self._u_product_step != self._iterations:
            self._u_product *= u_t
            self._u_product_step = self._iterations
        u_product_t = self._u_product
        u_product_t_1 = u_product_t * u_t_1
        m, v = s["m"], s["v"]
        m.add_((g - m) * (1 - self.beta_1))
        v.add_((g * g - v) * (1 - self.beta_2))
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product_t)
        v_hat = v / (1 - self.beta_2 ** t)
        var.sub_((m_hat * lr) / (torch.sqrt(v_hat) + self.epsilon))


class Adamax(Optimizer):
    """``u = max(b2*u, |g|)``; ``var -= lr*m / ((1-b1^t) * (u + eps))``."""

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Adamax", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _create_slots(self, var):
        return {"m": torch.zeros_like(var), "u": torch.zeros_like(var)}

    def _update(self, var, g, s, lr):
        t = self._iterations + 1
        m, u = s["m"], s["u"]
        m.add_((g - m) * (1 - self.beta_1))
        torch.maximum(u * self.beta_2, g.abs(), out=u)
        var.sub_(lr * m / ((1 - self.beta_1 ** t) * (u + self.epsilon)))


class Adagrad(Optimizer):
    """``acc += g²`` (from 0.1); ``var -= lr*g / sqrt(acc + eps)``."""

    _defaults = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _create_slots(self, var):
        return {"accumulator": torch.full_like(var, self.initial_accumulator_value)}

    def _update(self, var, g, s, lr):
        acc = s["accumulator"]
        acc.add_(g * g)
        var.sub_(lr * g / torch.sqrt(acc + self.epsilon))


class Adadelta(Optimizer):
    """``delta = -sqrt(Edx + eps) * g / sqrt(Eg + eps)``; ``var += lr * delta``."""

    _defaults = {"rho": 0.95, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="Adadelta", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _create_slots(self, var):
        return {"accumulated_grad": torch.zeros_like(var),
                "accumulated_delta_var": torch.zeros_like(var)}

    def _update(self, var, g, s, lr):
        acc_g, acc_dx = s["accumulated_grad"], s["accumulated_delta_var"]
        acc_g.mul_(self.rho).add_(g * g * (1 - self.rho))
        delta = -torch.sqrt(acc_dx + self.epsilon) * g / torch.sqrt(acc_g + self.epsilon)
        acc_dx.mul_(self.rho).add_(delta * delta * (1 - self.rho))
        var.add_(delta * lr)


_REGISTRY = {cls.__name__.lower(): cls for cls in
             (SGD, RMSprop, Adam, AdamW, Nadam, Adamax, Adagrad, Adadelta)}


def get(identifier: Any) -> Any:
    """An optimiser from a Keras name (``"adam"``), a config dict, an instance or a class.

    A ``torch.optim.Optimizer`` passes through unchanged: ``fit`` drives it with
    ``zero_grad``/``step``.
    """
    if isinstance(identifier, (Optimizer, torch.optim.Optimizer)):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def deserialize(config: dict) -> Optimizer:
    name = str(config.get("class_name", ""))
    cls = _REGISTRY.get(name.lower())
    if cls is None:
        from ..layers.mistakes import did_you_mean
        suggestion = did_you_mean(name, [n for n in _REGISTRY if n.isalpha()])
        raise ValueError(f"Unknown optimizer: {name!r}.{suggestion} Known optimizers: "
                         f"{sorted(c.__name__ for c in _REGISTRY.values())}.")
    params = dict(config.get("config", {}))
    params.pop("is_legacy_optimizer", None)
    for key in ("jit_compile", "use_ema", "ema_momentum", "ema_overwrite_frequency"):
        params.pop(key, None)  # Keras-only machinery rnnkit does not have
    return cls(**params)


def serialize(optimizer: Optimizer) -> dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


from . import legacy  # noqa: E402 - keras.optimizers.legacy (its classes subclass the above)
