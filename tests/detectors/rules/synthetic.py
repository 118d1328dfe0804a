"""Hand-built frames, tracks and poses for rule tests (no model, no video).

Frames are 1000 x 1000 pixels so a pixel coordinate divided by 1000 is the normalised
coordinate zones are drawn in.
"""

from __future__ import annotations

from collections.abc import Sequence

from detectors.types import (
    COCO_KEYPOINTS,
    BoxXYXY,
    Detection,
    FrameAnalysis,
    FrameQuality,
    Keypoint,
    Pose,
    Track,
)

SIZE = (1000, 1000)
CAMERA = "cam-1"


def pose_from(points: dict[str, tuple[float, float]], box: BoxXYXY, score: float = 0.8) -> Pose:
    """A pose with the named keypoints at 0.9 and every other keypoint unseen (0.0)."""
    keypoints: list[Keypoint] = []
    for name in COCO_KEYPOINTS:
        if name in points:
            x, y = points[name]
            keypoints.append((x, y, 0.9))
        else:
            keypoints.append((0.0, 0.0, 0.0))
    return Pose(keypoints=tuple(keypoints), score=score, box=box)


def standing_pose(
    box: BoxXYXY,
    score: float = 0.8,
    wrist_dx: float = 0.0,
    wrist_dy: float = 0.0,
) -> Pose:
    """An upright person filling ``box``; wrists hang at hip height, shifted by ``wrist_d*``."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx = (x1 + x2) / 2
    points = {
        "nose": (cx, y1 + 0.07 * h),
        "left_shoulder": (cx + 0.18 * w, y1 + 0.2 * h),
        "right_shoulder": (cx - 0.18 * w, y1 + 0.2 * h),
        "left_elbow": (cx + 0.25 * w, y1 + 0.35 * h),
        "right_elbow": (cx - 0.25 * w, y1 + 0.35 * h),
        "left_wrist": (cx + 0.28 * w + wrist_dx, y1 + 0.5 * h + wrist_dy),
        "right_wrist": (cx - 0.28 * w - wrist_dx, y1 + 0.5 * h + wrist_dy),
        "left_hip": (cx + 0.12 * w, y1 + 0.52 * h),
        "right_hip": (cx - 0.12 * w, y1 + 0.52 * h),
        "left_knee": (cx + 0.12 * w, y1 + 0.75 * h),
        "right_knee": (cx - 0.12 * w, y1 + 0.75 * h),
        "left_ankle": (cx + 0.12 * w, y2 - 0.02 * h),
        "right_ankle": (cx - 0.12 * w, y2 - 0.02 * h),
    }
    return pose_from(points, box, score)


def lying_pose(box: BoxXYXY, score: float = 0.8) -> Pose:
    """A person lying along the x axis of ``box`` (head on the left)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cy = (y1 + y2) / 2
    points = {
        "nose": (x1 + 0.05 * w, cy),
        "left_shoulder": (x1 + 0.2 * w, cy - 0.2 * h),
        "right_shoulder": (x1 + 0.2 * w, cy + 0.2 * h),
        "left_hip": (x1 + 0.55 * w, cy - 0.15 * h),
        "right_hip": (x1 + 0.55 * w, cy + 0.15 * h),
        "left_ankle": (x2 - 0.02 * w, cy - 0.1 * h),
        "right_ankle": (x2 - 0.02 * w, cy + 0.1 * h),
    }
    return pose_from(points, box, score)


def person(
    track_id: int,
    box: BoxXYXY,
    *,
    score: float = 0.9,
    pose: Pose | None = None,
    first_seen: float = 0.0,
    last_seen: float = 0.0,
    evidence: tuple[str, ...] = (),
) -> Track:
    """A confirmed person track (``evidence``: how the lying search found them)."""
    return Track(
        track_id=track_id,
        label="person",
        score=score,
        box=box,
        first_seen=first_seen,
        last_seen=last_seen,
        hits=5,
        pose=pose,
        evidence=evidence,
    )


def shifted(box: BoxXYXY, dx: float, dy: float = 0.0) -> BoxXYXY:
    """``box`` moved by ``(dx, dy)`` pixels."""
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def frame(
    timestamp: float,
    *,
    tracks: Sequence[Track] = (),
    detections: Sequence[Detection] = (),
    poses: Sequence[Pose] = (),
    quality: FrameQuality | None = None,
    stream_ok: bool = True,
    drill: bool = False,
) -> FrameAnalysis:
    """One analysed frame of :data:`CAMERA`."""
    return FrameAnalysis(
        camera_id=CAMERA,
        timestamp=timestamp,
        frame_size=SIZE,
        detections=tuple(detections),
        poses=tuple(poses),
        tracks=tuple(tracks),
        quality=quality,
        stream_ok=stream_ok,
        drill=drill,
    )
