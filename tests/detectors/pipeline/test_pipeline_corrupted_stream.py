"""A camera sending damaged JPEGs: errors are counted, nothing crashes, no alert is raised."""

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest
from aiohttp import web

from detectors.media import iter_video
from detectors.pipeline.defaults import default_rule_engine
from detectors.pipeline.processor import FrameProcessor, Models
from detectors.pipeline.reader import CameraReader
from detectors.pipeline.sources import MjpegSource
from detectors.pipeline.worker import CameraWorker
from detectors.vision import ObjectDetector, PoseEstimator

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _damaged_parts(samples_dir: Path, count: int) -> list[bytes]:
    """Real vtest frames as JPEG; every third truncated, every fifth with flipped bytes."""
    rng = np.random.default_rng(3)
    parts = []
    for index, frame in enumerate(iter_video(samples_dir / "vtest.avi", every=2)):
        if index >= count:
            break
        data = bytearray(cv2.imencode(".jpg", frame.image)[1].tobytes())
        if index % 3 == 2:
            data = data[: len(data) // 2]
        elif index % 5 == 4:
            for offset in rng.integers(len(data) // 3, len(data) - 2, 40):
                data[int(offset)] ^= 0x5A
        parts.append(bytes(data))
    return parts


def test_damaged_mjpeg_stream_is_counted_and_raises_no_alert(
    detector: ObjectDetector, pose_estimator: PoseEstimator, samples_dir: Path
) -> None:
    parts = _damaged_parts(samples_dir, 60)

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )
        await response.prepare(request)
        index = 0
        while True:
            part = parts[index % len(parts)]
            await response.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + part + b"\r\n")
            index += 1
            await asyncio.sleep(0.1)

    async def scenario() -> tuple[int, int, bool, list[str]]:
        app = web.Application()
        app.router.add_get("/stream.mjpg", stream)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        source = MjpegSource(f"http://127.0.0.1:{port}/stream.mjpg")
        reader = CameraReader("lobby", source, timeout_s=5.0)
        processor = FrameProcessor(
            "lobby", Models(detector, pose_estimator), default_rule_engine("lobby")
        )
        results = []
        worker = CameraWorker(reader, processor, detect_fps=0, on_result=results.append)
        await worker.start()
        try:
            deadline = asyncio.get_running_loop().time() + 120
            while worker.stats.analysed < 60 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            online = reader.status().online
        finally:
            await worker.stop()
            await runner.cleanup()
        alerts = [t.rule for r in results for t in r.transitions]
        alerts += [t.rule for t in processor.close(0.0)]
        return worker.stats.analysed, reader.counters().decode_errors, online, alerts

    analysed, decode_errors, online, alerts = asyncio.run(scenario())
    assert analysed >= 60
    assert decode_errors >= 15, "every truncated JPEG is counted"
    assert online, "damaged frames do not take the camera offline"
    assert alerts == []
