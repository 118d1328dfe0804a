"""The wire contract, from both sides: every engine answer and message, through the
integration's own parser, held to the engine's published schema.

The engine (``detectors.protocol``) and the integration (``custom_components``) may not
import each other, so each keeps its own description of the messages. This test runs the
real engine, captures every JSON answer of every operation and every WebSocket message
type, and checks each with :func:`contract_problems`: a field added or removed on either
side fails here. The tests after it prove the check can fail.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from custom_components.school_guard import errors as error_table
from custom_components.school_guard.client import (
    DELETED_UNUSED,
    HEALTH_UNUSED,
    STATE_MESSAGE_UNUSED,
    AlertEvent,
    CameraState,
    EngineInfo,
    EventChange,
    EventPage,
    ModeState,
    OnvifCamera,
    OnvifProbe,
    ReportSummary,
    error_fields,
    health_cursor,
    parse_push_message,
)
from detectors.incidents.log import IncidentLog
from detectors.protocol import messages
from detectors.protocol.cameras import CAMERA_SCHEMA
from detectors.protocol.codes import (
    RESPONSE_MODES,
    RESPONSE_STEPS,
    RULE_NAMES,
    CameraFailure,
    MessageType,
)
from detectors.protocol.engine import DELETED, ERROR, HEALTH, INFO, MODE
from detectors.protocol.events import CHANGE, EVENT, EVENT_PAGE, event_json
from detectors.protocol.onvif import DISCOVERED, PROBE
from detectors.protocol.openapi import OPERATIONS
from detectors.protocol.report import SUMMARY
from detectors.protocol.schema import ANY_OBJECT
from detectors.sim.camera import CameraSim
from detectors.zoo.store import ModelStore
from tests.detectors.incidents.test_incident_log import start
from tests.detectors.protocol.contract import Schema, contract_problems
from tests.real_engine import ServedEngine, serve_engine

ROOT = Path(__file__).resolve().parents[3]
INTEGRATION = ROOT / "custom_components" / "school_guard"
TOKEN = "contract-token-0123456789"
WAIT_SECONDS = 90.0

type Check = tuple[Schema, Callable[[Any], object], Collection[str]]


def _prefixed(prefix: str, paths: Collection[str]) -> frozenset[str]:
    return frozenset(f"{prefix}.{path}" for path in paths)


CAMERA: Check = (CAMERA_SCHEMA, CameraState.from_json, CameraState.UNUSED)
CHANGED: Check = (CHANGE.schema, EventChange.from_json, EventChange.UNUSED)
MODE_ANSWER: Check = (MODE.schema, ModeState.from_json, ModeState.UNUSED)

ANSWERS: dict[str, Check] = {
    "info": (INFO.schema, EngineInfo.from_json, EngineInfo.UNUSED),
    "health": (HEALTH.schema, health_cursor, HEALTH_UNUSED),
    "cameras": CAMERA,
    "add_camera": CAMERA,
    "camera": CAMERA,
    "patch_camera": CAMERA,
    "delete_camera": (DELETED.schema, lambda data: None, DELETED_UNUSED),
    "events": (EVENT_PAGE.schema, EventPage.from_json, EventPage.UNUSED),
    "event": (EVENT.schema, AlertEvent.from_json, AlertEvent.UNUSED),
    "incidents": (EVENT.schema, AlertEvent.from_json, AlertEvent.UNUSED),
    "acknowledge": CHANGED,
    "dismiss": CHANGED,
    "notified": CHANGED,
    "actions": CHANGED,
    "report_summary": (SUMMARY.schema, ReportSummary.from_json, ReportSummary.UNUSED),
    "get_mode": MODE_ANSWER,
    "put_mode": MODE_ANSWER,
    "test_alert": CHANGED,
    "onvif_discover": (DISCOVERED.schema, OnvifCamera.from_json, OnvifCamera.UNUSED),
    "onvif_probe": (PROBE.schema, OnvifProbe.from_json, OnvifProbe.UNUSED),
}
"""Each JSON operation's answer (an item of it, for lists) and how the integration reads it."""
NOT_JSON = {
    "camera_snapshot",
    "event_snapshot",
    "event_clip",
    "event_strip",
    "openapi",
    "report_html",
}
"""Answers the integration takes as bytes (JPEG) or never asks for (the document)."""

PUSHED: dict[str, Check] = {
    MessageType.HELLO: (messages.HELLO.schema, parse_push_message, ()),
    MessageType.EVENT: (messages.EVENT.schema, parse_push_message, EventChange.UNUSED),
    MessageType.CAMERA: (
        messages.CAMERA.schema,
        parse_push_message,
        STATE_MESSAGE_UNUSED | _prefixed("camera", CameraState.UNUSED),
    ),
    MessageType.CAMERA_REMOVED: (
        messages.CAMERA_REMOVED.schema,
        parse_push_message,
        STATE_MESSAGE_UNUSED,
    ),
    MessageType.MODE: (messages.MODE.schema, parse_push_message, STATE_MESSAGE_UNUSED),
}
ERROR_ANSWER: Check = (ERROR.schema, error_fields, ())


class Capture:
    """The engine's answers by operation, and its WebSocket messages by type."""

    def __init__(self, served: ServedEngine, session: aiohttp.ClientSession) -> None:
        self.served = served
        self.session = session
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.errors: list[dict[str, Any]] = []
        self.pushed: dict[str, list[dict[str, Any]]] = {}

    async def call(
        self, name: str, method: str, path: str, body: object = None, *, status: int = 200
    ) -> Any:
        async with self.session.request(
            method,
            self.served.base + path,
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response:
            data = await response.json()
        assert response.status == status, (name, response.status, data)
        if status >= 400:
            self.errors.append(data)
        else:
            self.answers.setdefault(name, []).extend(data if isinstance(data, list) else [data])
        return data

    async def until(self, name: str, path: str, condition: Callable[[Any], bool]) -> Any:
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            data = await self.call(name, "GET", path)
            if condition(data):
                return data
            assert asyncio.get_running_loop().time() < deadline, f"waiting for {path}"
            await asyncio.sleep(0.2)

    async def listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            message = json.loads(frame.data)
            self.pushed.setdefault(message["type"], []).append(message)


@pytest.fixture
async def served(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore, socket_enabled: None
) -> AsyncIterator[ServedEngine]:
    running = await serve_engine(tmp_path / "data", samples_dir, model_store, TOKEN)
    yield running
    await running.stop()


async def _run_everything(capture: Capture, samples_dir: Path) -> None:
    """Call every operation once with what makes its answer complete (an open alert...)."""
    await capture.until(
        "camera", "/cameras/plaza", lambda c: c["status"]["online"] and "stats" in c
    )
    await capture.call("info", "GET", "/info")
    await capture.call("health", "GET", "/health")
    started = await capture.call(
        "test_alert",
        "POST",
        "/test_alert",
        {"camera_id": "plaza", "rule": "weapon", "seconds": 600},
        status=201,
    )
    event_id = started["event_id"]
    await capture.call(
        "notified",
        "POST",
        f"/events/{event_id}/notified",
        {"recipients": ["notify.sro"], "channel": "notify", "by": "Weapon response"},
    )
    await capture.call("acknowledge", "POST", f"/events/{event_id}/acknowledge", {"by": "SRO"})
    locked = {
        "step": "doors_locked",
        "step_id": "contract-lock",
        "targets": ["lock.front_doors"],
        "confirmed": {"lock.front_doors": True},
        "by": "Weapon response",
        "note": "",
    }
    await capture.call("actions", "POST", f"/events/{event_id}/actions", locked)
    await capture.call("event", "GET", f"/events/{event_id}")
    await capture.call("incidents", "GET", "/incidents?camera_id=plaza&start=0")
    await capture.call("report_summary", "GET", "/report/summary?days=30")
    await capture.until("cameras", "/cameras", lambda cs: cs[0]["open_alerts"] != [])
    await capture.call("events", "GET", "/events?since=0")
    await capture.call("get_mode", "GET", "/mode")
    await capture.call("put_mode", "PUT", "/mode", {"mode": "hold", "drill": True})
    gate = {
        "id": "gate",
        "name": "Gate",
        "source": {"type": "file", "url": str(samples_dir / "vtest.avi")},
        "rules": {"weapon": {}},
    }
    await capture.call("add_camera", "POST", "/cameras", gate, status=201)
    await capture.call("patch_camera", "PATCH", "/cameras/gate", {"enabled": False})
    await capture.call("delete_camera", "DELETE", "/cameras/gate")
    await capture.call("dismiss", "POST", f"/events/{event_id}/dismiss", {"by": "SRO"})
    await capture.call("camera", "GET", "/cameras/nope", status=404)
    async with CameraSim(
        samples_dir / "vtest.avi", username="admin", password="s3cret", discovery_port=0
    ) as sim:
        target = {"targets": [f"127.0.0.1:{sim.discovery_port}"], "multicast": False}
        await capture.call("onvif_discover", "POST", "/onvif/discover", target | {"timeout": 2})
        probe = {"host": "127.0.0.1", "port": sim.port, "username": "admin", "password": "s3cret"}
        await capture.call("onvif_probe", "POST", "/onvif/probe", probe)
        wrong = probe | {"password": "wrong"}
        await capture.call("onvif_probe", "POST", "/onvif/probe", wrong, status=422)


async def test_every_answer_and_message_holds_to_the_contract(
    served: ServedEngine, samples_dir: Path
) -> None:
    assert {op.name for op in OPERATIONS} == set(ANSWERS) | NOT_JSON, "an operation unchecked"
    assert set(PUSHED) == set(MessageType), "a message type without a contract entry"
    async with aiohttp.ClientSession() as session:
        capture = Capture(served, session)
        ws = await session.ws_connect(
            served.base + "/ws?since=0", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        listener = asyncio.get_running_loop().create_task(capture.listen(ws))
        try:
            await _run_everything(capture, samples_dir)
            deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
            while set(capture.pushed) != set(MessageType):
                assert asyncio.get_running_loop().time() < deadline, sorted(capture.pushed)
                await asyncio.sleep(0.1)
        finally:
            await ws.close()
            await listener
    assert set(capture.answers) == set(ANSWERS)
    checked = [
        (name, ANSWERS[name], answer)
        for name, answers in capture.answers.items()
        for answer in answers
    ]
    checked += [
        (f"{kind} message", PUSHED[kind], message)
        for kind, pushed in capture.pushed.items()
        for message in pushed
    ]
    checked += [("error answer", ERROR_ANSWER, error) for error in capture.errors]
    problems = [
        f"{name}: {problem}"
        for name, (schema, parse, unused), message in checked
        for problem in contract_problems(schema, message, parse, unused)
    ]
    assert problems == []
    assert {error["error"]["code"] for error in capture.errors} == {"not_found", "camera_auth"}


def test_the_integrations_fixed_lists_name_the_engines_codes() -> None:
    """Home Assistant needs some lists on disk (action selectors, translations): the engine's."""
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    rule_options = services["test_alert"]["fields"]["rule"]["selector"]["select"]["options"]
    mode_options = services["set_response_mode"]["fields"]["mode"]["selector"]["select"]["options"]
    assert (tuple(rule_options), tuple(mode_options)) == (RULE_NAMES, RESPONSE_MODES)
    step_options = services["record_step"]["fields"]["step"]["selector"]["select"]["options"]
    assert tuple(step_options) == RESPONSE_STEPS
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    for rule in RULE_NAMES:
        assert english["entity"]["binary_sensor"][rule]["name"]
        assert english["entity"]["event"]["alert"]["state_attributes"]["event_type"]["state"][rule]
        assert english["selector"]["camera_rules"]["options"][rule]
    for step in RESPONSE_STEPS:
        assert english["selector"]["response_step"]["options"][step]
    for mode in RESPONSE_MODES:
        assert english["entity"]["select"]["response_mode"]["state"][mode]
        assert english["selector"]["response_mode"]["options"][mode]
    # Every reason the engine cannot use a camera has its own words in the camera flow.
    assert set(error_table.CAMERA_CODES) == set(CameraFailure)
    camera_flow = english["config_subentries"]["camera"]["error"]
    for code in CameraFailure:
        assert camera_flow[error_table.TRANSLATIONS[code].form], code


# -- the check can fail ------------------------------------------------------------------


@pytest.fixture
def event(tmp_path: Path) -> dict[str, Any]:
    """A real event from a real incident log, as the engine sends it."""
    with IncidentLog(tmp_path / "log.sqlite3", clock=lambda: 100.0) as log:
        change = start(log)
    return event_json(change.event)


def _event_problems(
    event: dict[str, Any],
    schema: Schema = EVENT.schema,
    parse: Callable[[Any], object] = AlertEvent.from_json,
    unused: Collection[str] = AlertEvent.UNUSED,
) -> list[str]:
    return contract_problems(schema, event, parse, unused)


def test_a_real_event_passes(event: dict[str, Any]) -> None:
    assert _event_problems(event) == []


def test_a_field_the_engine_stops_sending_is_caught(event: dict[str, Any]) -> None:
    del event["rule"]
    assert any("'rule' is a required property" in p for p in _event_problems(event))
    schema = dict(EVENT.schema, properties=dict(EVENT.schema["properties"]))
    del schema["properties"]["confidence"]
    schema["required"] = [key for key in schema["required"] if key != "confidence"]
    del event["confidence"]
    event["rule"] = "fight"
    assert _event_problems(event, schema) == [
        "the integration reads confidence, which the engine does not send"
    ]


def test_a_field_the_engine_adds_is_caught(event: dict[str, Any]) -> None:
    schema = dict(EVENT.schema, properties=EVENT.schema["properties"] | {"severity": ANY_OBJECT})
    event["severity"] = {"level": "high"}
    assert _event_problems(event, schema) == [
        "the engine sends severity, which the integration neither reads nor lists as unused"
    ]
    assert _event_problems(event, schema, unused=AlertEvent.UNUSED | {"severity"}) == []
    assert any("Additional properties" in p for p in _event_problems(event))


def test_a_field_the_integration_adds_or_drops_is_caught(event: dict[str, Any]) -> None:
    def reads_more(data: Any) -> object:
        return AlertEvent.from_json(data), data.get("priority")

    assert _event_problems(event, parse=reads_more) == [
        "the integration reads priority, which the engine does not send"
    ]
    dropped = _event_problems(event, parse=lambda data: data["id"])
    assert (
        "the engine sends confidence, which the integration neither reads nor lists as unused"
        in dropped
    )
    stale = _event_problems(event, unused=AlertEvent.UNUSED | {"gone"})
    assert stale == ["the integration lists gone as unused, but the engine does not send it"]
