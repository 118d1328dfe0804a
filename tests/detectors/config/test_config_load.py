"""Loading YAML files: typed results, defaults, ${VAR} expansion, YAML-level errors, demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from detectors.config import (
    ApiSection,
    CameraConfig,
    EngineConfig,
    EngineSection,
    InferenceSettings,
    ModelsSection,
    MqttSection,
    SourceConfig,
    TlsSection,
    load_config,
    parse_config,
)
from detectors.errors import ConfigError
from detectors.rules import Line, Zone
from detectors.schedule import Schedule, TimeRange

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO = REPO_ROOT / "detectors" / "data" / "demo.yaml"

FULL_YAML = """\
engine: {name: "Lincoln High", data_dir: /var/lib/school-guard, timezone: America/Chicago, retention_days: 14}
api: {host: 0.0.0.0, port: 8765}
inference: {device: "auto:gpu,cpu", precision: F32, performance: latency, requests: 4}
models: {detector: nanodet-m-416, pose: null, weapon: my-weapons}
mqtt:
  host: 127.0.0.1
  username: guard
  password: "0123"
  tls: {ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/k.pem}
  protocol: 311
cameras:
  - id: main-entrance
    name: Main entrance
    location: Building A, ground floor
    source: {type: onvif, host: 192.0.2.10, port: 8080, username: admin, password: s3cret, profile: Profile_1}
    detect_fps: 2.5
    zones: [{name: front-door, polygon: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.9], [0.1, 0.9]]}]
    lines: [{name: gate, points: [[0.5, 0], [0.5, 1]], direction: a_to_b}]
    masks: [[[0, 0], [1, 0], [1, 0.1], [0, 0.1]]]
    rules: {weapon: , person_down: {seconds: 10}, intrusion: {zones: [front-door], schedule: after_hours}}
  - id: gym
    name: Gym
    enabled: false
    timeout_seconds: 30
    source: {type: rtsp, url: "rtsp://viewer:pw@192.0.2.11:554/stream1"}
schedules:
  after_hours: [{days: [mon, tue, wed, thu, fri], from: "17:00", to: "07:00"}]
"""


def write(tmp_path: Path, text: str, name: str = "school.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_full_file_becomes_typed_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL_YAML), environ={})

    assert config.engine == EngineSection(
        name="Lincoln High",
        data_dir=Path("/var/lib/school-guard"),
        timezone="America/Chicago",
        retention_days=14,
    )
    assert config.engine.tz() == ZoneInfo("America/Chicago")
    assert config.api == ApiSection(host="0.0.0.0", port=8765)
    assert config.inference == InferenceSettings(
        device="AUTO:GPU,CPU", precision="f32", performance="latency", requests=4, threads=0
    )
    assert config.models == ModelsSection(detector="nanodet-m-416", pose=None, weapon="my-weapons")
    assert config.mqtt == MqttSection(
        host="127.0.0.1",
        port=8883,
        username="guard",
        password="0123",
        tls=TlsSection(ca=Path("/etc/ca.pem"), cert=Path("/etc/c.pem"), key=Path("/etc/k.pem")),
        protocol=311,
        topic_root="school_guard",
    )
    assert config.cameras[0] == CameraConfig(
        id="main-entrance",
        name="Main entrance",
        location="Building A, ground floor",
        source=SourceConfig(
            type="onvif",
            host="192.0.2.10",
            port=8080,
            username="admin",
            password="s3cret",
            profile="Profile_1",
        ),
        detect_fps=2.5,
        enabled=True,
        timeout_seconds=10.0,
        zones=(Zone("front-door", ((0.1, 0.2), (0.4, 0.2), (0.4, 0.9), (0.1, 0.9))),),
        lines=(Line("gate", (0.5, 0.0), (0.5, 1.0), "a_to_b"),),
        masks=(((0.0, 0.0), (1.0, 0.0), (1.0, 0.1), (0.0, 0.1)),),
        rules={
            "weapon": {},
            "person_down": {"seconds": 10},
            "intrusion": {"zones": ["front-door"], "schedule": "after_hours"},
        },
    )
    assert config.cameras[1] == CameraConfig(
        id="gym",
        name="Gym",
        source=SourceConfig(type="rtsp", url="rtsp://viewer:pw@192.0.2.11:554/stream1"),
        enabled=False,
        timeout_seconds=30.0,
    )
    assert config.schedules == {
        "after_hours": Schedule(
            "after_hours", (TimeRange(frozenset({0, 1, 2, 3, 4}), dt.time(17), dt.time(7)),)
        )
    }
    assert config.source == str(tmp_path / "school.yaml")
    assert config.camera("gym").name == "Gym"
    with pytest.raises(KeyError):
        config.camera("library")


def test_camera_geometry_converts_to_rule_types(tmp_path: Path) -> None:
    camera = load_config(write(tmp_path, FULL_YAML), environ={}).cameras[0]
    assert camera.zones == (Zone("front-door", ((0.1, 0.2), (0.4, 0.2), (0.4, 0.9), (0.1, 0.9))),)
    assert camera.lines == (Line("gate", (0.5, 0.0), (0.5, 1.0), "a_to_b"),)


def test_minimal_file_gets_every_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "engine: {name: Tiny}\n"), environ={})

    assert config == EngineConfig(
        engine=EngineSection(name="Tiny", data_dir=Path("/var/lib/school-guard")),
        api=ApiSection(host="127.0.0.1", port=8765),
        inference=InferenceSettings(device="AUTO", precision="auto", performance="throughput"),
        models=ModelsSection(
            detector="nanodet-m-416",
            pose="movenet-multipose-lightning",
            weapon=None,
            fight="fight-mc3-18",
        ),
        mqtt=None,
        cameras=(),
        schedules={},
        source=str(tmp_path / "school.yaml"),
    )


def test_mqtt_port_defaults_to_1883_without_tls() -> None:
    config = parse_config({"engine": {"name": "x"}, "mqtt": {"host": "broker.local"}})
    assert config.mqtt == MqttSection(host="broker.local", port=1883)


def test_environment_variables_are_expanded_in_strings() -> None:
    raw = {
        "engine": {"name": "${SCHOOL} High", "data_dir": "${DATA:-/srv/guard}"},
        "cameras": [
            {
                "id": "hall",
                "name": "Hall $${NOT_A_VAR}",
                "source": {"type": "file", "url": "${SAMPLES}/vtest.avi"},
            }
        ],
    }

    config = parse_config(raw, environ={"SCHOOL": "Lincoln", "SAMPLES": "/media"})

    assert config.engine.name == "Lincoln High"
    assert config.engine.data_dir == Path("/srv/guard")
    assert config.cameras[0].source.url == "/media/vtest.avi"
    assert config.cameras[0].name == "Hall ${NOT_A_VAR}"
    assert raw["engine"] == {"name": "${SCHOOL} High", "data_dir": "${DATA:-/srv/guard}"}


def test_undefined_environment_variables_are_named_with_their_paths() -> None:
    raw = {
        "engine": {"name": "${SCHOOL}"},
        "cameras": [
            {"id": "a", "name": "A", "source": {"type": "file", "url": "${SAMPLES}/v.avi"}}
        ],
    }

    with pytest.raises(ConfigError) as err:
        parse_config(raw, source="school.yaml", environ={})

    assert str(err.value) == (
        "school.yaml: 2 problems:\n"
        "  engine.name: environment variable SCHOOL is not set\n"
        "  cameras[0].source.url: environment variable SAMPLES is not set"
    )


def test_process_environment_is_used_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_TEST_SCHOOL_NAME", "Roosevelt")
    assert parse_config({"engine": {"name": "${SG_TEST_SCHOOL_NAME}"}}).engine.name == "Roosevelt"


def test_demo_config_loads_with_the_samples_folder() -> None:
    config = load_config(DEMO, environ={"SCHOOL_GUARD_SAMPLES": "/srv/samples"})

    camera = config.cameras[0]
    assert (camera.id, camera.name) == ("main-entrance", "Main entrance")
    assert camera.source == SourceConfig(
        type="file", url="/srv/samples/vtest.avi", loop=True, realtime=True
    )
    assert config.engine.data_dir == Path(".demo/data")
    assert sorted(camera.rules) == ["crowd", "intrusion", "person_down", "tamper", "weapon"]
    assert sorted(config.schedules) == ["after_hours"]


def test_demo_config_finds_the_fetched_samples_without_any_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SCHOOL_GUARD_SAMPLES", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    config = load_config(DEMO)
    assert config.cameras[0].source.url == str(tmp_path / "school-guard/samples/vtest.avi")


def test_demo_config_names_the_missing_samples_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(DEMO, environ={})
    assert str(err.value) == (
        f"{DEMO}: cameras[0].source.url: environment variable SCHOOL_GUARD_SAMPLES is not set"
    )


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "engine:\n  name: A\n  name: B\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (
        str(err.value) == f"{path}:3:3: invalid YAML: duplicate key 'name' (first given on line 2)"
    )


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "engine:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:3:1: invalid YAML: ")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = write(tmp_path, "# nothing yet\n")
    with pytest.raises(ConfigError) as err:
        load_config(empty)
    assert str(err.value) == f"{empty}: the configuration file is empty"

    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        load_config(missing)
    assert (
        str(err.value)
        == f"{missing}: cannot read the configuration file: No such file or directory"
    )


def test_yaml_python_tags_are_not_executed(tmp_path: Path) -> None:
    path = write(tmp_path, "engine: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:1:9: invalid YAML: could not determine a constructor")
