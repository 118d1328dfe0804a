"""Shape checks shared by the decoders, so every mismatch reads the same way.

A model whose outputs do not fit its decoder is a configuration problem (wrong decoder
picked for a user model, or a broken conversion); the error names the model family, the
shape received and the shape expected so the person fixing it knows what to change.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.errors import ModelFormatError


def require_shape(condition: bool, decoder: str, array: NDArray[np.generic], expected: str) -> None:
    """Raise :class:`ModelFormatError` unless ``condition`` holds for ``array``'s shape."""
    if not condition:
        msg = f"{decoder} output has shape {tuple(array.shape)}, expected {expected}"
        raise ModelFormatError(msg)


def finite_rows(values: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Return which rows of ``[N, K]`` contain only finite numbers.

    A model fed a corrupted frame can emit NaN/inf without an error; such rows must not
    reach NMS or the tracker as boxes.
    """
    result: NDArray[np.bool_] = np.isfinite(values).all(axis=1)
    return result


def float_rows(array: NDArray[np.floating]) -> list[list[float]]:
    """Return a 2-D array as nested Python floats (the engine's value types hold floats)."""
    if array.size == 0:
        return []
    return [[float(value) for value in row] for row in array.reshape(len(array), -1)]
