"""The first question to a would-be camera, asked with our own bounded client.

onvif-zeep-async hands whatever comes back to zeep, which fails on a non-XML body with an
``AttributeError`` deep inside its parser, reads bodies of any size into memory and
follows no rule about redirects. Printers, routers and locked-down web servers answer
``403 text/plain`` or an HTML page; a hostile peer can send gigabytes or stall after its
headers. So before the library speaks, this module posts one unauthenticated
``GetSystemDateAndTime`` to the device service itself: bounded in size, never following a
redirect, parsed by our DTD-refusing parser, and classified into a failure an installer
can act on. What it reads (the camera's clock) saves the library a round trip.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import httpx

from detectors.onvif.errors import OnvifNotOnvif, OnvifTimeout, OnvifUnreachable
from detectors.onvif.soap import XmlRejectedError, find_local, local_name, parse_xml

MAX_ANSWER_BYTES = 1024 * 1024
"""No camera's answer to GetSystemDateAndTime comes near this; anything larger is refused."""
DEVICE_SERVICE_PATH = "/onvif/device_service"
_REQUEST = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    b'<s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
    b"</s:Body></s:Envelope>"
)
_HEADERS = {
    "Content-Type": 'application/soap+xml; charset=utf-8; action="'
    'http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"'
}


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the device service's first answer told us.

    ``offset_s`` is camera time minus ours (None when the camera wants credentials even
    for its clock, or does not say).
    """

    offset_s: float | None
    status: int


def _camera_clock(root: ET.Element) -> datetime | None:
    utc = find_local(root, "Body", "GetSystemDateAndTimeResponse", "SystemDateAndTime")
    utc = find_local(utc, "UTCDateTime") if utc is not None else None
    if utc is None:
        return None

    def number(*path: str) -> int:
        node = find_local(utc, *path)
        return int((node.text or "").strip()) if node is not None else -1

    try:
        return datetime(
            number("Date", "Year"),
            number("Date", "Month"),
            number("Date", "Day"),
            number("Time", "Hour"),
            number("Time", "Minute"),
            number("Time", "Second"),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _describe(response: httpx.Response) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0].strip()
    return f"HTTP {response.status_code} ({kind or 'no content type'})"


async def _bounded_body(response: httpx.Response, address: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise OnvifNotOnvif(
            f"{address} announced an answer of {int(declared)} bytes; an ONVIF device service"
            f" answers this in a few kB, so this is not a camera's ONVIF port"
        )
    chunks: list[bytes] = []
    size = 0
    # aclosing: leaving the loop early must close httpx's generator here, not in a
    # garbage-collector task that outlives the probe (httpx types it as a plain iterator).
    raw = cast(AsyncGenerator[bytes], response.aiter_raw())
    async with aclosing(raw) as stream:
        async for chunk in stream:
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise OnvifNotOnvif(
                    f"{address} sent more than {MAX_ANSWER_BYTES} bytes for a clock reading;"
                    " this is not a camera's ONVIF port"
                )
            chunks.append(chunk)
    return b"".join(chunks)


async def preflight(host: str, port: int, *, timeout: float) -> Preflight:
    """Ask ``host:port``'s device service for its clock; raise when it is no ONVIF service.

    Raises :class:`OnvifUnreachable` (nothing answers), :class:`OnvifTimeout` (it
    connected but did not finish answering in ``timeout`` s) and :class:`OnvifNotOnvif`
    (something answered that is not ONVIF SOAP: a web page, a plain-text error, a
    redirect, a TLS-only port, an oversized body). A SOAP fault or an HTTP 401 is not a
    verdict: many cameras want credentials for everything, so the probe goes on.
    """
    address = f"{host}:{port}"
    url = f"http://{address}{DEVICE_SERVICE_PATH}"
    limits = httpx.Timeout(timeout)
    try:
        async with httpx.AsyncClient(timeout=limits, follow_redirects=False) as client:
            before = time.time()
            async with client.stream("POST", url, content=_REQUEST, headers=_HEADERS) as answer:
                body = await _bounded_body(answer, address)
            after = time.time()
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise OnvifUnreachable(
            f"no ONVIF service answers at {address}: {error or type(error).__name__}"
            " (check the address, the port and that ONVIF is enabled on the camera)"
        ) from None
    except httpx.TimeoutException:
        raise OnvifTimeout(
            f"{address} accepted the connection but did not finish answering within"
            f" {timeout:g} s (an overloaded camera, or not a camera)"
        ) from None
    except (httpx.RemoteProtocolError, httpx.DecodingError) as error:
        raise OnvifNotOnvif(
            f"{address} does not speak plain HTTP ({type(error).__name__}); if it is an"
            " HTTPS-only port, give the camera's ONVIF HTTP port instead"
        ) from None
    except httpx.HTTPError as error:
        raise OnvifUnreachable(
            f"{address}: the connection failed: {type(error).__name__}"
        ) from None
    if answer.is_redirect:
        raise OnvifNotOnvif(
            f"{address} redirects the ONVIF device service elsewhere ({_describe(answer)});"
            " ONVIF cameras answer directly: give the camera's own address and ONVIF port"
        )
    if answer.status_code == 401:
        return Preflight(None, 401)
    try:
        root: ET.Element | None = parse_xml(body, max_bytes=MAX_ANSWER_BYTES)
    except XmlRejectedError:
        root = None
    if root is None or local_name(root.tag) != "Envelope" or find_local(root, "Body") is None:
        raise OnvifNotOnvif(
            f"{address} answered {_describe(answer)} that is not ONVIF SOAP; this looks"
            " like a web server, printer or router, not a camera's ONVIF service"
        )
    camera_time = _camera_clock(root)
    if camera_time is None:
        return Preflight(None, answer.status_code)
    # The camera reports whole seconds, truncated: its clock was half a second later on
    # average. Compare with the middle of the round trip.
    offset = round(camera_time.timestamp() + 0.5 - (before + after) / 2, 1)
    return Preflight(offset, answer.status_code)
