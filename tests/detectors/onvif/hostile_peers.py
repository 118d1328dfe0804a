"""Hostile and broken HTTP peers on loopback, for probing as an unlucky installer would.

Each behaviour is what a real device on a school network does when it is given the ONVIF
port it does not have: printers and routers answer ``403 text/plain``, web servers an HTML
page, load balancers redirect, a TLS-only port speaks TLS, a hostile peer sends gigabytes
or stalls after its headers. The server is plain asyncio on 127.0.0.1, so the whole HTTP
exchange is real and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

type Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

CLOCK_ANSWER = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:tt="http://www.onvif.org/ver10/schema"><env:Body>'
    "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
    "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
    "<tt:UTCDateTime><tt:Time><tt:Hour>{h}</tt:Hour><tt:Minute>{m}</tt:Minute>"
    "<tt:Second>{s}</tt:Second></tt:Time><tt:Date><tt:Year>{y}</tt:Year>"
    "<tt:Month>{mo}</tt:Month><tt:Day>{d}</tt:Day></tt:Date></tt:UTCDateTime>"
    "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></env:Body></env:Envelope>"
)
FAULT_WITHOUT_DETAIL = (
    '<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
    "<env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code>"
    "</env:Fault></env:Body></env:Envelope>"
)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request's head and body (bounded: these are tests' own clients)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(min(length, 1 << 20))


def response(status: str, body: bytes, content_type: str = "text/plain", **headers: str) -> bytes:
    """One complete HTTP/1.1 response."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}"]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answering(data: bytes) -> Behaviour:
    """Answer every request with ``data``."""

    async def behave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(data)
        await writer.drain()

    return behave


def clock_then(later: bytes) -> Behaviour:
    """Answer the clock request like a camera, every later request with ``later``."""

    async def behave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await read_request(reader)
        if b"GetSystemDateAndTime" in body:
            now = dt.datetime.now(dt.UTC)
            xml = CLOCK_ANSWER.format(
                h=now.hour, m=now.minute, s=now.second, y=now.year, mo=now.month, d=now.day
            )
            writer.write(response("200 OK", xml.encode(), "application/soap+xml"))
        else:
            writer.write(later)
        await writer.drain()

    return behave


async def _endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A chunked body that never ends (until the client gives up)."""
    await read_request(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"<a>" * 20000
    with contextlib.suppress(ConnectionError):
        while True:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()


async def _stall_after_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 900\r\n\r\n"
    )
    await writer.drain()
    await asyncio.sleep(3600)


async def _drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A slowloris answer: one byte every half second, for ever."""
    await read_request(reader)
    with contextlib.suppress(ConnectionError):
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" * 1000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.5)


def _redirect_loop(port_of: Callable[[], int]) -> Behaviour:
    async def behave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        location = f"http://127.0.0.1:{port_of()}/onvif/device_service"
        writer.write(response("302 Found", b"", Location=location))
        await writer.drain()

    return behave


BEHAVIOURS: dict[str, Behaviour] = {
    "forbidden plain text": answering(response("403 Forbidden", b"Forbidden")),
    "empty 403": answering(response("403 Forbidden", b"")),
    "html page": answering(response("200 OK", b"<html><body>Printer</body></html>", "text/html")),
    "plain text 200": answering(response("200 OK", b"OK")),
    "truncated xml": answering(
        response("200 OK", b'<?xml version="1.0"?><env:Envelope xmlns:env="x"><env:Bo', "text/xml")
    ),
    "xml not soap": answering(response("200 OK", b"<rss><channel/></rss>", "text/xml")),
    "soap fault without detail": answering(
        response("500 Internal Server Error", FAULT_WITHOUT_DETAIL.encode(), "application/soap+xml")
    ),
    "huge declared body": answering(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000000000\r\n\r\n<a>"
    ),
    "endless body": _endless,
    "headers then stall": _stall_after_headers,
    "slowloris": _drip,
    "clock then html": clock_then(response("200 OK", b"<html>no</html>", "text/html")),
    "clock then garbage soap": clock_then(
        response(
            "200 OK",
            b"<env:Envelope xmlns:env='http://www.w3.org/2003/05/soap-envelope'>"
            b"<env:Body><x/></env:Body></env:Envelope>",
            "application/soap+xml",
        )
    ),
}


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A TLS server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile-camera")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


@contextlib.asynccontextmanager
async def hostile_peer(kind: str, tls_folder: Path | None = None) -> AsyncIterator[int]:
    """Serve behaviour ``kind`` (or ``"redirect loop"``, ``"tls"``) on 127.0.0.1; yield the port."""
    port = 0
    behaviour: Behaviour
    context = None
    if kind == "redirect loop":
        behaviour = _redirect_loop(lambda: port)
    elif kind == "tls":
        assert tls_folder is not None
        context = self_signed_context(tls_folder)
        behaviour = clock_then(b"")
    else:
        behaviour = BEHAVIOURS[kind]
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)  # type: ignore[arg-type]
        try:
            await behaviour(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            tasks.discard(task)  # type: ignore[arg-type]

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await server.wait_closed()


ALL_KINDS = [*BEHAVIOURS, "redirect loop", "tls"]
