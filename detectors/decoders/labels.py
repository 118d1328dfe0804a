"""Class names of the label sets that the built-in model decoders default to."""

from __future__ import annotations

COCO80_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)  # fmt: skip
"""The 80 COCO detection classes in the contiguous order NanoDet and YOLO models use.

Class id ``i`` of those models is ``COCO80_LABELS[i]``; the names follow the spelling of
the Ultralytics dataset file (``motorcycle``, ``couch``, ``tv``) so that user YOLO models
trained on COCO share the same names, which the rules match on (``person``, ``knife``).
"""


def labels_coco80() -> tuple[str, ...]:
    """Return the COCO-80 class names, index = class id of NanoDet/YOLO COCO models."""
    return COCO80_LABELS
