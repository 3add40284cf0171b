"""Training: ``TrainingMixin`` (compile/fit/evaluate/predict), progress output."""
from .engine import TrainingMixin
from .progress import Progbar

__all__ = ["TrainingMixin", "Progbar"]
