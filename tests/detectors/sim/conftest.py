"""The simulated-camera fixtures, shared with the ONVIF client's tests that probe it."""

from tests.detectors.onvif.conftest import camera, motion_video, rtsp_camera

__all__ = ["camera", "motion_video", "rtsp_camera"]
