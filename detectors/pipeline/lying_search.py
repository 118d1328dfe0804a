"""The lying-person search: people on the floor that upright-trained models do not see.

NanoDet and MoveNet were trained on upright people. At CCTV scale they find nobody lying
on the floor (issue 13: 0 detections in 300 frames of a person lying on vtest's lawn), and
a person on the floor is the medical case. The search finds them with three methods,
measured on composited footage (docs/pipeline.md has the figures):

* **Rotated sweep** (``rotated_sweep``): now and then the detector runs on a full-height
  strip of the frame turned 90° or 270° (``turned.sweep_tiles``: both turns of each strip
  in turn), where a lying person is an upright one. A person found only there, with a box
  wider than tall in the frame, is a *candidate*; weaker hits (0.25-0.4) are *proposals*,
  checked again on a square around them at about the model's input size, turned the same
  way.
* **Fall transition** (``fall_transition``): an upright person track whose box widened
  and which then vanished inside the view (the detector loses people as they go down)
  proposes a check of both turns around where its feet were, at once.
* **Fall model** (``fall_model``, opt-in): a dedicated model's "fall" boxes confirm a
  candidate (a second opinion that raises its score) or propose a check; they never make a
  candidate on their own, because the model also calls a yellow jacket on a lawn "fall"
  at up to 0.53 (vtest, f32).

Each new candidate gets one pose check on its turned view, which vetoes someone bending
over. Candidates are held between checks (``HOLD_SECONDS``) and re-checked every
``RECHECK_SECONDS``, so the tracker keeps one track and the person-down rule can time it.

Budget (``search_budget.SearchBudget``): a share of what the camera gets from the device,
a still-scene floor, and yielding to the cameras when the device is saturated; the fall
transitions are watched by ``fall_watch.FallWatch``. Everything is counted in
:class:`SearchStats`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from detectors.geometry import box_iou
from detectors.pipeline.fall_watch import FallWatch
from detectors.pipeline.search_budget import SearchBudget
from detectors.pipeline.turned import TURNS, Turn, TurnedView, square_region, sweep_tiles
from detectors.rules.person_down import FALL_MODEL, FALL_TRANSITION, ROTATED_SWEEP, SEARCH_METHODS
from detectors.types import BoxXYXY, Detection, Evidence, Pose, Track

PERSON: Final = "person"
FALL_LABEL: Final = "fall"
"""The class a fall model calls a person on the floor (its other class is "normal")."""

METHODS: Final = SEARCH_METHODS
URGENT: Final = frozenset({FALL_TRANSITION, FALL_MODEL})
"""Proposals with this evidence are checked before others and before the next sweep."""

PROPOSAL_SCORE = 0.25
"""A whole-frame turned hit this strong is checked again on a closer view (measured: it
doubles how often a 110 px long person is found, at about one false proposal per 150
views on vtest, none of which survived its check)."""
CANDIDATE_SCORE = 0.4
"""The detector's own floor: a turned hit this strong is a candidate."""
UPRIGHT_IOU = 0.3
"""A hit over a tall upright person box is that person, seen upright already."""
SAME_IOU = 0.3
"""Two boxes this much overlapping are the same lying person."""
DUPLICATE_IOU = 0.5
"""An upright-pass person box this much over a candidate is the candidate seen weakly."""
HOLD_SECONDS = 4.5
"""A candidate not seen again for this long is dropped (covers one missed re-check)."""
RECHECK_SECONDS = 2.0
OVERDUE_SECONDS = 3.0
"""A held candidate not seen for this long is re-checked before any sweep (it is dropped at
``HOLD_SECONDS``); sooner, re-checks take turns with sweeps so new people are found too."""
REFUTED_SECONDS = 30.0
"""A proposal whose checks found nobody is not proposed again there for this long."""
MAX_PROPOSALS = 8
POSE_KEYPOINT_SCORE = 0.25
POSE_TORSO_DEGREES = 35.0
POSE_LEG_DEGREES = 50.0
"""Limits of an upright body in a turned view (see :func:`upright_in_view`)."""


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """The ``person_down.search`` options of one camera (docs/configuration.md)."""

    enabled: bool = True
    interval_seconds: float = 0.5
    budget: float = 0.25
    still_interval_seconds: float = 4.0
    fall_model_seconds: float = 2.0
    methods: frozenset[str] = frozenset(METHODS)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SearchSettings:
        """Build from the validated rule options (``PersonDownRule.CONFIG_SCHEMA``)."""
        return cls(
            enabled=bool(options["enabled"]),
            interval_seconds=float(options["interval_seconds"]),
            budget=float(options["budget"]),
            still_interval_seconds=float(options["still_interval_seconds"]),
            fall_model_seconds=float(options["fall_model_seconds"]),
            methods=frozenset(options["methods"]),
        )


type ViewReason = Literal["sweep", "recheck", "proposal", "pose_check", "fall_model"]


@dataclass(slots=True)
class _Candidate:
    """A person probably lying, held between checks (internal)."""

    box: BoxXYXY
    score: float
    view: TurnedView
    """The view that last found them: a re-check runs it again (a person lying still is
    found by the same view again; a closer square can score them lower)."""
    wide_view: bool
    evidence: set[str]
    last_seen: float
    last_checked: float
    fall_score: float = 0.0
    fall_seen: float = float("-inf")
    pose_checked: bool = False

    def as_person(self, timestamp: float, fresh_seconds: float) -> Detection:
        """The candidate as a person detection, its score raised by a recent fall-model hit."""
        score = self.score
        if timestamp - self.fall_seen <= fresh_seconds:
            score = second_opinion(self.score, self.fall_score)
        return Detection(PERSON, score, self.box, evidence=tuple(sorted(self.evidence)))


class _RefutedPlaces:
    """Where a check found nobody lying or a pose vetoed someone: not proposed again soon."""

    def __init__(self) -> None:
        self._places: list[tuple[BoxXYXY, float]] = []

    def __iter__(self) -> Iterator[tuple[BoxXYXY, float]]:
        """Each refuted place and when it was refuted."""
        return iter(self._places)

    def add(self, box: BoxXYXY, timestamp: float) -> None:
        self._places.append((box, timestamp))

    def covers(self, box: BoxXYXY, timestamp: float) -> bool:
        """Whether ``box`` is on a place refuted within ``REFUTED_SECONDS``."""
        self._places = [r for r in self._places if timestamp - r[1] < REFUTED_SECONDS]
        return any(box_iou(box, place) >= SAME_IOU for place, _ in self._places)


@dataclass(slots=True)
class _Proposal:
    """A place to check with a closer turned view (internal)."""

    box: BoxXYXY
    turns: list[Turn]
    evidence: set[str]
    confirmed: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class PlannedView:
    """One inference the search wants on this frame.

    ``model`` is which model runs it; ``view`` is the turned region for the detector or
    the pose check, or ``None`` for the fall model, which sees the whole frame as it is.
    ``wide_view`` marks a sweep strip (much larger than a person), which keeps weaker hits
    as proposals; ``proposal`` and ``candidate`` are what the view checks, if anything.
    """

    model: Literal["detector", "pose", "fall"]
    reason: ViewReason
    view: TurnedView | None = None
    evidence: Evidence = ()
    proposal: _Proposal | None = None
    candidate: _Candidate | None = None
    wide_view: bool = False

    @property
    def score_floor(self) -> float:
        """Weakest hit the view keeps: a sweep strip keeps proposals, a closer view not."""
        return PROPOSAL_SCORE if self.wide_view else CANDIDATE_SCORE


@dataclass(slots=True)
class SearchStats:
    """What the search has cost so far: views run, by reason."""

    yielded: int = 0
    """Frames on which a view was due but the device was saturated (see ``plan``)."""
    views: dict[str, int] = field(
        default_factory=lambda: {
            "sweep": 0,
            "recheck": 0,
            "proposal": 0,
            "pose_check": 0,
            "fall_model": 0,
        }
    )
    frames: int = 0

    @property
    def inferences(self) -> int:
        """Extra inferences the search has run (every view is one)."""
        return sum(self.views.values())

    def to_json(self) -> dict[str, object]:
        """The shape reported by ``bench --pipeline`` and the camera's stats."""
        return {
            "frames": self.frames,
            "inferences": self.inferences,
            "yielded": self.yielded,
            "views": dict(self.views),
        }


def _wide(box: BoxXYXY) -> bool:
    return box[2] - box[0] > box[3] - box[1]


def _mean_point(pose: Pose, names: tuple[str, str]) -> tuple[float, float] | None:
    points = [pose.keypoint(n) for n in names if pose.keypoint(n)[2] >= POSE_KEYPOINT_SCORE]
    if not points:
        return None
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _degrees_from_down(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Angle between the vector ``start -> end`` and straight down the image."""
    return math.degrees(math.atan2(abs(end[0] - start[0]), end[1] - start[1]))


def upright_in_view(pose: Pose) -> bool | None:
    """Whether a pose found in a turned view stands upright there, i.e. lies in the frame.

    Upright means shoulders above hips with the torso within ``POSE_TORSO_DEGREES`` of
    vertical, and, when the knees are seen, thighs continuing downwards within
    ``POSE_LEG_DEGREES``. A person bending over shows a torso that the turn makes upright
    but legs that then point sideways (measured on the composited bending person: thighs
    120 degrees off). ``None`` when the shoulders or hips are not seen: no verdict.
    """
    shoulders = _mean_point(pose, ("left_shoulder", "right_shoulder"))
    hips = _mean_point(pose, ("left_hip", "right_hip"))
    if shoulders is None or hips is None:
        return None
    if _degrees_from_down(shoulders, hips) > POSE_TORSO_DEGREES:
        return False
    knees = _mean_point(pose, ("left_knee", "right_knee"))
    return knees is None or _degrees_from_down(hips, knees) <= POSE_LEG_DEGREES


def second_opinion(score: float, fall_score: float) -> float:
    """Two independent methods agreeing: ``1 - (1 - a)(1 - b)``."""
    return 1.0 - (1.0 - score) * (1.0 - fall_score)


class LyingSearch:
    """One camera's lying-person search: plans views, absorbs what they find, holds candidates.

    The caller (``FrameProcessor``) runs the planned views through the models, because it
    owns the sync and async inference paths; this class owns only decisions and state.
    """

    def __init__(
        self,
        settings: SearchSettings,
        *,
        model_side: int,
        has_pose_model: bool = False,
        has_fall_model: bool = False,
    ) -> None:
        """``model_side`` is the detector's input side: closer views are at least that big.

        With a pose model, every new candidate gets one pose check on its turned view,
        which can veto it (:func:`upright_in_view`).
        """
        self.settings = settings
        self.model_side = model_side
        self.use_pose = has_pose_model
        self.use_fall_model = has_fall_model and FALL_MODEL in settings.methods
        self.stats = SearchStats()
        self._candidates: list[_Candidate] = []
        self._proposals: list[_Proposal] = []
        self._refuted = _RefutedPlaces()
        self._falls = FallWatch()
        self._budget = SearchBudget(
            settings.interval_seconds,
            settings.still_interval_seconds,
            settings.budget,
            settings.fall_model_seconds,
        )
        self._sweeps = 0
        self._checked_last = False

    # -- planning ------------------------------------------------------------------------

    def plan(
        self, timestamp: float, frame_size: tuple[int, int], *, saturated: bool = False
    ) -> list[PlannedView]:
        """The views to run on this analysed frame (often none), within the budget.

        ``saturated`` says every infer request of the device is busy now: the cameras' own
        frames are queueing. While that holds for a good share of recent frames
        (``search_budget.BUSY_YIELD``) the search yields: only urgent checks (someone may just have
        fallen, a new candidate's pose check) and the still-scene floor run, so on a loaded
        engine it takes one view per ``still_interval_seconds`` at most, not its budget,
        from the capacity the cameras need.
        """
        self.stats.frames += 1
        budget = self._budget
        budget.tick(timestamp, saturated)
        planned: list[PlannedView] = []
        floor, due = budget.floor(timestamp), budget.due(timestamp)
        if due and budget.saturated and not floor and not self._urgent(timestamp):
            self.stats.yielded += 1
        elif due or floor:
            view = self._next_view(timestamp, frame_size)
            if view is not None:
                planned.append(view)
                budget.spend(timestamp)
        if self.use_fall_model and budget.take_fall_model(timestamp):
            planned.append(PlannedView("fall", "fall_model"))
        for view in planned:
            self.stats.views[view.reason] += 1
        return planned

    def _next_view(self, timestamp: float, frame_size: tuple[int, int]) -> PlannedView | None:
        """Checks (proposals, then re-checks) and sweeps take turns when both are waiting.

        Alternating keeps a scene full of lost tracks or candidates from starving the
        sweeps that find people already lying (and the other way round).
        """
        sweeping = ROTATED_SWEEP in self.settings.methods
        check = None
        if not (sweeping and self._checked_last) or self._urgent(timestamp):
            check = self._next_check(timestamp, frame_size)
        if check is not None or not sweeping:
            self._checked_last = check is not None
            return check
        self._checked_last = False
        views = [TurnedView(turn, tile) for tile in sweep_tiles(frame_size) for turn in TURNS]
        # Both turns of a strip one after the other, then the next strip: a person lying
        # either way in the first strip is found within two views.
        view = views[self._sweeps % len(views)]
        self._sweeps += 1
        return PlannedView("detector", "sweep", view, wide_view=True)

    def _urgent(self, timestamp: float) -> bool:
        """Checks that wait for no sweep, and run on a busy device too.

        A new candidate's pose check, a re-check of someone held and not seen for
        ``OVERDUE_SECONDS`` (dropping them would restart their clock), and a check where
        someone may just have fallen.
        """
        return (
            any(not c.pose_checked for c in self._candidates)
            or any(
                timestamp - c.last_seen >= OVERDUE_SECONDS for c in self._due_rechecks(timestamp)
            )
            or any(p.evidence & URGENT for p in self._proposals)
        )

    def _due_rechecks(self, timestamp: float) -> list[_Candidate]:
        """Held people due for a re-check: every ``RECHECK_SECONDS``, sooner once overdue."""
        return [
            c
            for c in self._candidates
            if timestamp - c.last_checked >= RECHECK_SECONDS
            or (
                timestamp - c.last_seen >= OVERDUE_SECONDS
                and timestamp - c.last_checked >= self.settings.interval_seconds
            )
        ]

    def _next_check(self, timestamp: float, frame_size: tuple[int, int]) -> PlannedView | None:
        """Pose checks, then urgent proposals, then re-checks, then weak sweep hits."""
        unchecked = [c for c in self._candidates if not c.pose_checked]
        if unchecked:
            candidate = unchecked[0]
            candidate.pose_checked = True
            region = square_region(candidate.box, frame_size, self.model_side)
            view = TurnedView(candidate.view.turn, region)
            return PlannedView("pose", "pose_check", view, candidate=candidate)
        urgent = [p for p in self._proposals if p.evidence & URGENT]
        if urgent:
            return self._proposal_view(urgent[0], frame_size)
        due = self._due_rechecks(timestamp)
        if due:
            oldest = min(due, key=lambda c: c.last_checked)
            oldest.last_checked = timestamp
            return PlannedView("detector", "recheck", oldest.view, wide_view=oldest.wide_view)
        if self._proposals:
            return self._proposal_view(self._proposals[0], frame_size)
        return None

    def _proposal_view(self, proposal: _Proposal, frame_size: tuple[int, int]) -> PlannedView:
        turn = proposal.turns.pop(0)
        if not proposal.turns:
            self._proposals.remove(proposal)
        region = square_region(proposal.box, frame_size, self.model_side)
        return PlannedView(
            "detector",
            "proposal",
            TurnedView(turn, region),
            tuple(sorted(proposal.evidence)),
            proposal=proposal,
        )

    # -- absorbing results ---------------------------------------------------------------

    def absorb(
        self,
        planned: PlannedView,
        found: Sequence[Detection],
        upright: Sequence[Detection],
        timestamp: float,
    ) -> None:
        """Take in what a planned view found (``found`` already in frame pixels).

        ``upright`` are the detector's own detections of this frame (before the search
        added anything): a hit over a tall person box among them is that person.
        """
        standing = [d.box for d in upright if d.label == PERSON and not _wide(d.box)]
        if planned.model == "fall":
            self._absorb_fall(found, standing, timestamp)
            return
        assert planned.view is not None
        hits = [
            d
            for d in found
            if d.label == PERSON
            and d.score >= planned.score_floor
            and _wide(d.box)
            and not any(box_iou(d.box, box) >= UPRIGHT_IOU for box in standing)
            and not self._refuted.covers(d.box, timestamp)
        ]
        for hit in hits:
            candidate = self._match(hit.box)
            if candidate is None and hit.score < CANDIDATE_SCORE:
                self._propose(hit.box, [planned.view.turn], set(planned.evidence), timestamp)
                continue
            if candidate is None:
                # What proposed the check (a lost track, the fall model) found this person;
                # a check that merely sees someone already held adds nothing to their story.
                evidence = {ROTATED_SWEEP, *planned.evidence}
                candidate = _Candidate(
                    hit.box,
                    hit.score,
                    planned.view,
                    planned.wide_view,
                    evidence,
                    timestamp,
                    timestamp,
                    pose_checked=not self.use_pose,
                )
                self._candidates.append(candidate)
            candidate.box, candidate.score = hit.box, hit.score
            candidate.view, candidate.wide_view = planned.view, planned.wide_view
            candidate.last_seen = candidate.last_checked = timestamp
            if planned.proposal is not None:
                planned.proposal.confirmed = True
        proposal = planned.proposal
        if proposal is None:
            return
        if proposal.confirmed:
            # Someone lying was found where it proposed: the other turn is not needed.
            if proposal in self._proposals:
                self._proposals.remove(proposal)
        elif proposal not in self._proposals:
            self._refuted.add(proposal.box, timestamp)

    def absorb_poses(self, planned: PlannedView, poses: Sequence[Pose], timestamp: float) -> None:
        """Take in a pose check: poses found in the turned view, in *view* pixels.

        A clear pose that does not stand upright in the turned view vetoes the candidate
        (someone bending or sitting whose upper body the turn made look upright), and the
        place is not proposed again for ``REFUTED_SECONDS``. No pose, or one too faint to
        judge, leaves the candidate to the detector's word.
        """
        candidate, view = planned.candidate, planned.view
        if candidate is None or view is None or candidate not in self._candidates:
            return
        best = max(
            (p for p in poses if box_iou(view.box_to_frame(p.box), candidate.box) >= SAME_IOU),
            key=lambda p: p.score,
            default=None,
        )
        if best is not None and upright_in_view(best) is False:
            self._candidates.remove(candidate)
            self._refuted.add(candidate.box, timestamp)

    def _absorb_fall(
        self, found: Sequence[Detection], standing: Sequence[BoxXYXY], timestamp: float
    ) -> None:
        """A fall model's "fall" boxes: a second opinion on candidates, or proposals."""
        for hit in found:
            if hit.label != FALL_LABEL or hit.score < CANDIDATE_SCORE or not _wide(hit.box):
                continue
            candidate = self._match(hit.box)
            if candidate is not None:
                candidate.fall_score, candidate.fall_seen = hit.score, timestamp
                candidate.evidence.add(FALL_MODEL)
            elif not any(box_iou(hit.box, box) >= UPRIGHT_IOU for box in standing):
                self._propose(hit.box, list(TURNS), {FALL_MODEL}, timestamp)

    def _match(self, box: BoxXYXY) -> _Candidate | None:
        best = max(self._candidates, key=lambda c: box_iou(c.box, box), default=None)
        return best if best is not None and box_iou(best.box, box) >= SAME_IOU else None

    def _propose(
        self, box: BoxXYXY, turns: list[Turn], evidence: set[str], timestamp: float
    ) -> None:
        if self._refuted.covers(box, timestamp):
            return
        for proposal in self._proposals:
            if box_iou(box, proposal.box) >= SAME_IOU:
                proposal.turns += [t for t in turns if t not in proposal.turns]
                proposal.evidence |= evidence
                return
        if len(self._proposals) < MAX_PROPOSALS:
            self._proposals.append(_Proposal(box, list(turns), set(evidence)))

    # -- tracks, candidates, attention ---------------------------------------------------

    def note_tracks(
        self, tracks: Sequence[Track], timestamp: float, frame_size: tuple[int, int]
    ) -> None:
        """Propose a check where an upright person track was lost inside the view."""
        if FALL_TRANSITION not in self.settings.methods:
            return
        for feet in self._falls.lost_going_down(tracks, timestamp, frame_size):
            self._propose(feet, list(TURNS), {FALL_TRANSITION}, timestamp)

    def people(self, detections: Sequence[Detection], timestamp: float) -> list[Detection]:
        """``detections`` with the held candidates added as people (and their duplicates gone).

        An upright-pass person box over a candidate is the same person seen weakly (a wide
        box at a low score); the candidate, which knows the person is lying, replaces it.
        """
        self._candidates = [c for c in self._candidates if timestamp - c.last_seen <= HOLD_SECONDS]
        if not self._candidates:
            return list(detections)
        fresh = 2.0 * self.settings.fall_model_seconds
        lying = [c.as_person(timestamp, fresh) for c in self._candidates]
        kept = [
            d
            for d in detections
            if d.label != PERSON or not any(box_iou(d.box, c.box) >= DUPLICATE_IOU for c in lying)
        ]
        return kept + lying

    def watching(self) -> bool:
        """Whether every frame should be analysed: someone may be lying, or a check is due.

        The motion gate passes a still scene's frames only every 2 s, which is too sparse
        for the tracker to keep a still person's track and for K-of-M confirmation.
        """
        return bool(self._candidates or self._proposals)
