"""Footage encoded once, like a camera's encoder would, for the RTSP server to serve as is.

A real camera sends H.264 or H.265 with short, regular groups of pictures and no
B-frames. The simulator and ``bench --capacity`` must send the same, and must not spend
the machine's two cores re-encoding while they measure the engine, so the footage is
encoded once with Debian's ``ffmpeg`` (libx264 / libx265) and cached: the file name
carries every encoding parameter and a key of the source file, so a changed source or
setting makes a new file and an unchanged one is reused across runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from detectors.artifacts.files import cache_root
from detectors.errors import MediaError

type Codec = Literal["h264", "h265"]
CODECS: tuple[Codec, ...] = ("h264", "h265")
CACHE_ENV = "SCHOOL_GUARD_SIM_CACHE"
ENCODE_TIMEOUT_S = 900.0


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """How to encode: codec, picture size, frame rate, GOP length, clip length."""

    codec: Codec = "h264"
    width: int = 640
    height: int = 480
    fps: float = 15.0
    gop_seconds: float = 1.0
    seconds: float | None = None
    """Only the first ``seconds`` of the source (None: all of it)."""
    start_seconds: float = 0.0

    def __post_init__(self) -> None:
        """Refuse settings no camera would use, before ffmpeg is started."""
        if self.codec not in CODECS:
            raise MediaError(f"codec must be one of {', '.join(CODECS)}, got {self.codec!r}")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise MediaError(f"picture size must be even and >= 16, got {self.width}x{self.height}")
        if not 1.0 <= self.fps <= 60.0:
            raise MediaError(f"fps must be within 1-60, got {self.fps}")
        if self.seconds is not None and self.seconds <= 0:
            raise MediaError(f"seconds must be positive, got {self.seconds}")

    @property
    def gop(self) -> int:
        """Frames per group of pictures (one key frame each)."""
        return max(1, round(self.fps * self.gop_seconds))

    def label(self) -> str:
        """The part of the cache file name that names these settings."""
        clip = "all" if self.seconds is None else f"{self.start_seconds:g}+{self.seconds:g}s"
        return f"{self.codec}-{self.width}x{self.height}-{self.fps:g}fps-g{self.gop}-{clip}"


def default_cache_dir() -> Path:
    """``$SCHOOL_GUARD_SIM_CACHE``, else ``~/.cache/school-guard/sim`` (the one cache root)."""
    if env := os.environ.get(CACHE_ENV):
        return Path(env)
    return cache_root() / "sim"


def ffmpeg_binary() -> str:
    """Debian's ``ffmpeg``, or a clear error saying how to get it."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise MediaError("ffmpeg is not installed: run scripts/setup (Debian package ffmpeg)")
    return found


def _source_key(source: Path) -> str:
    """A key that changes when the source file does (path, size, modification time)."""
    stat = source.stat()
    text = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _codec_arguments(spec: StreamSpec) -> list[str]:
    if spec.codec == "h264":
        return [
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main",
            "-g", str(spec.gop), "-keyint_min", str(spec.gop), "-sc_threshold", "0", "-bf", "0",
        ]  # fmt: skip
    params = f"keyint={spec.gop}:min-keyint={spec.gop}:bframes=0:scenecut=0:log-level=error"
    return ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", params, "-tag:v", "hvc1"]


def encode(
    source: Path,
    spec: StreamSpec,
    *,
    container: Literal["mp4", "ts"] = "mp4",
    cache_dir: Path | None = None,
) -> Path:
    """Encode ``source`` as ``spec`` says (once; later calls return the cached file).

    The picture is scaled to the requested size as a camera's encoder does for each of its
    profiles; the frame rate is converted by dropping or repeating frames.
    """
    if not source.is_file():
        raise MediaError(f"video not found: {source}")
    folder = cache_dir or default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{source.stem}-{_source_key(source)}-{spec.label()}.{container}"
    if target.is_file():
        return target
    command = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    if spec.start_seconds:
        command += ["-ss", f"{spec.start_seconds:g}"]
    command += ["-i", str(source)]
    if spec.seconds is not None:
        command += ["-t", f"{spec.seconds:g}"]
    command += ["-an", "-vf", f"fps={spec.fps:g},scale={spec.width}:{spec.height}"]
    command += [*_codec_arguments(spec), "-pix_fmt", "yuv420p"]
    if container == "mp4":
        command += ["-movflags", "+faststart"]
    _run_to(command, target, container)
    return target


def concatenate(parts: list[Path], *, cache_dir: Path | None = None) -> Path:
    """Join MPEG-TS parts into one MP4, timestamps continuous (no re-encoding).

    Used for a stream whose picture size changes mid-way, as a camera's does when
    someone changes its resolution while clients are connected: each part carries its
    own parameter sets in band, so decoders see the change. The parts are MPEG-TS
    because that keeps the parameter sets in band; the result is MP4 because GStreamer
    loops an MP4 with a segment seek (its MPEG-TS demuxer does not).
    """
    if not parts or any(part.suffix != ".ts" for part in parts):
        raise MediaError("concatenate takes one or more .ts files")
    folder = cache_dir or default_cache_dir()
    key = hashlib.sha256("|".join(p.name for p in parts).encode()).hexdigest()[:12]
    target = folder / f"joined-{key}.mp4"
    if target.is_file():
        return target
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=folder, delete=False) as listing:
        for part in parts:
            quoted = str(part.resolve()).replace("'", r"'\''")
            listing.write(f"file '{quoted}'\n")
    try:
        command = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
        command += ["-f", "concat", "-safe", "0", "-i", listing.name, "-c", "copy"]
        _run_to([*command, "-movflags", "+faststart"], target, "mp4")
    finally:
        Path(listing.name).unlink(missing_ok=True)
    return target


def _run_to(command: list[str], target: Path, container: str) -> None:
    """Run ffmpeg into a temporary file beside ``target``, then rename it into place.

    Two processes encoding the same file at once (parallel tests) each write their own
    temporary file; whichever renames last wins, and both results are identical.
    """
    fd, partial_name = tempfile.mkstemp(suffix=f".{container}", dir=target.parent)
    os.close(fd)
    partial = Path(partial_name)
    try:
        done = subprocess.run(
            [*command, "-f", "mpegts" if container == "ts" else container, str(partial)],
            capture_output=True,
            text=True,
            timeout=ENCODE_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or partial.stat().st_size == 0:
            raise MediaError(f"ffmpeg could not encode {target.name}: {done.stderr.strip()[-500:]}")
        partial.replace(target)
    except subprocess.TimeoutExpired:
        raise MediaError(
            f"ffmpeg took over {ENCODE_TIMEOUT_S:g} s to encode {target.name}"
        ) from None
    finally:
        partial.unlink(missing_ok=True)
