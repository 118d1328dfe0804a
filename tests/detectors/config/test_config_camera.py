"""Cameras through the API shape: validation, secrets kept out of JSON, redaction, round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
import voluptuous as vol

from detectors.config import (
    CAMERA_SCHEMA,
    CameraConfig,
    SourceConfig,
    camera_document,
    camera_from_json,
    engine_document,
    parse_config,
    patched_camera_document,
)
from detectors.errors import ConfigError
from detectors.redaction import redact_url

ONVIF_CAMERA: dict[str, Any] = {
    "id": "main-entrance",
    "name": "Main entrance",
    "location": "Building A",
    "source": {
        "type": "onvif",
        "host": "192.0.2.10",
        "port": 80,
        "username": "admin",
        "password": "onvif-secret",
        "profile": None,
    },
    "zones": [{"name": "door", "polygon": [[0.1, 0.2], [0.4, 0.2], [0.4, 0.9]]}],
    "rules": {"intrusion": {"zones": ["door"], "schedule": "after_hours"}, "weapon": {}},
}


def test_camera_from_json_fills_defaults() -> None:
    camera = camera_from_json(
        {"id": "hall", "name": "Hall", "source": {"type": "onvif", "host": "cam"}}
    )

    assert camera == CameraConfig(
        id="hall",
        name="Hall",
        source=SourceConfig(type="onvif", host="cam", port=80),
        location="",
        detect_fps=5.0,
        enabled=True,
        timeout_seconds=10.0,
    )


def test_camera_errors_are_relative_to_the_camera() -> None:
    body = {
        "id": "hall",
        "name": "Hall",
        "source": {"type": "rtsp", "url": "rtsp://x/y", "usr": "a"},
    }
    with pytest.raises(ConfigError) as err:
        camera_from_json(body)
    assert str(err.value) == (
        "camera: source: unknown key 'usr' (allowed for type rtsp: type, url, username, password)"
    )


def test_camera_zone_references_are_checked_without_schedules() -> None:
    body = dict(ONVIF_CAMERA, rules={"intrusion": {"zones": ["roof"], "schedule": "whenever"}})
    with pytest.raises(ConfigError) as err:
        camera_from_json(body)
    assert err.value.problems == ("rules.intrusion.zones: unknown zone 'roof' (zones: door)",)


def test_schedule_names_are_checked_when_the_engine_gives_them() -> None:
    assert camera_from_json(ONVIF_CAMERA, schedules=["after_hours"]).id == "main-entrance"
    with pytest.raises(ConfigError) as err:
        camera_from_json(ONVIF_CAMERA, schedules=["school_hours"])
    assert str(err.value) == (
        "camera: rules.intrusion.schedule: unknown schedule 'after_hours' "
        "(schedules: always, never, school_hours)"
    )


def test_camera_schema_is_a_voluptuous_schema_with_paths() -> None:
    assert CAMERA_SCHEMA(ONVIF_CAMERA)["source"]["port"] == 80
    with pytest.raises(vol.MultipleInvalid) as err:
        CAMERA_SCHEMA(dict(ONVIF_CAMERA, detect_fps="fast"))
    assert [(e.path, e.error_message) for e in err.value.errors] == [
        (["detect_fps"], "expected float, got 'fast'")
    ]


def test_api_cameras_are_not_environment_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_TEST_SECRET", "do-not-leak")
    camera = camera_from_json(
        {"id": "x", "name": "${SG_TEST_SECRET}", "source": {"type": "file", "url": "/v.avi"}}
    )
    assert camera.name == "${SG_TEST_SECRET}"


def test_to_json_leaves_credentials_out_by_default() -> None:
    camera = camera_from_json(ONVIF_CAMERA)

    assert camera_document(camera) == {
        "id": "main-entrance",
        "name": "Main entrance",
        "location": "Building A",
        "source": {
            "type": "onvif",
            "host": "192.0.2.10",
            "port": 80,
            "profile": None,
            "snapshot_profile": None,
            "snapshot": "auto",
        },
        "detect_fps": 5.0,
        "enabled": True,
        "timeout_seconds": 10.0,
        "decode": "auto",
        "zones": [{"name": "door", "polygon": [[0.1, 0.2], [0.4, 0.2], [0.4, 0.9]]}],
        "lines": [],
        "masks": [],
        "rules": {"intrusion": {"zones": ["door"], "schedule": "after_hours"}, "weapon": {}},
    }
    assert "onvif-secret" not in repr(camera)
    assert "admin" not in json.dumps(camera_document(camera))


def test_to_json_redacts_passwords_inside_urls() -> None:
    camera = camera_from_json(
        {
            "id": "gym",
            "name": "Gym",
            "source": {
                "type": "snapshot",
                "url": "http://viewer:pa55@192.0.2.12/snap.jpg?user=v&pwd=pa55",
            },
        }
    )

    assert camera_document(camera)["source"] == {
        "type": "snapshot",
        "url": "http://viewer:***@192.0.2.12/snap.jpg?user=v&pwd=***",
    }
    assert "pa55" not in repr(camera)
    assert camera_document(camera, include_secrets=True)["source"] == {
        "type": "snapshot",
        "url": "http://viewer:pa55@192.0.2.12/snap.jpg?user=v&pwd=pa55",
    }


def test_to_json_with_secrets_round_trips() -> None:
    cameras: list[dict[str, Any]] = [
        ONVIF_CAMERA,
        {
            "id": "gym",
            "name": "Gym",
            "source": {
                "type": "rtsp",
                "url": "rtsps://192.0.2.11/s",
                "username": "u",
                "password": "p",
            },
            "lines": [{"name": "gate", "points": [[0.5, 0.0], [0.5, 1.0]], "direction": "b_to_a"}],
            "masks": [[[0, 0], [1, 0], [1, 0.1]]],
            "rules": {"person_down": {"seconds": 12.5, "suppress_zones": None}},
            "enabled": False,
        },
        {"id": "demo", "name": "Demo", "source": {"type": "file", "url": "/v.avi", "loop": False}},
    ]
    for body in cameras:
        camera = camera_from_json(body)
        again = camera_from_json(
            json.loads(json.dumps(camera_document(camera, include_secrets=True)))
        )
        assert again == camera


def test_engine_config_round_trips_with_secrets() -> None:
    raw = {
        "engine": {"name": "Lincoln High", "data_dir": "/srv/guard", "timezone": "America/Chicago"},
        "api": {"host": "127.0.0.1", "port": 9000},
        "inference": {"device": "GPU.1", "precision": "f16"},
        "mqtt": {"host": "broker", "username": "u", "password": "p", "tls": {"ca": "/ca.pem"}},
        "cameras": [ONVIF_CAMERA],
        "schedules": {
            "after_hours": [
                {"days": "weekdays", "from": "17:00", "to": "7:00"},
                {"days": ["sunday"], "from": "00:00", "to": "00:00"},
            ]
        },
    }
    config = parse_config(raw, environ={})

    dumped = engine_document(config, include_secrets=True)

    assert dumped["schedules"] == {
        "after_hours": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "17:00", "to": "07:00"},
            {"days": ["sun"], "from": "00:00", "to": "00:00"},
        ]
    }
    assert dumped["mqtt"] == {
        "host": "broker",
        "port": 8883,
        "username": "u",
        "password": "p",
        "tls": {"ca": "/ca.pem", "cert": None, "key": None},
        "protocol": 5,
        "topic_root": "school_guard",
    }
    assert parse_config(json.loads(json.dumps(dumped)), environ={}) == config


def test_engine_to_json_without_secrets_has_no_passwords() -> None:
    raw = {
        "engine": {"name": "x"},
        "mqtt": {"host": "broker", "username": "mqtt-user", "password": "mqtt-pass"},
        "cameras": [ONVIF_CAMERA],
        "schedules": {"after_hours": [{"days": "weekends", "from": "00:00", "to": "00:00"}]},
    }
    text = json.dumps(engine_document(parse_config(raw, environ={})))
    for secret in ("mqtt-user", "mqtt-pass", "onvif-secret", "admin"):
        assert secret not in text
    assert "mqtt-pass" not in repr(parse_config(raw, environ={}).mqtt)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:hunter2@192.0.2.10:554/s1", "rtsp://admin:***@192.0.2.10:554/s1"),
        ("rtsp://admin@192.0.2.10/s1", "rtsp://admin@192.0.2.10/s1"),
        ("rtsp://192.0.2.10/s1", "rtsp://192.0.2.10/s1"),
        ("http://a:p%40ss@cam/x?y=1", "http://a:***@cam/x?y=1"),
        ("http://cam/cgi?usr=admin&pwd=123&chn=1", "http://cam/cgi?usr=admin&pwd=***&chn=1"),
        ("http://cam/x?Password=1&token=abc", "http://cam/x?Password=***&token=***"),
        ("http://a:b@[::1/x", "***"),
        ("/media/vtest.avi", "/media/vtest.avi"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("decode", "gpu", "decode: expected one of auto, cpu, vaapi, qsv, got 'gpu'"),
        (
            "snapshot",
            "best",
            "source.snapshot: expected one of auto, uri, stream, frame, got 'best'",
        ),
    ],
)
def test_stream_role_and_decoder_keys_are_checked(key: str, value: str, message: str) -> None:
    body = json.loads(json.dumps(ONVIF_CAMERA))
    if key == "decode":
        body["decode"] = value
    else:
        body["source"][key] = value
    with pytest.raises(ConfigError) as caught:
        camera_from_json(body)
    assert caught.value.problems == (message,)


def test_stream_roles_round_trip() -> None:
    body = json.loads(json.dumps(ONVIF_CAMERA))
    body["source"] |= {"profile": "sub", "snapshot_profile": "main", "snapshot": "stream"}
    body["decode"] = "qsv"
    camera = camera_from_json(body)
    assert (camera.source.profile, camera.source.snapshot_profile) == ("sub", "main")
    assert (camera.source.snapshot, camera.decode) == ("stream", "qsv")
    assert camera_from_json(camera_document(camera, include_secrets=True)) == camera


def _patched(patch: dict[str, Any]) -> CameraConfig:
    camera = camera_from_json(ONVIF_CAMERA, schedules={"after_hours"})
    return camera_from_json(patched_camera_document(camera, patch), schedules={"after_hours"})


def test_a_source_patch_merges_into_the_source_and_keeps_the_password() -> None:
    patched = _patched({"name": "Front door", "source": {"username": "viewer", "profile": "sub"}})
    source = patched.source
    assert patched.name == "Front door"
    assert (source.host, source.username, source.password, source.profile) == (
        "192.0.2.10",
        "viewer",
        "onvif-secret",
        "sub",
    )
    assert patched.rules == camera_from_json(ONVIF_CAMERA, schedules={"after_hours"}).rules


@pytest.mark.parametrize("moved", [{"host": "192.0.2.11"}, {"port": 8080}])
def test_a_new_address_needs_the_password_again(moved: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="password again"):
        _patched({"source": moved})
    whole = {"type": "onvif", "host": "192.0.2.10", "port": 80, "password": "new-secret"}
    given = _patched({"source": whole | moved})
    assert given.source.password == "new-secret"
    assert given.source.username is None, "nothing is inherited across an address change"


def test_another_source_type_replaces_the_source_whole() -> None:
    patched = _patched({"source": {"type": "rtsp", "url": "rtsp://192.0.2.12/stream"}})
    assert (patched.source.type, patched.source.host, patched.source.password) == (
        "rtsp",
        None,
        None,
    )
