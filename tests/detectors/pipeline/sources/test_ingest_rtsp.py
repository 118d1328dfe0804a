"""RTSP ingest against GStreamer's real RTSP server on loopback (H.264, H.265, Digest)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable

import pytest

from detectors.pipeline.reader import BackoffPolicy, CameraReader, CameraStatus
from detectors.pipeline.sources import OfflineReason, RtspSource, SourceOfflineError
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.sim.rtsp_server import RtspServerProcess
from tests.detectors.conftest import (
    RTSP_PASSWORD,
    RTSP_USER,
    native_threads,
    open_fds,
    wait_until,
)

FAST_BACKOFF = BackoffPolicy(initial_s=0.2, factor=2.0, cap_s=1.0, jitter=0.0)
NO_GPU = HardwareDecoders(ffmpeg_types=("qsv",), nodes=())


def _reader(
    server: RtspServerProcess,
    camera_id: str,
    mount: str,
    timeout_s: float,
    on_status: Callable[[CameraStatus], None] | None = None,
) -> CameraReader:
    """A camera that gives up within ``timeout_s`` and comes back quickly."""
    source = RtspSource(
        server.url(mount, credentials=True),
        open_timeout_s=timeout_s,
        read_timeout_s=timeout_s,
        hardware=NO_GPU,
    )
    return CameraReader(
        camera_id, source, timeout_s=timeout_s, backoff=FAST_BACKOFF, on_status=on_status
    )


def _read_frames(source: RtspSource, count: int) -> list[tuple[int, int]]:
    sizes = []
    source.open()
    try:
        while len(sizes) < count:
            frame = source.read()
            if frame is not None:
                assert not frame.converted  # decoded, not yet converted to BGR
                sizes.append(frame.size)
                if len(sizes) == count:
                    assert frame.image.shape == (frame.size[1], frame.size[0], 3)
                    assert frame.converted
    finally:
        source.close()
    return sizes


@pytest.mark.parametrize(("mount", "codec"), [("/h264", "h264"), ("/h265", "hevc")])
async def test_rtsp_reads_h264_and_h265(
    rtsp_server: RtspServerProcess, mount: str, codec: str
) -> None:
    source = RtspSource(rtsp_server.url(mount, credentials=True), hardware=NO_GPU)
    sizes = await asyncio.to_thread(_read_frames, source, 20)
    assert sizes == [(640, 480)] * 20
    assert source.info is not None
    assert (source.info.codec, source.info.width, source.info.decoder) == (codec, 640, "cpu")


async def test_rtsp_digest_refuses_a_wrong_password(rtsp_server: RtspServerProcess) -> None:
    url = rtsp_server.url("/h264").replace("rtsp://", f"rtsp://{RTSP_USER}:wrong-pw@")
    source = RtspSource(url, open_timeout_s=5.0, hardware=NO_GPU)
    with pytest.raises(SourceOfflineError) as caught:
        await asyncio.to_thread(source.open)
    assert caught.value.reason is OfflineReason.AUTH_FAILED
    assert "wrong-pw" not in str(caught.value)
    without = RtspSource(rtsp_server.url("/h264"), open_timeout_s=5.0, hardware=NO_GPU)
    with pytest.raises(SourceOfflineError) as caught:
        await asyncio.to_thread(without.open)
    assert caught.value.reason is OfflineReason.AUTH_FAILED


async def test_rtsp_hardware_decode_falls_back_to_cpu_logged_once(
    rtsp_server: RtspServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """This host has no GPU: vaapi falls back to the CPU, says why once, and still reads."""
    host = HardwareDecoders.detect()
    source = RtspSource(rtsp_server.url("/h264", credentials=True), decode="vaapi", hardware=host)
    assert source.decode_choice.decoder == "cpu"
    assert source.decode_choice.fallback_reason is not None
    with caplog.at_level(logging.WARNING, logger="detectors.pipeline.sources.rtsp"):
        for _ in range(2):  # a reconnect must not log it again
            assert await asyncio.to_thread(_read_frames, source, 3) == [(640, 480)] * 3
    warnings = [r for r in caplog.records if "decoding on the CPU" in r.getMessage()]
    assert len(warnings) == 1
    assert RTSP_PASSWORD not in warnings[0].getMessage()


async def test_rtsp_resolution_change_mid_stream_keeps_the_session(
    rtsp_server: RtspServerProcess,
) -> None:
    reader = CameraReader(
        "gym", RtspSource(rtsp_server.url("/resize", credentials=True), hardware=NO_GPU)
    )
    seen: list[tuple[int, int]] = []
    await reader.start()
    deadline = time.monotonic() + 30.0
    try:
        while len(seen) < 90:  # the file is 2 s at 640x480 then 2 s at 800x600, 15 fps
            assert time.monotonic() < deadline, f"only {len(seen)} frames arrived"
            await asyncio.sleep(0.02)
            item = reader.slot.take()
            if item is not None:
                seen.append(item.frame.size)
                assert item.frame.image.shape[:2] == (item.frame.size[1], item.frame.size[0])
    finally:
        await reader.stop()
    assert (640, 480) in seen
    assert (800, 600) in seen
    assert seen.index((800, 600)) > seen.index((640, 480))
    assert reader.counters().reconnects == 0
    assert reader.counters().decode_errors == 0


async def test_rtsp_many_cameras_open_in_parallel_beside_a_dead_one(
    rtsp_server: RtspServerProcess,
) -> None:
    """A camera that accepts TCP but never answers RTSP must not hold up the others.

    The dead camera is started first; with opens serialised (OpenCV) the healthy ones
    would wait behind its open timeout. Every healthy camera must be online before the
    dead one gives up.
    """
    events: list[tuple[str, bool, str | None]] = []

    def record(status: CameraStatus) -> None:
        events.append((status.camera_id, status.online, status.reason))

    async def silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accept and say nothing until the client hangs up

    silent_server = await asyncio.start_server(silent, "127.0.0.1", 0)
    silent_port = silent_server.sockets[0].getsockname()[1]
    dead = CameraReader(
        "dead",
        RtspSource(f"rtsp://127.0.0.1:{silent_port}/x", open_timeout_s=6.0, hardware=NO_GPU),
        timeout_s=20.0,
        on_status=record,
    )
    healthy = [
        CameraReader(
            f"cam-{index}",
            RtspSource(
                rtsp_server.url("/h264" if index % 2 else "/h265", credentials=True),
                hardware=NO_GPU,
            ),
            timeout_s=20.0,
            on_status=record,
        )
        for index in range(12)
    ]
    await dead.start()
    for reader in healthy:
        await reader.start()
    try:
        await wait_until(lambda: any(e[0] == "dead" for e in events), deadline_s=30)
        await wait_until(lambda: all(r.counters().frames_in >= 15 for r in healthy))
    finally:
        for reader in [dead, *healthy]:
            await reader.stop()
        silent_server.close()
        await silent_server.wait_closed()
    dead_at = next(i for i, e in enumerate(events) if e[0] == "dead")
    assert events[dead_at][1:] == (False, "connection timed out")
    online_at = {e[0]: i for i, e in enumerate(events) if e[1]}
    assert set(online_at) == {r.camera_id for r in healthy}
    assert all(index < dead_at for index in online_at.values())


async def test_rtsp_server_restart_goes_offline_then_back_online(
    rtsp_server: RtspServerProcess,
) -> None:
    events: list[tuple[bool, str | None]] = []
    reader = _reader(
        rtsp_server, "hall", "/h264", 3.0, lambda s: events.append((s.online, s.reason))
    )
    await reader.start()
    try:
        await wait_until(lambda: reader.status().online)
        await rtsp_server.stop()
        await wait_until(lambda: not reader.status().online)
        await rtsp_server.start()  # same port, as a rebooted camera
        await wait_until(lambda: reader.status().online)
        frames_back = reader.counters().frames_in
        await wait_until(lambda: reader.counters().frames_in >= frames_back + 15)
    finally:
        await reader.stop()
    assert events[0] == (True, None)
    assert events[1][0] is False
    assert events[1][1] in {"connection lost", "connection refused", "stream stalled"}
    assert (True, None) in events[2:]
    assert reader.counters().reconnects >= 1


async def test_rtsp_hung_server_is_stalled_within_the_timeout(
    rtsp_server: RtspServerProcess,
) -> None:
    """A server that stops answering (SIGSTOP) ends the read within the read timeout."""
    reader = _reader(rtsp_server, "stairs", "/h265", 2.0)
    await reader.start()
    assert rtsp_server.pid is not None
    try:
        await wait_until(lambda: reader.status().online)
        os.kill(rtsp_server.pid, signal.SIGSTOP)
        try:
            await wait_until(lambda: reader.status().reason == "stream stalled")
        finally:
            os.kill(rtsp_server.pid, signal.SIGCONT)
        await wait_until(lambda: reader.status().online)
    finally:
        await reader.stop()
    assert reader.counters().stalls >= 1


async def test_rtsp_readers_leave_no_threads_or_file_descriptors(
    rtsp_server: RtspServerProcess,
) -> None:
    async def run_cameras() -> None:
        readers = [_reader(rtsp_server, f"leak-{index}", "/h264", 3.0) for index in range(6)]
        for reader in readers:
            await reader.start()
        try:
            await wait_until(lambda: all(r.status().online for r in readers))
            await rtsp_server.restart()  # every camera reconnects once
            await wait_until(lambda: all(r.counters().reconnects >= 1 for r in readers))
            await wait_until(lambda: all(r.status().online for r in readers))
        finally:
            for reader in readers:
                await reader.stop()

    await run_cameras()  # the first run loads FFmpeg's libraries and PyAV's modules
    fds, threads = open_fds(), native_threads()
    await run_cameras()
    await wait_until(lambda: open_fds() <= fds and native_threads() <= threads, 10.0)
    assert (open_fds(), native_threads()) == (fds, threads)


def test_rtsp_url_must_be_rtsp() -> None:
    with pytest.raises(SourceOfflineError) as caught:
        RtspSource("http://cam/stream", hardware=NO_GPU)
    assert caught.value.reason is OfflineReason.CANNOT_OPEN
