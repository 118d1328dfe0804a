"""Test footage for the lying-person search, built from the sample media in the tests.

Nothing here is stored: every clip is made on the fly from ``vtest.avi`` (768x576, 10 fps,
an elevated CCTV view of a plaza and a lawn) and ``person.jpg`` (a person standing, cut out
with ``cv2.grabCut``), so the expected outcome of each test is known by construction:

* ``lying``: the person turned a quarter turn and scaled to CCTV size (145 x 68 px, the
  size of a lying adult on vtest's lawn), pasted onto vtest's frames among its walkers;
* ``fall``: the person standing at CCTV size, tipping over about the feet in one second,
  then lying still;
* ``sitting`` and ``bending``: the same person folded at the hips (legs forward on the
  ground; upper body bent forward 70 degrees), which must never count as lying.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.media import read_image
from detectors.types import BoxXYXY

PERSON_RECT = (182, 92, 98, 290)
"""x, y, w, h around the person in person.jpg: grabCut's starting rectangle."""
LAWN = (250, 400)
"""Top-left corner of the lying person on vtest's lawn, clear of every walker's path."""
FPS = 10.0


@dataclass(frozen=True)
class Cutout:
    """A segmented person: BGR pixels and a 0-255 mask of the same size."""

    image: NDArray[np.uint8]
    mask: NDArray[np.uint8]

    def resized(self, size: tuple[int, int]) -> Cutout:
        """Scaled to ``size`` = (width, height)."""
        return Cutout(
            cv2.resize(self.image, size, interpolation=cv2.INTER_AREA),
            cv2.resize(self.mask, size, interpolation=cv2.INTER_AREA),
        )

    def turned(self, head_left: bool) -> Cutout:
        """Lying along x: head on the left (a quarter turn anticlockwise) or the right."""
        turn = cv2.ROTATE_90_COUNTERCLOCKWISE if head_left else cv2.ROTATE_90_CLOCKWISE
        return Cutout(cv2.rotate(self.image, turn), cv2.rotate(self.mask, turn))

    def cropped(self) -> Cutout:
        """Trimmed to the mask's bounding box."""
        ys, xs = np.nonzero(self.mask > 127)
        y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        return Cutout(self.image[y1:y2, x1:x2].copy(), self.mask[y1:y2, x1:x2].copy())


@functools.cache
def _cutout(path: str) -> Cutout:
    image = read_image(Path(path))
    mask = np.zeros(image.shape[:2], np.uint8)
    background = np.zeros((1, 65), np.float64)
    foreground = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # grabCut's GMM initialisation is random; the footage must not be
    cv2.grabCut(image, mask, PERSON_RECT, background, foreground, 5, cv2.GC_INIT_WITH_RECT)
    keep = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    return Cutout(image, keep).cropped()


def person(samples_dir: Path) -> Cutout:
    """The person of person.jpg, standing (85 x 270 px)."""
    return _cutout(str(samples_dir / "person.jpg"))


def lying(
    samples_dir: Path, *, head_left: bool = True, size: tuple[int, int] = (145, 68)
) -> Cutout:
    """The person lying on the ground, ``size`` = (length, thickness) in pixels."""
    return person(samples_dir).turned(head_left).resized(size)


def standing(samples_dir: Path, height: int) -> Cutout:
    """The person standing, ``height`` pixels tall."""
    cut = person(samples_dir)
    width = round(cut.image.shape[1] * height / cut.image.shape[0])
    return cut.resized((width, height))


def tipped(cut: Cutout, degrees: float) -> tuple[Cutout, tuple[int, int]]:
    """``cut`` rotated ``degrees`` anticlockwise about its feet (head goes left).

    Returns the rotated cutout and where the feet (bottom centre of ``cut``) are in it, so
    a fall is pasted with the feet staying put.
    """
    height, width = cut.image.shape[:2]
    side = 2 * (height + width)
    canvas = Cutout(np.zeros((side, side, 3), np.uint8), np.zeros((side, side), np.uint8))
    fx, fy = side // 2, side // 2
    x0, y0 = fx - width // 2, fy - height
    canvas.image[y0 : y0 + height, x0 : x0 + width] = cut.image
    canvas.mask[y0 : y0 + height, x0 : x0 + width] = cut.mask
    matrix = cv2.getRotationMatrix2D((float(fx), float(fy)), degrees, 1.0)
    image = cv2.warpAffine(canvas.image, matrix, (side, side), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(canvas.mask, matrix, (side, side), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(mask > 127)
    y1, x1 = int(ys.min()), int(xs.min())
    out = Cutout(
        image[y1 : ys.max() + 1, x1 : xs.max() + 1], mask[y1 : ys.max() + 1, x1 : xs.max() + 1]
    )
    return out, (fx - x1, fy - y1)


def folded(cut: Cutout, *, hip: float, upper_degrees: float, lower_degrees: float) -> Cutout:
    """``cut`` folded at ``hip`` (share of its height from the top).

    The upper body turns ``upper_degrees`` (positive: forward, to the right) and the legs
    ``lower_degrees`` about the hip point, each limb staying attached there.
    """
    height, width = cut.image.shape[:2]
    split = round(hip * height)
    side = 3 * height
    out_image = np.zeros((side, side, 3), np.uint8)
    out_mask = np.zeros((side, side), np.uint8)
    px, py = side // 2, side // 2
    parts = ((0, split, upper_degrees), (split, height, lower_degrees))
    for top, bottom, degrees in parts:
        layer = np.zeros((side, side, 3), np.uint8)
        layer_mask = np.zeros((side, side), np.uint8)
        y0 = py - split + top
        layer[y0 : y0 + bottom - top, px - width // 2 : px - width // 2 + width] = cut.image[
            top:bottom
        ]
        layer_mask[y0 : y0 + bottom - top, px - width // 2 : px - width // 2 + width] = cut.mask[
            top:bottom
        ]
        matrix = cv2.getRotationMatrix2D((float(px), float(py)), -degrees, 1.0)
        layer = cv2.warpAffine(layer, matrix, (side, side), flags=cv2.INTER_LINEAR)
        layer_mask = cv2.warpAffine(layer_mask, matrix, (side, side), flags=cv2.INTER_LINEAR)
        take = layer_mask > out_mask
        out_image[take] = layer[take]
        out_mask = np.maximum(out_mask, layer_mask)
    return Cutout(out_image, out_mask).cropped()


def paste(
    frame: NDArray[np.uint8], cut: Cutout, x: int, y: int
) -> tuple[NDArray[np.uint8], BoxXYXY]:
    """``frame`` with ``cut`` blended in at top-left ``(x, y)``; the cutout's visible box."""
    out = frame.copy()
    height, width = cut.image.shape[:2]
    alpha = (cut.mask.astype(np.float32) / 255.0)[..., None]
    region = out[y : y + height, x : x + width].astype(np.float32)
    out[y : y + height, x : x + width] = (cut.image * alpha + region * (1.0 - alpha)).astype(
        np.uint8
    )
    ys, xs = np.nonzero(cut.mask > 127)
    return out, (
        float(x + xs.min()),
        float(y + ys.min()),
        float(x + xs.max() + 1),
        float(y + ys.max() + 1),
    )


def vtest(samples_dir: Path, count: int, start: int = 0) -> list[NDArray[np.uint8]]:
    """``count`` consecutive frames of vtest.avi from ``start``."""
    capture = cv2.VideoCapture(str(samples_dir / "vtest.avi"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == count, f"vtest.avi has fewer than {start + count} frames"
    return frames


def with_person(
    frames: list[NDArray[np.uint8]], cut: Cutout, x: int, y: int
) -> Iterator[tuple[NDArray[np.uint8], BoxXYXY]]:
    """Every frame with ``cut`` pasted at the same place (someone lying still)."""
    for frame in frames:
        yield paste(frame, cut, x, y)


def fall_clip(
    samples_dir: Path,
    frames: list[NDArray[np.uint8]],
    *,
    feet: tuple[int, int],
    height: int,
    stand_seconds: float,
    fall_seconds: float = 1.0,
) -> Iterator[tuple[NDArray[np.uint8], BoxXYXY]]:
    """A person standing still, falling over (head to the left) and lying there."""
    body = standing(samples_dir, height)
    for index, frame in enumerate(frames):
        t = index / FPS
        progress = min(max((t - stand_seconds) / fall_seconds, 0.0), 1.0)
        cut, (fx, fy) = tipped(body, 90.0 * progress * progress)  # falls faster and faster
        yield paste(frame, cut, feet[0] - fx, feet[1] - fy)
