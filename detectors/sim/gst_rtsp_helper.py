"""GStreamer's RTSP server serving pre-encoded files: run by Debian's ``python3``, not the venv.

The engine's virtual environment has no PyGObject (``gi``), and a home-made RTSP server
would test the engine against our own idea of RTSP. So the camera simulator, the tests and
``bench --capacity`` start this script as a helper process on Debian's interpreter, which
has ``python3-gi`` and ``gir1.2-gst-rtsp-server-1.0`` (installed by ``scripts/setup``).
It must stay importable by Python 3.11 and must not import ``detectors``.

Protocol with the parent (:mod:`detectors.sim.rtsp_server`):

* argv: ``--spec JSON`` with ``host``, ``port`` (0: any free port), optional ``username``
  and ``password`` (RTSP Digest then guards every mount), and ``mounts``: a list of
  ``{"path": "/sub", "file": "/x/sub.mp4", "codec": "h264" | "h265"}``;
* stdout: one JSON line ``{"ready": true, "port": N}`` once the server listens, or
  ``{"ready": false, "error": "..."}``;
* stdin: the server stops when it closes (the parent died or asked it to stop), and on
  SIGTERM or SIGINT.

Each file is served as it was encoded (demux, parse, payload: no re-encoding), paced by
its own timestamps, shared by all clients of a mount, and looped with a segment seek
when it ends, so a mount behaves like a camera that never stops sending.

Like a camera's encoder, every mount runs from start to stop: the helper itself keeps one
receiver on each mount (``rtspsrc ! fakesink``, no decoding) and says it is ready only when
each has received data. Without it GStreamer 1.22 prepares a shared media anew for every
first client, and a PLAY that arrives while the loop's initial flush seek is still under
way aborts the whole server (``gst_rtsp_media_get_rates: assertion failed``), which was
seen under load. With it, clients join a media that is already playing.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

_DEMUXERS = {".mp4": "qtdemux", ".mov": "qtdemux", ".ts": "tsdemux"}
_PARSE_PAY = {
    "h264": "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1",
    "h265": "h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96 config-interval=-1",
}


def launch_line(path: str, codec: str) -> str:
    """Return the ``gst-launch`` description that serves ``path`` without re-encoding."""
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    demuxer = _DEMUXERS.get(suffix)
    if demuxer is None:
        raise ValueError(f"cannot serve {path}: use .mp4 or .ts")
    if codec not in _PARSE_PAY:
        raise ValueError(f"unknown codec {codec!r}: use h264 or h265")
    location = path.replace("\\", "\\\\").replace('"', '\\"')
    return f'( filesrc location="{location}" ! {demuxer} ! {_PARSE_PAY[codec]} )'


def _seek_to_start(element: Any, flags: Any) -> bool:
    element.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
    return False  # as a GLib idle callback: run once


def _demuxer(media: Any) -> Any:
    """Return the media's demuxer, which the loop's seeks go to.

    A seek sent to the pipeline goes to its sinks (the server's RTP session), which do
    not pass it upstream before the media plays; the demuxer takes it at once.
    """
    iterator = media.get_element().iterate_recurse()
    while True:
        result, element = iterator.next()
        if result != Gst.IteratorResult.OK:
            return None
        if element.get_factory().get_name() in _DEMUXERS.values():
            return element


def loop_media(_factory: Any, media: Any) -> None:
    """Make ``media`` loop: a segment seek once it is prepared, another at each segment end.

    The media owns its pipeline's bus watch, so segment-done is taken as a sync message
    (emitted on a streaming thread); every seek is made from the main loop.
    """
    demuxer = _demuxer(media)
    pipeline = media.get_element().get_parent()
    bus = pipeline.get_bus()
    bus.enable_sync_message_emission()

    def on_message(_bus: Any, message: Any) -> None:
        if message.type == Gst.MessageType.SEGMENT_DONE:
            GLib.idle_add(_seek_to_start, demuxer, Gst.SeekFlags.SEGMENT)

    bus.connect("sync-message", on_message)
    flags = Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT
    media.connect("prepared", lambda _media: GLib.idle_add(_seek_to_start, demuxer, flags))


def build_server(spec: dict[str, Any]) -> Any:
    """Create the server with one shared, looping factory per mount."""
    server = GstRtspServer.RTSPServer()
    server.set_address(spec.get("host", "127.0.0.1"))
    server.set_service(str(spec.get("port", 0)))
    username = spec.get("username")
    if username:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        auth.add_digest(username, spec.get("password") or "", token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for mount in spec["mounts"]:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(mount["file"], mount.get("codec", "h264")))
        factory.set_shared(True)
        # Like a camera, a mount cannot be seeked: a client's PLAY range (FFmpeg sends
        # npt=0-) would otherwise replace the looping segment seek, or rewind the stream
        # shared with every other client. Publishing the clock makes the media unseekable.
        factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
        factory.connect("media-configure", loop_media)
        if username:
            permissions = GstRtspServer.RTSPPermissions()
            permissions.add_permission_for_role("camera-user", "media.factory.access", True)
            permissions.add_permission_for_role("camera-user", "media.factory.construct", True)
            factory.set_permissions(permissions)
        mounts.add_factory(mount["path"], factory)
    return server


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


KEEPER_START_SECONDS = 30
"""How long each mount's keeper may take to receive its first data before the start fails."""


def start_keepers(spec: dict[str, Any], port: int, ready: Any, failed: Any) -> list[Any]:
    """Start one receiver per mount; ``ready()`` once all have data, ``failed(why)`` if not."""
    waiting = {mount["path"] for mount in spec["mounts"]}
    keepers = []
    host = spec.get("host", "127.0.0.1")

    def on_data(path: str) -> bool:
        """Note a mount's first data (a GLib idle callback: False runs it once)."""
        if path in waiting:
            waiting.discard(path)
            if not waiting:
                ready()
        return False

    for mount in spec["mounts"]:
        path = mount["path"]
        pipeline = Gst.parse_launch(
            f'rtspsrc name=src location="rtsp://{host}:{port}{path}" protocols=tcp latency=0'
            " ! fakesink name=sink sync=false async=false signal-handoffs=true"
        )
        source = pipeline.get_by_name("src")
        if spec.get("username"):
            source.set_property("user-id", spec["username"])
            source.set_property("user-pw", spec.get("password") or "")
        sink = pipeline.get_by_name("sink")

        def first_buffer(element: Any, *_args: Any, p: str = path) -> None:
            # A streaming thread: hand over to the main loop once, then stop signalling.
            element.set_property("signal-handoffs", False)
            GLib.idle_add(on_data, p)

        sink.connect("handoff", first_buffer)

        def on_bus(_bus: Any, message: Any, p: str = path) -> bool:
            if message.type == Gst.MessageType.ERROR and p in waiting:
                error, _debug = message.parse_error()
                failed(f"mount {p} does not play: {error.message}")
            return True

        pipeline.get_bus().add_watch(GLib.PRIORITY_DEFAULT, on_bus)
        pipeline.set_state(Gst.State.PLAYING)
        keepers.append(pipeline)

    def too_slow() -> bool:
        if waiting:
            failed(f"mounts {sorted(waiting)} sent nothing within {KEEPER_START_SECONDS} s")
        return False

    GLib.timeout_add_seconds(KEEPER_START_SECONDS, too_slow)
    return keepers


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin closes or a stop signal arrives."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="JSON: host, port, mounts, credentials")
    args = parser.parse_args(argv)
    Gst.init(None)
    try:
        spec = json.loads(args.spec)
        server = build_server(spec)
        if server.attach(None) == 0:
            raise OSError(f"cannot listen on {spec.get('host')}:{spec.get('port')}")
    except (ValueError, KeyError, OSError, GLib.Error) as error:
        _say({"ready": False, "error": str(error)})
        return 1
    loop = GLib.MainLoop()
    for number in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, number, loop.quit)

    def parent_gone(_channel: Any, _condition: Any) -> bool:
        loop.quit()
        return False

    stdin = GLib.IOChannel.unix_new(sys.stdin.fileno())
    GLib.io_add_watch(
        stdin, GLib.PRIORITY_DEFAULT, GLib.IOCondition.HUP | GLib.IOCondition.IN, parent_gone
    )
    port = server.get_bound_port()
    outcome: dict[str, Any] = {}

    def ready() -> None:
        if not outcome:
            outcome["ready"] = True
            _say({"ready": True, "port": port})

    def failed(why: str) -> None:
        if not outcome:
            outcome["ready"] = False
            _say({"ready": False, "error": why})
            loop.quit()

    keepers = start_keepers(spec, port, ready, failed)
    loop.run()
    for keeper in keepers:
        keeper.set_state(Gst.State.NULL)
    return 0 if outcome.get("ready") else 1


if __name__ == "__main__":
    sys.exit(main())
