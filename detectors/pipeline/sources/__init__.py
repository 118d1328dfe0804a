"""Frame sources: files, RTSP, HTTP MJPEG and snapshot polling."""

from detectors.pipeline.sources.base import (
    AsyncSource,
    BlockingSource,
    Frame,
    FrameSource,
    Image,
    OfflineReason,
    SourceOfflineError,
    decode_jpeg,
    redact_url,
)
from detectors.pipeline.sources.files import FileSource
from detectors.pipeline.sources.mjpeg import MjpegSource, MultipartJpegParser
from detectors.pipeline.sources.rtsp import RtspSource
from detectors.pipeline.sources.snapshot import SnapshotSource

__all__ = [
    "AsyncSource",
    "BlockingSource",
    "FileSource",
    "Frame",
    "FrameSource",
    "Image",
    "MjpegSource",
    "MultipartJpegParser",
    "OfflineReason",
    "RtspSource",
    "SnapshotSource",
    "SourceOfflineError",
    "decode_jpeg",
    "redact_url",
]
