"""Training: ``TrainingMixin`` (compile/fit/evaluate/predict), progress output, the CLI."""
from .engine import TrainingMixin
from .progress import Progbar

__all__ = ["TrainingMixin", "Progbar"]
