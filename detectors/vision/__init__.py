"""Vision models: preprocessing, an OpenVINO runner and a pure-numpy decoder, put together.

The split follows OpenVINO's model_api: the runtime knows nothing of images, the decoders
know nothing of OpenVINO, and these classes own only the glue (geometry and tensors).
"""

from detectors.vision.detector import ObjectDetector
from detectors.vision.fight import FightClassifier
from detectors.vision.loader import (
    load_detector,
    load_fight_classifier,
    load_optional_fight_classifier,
    load_pose_estimator,
)
from detectors.vision.pose import PoseEstimator

__all__ = [
    "FightClassifier",
    "ObjectDetector",
    "PoseEstimator",
    "load_detector",
    "load_fight_classifier",
    "load_optional_fight_classifier",
    "load_pose_estimator",
]
