"""Fall transitions: an upright person track that went down and was then lost in the view.

The detector loses people as they go down, so a fall shows as an upright track whose box
widened, whose top dropped while its feet stayed, and which then vanished inside the
view. :class:`FallWatch` remembers each upright track's last and tallest sightings and
says where such a track was lost; the lying-person search checks there at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors.geometry import box_iou
from detectors.types import BoxXYXY, Track

PERSON = "person"
LOST_AFTER_SECONDS = 0.4
LOST_WITHIN_SECONDS = 1.5
"""An upright track missing for 0.4-1.5 s was lost, not flickering and not long gone."""
LOST_MIN_HITS = 5
"""Only a track seen this often is worth a check when it is lost (not a passing glimpse)."""
COLLAPSE = 0.8
"""A lost track whose last box was at most this share of its tallest height-to-width ratio
was going down (a fall widens the box before the detector loses it: 2.7 to 1.3 in the
composited fall); walkers lost behind a post keep their shape and ask for nothing."""
HEAD_DROP = 0.1
FEET_STAY = 0.25
"""A going-down box's top is at least ``HEAD_DROP`` of the standing height lower, its
bottom within ``FEET_STAY`` of it (see ``_Shape.going_down``)."""
TALL_RATIO = 1.3
"""Height over width of a box that shows a person upright."""
EDGE_MARGIN = 0.03
"""Tracks lost this close (share of the frame) to its edge walked out of view."""


def _ratio(box: BoxXYXY) -> float:
    """Height over width."""
    return (box[3] - box[1]) / max(1e-6, box[2] - box[0])


@dataclass(frozen=True, slots=True)
class _Shape:
    """The last sighting of an upright-pass person track, and its tallest one (internal)."""

    box: BoxXYXY
    seen: float
    hidden: bool
    hits: int
    tallest: BoxXYXY

    @property
    def going_down(self) -> bool:
        """Seen upright long enough, last seen much wider, head lower, feet where they were.

        A fall widens the box and lowers its top while the feet stay (the composited falls:
        height/width 2.7 to 1.3, top down 0.15-0.2 of the standing height); a walker's box
        changes width with their gait but keeps its top.
        """
        height = self.tallest[3] - self.tallest[1]
        return (
            self.hits >= LOST_MIN_HITS
            and _ratio(self.tallest) >= TALL_RATIO
            and _ratio(self.box) <= COLLAPSE * _ratio(self.tallest)
            and self.box[1] - self.tallest[1] >= HEAD_DROP * height
            and abs(self.box[3] - self.tallest[3]) <= FEET_STAY * height
        )


def _near_edge(box: BoxXYXY, frame_size: tuple[int, int]) -> bool:
    width, height = frame_size
    mx, my = EDGE_MARGIN * width, EDGE_MARGIN * height
    return box[0] <= mx or box[1] <= my or box[2] >= width - mx or box[3] >= height - my


class FallWatch:
    """One camera's upright person tracks, watched for the way a fall ends them."""

    def __init__(self) -> None:
        self._upright: dict[int, _Shape] = {}

    def lost_going_down(
        self, tracks: Sequence[Track], timestamp: float, frame_size: tuple[int, int]
    ) -> list[BoxXYXY]:
        """Square boxes around the feet of upright tracks just lost while going down.

        Tracks the search already holds as lying (they carry ``evidence``) are not
        upright; a track hidden behind someone else, or lost at the frame's edge, was
        hidden or walked out, not fallen.
        """
        persons = [t for t in tracks if t.label == PERSON]
        present = {t.track_id for t in persons}
        for track in persons:
            if track.evidence:
                continue
            previous = self._upright.get(track.track_id)
            tallest = track.box
            if previous is not None and _ratio(previous.tallest) > _ratio(track.box):
                tallest = previous.tallest
            hidden = any(
                other is not track and box_iou(other.box, track.box) > 0.0 for other in persons
            )
            self._upright[track.track_id] = _Shape(
                track.box, timestamp, hidden, track.hits, tallest
            )
        lost: list[BoxXYXY] = []
        for track_id, shape in list(self._upright.items()):
            missing = timestamp - shape.seen
            if track_id in present or missing < LOST_AFTER_SECONDS:
                continue
            del self._upright[track_id]
            if missing > LOST_WITHIN_SECONDS or not shape.going_down:
                continue
            if shape.hidden or _near_edge(shape.box, frame_size):
                continue
            box = shape.box
            height = box[3] - box[1]
            centre = (box[0] + box[2]) / 2
            lost.append((centre - height / 2, box[3] - height / 2, centre + height / 2, box[3]))
        return lost
