"""The codes crossing the boundary, and the OpenAPI document generated from the shapes."""

from __future__ import annotations

from typing import get_args

import jsonschema
import pytest

from detectors.config_schema import CAMERA_FIELDS
from detectors.engine.stream_roles import SnapshotFrom
from detectors.errors import HostLookupError, HostNotAllowedError, SourceNotAllowedError
from detectors.onvif.errors import (
    OnvifAuthError,
    OnvifClockSkewError,
    OnvifError,
    OnvifNoProfile,
    OnvifNotOnvif,
    OnvifProtocolError,
    OnvifTimeout,
    OnvifUnreachable,
)
from detectors.pipeline.defaults import DEFAULT_RULES
from detectors.pipeline.sources.base import OfflineReason
from detectors.protocol.codes import RULE_NAMES, SNAPSHOT_SOURCES, OfflineCode, offline_code
from detectors.protocol.errors import camera_failure, classify, source_failure
from detectors.protocol.openapi import OPERATIONS, openapi_document
from detectors.rules import RULES


def test_every_reader_reason_has_its_code() -> None:
    for reason in OfflineReason:
        assert offline_code(reason) is OfflineCode[reason.name]
        assert offline_code(reason.value) is OfflineCode[reason.name]
    assert offline_code("detection disabled") is None
    assert offline_code(None) is None


def test_snapshot_sources_are_the_stream_roles() -> None:
    assert get_args(SnapshotFrom.__value__) == SNAPSHOT_SOURCES


def test_rule_codes_are_the_rules_the_engine_runs() -> None:
    assert tuple(RULES) == RULE_NAMES
    assert set(DEFAULT_RULES) < set(RULE_NAMES)
    assert "intrusion" not in DEFAULT_RULES


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (OnvifClockSkewError("cam: clock is +3600 s off", 3600.0), "camera_clock_skew"),
        (OnvifAuthError("cam: wrong password"), "camera_auth"),
        (OnvifUnreachable("cam: refused"), "camera_unreachable"),
        (OnvifTimeout("cam: no answer in time"), "camera_timeout"),
        (OnvifNotOnvif("cam: a printer"), "camera_not_onvif"),
        (OnvifNoProfile("cam: no profile"), "camera_no_profile"),
        (OnvifProtocolError("cam: not ONVIF"), "camera_error"),
    ],
)
def test_a_camera_failure_is_one_code_in_answers_and_statuses(error: OnvifError, code: str) -> None:
    assert camera_failure(error) == code
    assert classify(error) == (422, code)
    assert source_failure(error) == code


def test_limits_answer_403_with_their_codes_and_mark_cameras_the_same_way() -> None:
    outside = HostNotAllowedError("camera 169.254.169.254 is outside the camera networks")
    assert classify(outside) == (403, "host_not_allowed")
    assert source_failure(outside) == "host_not_allowed"
    assert classify(SourceNotAllowedError("/etc/shadow is outside the media folder")) == (
        403,
        "source_not_allowed",
    )
    assert source_failure(HostLookupError("no such host")) == "host_not_found"


def test_an_engine_bug_is_not_classified() -> None:
    assert classify(RuntimeError("bug")) is None
    assert source_failure(ValueError("bad host")) == "source_error"


def test_the_document_lists_every_operation_with_real_schemas() -> None:
    document = openapi_document("http://127.0.0.1:8765")
    operations = [
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    ]
    assert sorted(operations) == sorted((op.method, "/api/v1" + op.path) for op in OPERATIONS)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            ok = next(iter(operation["responses"].values()))
            schema = ok.get("content", {}).get("application/json", {}).get("schema")
            assert schema != {"type": ["object", "array"]}, (method, path)
    body = document["paths"]["/api/v1/cameras"]["post"]["requestBody"]["content"]
    camera = body["application/json"]["schema"]
    assert list(camera["properties"]) == list(CAMERA_FIELDS.fields)
    for key in ("zones", "lines", "masks", "timeout_seconds"):
        assert key in camera["properties"]
    jsonschema.Draft202012Validator.check_schema(camera)
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
