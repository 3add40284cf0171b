"""The bundled series and text, read from the package's data files."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

_SOURCES = {
    "airline": ("airline_passengers.csv", "passengers (thousands)",
                "Box & Jenkins (1976) series G, monthly international airline passengers "
                "1949-1960; public domain"),
    "sunspots": ("sunspots_yearly.csv", "sunspot number",
                 "NOAA National Geophysical Data Center yearly mean sunspot numbers 1700-2008 "
                 "(version 1 series, via statsmodels); public domain"),
}


@dataclass(frozen=True)
class Series:
    """A univariate series: ``time`` labels (``"1949-01"`` or years), float32 ``values``."""

    name: str
    time: np.ndarray
    values: np.ndarray
    unit: str
    source: str

    def __len__(self) -> int:
        return len(self.values)


def _data_path(filename: str):
    return resources.files(__package__).joinpath("data", filename)


def load_series(name: str) -> Series:
    """``"airline"`` or ``"sunspots"`` (what ``rnnkit train --data`` takes)."""
    if name not in _SOURCES:
        raise ValueError(f"Unknown bundled series {name!r}; available: {sorted(_SOURCES)}.")
    filename, unit, source = _SOURCES[name]
    with _data_path(filename).open("r", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    time = np.array([r[0] for r in rows])
    values = np.array([float(r[1]) for r in rows], dtype=np.float32)
    return Series(name, time, values, unit, source)


def airline_passengers() -> Series:
    """Monthly international airline passengers (thousands), Jan 1949 – Dec 1960."""
    return load_series("airline")


def sunspots() -> Series:
    """Yearly mean sunspot numbers 1700–2008 (the public-domain version 1 series)."""
    return load_series("sunspots")


def text_corpus() -> str:
    """About 5 KB of public-domain English prose and verse (see the data README)."""
    with _data_path("public_domain_texts.txt").open("r", encoding="utf-8") as f:
        return f.read()
