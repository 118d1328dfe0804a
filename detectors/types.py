"""Plain value types shared by decoders, the tracker, rules and outputs.

They are frozen dataclasses of Python floats (not numpy arrays) so they can be hashed,
compared in tests, and serialised to JSON without conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

type BoxXYXY = tuple[float, float, float, float]
"""An axis-aligned box ``(x1, y1, x2, y2)`` in frame pixels."""

type Evidence = tuple[str, ...]
"""How a person was found beyond the upright detector pass, e.g. ``("rotated_sweep",)``.

Empty for the detector's own detections; the lying-person search and the pose fusion name
their method here so the person-down rule can weigh it and the incident log can say which
method raised an alert (docs/pipeline.md)."""

type Keypoint = tuple[float, float, float]
"""A pose keypoint ``(x, y, score)`` in frame pixels."""

COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found by a detector, in frame pixels."""

    label: str
    score: float
    box: BoxXYXY
    class_id: int = -1
    evidence: Evidence = ()

    def to_json(self) -> dict[str, object]:
        """Return the JSON shape used by ``analyze`` and the engine API.

        ``evidence`` appears only when it is not empty, so the shape of ordinary
        detections stays what it always was.
        """
        data: dict[str, object] = {
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 1) for v in self.box],
        }
        if self.evidence:
            data["evidence"] = list(self.evidence)
        return data


@dataclass(frozen=True, slots=True)
class Pose:
    """One person's 17 COCO keypoints from the pose model, in frame pixels."""

    keypoints: tuple[Keypoint, ...]
    score: float
    box: BoxXYXY

    def keypoint(self, name: str) -> Keypoint:
        """Return the keypoint called ``name`` (one of :data:`COCO_KEYPOINTS`)."""
        return self.keypoints[COCO_KEYPOINTS.index(name)]

    def to_json(self) -> dict[str, object]:
        """Return the JSON shape used by ``analyze`` and the engine API."""
        return {
            "score": round(self.score, 4),
            "box": [round(v, 1) for v in self.box],
            "keypoints": {
                name: [round(x, 1), round(y, 1), round(s, 3)]
                for name, (x, y, s) in zip(COCO_KEYPOINTS, self.keypoints, strict=True)
            },
        }


@dataclass(frozen=True, slots=True)
class Track:
    """An object followed across frames by the tracker.

    ``velocity`` is the box centre's speed in pixels per second; times are the frame
    clock in seconds (wall-clock capture time for cameras, media time for files).
    """

    track_id: int
    label: str
    score: float
    box: BoxXYXY
    first_seen: float
    last_seen: float
    hits: int = 1
    velocity: tuple[float, float] = (0.0, 0.0)
    pose: Pose | None = None
    evidence: Evidence = ()
    """The evidence of the detection matched in this frame (see :data:`Evidence`)."""


@dataclass(frozen=True, slots=True)
class FrameQuality:
    """Cheap image statistics that the tamper rule reads.

    ``brightness`` is the mean grey level (0-255), ``sharpness`` the variance of the
    Laplacian, and ``view_shift`` how far (0-1) the current view differs from the camera's
    learned reference view.
    """

    brightness: float
    sharpness: float
    view_shift: float = 0.0


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    """Everything the rules see about one analysed frame of one camera."""

    camera_id: str
    timestamp: float
    frame_size: tuple[int, int]
    detections: tuple[Detection, ...] = ()
    poses: tuple[Pose, ...] = ()
    tracks: tuple[Track, ...] = ()
    quality: FrameQuality | None = None
    stream_ok: bool = True
    drill: bool = False
    extra: dict[str, object] = field(default_factory=dict)
