"""Payload scrubbing and topic names, without a broker."""

from __future__ import annotations

import math

import pytest

from detectors.mqtt import EngineTopics, camera_state_payload, sanitise_payload
from detectors.mqtt.payloads import encode_json, mode_payload
from detectors.redaction import is_secret_key, scrub_url


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("Password", True),
        ("username", True),
        ("token", True),
        ("credentials", True),
        ("api_token", True),
        ("camera_password", True),
        ("tokens_used", False),
        ("user", False),
        ("acknowledged_by", False),
        ("passwordless", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://admin:pw@10.0.0.5:554/s1", "rtsp://***@10.0.0.5:554/s1"),
        ("rtsp://admin@10.0.0.5/s1", "rtsp://***@10.0.0.5/s1"),
        (
            "http://cam/snap.jpg?user=admin&password=pw",
            "http://cam/snap.jpg?user=admin&password=***",
        ),
        ("http://cam/snap.jpg?size=2", "http://cam/snap.jpg?size=2"),
        ("Building A, ground floor", "Building A, ground floor"),
        ("http://[bad", "***"),
    ],
)
def test_scrub_url(text: str, expected: str) -> None:
    assert scrub_url(text) == expected


def test_sanitise_removes_secrets_at_every_depth() -> None:
    payload = {
        "name": "Gym",
        "password": "x",
        "source": {"username": "u", "url": "rtsp://u:p@h/s", "options": [{"token": "t", "n": 1}]},
        "scores": (0.5, math.nan, math.inf),
        "tags": frozenset({"a"}),
        "ok": True,
        "none": None,
        7: "seven",
    }
    assert sanitise_payload(payload) == {
        "name": "Gym",
        "source": {"url": "rtsp://***@h/s", "options": [{"n": 1}]},
        "scores": [0.5, None, None],
        "tags": ["a"],
        "ok": True,
        "none": None,
        "7": "seven",
    }


def test_encode_json_is_compact_utf8() -> None:
    assert encode_json({"location": "Bâtiment B", "credentials": {"a": 1}, "n": 2}) == (
        '{"location":"Bâtiment B","n":2}'.encode()
    )
    assert encode_json(mode_payload("lockdown", True, 12.5)) == (
        b'{"mode":"lockdown","drill":true,"changed_at":12.5}'
    )


def test_camera_state_payload_adds_name_location_and_count() -> None:
    status = {"online": False, "reason": "no frames", "fps": 0.0, "last_frame_at": None}
    assert camera_state_payload(status, name="Gym", location="B2", person_count=0) == {
        "online": False,
        "reason": "no frames",
        "fps": 0.0,
        "last_frame_at": None,
        "name": "Gym",
        "location": "B2",
        "person_count": 0,
    }


def test_topic_names() -> None:
    topics = EngineTopics("district/school_guard", "lincoln")
    assert topics.availability == "district/school_guard/lincoln/availability"
    assert topics.mode == "district/school_guard/lincoln/mode"
    assert topics.camera_state("gym") == "district/school_guard/lincoln/cameras/gym/state"
    assert topics.rule_state("gym", "person_down") == (
        "district/school_guard/lincoln/cameras/gym/person_down"
    )
    assert topics.events == "district/school_guard/lincoln/events"
    assert topics.snapshot("e1") == "district/school_guard/lincoln/events/e1/snapshot"


@pytest.mark.parametrize(
    ("root", "engine_id", "message"),
    [
        ("school_guard", "a/b", "engine id 'a/b' cannot be an MQTT topic level (contains '/')"),
        ("school_guard", "", "engine id must not be empty in an MQTT topic"),
        ("school/#", "x", "topic root level '#' cannot be an MQTT topic level (contains '#')"),
        ("/school", "x", "topic root level must not be empty in an MQTT topic"),
        ("$SYS", "x", "topic root '$SYS' must not start with '$' (reserved by brokers)"),
    ],
)
def test_bad_topic_parts_are_refused(root: str, engine_id: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        EngineTopics(root, engine_id)
    assert str(caught.value) == message


def test_camera_and_rule_levels_are_checked() -> None:
    topics = EngineTopics("school_guard", "lincoln")
    with pytest.raises(ValueError, match=r"^camera id 'gym\+1' cannot be"):
        topics.camera_state("gym+1")
    with pytest.raises(ValueError, match=r"^rule name 'state' would collide"):
        topics.rule_state("gym", "state")
    with pytest.raises(ValueError, match=r"^event id must not be empty"):
        topics.snapshot("")
