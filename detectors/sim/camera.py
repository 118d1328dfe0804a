"""A virtual ONVIF camera: a looped video file behind the SOAP, HTTP and UDP a camera speaks.

The engine's ONVIF client, the ingest sources and the demo need a camera that behaves
like the real ones, including their faults, on a machine that has none. The simulator
serves:

* Device and Media SOAP (``/onvif/device_service``, ``/onvif/media_service``) with
  WS-UsernameToken checked on every call but ``GetSystemDateAndTime``;
* Events (``/onvif/events_service`` and one ``/onvif/pullpoint/<token>`` per
  subscription) with ``tns1:VideoSource/MotionAlarm`` from a frame difference;
* two media profiles like a real camera's: ``main`` (1920x1080) and ``sub`` (640x480),
  H.264 or H.265, served over RTSP by GStreamer's RTSP server (a helper process, see
  :mod:`detectors.sim.rtsp_server`) with RTSP Digest authentication, from footage
  encoded once (:mod:`detectors.sim.media`); ``GetStreamUri`` answers ``rtsp://``.
  With ``stream="mjpeg"`` both profiles are multipart MJPEG over HTTP instead
  (``/stream.mjpg``, Digest optional) at the file's own size, for MJPEG clients;
* ``/snapshot.jpg`` (HTTP Digest) at the profile's size;
* a WS-Discovery responder (UDP, unicast always, multicast only when asked);
* ``/sim/faults`` (GET, PUT/PATCH JSON) to switch faults on and off while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from aiohttp import web

from detectors.onvif.ws_discovery import (
    DISCOVERY_PORT,
    DeviceAnnouncement,
    DiscoveryResponder,
    onvif_scopes,
)
from detectors.sim import soap_templates as templates
from detectors.sim.http_media import MAIN_PROFILE, SUB_PROFILE, SimHttpMedia
from detectors.sim.looped_video import LoopedVideo
from detectors.sim.media import Codec, StreamSpec, encode
from detectors.sim.pullpoint import (
    PullPointHub,
)
from detectors.sim.rtsp_server import RtspMount, RtspServerProcess
from detectors.sim.soap_service import SimSoapService

_LOGGER = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
RTSP_SIZES = {MAIN_PROFILE: (1920, 1080), SUB_PROFILE: (640, 480)}
type StreamKind = Literal["rtsp", "mjpeg"]


@dataclass(slots=True)
class SimFaults:
    """Faults the simulator can play; change them at any time (or via ``/sim/faults``).

      * ``wrong_credentials``: refuse every username and password (SOAP and HTTP);
      * ``drop_stream``: end open MJPEG streams and answer new ones with 503; with RTSP the
    streaming server stops (connections drop, new ones are refused) until cleared;
      * ``slow_seconds``: delay every SOAP answer by this long;
      * ``clock_skew_seconds``: the camera's clock is this far ahead (negative: behind);
        it reports that time and checks WS-UsernameToken creation times against it;
      * ``no_profiles``: ``GetProfiles`` answers an empty list.
    """

    wrong_credentials: bool = False
    drop_stream: bool = False
    slow_seconds: float = 0.0
    clock_skew_seconds: float = 0.0
    no_profiles: bool = False

    def update(self, changes: Mapping[str, object]) -> None:
        """Apply ``changes``; raise ValueError naming an unknown key or a wrong type."""
        kinds = {f.name: f.type for f in fields(self)}
        checked: dict[str, object] = {}
        for key, value in changes.items():
            if key not in kinds:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(kinds))}")
            if kinds[key] == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"fault {key!r} must be true or false")
                checked[key] = value
            else:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"fault {key!r} must be a number")
                if key == "slow_seconds" and value < 0:
                    raise ValueError("fault 'slow_seconds' must not be negative")
                checked[key] = float(value)
        for key, value in checked.items():
            setattr(self, key, value)

    def to_json(self) -> dict[str, object]:
        """Return the faults as JSON."""
        return asdict(self)


class CameraSim:
    """One simulated camera; use ``async with CameraSim(...) as camera``."""

    def __init__(
        self,
        video: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "admin",  # noqa: S107 - the simulator's documented default
        name: str = "Simulated camera",
        location: str = "Test lab",
        hardware: str = "school-guard-sim",
        faults: SimFaults | None = None,
        stream_auth: bool = False,
        discovery_port: int | None = None,
        multicast: bool = False,
        motion_hold_s: float = 1.0,
        wall_clock: Callable[[], float] = time.time,
        stream: StreamKind = "rtsp",
        rtsp_port: int = 0,
        codec: Codec = "h264",
        fps: float = 15.0,
        clip_seconds: float | None = None,
        media_cache: Path | None = None,
    ) -> None:
        """``stream``, ``codec``, ``fps``, ``clip_seconds``: what the profiles send.

        ``clip_seconds`` loops only the start of the video (shorter to encode, for tests).
        """
        self.video_path = Path(video)
        self.stream = stream
        self.codec: Codec = codec
        self._fps = fps
        self._clip_seconds = clip_seconds
        self._media_cache = media_cache
        self._rtsp_port = rtsp_port
        self.rtsp: RtspServerProcess | None = None
        self.host = host
        self.username = username
        self.password = password
        self.name = name
        self.location = location
        self.hardware = hardware
        self.faults = faults or SimFaults()
        self.endpoint = f"urn:uuid:{uuid.uuid4()}"
        self._requested_port = port
        self.stream_auth = stream_auth
        self._discovery_port = discovery_port
        self._multicast = multicast
        self._wall_clock = wall_clock
        self._video = LoopedVideo(
            self.video_path,
            motion_hold_s=motion_hold_s,
            on_motion=self._motion_changed,
            sizes=(RTSP_SIZES[MAIN_PROFILE], RTSP_SIZES[SUB_PROFILE]) if stream == "rtsp" else None,
        )
        self.pullpoints = PullPointHub(self.camera_now)
        self._runner: web.AppRunner | None = None
        self._responder: DiscoveryResponder | None = None
        self._port = 0
        self._busy: set[asyncio.Task[object]] = set()
        self.soap = SimSoapService(self)
        self.media = SimHttpMedia(self)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the video, the RTSP server, the HTTP server and the discovery responder."""
        await self._video.start()
        try:
            if self.stream == "rtsp":
                await self._start_rtsp()
        except BaseException:
            await self.stop()
            raise
        app = web.Application()
        app.router.add_post("/onvif/device_service", self.soap.route("device"))
        app.router.add_post("/onvif/media_service", self.soap.route("media"))
        app.router.add_post("/onvif/events_service", self.soap.route("events"))
        app.router.add_post("/onvif/pullpoint/{token}", self.soap.route("pullpoint"))
        app.router.add_get("/snapshot.jpg", self.media.snapshot)
        app.router.add_get("/stream.mjpg", self.media.stream)
        app.router.add_get("/sim/faults", self._get_faults)
        app.router.add_put("/sim/faults", self._put_faults)
        app.router.add_patch("/sim/faults", self._put_faults)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._requested_port)
            await site.start()
            self._runner = runner
            self._port = int(runner.addresses[0][1])
            if self._discovery_port is not None:
                self._responder = DiscoveryResponder(
                    DeviceAnnouncement(
                        endpoint=self.endpoint,
                        xaddrs=(self.device_url,),
                        scopes=onvif_scopes(self.name, self.location, self.hardware),
                    ),
                    host=self.host,
                    port=self._discovery_port,
                    multicast=self._multicast,
                )
                await self._responder.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop everything; safe to call twice.

        Requests still being answered (slow SOAP, open streams, long pulls) are cancelled
        first: a camera that is switched off does not finish its sentences.
        """
        busy = [task for task in self._busy if not task.done()]
        for task in busy:
            task.cancel()
        if busy:
            await asyncio.wait(busy, timeout=2.0)
        if self._responder is not None:
            await self._responder.stop()
            self._responder = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.rtsp is not None:
            await self.rtsp.stop()
        await self._video.stop()

    async def _start_rtsp(self) -> None:
        """Encode both profiles once (cached) and serve them with GStreamer's server."""
        mounts = []
        for profile, (width, height) in RTSP_SIZES.items():
            spec = StreamSpec(self.codec, width, height, fps=self._fps, seconds=self._clip_seconds)
            media = await asyncio.to_thread(
                encode, self.video_path, spec, cache_dir=self._media_cache
            )
            mounts.append(RtspMount(f"/{profile}", media, self.codec))
        self.rtsp = RtspServerProcess(
            mounts,
            host=self.host,
            port=self._rtsp_port,
            username=self.username,
            password=self.password,
        )
        await self.rtsp.start()

    async def __aenter__(self) -> CameraSim:
        """Start the camera."""
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the camera."""
        await self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """Return the HTTP port (the real one when 0 was asked for)."""
        return self._port

    @property
    def discovery_port(self) -> int | None:
        """Return the WS-Discovery UDP port, None without a responder."""
        return self._responder.port if self._responder is not None else None

    @property
    def base_url(self) -> str:
        """Return ``http://host:port``."""
        return f"http://{self.host}:{self._port}"

    @property
    def device_url(self) -> str:
        """Return the device service address (what discovery advertises)."""
        return f"{self.base_url}/onvif/device_service"

    @property
    def media_service_url(self) -> str:
        """Return the media service address that GetCapabilities and GetServices name."""
        return f"{self.base_url}/onvif/media_service"

    def stream_url(self, profile: str = MAIN_PROFILE) -> str:
        """Return the stream URL of ``profile`` (RTSP, without credentials; or MJPEG)."""
        if self.rtsp is not None:
            return self.rtsp.url(f"/{profile}")
        return f"{self.base_url}/stream.mjpg?profile={profile}"

    def snapshot_url(self, profile: str = MAIN_PROFILE) -> str:
        """Return the snapshot URL of ``profile``."""
        return f"{self.base_url}/snapshot.jpg?profile={profile}"

    def camera_now(self) -> datetime:
        """Return the camera's clock (ours plus the clock-skew fault)."""
        return datetime.fromtimestamp(self._wall_clock() + self.faults.clock_skew_seconds, UTC)

    def drop_subscriptions(self) -> None:
        """Forget every PullPoint subscription, as a camera reboot does."""
        self.pullpoints.drop_all()

    @property
    def video(self) -> LoopedVideo:
        """The looped footage every profile and the motion events come from."""
        return self._video

    @property
    def motion(self) -> bool:
        """Return whether the video currently moves."""
        return self._video.moving

    def profiles(self) -> list[templates.SimProfile]:
        """The media profiles this camera offers, as its configuration makes them."""
        width, height = self._video.size
        sub_width, sub_height = self._video.sub_size
        if self.stream == "mjpeg":
            # The main profile declares H.264 as a real camera's would, though both are
            # MJPEG here: clients must pick the reader by the URI's scheme, not the codec.
            fps = self._video.fps
            return [
                templates.SimProfile(MAIN_PROFILE, "MainStream", "H264", width, height, fps),
                templates.SimProfile(SUB_PROFILE, "SubStream", "JPEG", sub_width, sub_height, fps),
            ]
        encoding = "H265" if self.codec == "h265" else "H264"
        return [
            templates.SimProfile(MAIN_PROFILE, "MainStream", encoding, width, height, self._fps),
            templates.SimProfile(
                SUB_PROFILE, "SubStream", encoding, sub_width, sub_height, self._fps
            ),
        ]

    def _motion_changed(self, moving: bool) -> None:
        self.pullpoints.publish(moving)

    # -- request tracking --------------------------------------------------------------

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Track the current request's task so :meth:`stop` can cancel it."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._busy.add(task)
        try:
            yield
        finally:
            self._busy.discard(task)

    # -- faults ------------------------------------------------------------------------

    async def _apply_stream_fault(self) -> None:
        """With RTSP, ``drop_stream`` stops the streaming server; clearing it restarts it."""
        if self.rtsp is None:
            return
        if self.faults.drop_stream and self.rtsp.running:
            await self.rtsp.stop()
        elif not self.faults.drop_stream and not self.rtsp.running:
            await self.rtsp.start()

    async def _get_faults(self, _: web.Request) -> web.Response:
        return web.json_response(self.faults.to_json())

    async def _put_faults(self, request: web.Request) -> web.Response:
        try:
            changes = json.loads(await request.read() or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object of faults")
            self.faults.update(changes)
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        await self._apply_stream_fault()
        _LOGGER.info("camera simulator faults now %s", self.faults.to_json())
        return web.json_response(self.faults.to_json())


async def run_camera_sim(
    video: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    username: str = "admin",
    password: str = "admin",  # noqa: S107 - the simulator's documented default
    name: str = "Simulated camera",
    location: str = "Test lab",
    discovery_port: int | None = DISCOVERY_PORT,
    multicast: bool = False,
    stream_auth: bool = False,
    stream: StreamKind = "rtsp",
    rtsp_port: int = 8554,
    codec: Codec = "h264",
    fps: float = 15.0,
    clip_seconds: float | None = None,
    announce: Callable[[dict[str, object]], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run a simulated camera until ``stop`` is set or the task is cancelled.

    ``announce`` receives the camera's addresses once it is serving (the CLI prints them
    as JSON so scripts can read the port chosen for ``port=0``).
    """
    camera = CameraSim(
        video,
        host=host,
        port=port,
        username=username,
        password=password,
        name=name,
        location=location,
        discovery_port=discovery_port,
        multicast=multicast,
        stream_auth=stream_auth,
        stream=stream,
        rtsp_port=rtsp_port,
        codec=codec,
        fps=fps,
        clip_seconds=clip_seconds,
    )
    async with camera:
        if announce is not None:
            announce(
                {
                    "device_service": camera.device_url,
                    "stream": camera.stream_url(),
                    "sub_stream": camera.stream_url(SUB_PROFILE),
                    "snapshot": camera.snapshot_url(),
                    "faults": f"{camera.base_url}/sim/faults",
                    "discovery_port": camera.discovery_port,
                    "endpoint": camera.endpoint,
                }
            )
        await (stop or asyncio.Event()).wait()
