"""Alert clips and keyframe strips from a real engine: sample footage in, MP4 and JPEG out.

A camera on the sample footage with a crowd limit of two people raises a real alert; its
clip is decoded back with PyAV (H.264, yuv420p, index first, about pre-roll + post-roll
long), its strip with OpenCV, byte ranges are served as browsers ask for them, and
retention takes both away with the event.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import av
import cv2
import numpy as np

from detectors.protocol.export import export_incidents

from .conftest import RunningEngine

CROWD_CAMERA = {
    "id": "hall",
    "name": "Hall",
    "detect_fps": 5,
    # 26 of 30 frames (six seconds): the alert starts with a full pre-roll buffered.
    "rules": {"crowd": {"max_people": 2, "cooldown_seconds": 600, "confirm": {"k": 26, "m": 30}}},
}


async def _wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def _first_alert(running_engine: RunningEngine, camera_id: str, rule: str) -> str:
    found: list[str] = []

    async def started() -> bool:
        page = await (await running_engine.get("/events", params={"since": "0"})).json()
        found.extend(
            c["event_id"]
            for c in page["changes"]
            if c["change"] == "started"
            and c["event"]["camera_id"] == camera_id
            and c["event"]["rule"] == rule
        )
        return bool(found)

    await _wait_for(started)
    return found[0]


async def _evidence_ready(running_engine: RunningEngine, event_id: str) -> dict[str, object]:
    event: dict[str, object] = {}

    async def ready() -> bool:
        event.update(await (await running_engine.get(f"/events/{event_id}")).json())
        return event["evidence_at"] is not None

    await _wait_for(ready, seconds=30)
    return event


def _decode(clip: bytes) -> tuple[str, str, int, float]:
    """Codec, pixel format, decoded frame count and duration (seconds) of an MP4."""
    with av.open(io.BytesIO(clip)) as container:
        stream = container.streams.video[0]
        codec, pix_fmt = stream.codec_context.name, str(stream.codec_context.pix_fmt)
        frames = list(container.decode(video=0))
        assert container.duration is not None
        duration = container.duration / av.time_base
    return codec, pix_fmt, len(frames), duration


async def test_a_real_alert_gets_a_clip_and_a_strip(
    running_engine: RunningEngine, samples_dir: Path, tmp_path: Path
) -> None:
    body = CROWD_CAMERA | {
        "source": {"type": "file", "url": str(samples_dir / "vtest.avi"), "loop": True}
    }
    body["source"] |= {"realtime": True}  # type: ignore[operator]
    assert (await running_engine.send("POST", "/cameras", body)).status == 201
    event_id = await _first_alert(running_engine, "hall", "crowd")

    early = await running_engine.get(f"/events/{event_id}/clip.mp4")
    if early.status == 404:  # the post-roll is still being recorded
        assert "post-roll" in (await early.json())["error"]["message"]
    event = await _evidence_ready(running_engine, event_id)
    started_at = float(str(event["started_at"]))
    # After the post-roll (how long after is measured in the engine's log, not asserted).
    assert float(str(event["evidence_at"])) > started_at
    settings = running_engine.engine.config.evidence

    response = await running_engine.get(f"/events/{event_id}/clip.mp4")
    assert response.status == 200
    assert response.content_type == "video/mp4"
    assert response.headers["Accept-Ranges"] == "bytes"
    clip = await response.read()
    assert clip[4:8] == b"ftyp"
    assert clip.index(b"moov") < clip.index(b"mdat"), "faststart: the index comes first"
    codec, pix_fmt, frames, duration = _decode(clip)
    assert (codec, pix_fmt) == ("h264", "yuv420p")
    roll = settings.pre_roll_seconds + settings.post_roll_seconds
    assert roll - 2.5 <= duration <= roll + 0.5
    assert frames >= 0.5 * 5 * roll, "about detect_fps frames per second of the clip"

    strip_response = await running_engine.get(f"/events/{event_id}/strip.jpg")
    assert strip_response.content_type == "image/jpeg"
    strip = cv2.imdecode(np.frombuffer(await strip_response.read(), np.uint8), cv2.IMREAD_COLOR)
    height, width = strip.shape[:2]
    assert width >= 3 * 0.9 * height, "the three confirming frames side by side"

    # Byte ranges, as a browser seeking the video asks for them.
    size = len(clip)
    first = await _ranged(running_engine, event_id, "bytes=0-99")
    assert first.status == 206
    assert first.headers["Content-Range"] == f"bytes 0-99/{size}"
    assert await first.read() == clip[:100]
    tail = await _ranged(running_engine, event_id, "bytes=-10")
    assert (tail.status, await tail.read()) == (206, clip[-10:])
    rest = await _ranged(running_engine, event_id, f"bytes={size - 5}-")
    assert rest.headers["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"
    assert (await rest.read()) == clip[-5:]
    for unsatisfiable in (f"bytes={size}-", "bytes=abc", "bytes=0-1,5-6", "bytes=9-2"):
        beyond = await _ranged(running_engine, event_id, unsatisfiable)
        assert beyond.status == 416, unsatisfiable
        assert beyond.headers["Content-Range"] == f"bytes */{size}"
        assert (await beyond.json())["error"]["message"]

    # The token is required like everywhere else.
    for path in ("clip.mp4", "strip.jpg"):
        bare = await running_engine.session.get(f"{running_engine.base}/events/{event_id}/{path}")
        assert bare.status == 401

    # Export carries the clip and the strip.
    exported = await asyncio.to_thread(
        export_incidents,
        running_engine.engine.log,
        tmp_path / "export",
        start=started_at - 1,
        end=started_at + 1,
    )
    document = json.loads(exported.read_text())
    mine = next(e for e in document["events"] if e["id"] == event_id)
    assert (tmp_path / "export" / mine["clip_file"]).read_bytes() == clip
    assert (tmp_path / "export" / mine["strip_file"]).stat().st_size > 0

    # Retention takes the evidence with the event.
    await running_engine.send("POST", f"/events/{event_id}/dismiss", {"by": "SRO", "reason": "t"})
    assert await running_engine.engine.incidents.purge(older_than_seconds=0) >= 1
    for path in ("clip.mp4", "strip.jpg", ""):
        gone = await running_engine.get(f"/events/{event_id}/{path}".rstrip("/"))
        assert gone.status == 404
        assert (await gone.json())["error"]["code"] == "not_found"


async def _ranged(
    running_engine: RunningEngine, event_id: str, spec: str
) -> aiohttp.ClientResponse:
    """GET the clip with ``Range: <spec>`` (and the token)."""
    return await running_engine.session.get(
        f"{running_engine.base}/events/{event_id}/clip.mp4",
        headers=running_engine.auth | {"Range": spec},
    )


async def test_a_drill_gets_evidence_marked_drill(running_engine: RunningEngine) -> None:
    runtime = running_engine.engine.cameras["plaza"]

    async def buffered() -> bool:
        return runtime.feeder is not None and len(runtime.feeder.ring) > 5

    await _wait_for(buffered)
    created = await running_engine.send(
        "POST", "/test_alert", {"camera_id": "plaza", "rule": "weapon", "seconds": 60}
    )
    event_id = (await created.json())["event_id"]
    await _evidence_ready(running_engine, event_id)
    strip_bytes = await (await running_engine.get(f"/events/{event_id}/strip.jpg")).read()
    strip = cv2.imdecode(np.frombuffer(strip_bytes, np.uint8), cv2.IMREAD_COLOR)
    blue, green, red = (int(v) for v in strip[3, 3])
    assert red > 200 and 150 < green < 240 and blue < 60, "amber DRILL banner on the strip"
    clip = await (await running_engine.get(f"/events/{event_id}/clip.mp4")).read()
    with av.open(io.BytesIO(clip)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="bgr24")
    blue, green, red = (int(v) for v in first[3, 3])
    assert red > 200 and 150 < green < 240 and blue < 60, "amber DRILL banner in the clip"
    ring = runtime.feeder.ring if runtime.feeder is not None else None
    assert ring is not None and 0 < ring.bytes <= ring.max_bytes


async def test_unknown_events_have_no_evidence(running_engine: RunningEngine) -> None:
    for path in ("clip.mp4", "strip.jpg"):
        response = await running_engine.get(f"/events/nope/{path}")
        assert response.status == 404
        assert "nope" in (await response.json())["error"]["message"]


async def test_incidents_are_listed_by_camera_and_time(running_engine: RunningEngine) -> None:
    created = await running_engine.send(
        "POST", "/test_alert", {"camera_id": "plaza", "rule": "weapon", "seconds": 60}
    )
    event = (await created.json())["event"]
    at = event["started_at"]
    found = await (
        await running_engine.get(
            "/incidents", params={"camera_id": "plaza", "start": str(at - 1), "end": str(at + 1)}
        )
    ).json()
    assert [e["id"] for e in found] == [event["id"]]
    later = await running_engine.get("/incidents", params={"start": str(at + 1)})
    assert await later.json() == []
    for bad in ({"start": "soon"}, {"end": "nan"}, {"limit": "0"}):
        response = await running_engine.get("/incidents", params=bad)
        assert response.status == 400
        assert (await response.json())["error"]["message"]


async def test_each_camera_reports_its_evidence_buffer(running_engine: RunningEngine) -> None:
    runtime = running_engine.engine.cameras["plaza"]

    async def buffered() -> bool:
        return runtime.feeder is not None and len(runtime.feeder.ring) > 5

    await _wait_for(buffered)
    camera = await (await running_engine.get("/cameras/plaza")).json()
    buffer = camera["evidence_buffer"]
    settings = running_engine.engine.config.evidence
    assert 0 < buffer["bytes"] <= buffer["budget_bytes"] == settings.buffer_bytes
    assert buffer["frames"] > 5
    assert buffer["seconds"] == settings.buffer_seconds
    assert buffer["skipped"] >= 0
