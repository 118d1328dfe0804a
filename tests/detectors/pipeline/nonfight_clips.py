"""Footage without fights, built from the sample media, for the fight rule's false-alarm tests.

None of the samples shows a fight (docs/models.md), so every clip below is a clip on which
a fight alarm is a false alarm. Each one stresses a different part of the two-stage rule:

* ``pair-walking``: vtest.avi frames 250-399 cut to the couple walking side by side on the
  right (288x216 px from (480, 110)) and enlarged 2.67x: two people close together for
  15 s, large enough for the pose model to see every limb.
* ``group-passing``: the same frames cut to the left group (240x180 px from (150, 120)),
  enlarged 3.2x: people walking past and between each other.
* ``crowd-mosaic``: four 15 s stretches of vtest.avi (from frames 0, 200, 400 and 600)
  tiled 2x2 in one 768x576 frame: up to about 20 small people at once.
* ``fast-walk``: vtest.avi at three times its speed (every third frame of 0-449 played at
  10 fps), the central 384x288 px enlarged 2x: brisk walking, limbs three times as fast,
  the case that opens the pose gate most easily.
* ``hug``: person.jpg with a mirrored copy of its person walking in from the right,
  holding against them (the two overlapping by a third of a body width, swaying a few
  pixels) for 6 s, then walking away. A composite, not real footage: two cut-outs, no
  arms moving. It is the nearest thing to a hug the samples allow.

All clips are 10 fps with timestamps starting at 0, yielded frame by frame (a clip is
never held whole in memory).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.media import iter_video, read_image

FPS = 10.0
SIZE = (768, 576)

type Frames = Iterator[tuple[NDArray[np.uint8], float]]


@dataclass(frozen=True)
class NonFightClip:
    """A named clip and how to build its frames from the sample folder."""

    name: str
    frames: int
    build: Callable[[Path], Frames]


def _zoom(image: NDArray[np.uint8], x: int, y: int, w: int, h: int) -> NDArray[np.uint8]:
    return cv2.resize(image[y : y + h, x : x + w], SIZE, interpolation=cv2.INTER_LINEAR)


def _vtest_range(
    samples: Path, start: int, stop: int, step: int = 1
) -> Iterator[NDArray[np.uint8]]:
    for frame in iter_video(samples / "vtest.avi"):
        if frame.index >= stop:
            return
        if frame.index >= start and (frame.index - start) % step == 0:
            yield frame.image


def _zoomed(
    start: int, stop: int, region: tuple[int, int, int, int], step: int = 1
) -> Callable[[Path], Frames]:
    def build(samples: Path) -> Frames:
        for index, image in enumerate(_vtest_range(samples, start, stop, step)):
            yield _zoom(image, *region), index / FPS

    return build


def _mosaic(samples: Path) -> Frames:
    half = (SIZE[0] // 2, SIZE[1] // 2)
    streams = [_vtest_range(samples, start, start + 150) for start in (0, 200, 400, 600)]
    for index, tiles in enumerate(zip(*streams, strict=True)):
        a, b, c, d = (cv2.resize(tile, half, interpolation=cv2.INTER_AREA) for tile in tiles)
        yield np.ascontiguousarray(np.vstack([np.hstack([a, b]), np.hstack([c, d])])), index / FPS


PERSON_BOX = (180, 95, 285, 380)
"""The person in person.jpg (x1, y1, x2, y2), as NanoDet finds them, a few px of margin."""


def _person_cutout(scene: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """The person of person.jpg, mirrored, with a GrabCut mask (seeded: same on every run)."""
    x1, y1, x2, y2 = PERSON_BOX
    cv2.setRNGSeed(0)
    mask = np.zeros(scene.shape[:2], np.uint8)
    models = (np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64))
    cv2.grabCut(scene, mask, (x1, y1, x2 - x1, y2 - y1), *models, 5, cv2.GC_INIT_WITH_RECT)
    person = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return (
        np.ascontiguousarray(scene[y1:y2, x1:x2][:, ::-1]),
        np.ascontiguousarray(person[y1:y2, x1:x2][:, ::-1]),
    )


def _hug(samples: Path) -> Frames:
    scene = read_image(samples / "person.jpg")
    x1, y1, x2, y2 = PERSON_BOX
    other, mask = _person_cutout(scene)
    width = x2 - x1
    frame_w = scene.shape[1]
    meet = x1 + width * 2 // 5  # the two silhouettes overlap by more than half a body
    far = frame_w - width
    for index in range(150):
        t = index / FPS
        if t < 4.0:  # walk in at about one body width per second
            left = round(far + (meet - far) * t / 4.0)
        elif t < 10.0:  # hold, swaying gently together
            left = meet + round(4 * math.sin(2 * math.pi * 0.5 * (t - 4.0)))
        else:  # walk away
            left = round(meet + (far - meet) * (t - 10.0) / 5.0)
        frame = scene.copy()
        region = frame[y1:y2, left : left + width]
        region[mask] = other[mask]
        yield frame, t


CLIPS: tuple[NonFightClip, ...] = (
    NonFightClip("pair-walking", 150, _zoomed(250, 400, (480, 110, 288, 216))),
    NonFightClip("group-passing", 150, _zoomed(250, 400, (150, 120, 240, 180))),
    NonFightClip("crowd-mosaic", 150, _mosaic),
    NonFightClip("fast-walk", 150, _zoomed(0, 450, (192, 100, 384, 288), step=3)),
    NonFightClip("hug", 150, _hug),
)
