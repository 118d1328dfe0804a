"""Read images and videos from disk, with errors a person can act on.

``cv2`` reports nearly every failure as ``None`` or ``False``; this module turns those into
:class:`MediaError` naming the file and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.errors import MediaError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True, slots=True)
class MediaFrame:
    """One decoded BGR frame and where it sits in its source."""

    index: int
    time: float
    image: NDArray[np.uint8]


def read_image(path: Path) -> NDArray[np.uint8]:
    """Decode an image file into a BGR array, or raise naming the file."""
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise MediaError(f"{path}: not a readable image (unknown format or truncated)")
    return np.asarray(image, dtype=np.uint8)


def is_image(path: Path) -> bool:
    """Whether ``path`` is treated as a still image (by suffix) rather than a video."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def iter_video(path: Path, every: int = 1) -> Iterator[MediaFrame]:
    """Yield every ``every``-th frame of a video file, with its media time in seconds."""
    if every < 1:
        raise MediaError(f"--every must be at least 1, got {every}")
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MediaError(f"{path}: not a readable video (unknown container or codec)")
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or 0.0
        index = 0
        yielded = 0
        while True:
            ok = capture.grab()
            if not ok:
                break
            if index % every == 0:
                ok, image = capture.retrieve()
                if ok and image is not None:
                    yielded += 1
                    yield MediaFrame(index, index / fps if fps > 0 else 0.0, image)
            index += 1
        if yielded == 0:
            raise MediaError(f"{path}: no frame could be decoded")
    finally:
        capture.release()


def iter_media(path: Path, every: int = 1) -> Iterator[MediaFrame]:
    """Frames of an image (one) or a video (every ``every``-th)."""
    if is_image(path):
        yield MediaFrame(0, 0.0, read_image(path))
        return
    yield from iter_video(path, every)
