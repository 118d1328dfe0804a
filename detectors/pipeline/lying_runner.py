"""Runs a camera's lying-person search views through the models, sync or async.

:class:`~detectors.pipeline.lying_search.LyingSearch` decides (which views, what they
found, who is held); this runner owns the inference: it renders each planned view, runs
the model it names (the detector, the pose model for a pose check, the fall model) on the
calling thread or the shared async queues, and maps results back to frame pixels. The
frame processor calls it once per analysed frame, after its own models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.pipeline.lying_search import LyingSearch, PlannedView, SearchSettings
from detectors.rules.engine import RuleEngine
from detectors.rules.person_down import PersonDownRule
from detectors.types import Detection
from detectors.vision import ObjectDetector, PoseEstimator


@dataclass(slots=True)
class LyingSearchRunner:
    """One camera's search and the models its views run on (shared with every camera)."""

    search: LyingSearch
    detector: ObjectDetector
    pose: PoseEstimator | None = None
    fall: ObjectDetector | None = None

    @classmethod
    def for_rules(
        cls,
        rules: RuleEngine,
        detector: ObjectDetector,
        pose: PoseEstimator | None = None,
        fall: ObjectDetector | None = None,
    ) -> LyingSearchRunner | None:
        """The runner a camera's ``person_down.search`` options ask for, if any."""
        for rule in rules.rules:
            if isinstance(rule, PersonDownRule):
                settings = SearchSettings.from_options(rule.search_options)
                if not settings.enabled:
                    return None
                search = LyingSearch(
                    settings,
                    model_side=min(detector.entry.input_size),
                    has_pose_model=pose is not None,
                    has_fall_model=fall is not None,
                )
                return cls(search, detector, pose, fall)
        return None

    def run(
        self, image: NDArray[np.uint8], timestamp: float, detections: list[Detection]
    ) -> list[Detection]:
        """This frame's views on the calling thread; ``detections`` with the held people."""
        for planned in self._plan(image, timestamp, saturated=False):
            pixels = planned_pixels(planned, image)
            if planned.model == "pose":
                self.search.absorb_poses(planned, self._pose().estimate(pixels), timestamp)
                continue
            model, floor = self._detector(planned)
            found = model.detect(pixels, score_floor=floor)
            self._absorb(planned, found, detections, timestamp)
        return self.search.people(detections, timestamp)

    async def run_async(
        self, image: NDArray[np.uint8], timestamp: float, detections: list[Detection]
    ) -> list[Detection]:
        """:meth:`run` through the shared async queues, yielding when they are full."""
        saturated = self.detector.runner.saturated()
        for planned in self._plan(image, timestamp, saturated=saturated):
            pixels = planned_pixels(planned, image)
            if planned.model == "pose":
                poses = await self._pose().estimate_async(pixels)
                self.search.absorb_poses(planned, poses, timestamp)
                continue
            model, floor = self._detector(planned)
            found = await model.detect_async(pixels, score_floor=floor)
            self._absorb(planned, found, detections, timestamp)
        return self.search.people(detections, timestamp)

    def _plan(
        self, image: NDArray[np.uint8], timestamp: float, *, saturated: bool
    ) -> list[PlannedView]:
        size = (int(image.shape[1]), int(image.shape[0]))
        return self.search.plan(timestamp, size, saturated=saturated)

    def _pose(self) -> PoseEstimator:
        assert self.pose is not None, "pose checks are planned only with a pose model"
        return self.pose

    def _detector(self, planned: PlannedView) -> tuple[ObjectDetector, float | None]:
        """The model of a detector or fall-model view, and its score floor."""
        if planned.model == "fall":
            assert self.fall is not None, "fall views are planned only with a fall model"
            return self.fall, None
        return self.detector, planned.score_floor

    def _absorb(
        self,
        planned: PlannedView,
        found: Sequence[Detection],
        upright: Sequence[Detection],
        timestamp: float,
    ) -> None:
        in_frame = planned.view.to_frame(list(found)) if planned.view is not None else found
        self.search.absorb(planned, in_frame, upright, timestamp)


def planned_pixels(planned: PlannedView, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The pixels a planned view looks at: its turned region, or the frame as it is."""
    return planned.view.render(image) if planned.view is not None else image
