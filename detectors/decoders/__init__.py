"""Pure-numpy decoders that turn raw model outputs into detections and poses.

Nothing here imports OpenVINO: decoders take the output tensors as numpy arrays, so they
are tested exactly on synthetic tensors and reused by any runtime. Detection decoders
return :class:`RawDetections` in model-input pixels, before NMS; the caller runs
:func:`class_aware_nms` and :func:`to_detections` with the frame's :class:`Letterbox`.

Note: the function :func:`letterbox` shadows the submodule of the same name as a package
attribute; import the module's contents with ``from detectors.decoders.letterbox import``.
"""

from detectors.decoders.labels import COCO80_LABELS, labels_coco80
from detectors.decoders.letterbox import Letterbox, letterbox
from detectors.decoders.movenet import decode_movenet
from detectors.decoders.nanodet import decode_nanodet
from detectors.decoders.nms import box_iou, class_aware_nms, nms
from detectors.decoders.raw import RawDetections, to_detections
from detectors.decoders.ssd import decode_ssd
from detectors.decoders.yolo import decode_yolo, decode_yolov5, decode_yolov8

__all__ = [
    "COCO80_LABELS",
    "Letterbox",
    "RawDetections",
    "box_iou",
    "class_aware_nms",
    "decode_movenet",
    "decode_nanodet",
    "decode_ssd",
    "decode_yolo",
    "decode_yolov5",
    "decode_yolov8",
    "labels_coco80",
    "letterbox",
    "nms",
    "to_detections",
]
