"""Options for simulated cameras in tests: a short loop, encoded once per machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIM_MEDIA = ROOT / ".cache" / "sim-media"

RTSP_SIM: dict[str, Any] = {"stream": "rtsp", "clip_seconds": 4.0, "media_cache": SIM_MEDIA}
"""A camera that streams RTSP (main 1920x1080, sub 640x480) from a 4 s loop."""
MJPEG_SIM: dict[str, Any] = {"stream": "mjpeg"}
"""A camera that streams MJPEG over HTTP (for tests of ONVIF, events or MJPEG itself)."""
