"""The simulator's SOAP surface seen raw: authentication, faults, and the pieces behind it."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from detectors.http_auth import DigestAuth, DigestChallenge
from detectors.onvif.digest_guard import DigestGuard, parse_authorization
from detectors.onvif.soap import SoapRequest, XmlRejectedError
from detectors.onvif.wsse import UsernameToken, password_digest, token_is_valid
from detectors.sim.camera import CameraSim, SimFaults, run_camera_sim
from detectors.sim.pullpoint import parse_duration, termination_after

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


def _request(operation: str, namespace: str, security: str = "") -> bytes:
    header = f"<s:Header>{security}</s:Header>" if security else ""
    return (
        f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">{header}'
        f'<s:Body><{operation} xmlns="{namespace}"/></s:Body></s:Envelope>'
    ).encode()


def _security(username: str, password: str, created: datetime, nonce: bytes = b"n" * 16) -> str:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = password_digest(nonce, stamp, password)
    return (
        f'<wsse:Security xmlns:wsse="{WSSE_NS}"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        f'<wsse:Password Type="{TOKEN_PROFILE}#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsse:Created>{stamp}</wsse:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def _token(security: str) -> UsernameToken | None:
    return UsernameToken.from_header(SoapRequest.parse(_request("X", "urn:x", security)).header)


def test_digest_token_checks_password_and_freshness() -> None:
    good = _token(_security("admin", "pw", NOW))
    assert good is not None
    assert token_is_valid(good, "admin", "pw", camera_now=NOW + timedelta(seconds=299))
    assert not token_is_valid(good, "admin", "pw", camera_now=NOW + timedelta(seconds=301))
    assert not token_is_valid(good, "admin", "other", camera_now=NOW)
    assert not token_is_valid(good, "root", "pw", camera_now=NOW)
    assert not token_is_valid(None, "admin", "pw", camera_now=NOW)


def test_soap_parser_refuses_dtds_and_non_envelopes() -> None:
    with pytest.raises(XmlRejectedError, match="DTD"):
        SoapRequest.parse(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(XmlRejectedError, match="not a SOAP envelope"):
        SoapRequest.parse(b"<html/>")


def test_durations_and_termination_times() -> None:
    assert parse_duration("PT60S") == timedelta(seconds=60)
    assert parse_duration("P1DT2H3M4.5S") == timedelta(days=1, hours=2, minutes=3, seconds=4.5)
    assert parse_duration("PT") is None
    assert parse_duration("soon") is None
    assert termination_after("PT10S", NOW) == NOW + timedelta(seconds=10)
    assert termination_after("2025-03-01T12:00:30Z", NOW) == NOW + timedelta(seconds=30)
    assert termination_after(None, NOW) == NOW + timedelta(seconds=60)
    assert termination_after("P2D", NOW) == NOW + timedelta(hours=1)


def test_digest_guard_accepts_only_a_correct_answer_to_a_live_nonce() -> None:
    now = [100.0]
    guard = DigestGuard("cam", lambda: ("admin", "pw"), clock=lambda: now[0])
    challenge = DigestChallenge.parse(guard.challenge())
    assert challenge is not None
    answer = DigestAuth("admin", "pw").answer(
        challenge, "GET", "/snapshot.jpg", nonce_count=1, cnonce="c"
    )
    assert guard.accepts("GET", "/snapshot.jpg", answer)
    assert not guard.accepts("GET", "/stream.mjpg", answer)
    assert not guard.accepts("POST", "/snapshot.jpg", answer)
    wrong = DigestAuth("admin", "bad").answer(
        challenge, "GET", "/snapshot.jpg", nonce_count=1, cnonce="c"
    )
    assert not guard.accepts("GET", "/snapshot.jpg", wrong)
    assert not guard.accepts("GET", "/snapshot.jpg", "Basic YWRtaW46cHc=")
    now[0] += 601
    assert not guard.accepts("GET", "/snapshot.jpg", answer)
    assert parse_authorization('Digest a="x\\"y", b=2') == {"a": 'x"y', "b": "2"}


async def _post(url: str, body: bytes) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={"Content-Type": "application/soap+xml"}) as response,
    ):
        return response.status, await response.text()


async def test_soap_answers_and_faults(camera: CameraSim) -> None:
    device = camera.device_url
    tds = "http://www.onvif.org/ver10/device/wsdl"
    status, text = await _post(device, _request("GetSystemDateAndTime", tds))
    assert status == 200
    assert "<tt:Year>" in text

    status, text = await _post(device, _request("GetDeviceInformation", tds))
    assert status == 400
    assert "<env:Value>ter:NotAuthorized</env:Value>" in text

    fresh = _security("admin", "s3cret", camera.camera_now())
    status, text = await _post(device, _request("GetDeviceInformation", tds, fresh))
    assert status == 200
    assert "<tds:Model>school-guard-sim</tds:Model>" in text

    status, text = await _post(device, _request("Reboot", tds, fresh))
    assert status == 500
    assert "ter:ActionNotSupported" in text

    status, text = await _post(device, b"<oops")
    assert status == 400
    assert "ter:WellFormed" in text

    media = f"{camera.base_url}/onvif/media_service"
    trt = "http://www.onvif.org/ver10/media/wsdl"
    status, text = await _post(media, _request("GetStreamUri", trt, fresh))
    assert status == 400
    assert "ter:NoProfile" in text


def test_sim_faults_validate_updates() -> None:
    faults = SimFaults()
    faults.update({"clock_skew_seconds": -5, "wrong_credentials": True})
    assert faults == SimFaults(wrong_credentials=True, clock_skew_seconds=-5.0)
    with pytest.raises(ValueError, match="must not be negative"):
        faults.update({"slow_seconds": -1})
    with pytest.raises(ValueError, match="must be a number"):
        faults.update({"slow_seconds": True})


async def test_run_camera_sim_announces_and_stops(samples_dir: Path) -> None:
    seen: list[dict[str, object]] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_camera_sim(
            samples_dir / "vtest.avi",
            port=0,
            discovery_port=0,
            rtsp_port=0,
            clip_seconds=4.0,
            announce=seen.append,
            stop=stop,
        )
    )
    while not seen:
        await asyncio.sleep(0.05)
    async with aiohttp.ClientSession() as session, session.get(str(seen[0]["faults"])) as response:
        assert (await response.json())["drop_stream"] is False
    stop.set()
    await task
    assert str(seen[0]["stream"]).startswith("rtsp://127.0.0.1:")
    assert str(seen[0]["stream"]).endswith("/main")
    assert str(seen[0]["sub_stream"]).endswith("/sub")
    assert isinstance(seen[0]["discovery_port"], int)


def test_importing_the_library_leaves_logging_and_proxies_alone() -> None:
    code = (
        "import json, logging, os\n"
        "from detectors.onvif.onvif_lib import new_camera\n"
        "before = (list(logging.getLogger().handlers), logging.getLogger().level)\n"
        "camera = new_camera('127.0.0.1', 9, 'u', 'p', adjust_time=True)\n"
        "after = (list(logging.getLogger().handlers), logging.getLogger().level)\n"
        "print(json.dumps({'same': before == after, 'level': after[1],\n"
        "    'proxy': os.environ.get('http_proxy'), 'sproxy': os.environ.get('https_proxy')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "http_proxy": "http://proxy.invalid:3128",
            "https_proxy": "http://proxy.invalid:3129",
        },
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "same": True,
        "level": 30,
        "proxy": "http://proxy.invalid:3128",
        "sproxy": "http://proxy.invalid:3129",
    }
