"""File and RTSP sources, URL redaction, and the reader's building blocks."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.pipeline.reader import (
    Backoff,
    BackoffPolicy,
    CameraReader,
    CameraStatus,
    LatestFrame,
    RateMeter,
)
from detectors.pipeline.sources import (
    FileSource,
    Frame,
    OfflineReason,
    RtspSource,
    SourceOfflineError,
    redact_url,
)

FAST_BACKOFF = BackoffPolicy(initial_s=0.05, factor=2.0, cap_s=0.2, jitter=0.0)


async def wait_until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail("condition not reached before the deadline")
        await asyncio.sleep(0.01)


@pytest.fixture
def short_video(tmp_path: Path) -> Path:
    """Twelve 64x48 frames at 10 fps, frame i filled with grey level 20*i."""
    path = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for index in range(12):
        writer.write(np.full((48, 64, 3), index * 20, np.uint8))
    writer.release()
    return path


def _read_all(source: FileSource, count: int) -> list[Frame]:
    frames = []
    for _ in range(count):
        frame = source.read()
        assert frame is not None
        frames.append(frame)
    return frames


def test_ingest_file_source_media_time_and_end_of_file(short_video: Path) -> None:
    source = FileSource(short_video)
    source.open()
    frames = _read_all(source, 12)
    with pytest.raises(SourceOfflineError) as caught:
        source.read()
    source.close()
    assert [f.media_time for f in frames] == [i / 10 for i in range(12)]
    assert [round(float(f.image.mean()) / 20) for f in frames] == list(range(12))
    assert caught.value.reason is OfflineReason.END_OF_FILE
    assert caught.value.retry is False


def test_ingest_file_source_loop_keeps_time_growing(short_video: Path) -> None:
    source = FileSource(short_video, loop=True)
    source.open()
    frames = _read_all(source, 30)
    source.close()
    assert [f.timestamp for f in frames] == pytest.approx([i / 10 for i in range(30)])
    assert round(float(frames[12].image.mean())) == 0  # rewound to the first frame


def test_ingest_file_source_realtime_paces_by_file_fps(short_video: Path) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    source = FileSource(short_video, realtime=True, clock=lambda: now[0], sleep=sleep)
    source.open()
    _read_all(source, 4)
    source.close()
    # frame 0 is due at once, then one frame period (0.1 s) each
    assert sleeps == pytest.approx([0.1, 0.1, 0.1])


def test_ingest_missing_file_is_not_found() -> None:
    with pytest.raises(SourceOfflineError) as caught:
        FileSource("/nonexistent/clip.mp4").open()
    assert caught.value.reason is OfflineReason.NOT_FOUND


async def test_ingest_reader_file_end_of_file(short_video: Path) -> None:
    statuses: list[CameraStatus] = []
    reader = CameraReader("demo", FileSource(short_video), timeout_s=5.0, on_status=statuses.append)
    await reader.start()
    try:
        await asyncio.wait_for(reader.wait_finished(), timeout=30)
    finally:
        await reader.stop()
    counters = reader.counters()
    assert (counters.frames_in, counters.decode_errors, counters.reconnects) == (12, 0, 0)
    assert reader.status().online is False
    assert reader.status().reason == "end of file"
    newest = reader.slot.take()
    assert newest is not None
    assert newest.sequence == 12
    assert newest.timestamp == pytest.approx(1.1)
    assert counters.dropped == 11  # nobody took the first eleven


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.usefixtures("socket_enabled")
def test_ingest_rtsp_connection_refused_is_clear_and_redacted() -> None:
    port = _closed_port()
    source = RtspSource(f"rtsp://admin:hunter2@127.0.0.1:{port}/stream1", open_timeout_s=2.0)
    with pytest.raises(SourceOfflineError) as caught:
        source.open()
    assert caught.value.reason is OfflineReason.CONNECTION_REFUSED
    assert str(caught.value) == (f"connection refused: rtsp://admin:***@127.0.0.1:{port}/stream1")
    assert "hunter2" not in repr(source)


@pytest.mark.usefixtures("socket_enabled")
async def test_ingest_rtsp_peer_that_is_not_rtsp_cannot_open() -> None:
    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"this is not RTSP\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader = CameraReader(
        "roof",
        RtspSource(f"rtsp://127.0.0.1:{port}/live", open_timeout_s=2.0, read_timeout_s=2.0),
        timeout_s=5.0,
        backoff=FAST_BACKOFF,
    )
    await reader.start()
    try:
        await wait_until(lambda: reader.status().reason == "cannot open stream")
    finally:
        await reader.stop()
        server.close()
        await server.wait_closed()
    assert reader.counters().frames_in == 0


@pytest.mark.usefixtures("socket_enabled")
async def test_ingest_reader_rtsp_refused_keeps_retrying() -> None:
    port = _closed_port()
    reader = CameraReader(
        "yard",
        RtspSource(f"rtsp://u:pw@127.0.0.1:{port}/x", open_timeout_s=1.0),
        timeout_s=1.0,
        backoff=FAST_BACKOFF,
    )
    await reader.start()
    try:
        await wait_until(lambda: reader.counters().reconnects >= 3)
    finally:
        await reader.stop()
    assert reader.status().reason == "stopped"
    assert reader.counters().frames_in == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:pass@10.0.0.5:554/s1", "rtsp://user:***@10.0.0.5:554/s1"),
        ("rtsp://10.0.0.5/s1", "rtsp://10.0.0.5/s1"),
        ("http://cam/snap.cgi?user=a&pwd=b&ch=1", "http://cam/snap.cgi?user=a&pwd=***&ch=1"),
        ("http://:tok@cam/x", "http://***@cam/x"),
    ],
)
def test_ingest_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def _frame(value: int) -> Frame:
    return Frame(image=np.full((2, 2, 3), value, np.uint8), timestamp=float(value))


def test_ingest_latest_frame_keeps_newest_and_counts_dropped() -> None:
    slot = LatestFrame()
    assert slot.take() is None
    assert [slot.put(_frame(v)) for v in (1, 2, 3)] == [1, 2, 3]
    item = slot.take()
    assert item is not None
    assert (item.sequence, item.timestamp) == (3, 3.0)
    assert slot.take() is None  # already taken
    peeked = slot.peek()
    assert peeked is not None
    assert peeked.sequence == 3
    slot.put(_frame(4))
    assert slot.dropped == 2  # frames 1 and 2 were overwritten untaken; 3 was taken


def _lazy_frame(value: int, conversions: list[int]) -> Frame:
    def convert() -> NDArray[np.uint8]:
        conversions.append(value)
        return np.full((2, 2, 3), value, np.uint8)

    return Frame(timestamp=float(value), convert=convert, size=(2, 2))


def test_ingest_latest_frame_converts_only_frames_the_consumer_will_take() -> None:
    conversions: list[int] = []
    slot = LatestFrame()
    slot.put(_lazy_frame(1, conversions), now=1.0)  # no consumer yet: converted
    assert conversions == [1]
    item = slot.take()
    assert item is not None
    # While the consumer analyses frame 1, frames 2 and 3 arrive: nobody wants them yet.
    slot.put(_lazy_frame(2, conversions), now=2.0)
    slot.put(_lazy_frame(3, conversions), now=3.0)
    assert conversions == [1]
    slot.want_from(4.5)  # the next slot is due at 5: the frame from 4.5 on is wanted
    slot.put(_lazy_frame(4, conversions), now=4.0)
    slot.put(_lazy_frame(5, conversions), now=5.0)
    assert conversions == [1, 5]
    taken = slot.take()
    assert taken is not None
    assert taken.frame.converted
    slot.put(_lazy_frame(6, conversions), now=6.0)
    assert conversions == [1, 5]  # taking ended the wish again
    newest = slot.take()
    assert newest is not None
    assert not newest.frame.converted  # a late consumer converts on its own
    assert int(newest.frame.image[0, 0, 0]) == 6
    assert conversions == [1, 5, 6]


def test_ingest_backoff_doubles_caps_jitters_and_resets() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    assert [backoff.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.after_session(healthy_for=29.0) == 60
    assert backoff.after_session(healthy_for=30.0) == 1  # healthy long enough: start over
    assert backoff.after_session(healthy_for=None) == 2
    low = Backoff(BackoffPolicy(jitter=0.2), rng=lambda: 0.0)
    high = Backoff(BackoffPolicy(jitter=0.2), rng=lambda: 1.0)
    assert [low.next_delay() for _ in range(2)] == pytest.approx([0.8, 1.6])
    assert [high.next_delay() for _ in range(2)] == pytest.approx([1.2, 2.4])


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ingest_rate_meter_measures_fps_over_a_time_window() -> None:
    clock = FakeClock()
    meter = RateMeter(window_s=10.0, clock=clock)
    assert meter.rate() == 0.0
    for index in range(40):  # 4 fps for 10 s
        clock.now = index * 0.25
        meter.tick(clock.now)
    clock.now = 10.0
    assert meter.rate() == pytest.approx(4.0)


def test_ingest_rate_meter_is_not_fooled_by_a_burst() -> None:
    """Thirty buffered frames delivered at once after a stall are 3 fps, not 1000 fps."""
    clock = FakeClock()
    meter = RateMeter(window_s=10.0, clock=clock)
    clock.now = 20.0
    for index in range(30):
        meter.tick(20.0 + index * 0.001)
    clock.now = 20.03
    assert meter.rate() == pytest.approx(3.0)


def test_ingest_rate_meter_counts_from_the_session_start_until_the_window_fills() -> None:
    clock = FakeClock()
    meter = RateMeter(window_s=10.0, clock=clock)
    clock.now = 100.0
    meter.clear()  # a new session starts at 100 s
    for index in range(10):  # 5 fps for the first two seconds
        clock.now = 100.0 + (index + 1) * 0.2
        meter.tick(clock.now)
    assert meter.rate() == pytest.approx(5.0)
    clock.now = 130.0  # nothing for 28 s: the stream stopped
    assert meter.rate() == 0.0


def test_ingest_rate_meter_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="window_s"):
        RateMeter(window_s=0.0)
