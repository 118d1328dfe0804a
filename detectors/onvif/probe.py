"""Ask an ONVIF camera what it is and how to read it.

``probe`` reads the device information, services, media profiles with their stream and
snapshot URIs, and the camera's clock offset, through onvif-zeep-async. The clock is
read first, without credentials (cameras allow that) and by our own bounded client
(:mod:`detectors.onvif.preflight`, which also turns a web page, a printer or a stalled
peer into a clear failure before the library parses anything), so that with
``adjust_time`` the WS-UsernameToken timestamps are shifted by the camera's offset and a
camera whose clock is hours off still accepts the right password. Failures become the classes of
:mod:`detectors.onvif.errors`, each with a message that says what to fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from detectors.camera_networks import CameraNetworks
from detectors.errors import HostLookupError
from detectors.onvif.errors import (
    OnvifAuthError,
    OnvifClockSkewError,
    OnvifError,
    OnvifNoProfile,
    OnvifProtocolError,
    OnvifTimeout,
    OnvifUnreachable,
)
from detectors.onvif.onvif_lib import new_camera, onvif_module
from detectors.onvif.preflight import preflight

CLOCK_SKEW_LIMIT_S = 300.0
"""Beyond this offset cameras commonly refuse WS-UsernameToken digests."""
STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What ``GetDeviceInformation`` says."""

    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One service from ``GetServices``."""

    namespace: str
    xaddr: str
    version: str


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    """One media profile and how to read it.

    ``stream_kind`` is chosen from the stream URI's scheme (``rtsp`` or ``mjpeg`` for
    HTTP), because the codec a profile declares does not say how its URI is served.
    """

    token: str
    name: str
    codec: str
    width: int
    height: int
    fps: float | None
    stream_uri: str | None
    stream_kind: str | None
    snapshot_uri: str | None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Everything the engine needs to add the camera."""

    host: str
    port: int
    device: DeviceInfo
    services: tuple[ServiceInfo, ...]
    profiles: tuple[ProfileInfo, ...]
    clock_offset_s: float | None
    time_adjusted: bool

    @property
    def best_profile(self) -> ProfileInfo:
        """Return the readable profile with the most pixels (the main stream)."""
        usable = [p for p in self.profiles if p.stream_kind is not None]
        return max(usable, key=lambda p: p.width * p.height)

    @property
    def snapshot_uri(self) -> str | None:
        """Return the best profile's snapshot URI (cameras share one for all, mostly)."""
        best = self.best_profile.snapshot_uri
        return best or next((p.snapshot_uri for p in self.profiles if p.snapshot_uri), None)

    def to_json(self) -> dict[str, Any]:
        """Return the result as JSON (no credentials are in it)."""
        return asdict(self) | {"snapshot_uri": self.snapshot_uri}


def _stream_kind(uri: str | None) -> str | None:
    if not uri:
        return None
    scheme = urlsplit(uri).scheme.lower()
    if scheme in {"rtsp", "rtsps"}:
        return "rtsp"
    if scheme in {"http", "https"}:
        return "mjpeg"
    return None


def _text(value: object) -> str:
    return "" if value is None else str(value)


class OnvifSession:
    """One camera connection through the library: its clock offset and error mapping."""

    def __init__(self, host: str, port: int, username: str, password: str, adjust: bool) -> None:
        self.host = host
        self.port = port
        self.adjust = adjust
        self.address = f"{host}:{port}"
        self.camera = new_camera(host, port, username, password, adjust_time=adjust)
        self.offset_s: float | None = None

    async def call[T](self, what: str, awaitable: Awaitable[T]) -> T:
        """Await one SOAP call, translating library errors into ours."""
        from zeep import exceptions as zeep_exceptions

        try:
            return await awaitable
        except (httpx.ConnectError, httpx.ConnectTimeout, ConnectionError) as error:
            raise OnvifUnreachable(
                f"no ONVIF service answers at {self.address}: {error or type(error).__name__}"
                " (check the address, the port and that ONVIF is enabled on the camera)"
            ) from None
        except httpx.TimeoutException as error:
            raise OnvifUnreachable(
                f"{self.address} accepted the connection but did not answer {what} in time"
            ) from error
        except zeep_exceptions.Fault as fault:
            raise self._fault_error(what, fault) from None
        except (httpx.HTTPError, zeep_exceptions.Error) as error:
            raise OnvifProtocolError(f"{self.address}: {what} failed: {error}") from None
        except Exception as error:  # zeep's parser on an answer that is not what it expects
            raise OnvifProtocolError(
                f"{self.address}: the answer to {what} could not be read"
                f" ({type(error).__name__}); the device does not speak the ONVIF it claims"
            ) from None

    def _fault_error(self, what: str, fault: Any) -> OnvifError:
        if not _fault_is_auth(fault):
            return OnvifProtocolError(f"{self.address}: {what} refused: {fault.message}")
        offset = self.offset_s
        if offset is not None and abs(offset) > CLOCK_SKEW_LIMIT_S:
            return OnvifClockSkewError(
                f"{self.address} refused the credentials and its clock is {offset:+.0f} s off"
                " ours; set the camera's time (NTP) or probe with adjust_time",
                offset,
            )
        return OnvifAuthError(
            f"{self.address} refused the username or password ({what}: {fault.message})"
        )


def _fault_is_auth(fault: Any) -> bool:
    """Use the library's test: most cameras send no proper subcode, so it also reads text."""
    onvif_module()
    from onvif.util import is_auth_error  # type: ignore[import-untyped]

    return bool(is_auth_error(fault))


async def _check_host(session: OnvifSession, networks: CameraNetworks | None) -> None:
    """Check the camera's own host before anything is sent to it (the pre-flight included)."""
    if networks is None:
        return
    try:
        await networks.check_host(session.host, session.port, what="ONVIF host")
    except HostLookupError as error:
        raise OnvifUnreachable(f"{session.address}: {error}") from None


async def _check_service_addresses(session: OnvifSession, networks: CameraNetworks | None) -> None:
    """Check each service address GetCapabilities handed back, before the library calls it.

    A camera may name any host as its media service; the library would call it. Until
    GetCapabilities answers, every address is the camera's own host, checked already.
    """
    if networks is None:
        return
    for xaddr in dict(session.camera.xaddrs).values():
        try:
            await networks.check_url(str(xaddr), what=f"the service address {session.address} gave")
        except HostLookupError as error:
            raise OnvifUnreachable(f"{session.address} names a service host: {error}") from None


async def _probe(
    session: OnvifSession, timeout: float, networks: CameraNetworks | None
) -> ProbeResult:
    camera = session.camera
    await _check_host(session, networks)
    first = await preflight(session.host, session.port, timeout=timeout)
    session.offset_s = first.offset_s
    await session.call("GetCapabilities", camera.update_xaddrs())
    await _check_service_addresses(session, networks)
    devicemgmt = await session.call("setup", camera.create_devicemgmt_service())
    info = await session.call("GetDeviceInformation", devicemgmt.GetDeviceInformation())
    services = await session.call(
        "GetServices", devicemgmt.GetServices({"IncludeCapability": False})
    )
    media = await session.call("setup", camera.create_media_service())
    profiles = await session.call("GetProfiles", media.GetProfiles())
    found = []
    for profile in profiles or []:
        found.append(await _profile_info(session, media, profile))
    result = ProbeResult(
        host=session.host,
        port=session.port,
        device=DeviceInfo(
            manufacturer=_text(info.Manufacturer),
            model=_text(info.Model),
            firmware_version=_text(info.FirmwareVersion),
            serial_number=_text(info.SerialNumber),
            hardware_id=_text(info.HardwareId),
        ),
        services=tuple(
            ServiceInfo(
                namespace=_text(s.Namespace),
                xaddr=_text(s.XAddr),
                version=f"{s.Version.Major}.{s.Version.Minor}" if s.Version else "",
            )
            for s in services or []
        ),
        profiles=tuple(found),
        clock_offset_s=session.offset_s,
        time_adjusted=session.adjust,
    )
    if not any(p.stream_kind is not None for p in result.profiles):
        raise OnvifNoProfile(
            f"{session.address} has no media profile with a stream the engine can read"
            f" ({len(result.profiles)} profiles); add an RTSP or MJPEG profile on the camera"
        )
    return result


async def _profile_info(session: OnvifSession, media: Any, profile: Any) -> ProfileInfo:
    token = _text(profile.token)
    encoder = profile.VideoEncoderConfiguration
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    stream_uri: str | None
    try:
        answer = await session.call(
            "GetStreamUri", media.GetStreamUri({"StreamSetup": STREAM_SETUP, "ProfileToken": token})
        )
        stream_uri = _text(answer.Uri) or None
    except OnvifProtocolError:
        stream_uri = None
    try:
        answer = await session.call("GetSnapshotUri", media.GetSnapshotUri({"ProfileToken": token}))
        snapshot_uri = _text(answer.Uri) or None
    except OnvifProtocolError:
        snapshot_uri = None
    return ProfileInfo(
        token=token,
        name=_text(profile.Name),
        codec=_text(getattr(encoder, "Encoding", "")),
        width=int(resolution.Width) if resolution is not None else 0,
        height=int(resolution.Height) if resolution is not None else 0,
        fps=float(rate.FrameRateLimit) if rate is not None else None,
        stream_uri=stream_uri,
        stream_kind=_stream_kind(stream_uri),
        snapshot_uri=snapshot_uri,
    )


async def probe(
    host: str,
    port: int,
    username: str,
    password: str,
    *,
    timeout: float = 10.0,
    adjust_time: bool = True,
    networks: CameraNetworks | None = None,
) -> ProbeResult:
    """Probe the camera at ``host:port``; raise an :class:`OnvifError` subclass on failure.

    ``timeout`` bounds the whole probe (the library's own defaults are 30 s to connect and
    90 s per answer). With ``adjust_time`` (the default) a camera whose clock is off is
    still probed and the offset reported; without it such a camera raises
    :class:`OnvifClockSkewError`. With ``networks`` the host and every service address
    the camera hands back must lie inside them
    (:class:`~detectors.errors.HostNotAllowedError` otherwise, before anything is sent).
    """
    session = OnvifSession(host, port, username, password, adjust_time)
    try:
        async with asyncio.timeout(timeout):
            return await _probe(session, timeout, networks)
    except OnvifError:
        raise
    except (AttributeError, TypeError, ValueError, LookupError) as error:
        # A device answered SOAP without the elements ONVIF promises (zeep returns None or
        # a bare object): a broken or impostor device, not a bug of ours.
        raise OnvifProtocolError(
            f"{session.address} answered without the ONVIF elements it must send"
            f" ({type(error).__name__}); the device does not speak the ONVIF it claims"
        ) from None
    except TimeoutError:
        raise OnvifTimeout(
            f"{session.address} did not finish answering within {timeout:g} s"
        ) from None
    finally:
        await session.camera.close()
