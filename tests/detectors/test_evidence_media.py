"""Alert clips and keyframe strips from real footage: encoded with PyAV, decoded back."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from detectors.errors import MediaError
from detectors.evidence_media import BoxStep, encode_clip, keyframe_strip
from detectors.media import iter_video
from detectors.pipeline.frame_ring import FrameRing, RingFrame


def _ring(vtest_path: Path, count: int, fps: float = 5.0) -> list[RingFrame]:
    ring = FrameRing(seconds=60.0, max_bytes=100_000_000)
    for index, (frame, _) in enumerate(zip(iter_video(vtest_path), range(count), strict=False)):
        ring.add_image(frame.image, 1_000.0 + index / fps)
    return list(ring)


def test_a_clip_is_h264_with_its_frames_and_its_length(vtest_path: Path) -> None:
    frames = _ring(vtest_path, 50)
    box = (100.0, 100.0, 300.0, 400.0)
    clip = encode_clip(frames, rule="weapon", steps=[BoxStep(1_005.0, (box,))], end=1_010.0)
    assert clip.index(b"moov") < clip.index(b"mdat"), "faststart"
    with av.open(io.BytesIO(clip)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        decoded = [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(10.0, abs=0.3)
    assert len(decoded) == 51, "every frame, and the last one again at the clip's end"
    # The rule's box is drawn from the alert's start on, not in the pre-roll.
    red = np.array([0, 0, 255])

    def red_at_box(image: np.ndarray) -> bool:
        return bool(np.abs(image[250, 100].astype(int) - red).max() < 80)

    assert not red_at_box(decoded[10])
    assert red_at_box(decoded[40])


def test_a_strip_shows_the_confirming_frames_side_by_side(vtest_path: Path) -> None:
    frames = _ring(vtest_path, 3)
    strip = keyframe_strip(
        [(frame, 0.8 + i / 10) for i, frame in enumerate(frames)],
        rule="weapon",
        boxes=[(10.0, 10.0, 60.0, 60.0)],
        tz=dt.UTC,
    )
    image = cv2.imdecode(np.frombuffer(strip, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    assert width == 3 * 480 + 2 * 4
    assert height > 360, "each frame with its caption bar under it"


def test_a_drill_strip_says_drill(vtest_path: Path) -> None:
    frames = _ring(vtest_path, 1)
    strip = keyframe_strip([(frames[0], 1.0)], rule="fight", stamp="DRILL")
    image = cv2.imdecode(np.frombuffer(strip, np.uint8), cv2.IMREAD_COLOR)
    blue, green, red = (int(v) for v in image[3, 3])
    assert red > 200 and 150 < green < 240 and blue < 60


def test_no_frames_is_a_clear_error() -> None:
    with pytest.raises(MediaError, match="at least one frame"):
        encode_clip([], rule="weapon")
    with pytest.raises(MediaError, match="at least one frame"):
        keyframe_strip([], rule="weapon")
    with pytest.raises(MediaError, match="not a decodable JPEG"):
        encode_clip([RingFrame(1.0, b"not a jpeg")], rule="weapon")


PAGE = """<html><body><video id=v src="clip.mp4" muted autoplay playsinline></video>
<pre id=out>pending</pre><script>
const v = document.getElementById('v');
const out = document.getElementById('out');
v.addEventListener('error', () => { out.textContent = 'error ' + (v.error && v.error.code); });
setTimeout(() => {
  out.textContent = 'played ' + v.currentTime + ' ' + v.videoWidth + 'x' + v.videoHeight;
}, 3000);
</script></body></html>"""


def test_a_clip_plays_in_chromium(vtest_path: Path, tmp_path: Path) -> None:
    """The browser a dashboard or the media browser runs in plays the clip (H.264, yuv420p)."""
    chromium = shutil.which("chromium")
    assert chromium is not None, "scripts/setup installs Chromium"
    frames = _ring(vtest_path, 26)
    (tmp_path / "clip.mp4").write_bytes(encode_clip(frames, rule="weapon", end=1_005.0))
    (tmp_path / "page.html").write_text(PAGE)
    result = subprocess.run(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--autoplay-policy=no-user-gesture-required",
            "--allow-file-access-from-files",
            "--virtual-time-budget=6000",
            "--dump-dom",
            (tmp_path / "page.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r"<pre id=\"out\">played ([0-9.]+) (\d+)x(\d+)<", result.stdout)
    assert found is not None, result.stdout[-2000:]
    current, width, height = float(found[1]), int(found[2]), int(found[3])
    assert current > 0, "currentTime advanced: the browser decodes and plays it"
    assert (width, height) == (768, 576)


def test_boxes_land_where_they_belong_on_frames_kept_smaller() -> None:
    ring = FrameRing(seconds=60.0, max_bytes=100_000_000)
    for index in range(5):
        ring.add_image(np.full((1440, 2560, 3), 90, dtype=np.uint8), 1.0 + index / 5)
    box = (1000.0, 400.0, 1600.0, 1000.0)  # analysed-frame pixels
    clip = encode_clip(list(ring), rule="weapon", steps=[BoxStep(1.0, (box,))])
    with av.open(io.BytesIO(clip)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert first.shape[:2] == (720, 1280)
    red = np.array([0, 0, 255])
    assert np.abs(first[350, 500].astype(int) - red).max() < 80, "left edge at x = 1000 / 2"
    assert np.abs(first[350, 400].astype(int) - red).max() > 80
