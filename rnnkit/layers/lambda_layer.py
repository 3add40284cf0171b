"""``Lambda(function)``: a Python function as a layer, with tf.keras 2.12's arguments.

``function(inputs, **arguments)`` runs on torch tensors (it also gets ``mask=`` and
``training=`` when its signature names them). Without ``output_shape`` the output shape is
found as Keras finds it, by running the function: here on small zero tensors, twice with
different sizes (2 and 3) for each unknown dimension and once with size 1 when the
function accepts it; a dimension that changes with them is unknown (``None``).
``output_shape`` may be a shape without the batch axis, or a function of the input shape.
``mask`` (a function ``(inputs, mask) -> mask`` or a fixed mask) makes the layer pass a
mask on; without it the output has none, as in Keras.

Files. tf.keras 2 saves a Lambda's function as marshalled Python bytecode; rnnkit never
loads code from a file, so such a layer is refused when a file is loaded (``io/configs``).
rnnkit itself saves the function **by name** only, the form tf.keras 2 uses for
``function_type: "function"``: no code goes into the file, and loading it (rnnkit, or tf.keras
2) needs ``custom_objects={"name": function}``. An anonymous ``lambda`` has no name to save:
saving one raises an error that says what to do instead.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .base import Layer, shape_tuple


class Lambda(Layer):
    """Wraps ``function`` as a layer (see the module docstring)."""

    def __init__(self, function: Callable, output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f'Lambda layer "{self.name}": `function` must be callable, got '
                            f"{function!r}. (A function saved by name is found again through "
                            "custom_objects when a model file is loaded.)")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self._output_shape_spec = output_shape
        if mask is not None:
            self.supports_masking = True
        try:
            names = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            names = {}
        self._fn_expects_mask = "mask" in names
        self._fn_expects_training = "training" in names

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(t, (torch.Tensor, np.ndarray)) for t in inputs):
            # A list of tensors stays a list (Layer.__call__ would make one tensor of it).
            mask = kwargs.pop("mask", None)
            if mask is None:
                mask = [getattr(t, "_keras_mask", None) for t in inputs]
            training = kwargs.pop("training", None)
            xs = [self._to_tensor(t) for t in inputs]
            if not self.built:
                self._maybe_build([tuple(t.shape) for t in xs])
            outputs = self.call(xs, mask=mask,
                                training=self.training if training is None else training)
            self._attach_mask(outputs, self.compute_mask(xs, mask))
            return outputs
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        outputs = self.function(inputs, **kwargs)
        # A function that returns its input (or part of a list of inputs) as it is: hand on
        # a new tensor object, so the mask this layer attaches is not written onto the
        # input tensor, which other layers may read too.
        given = {id(t) for t in (inputs if isinstance(inputs, (list, tuple)) else [inputs])}
        if isinstance(outputs, torch.Tensor) and id(outputs) in given:
            return outputs.view_as(outputs)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(o.view_as(o) if isinstance(o, torch.Tensor) and id(o) in given
                                 else o for o in outputs)
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    # ------------------------------------------------------------------ shapes
    def compute_output_shape(self, input_shape: Any) -> Any:
        spec = self._output_shape_spec
        if spec is None:
            return self._probe_output_shape(input_shape)
        if callable(spec):
            return _as_shapes(spec(input_shape))
        first = input_shape[0] if _is_shape_list(input_shape) else input_shape
        batch = first[0] if first else None
        if _is_shape_list(spec):
            return [(batch,) + shape_tuple(s) for s in spec]
        return (batch,) + shape_tuple(spec)

    def _probe_output_shape(self, input_shape: Any) -> Any:
        def run(size: int) -> Any:
            def zeros(shape: Sequence) -> torch.Tensor:
                return torch.zeros([size if d is None else d for d in shape],
                                   dtype=self.compute_dtype)
            dummy = [zeros(s) for s in input_shape] if _is_shape_list(input_shape) \
                else zeros(input_shape)
            with torch.no_grad():
                out = self.call(dummy, mask=None, training=False)
            return _shapes_of(out)

        try:
            found = [run(2), run(3)]
        except Exception as error:  # the user's function: any error means "cannot infer"
            raise NotImplementedError(
                f'We could not automatically infer the shape of the Lambda\'s output (layer '
                f'"{self.name}", input shape {input_shape}): running the function on zeros '
                f"raised {type(error).__name__}: {error}. Please specify `output_shape` for "
                "this Lambda.") from error
        try:
            small = run(1)  # catches slices like t[:, :2] of an unknown length
        except Exception:
            small = None  # e.g. t[:, -2] needs two steps; the other two runs decide
        if small is not None and _same_structure(small, found[0]):
            found.append(small)
        return _merge_shapes(found, self.name)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = super().get_config()
        function, function_type, module = self._reference(self.function, "function")
        config.update({"function": function, "function_type": function_type,
                       "module": module})
        if callable(self._output_shape_spec):
            shape, shape_type, shape_module = self._reference(self._output_shape_spec,
                                                              "output_shape")
        else:
            spec = self._output_shape_spec
            shape = [list(s) for s in spec] if _is_shape_list(spec) else \
                (list(spec) if spec is not None else None)
            shape_type, shape_module = "raw", None
        config.update({"output_shape": shape, "output_shape_type": shape_type,
                       "output_shape_module": shape_module})
        if self.mask is not None:
            if not callable(self.mask):
                raise ValueError(f'Lambda layer "{self.name}" has a fixed tensor as its mask, '
                                 "which cannot be saved in a config; pass a function instead.")
            mask, mask_type, mask_module = self._reference(self.mask, "mask")
            config.update({"mask": mask, "mask_type": mask_type, "mask_module": mask_module})
        config["arguments"] = self.arguments
        return config

    def _reference(self, fn: Callable, what: str) -> tuple[str, str, str | None]:
        """A function as tf.keras 2's by-name form ``(name, "function", module)``."""
        name = getattr(fn, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f'Lambda layer "{self.name}" cannot be saved: its {what} is an anonymous '
                f"{name or type(fn).__name__}. rnnkit saves a Lambda's function by name only, "
                "never as code, and finds it again through custom_objects when loading. "
                "Define it with `def my_fn(x): ...` (then load with "
                "custom_objects={'my_fn': my_fn}), or save only the weights "
                "(save_weights) and rebuild the model in code.")
        return name, "function", getattr(fn, "__module__", None)

    @classmethod
    def from_config(cls, config: dict) -> "Lambda":
        config = dict(config)
        for key in ("function_type", "module", "output_shape_type", "output_shape_module",
                    "mask_type", "mask_module"):
            config.pop(key, None)
        function = config.pop("function", None)
        if not callable(function):
            raise ValueError(
                f"Lambda layer {config.get('name')!r}: its function {function!r} is not "
                "available. rnnkit never builds code from a config; pass the function "
                "itself (load_model(..., custom_objects={name: function}) when loading a "
                "file).")
        shape = config.pop("output_shape", None)
        if isinstance(shape, list):
            shape = [tuple(s) for s in shape] if _is_shape_list(shape) else tuple(shape)
        return cls(function, output_shape=shape, **config)


# ---------------------------------------------------------------------- shape helpers
def _is_shape_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(s, (list, tuple)) for s in value)


def _as_shapes(value: Any) -> Any:
    return [shape_tuple(s) for s in value] if _is_shape_list(value) else shape_tuple(value)


def _shapes_of(out: Any) -> Any:
    if isinstance(out, (list, tuple)):
        return [tuple(t.shape) for t in out]
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the function returned a {type(out).__name__}, not a tensor")
    return tuple(out.shape)


def _same_structure(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            len(x) == len(y) for x, y in zip(a, b))
    return len(a) == len(b)


def _merge_shapes(found: list, layer: str) -> Any:
    """Dimensions equal in every run are known; the others are ``None``."""
    first = found[0]
    if isinstance(first, list):
        if any(not isinstance(f, list) or len(f) != len(first) for f in found):
            raise NotImplementedError(f'Lambda layer "{layer}": its function returns a '
                                      "different number of tensors for different input sizes; "
                                      "please specify `output_shape`.")
        return [_merge_shapes([f[i] for f in found], layer) for i in range(len(first))]
    return tuple(dims[0] if len(set(dims)) == 1 else None for dims in zip(*found))
