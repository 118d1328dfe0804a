"""One redaction for every place that shows a value: configuration, sources, logs, MQTT."""

from __future__ import annotations

import pytest

from detectors import config_schema, redaction
from detectors.engine import logs
from detectors.mqtt import payloads
from detectors.pipeline import sources


def test_every_consumer_uses_the_one_module() -> None:
    assert config_schema.redact_url is redaction.redact_url
    assert sources.redact_url is redaction.redact_url
    assert payloads.scrub_url is redaction.scrub_url
    assert payloads.is_secret_key is redaction.is_secret_key
    assert logs.redact_text is redaction.redact_text


@pytest.mark.parametrize(
    ("url", "redacted", "scrubbed"),
    [
        ("rtsp://admin:pw@10.0.0.5/s", "rtsp://admin:***@10.0.0.5/s", "rtsp://***@10.0.0.5/s"),
        ("rtsp://admin@10.0.0.5/s", "rtsp://admin@10.0.0.5/s", "rtsp://***@10.0.0.5/s"),
        ("http://:tok@cam/x", "http://***@cam/x", "http://***@cam/x"),
        ("http://cam/s?api_key=k&a=b%20c", "http://cam/s?api_key=***&a=b%20c", None),
        ("http://a:b@[::1/x", "***", "***"),
    ],
)
def test_urls_keep_everything_but_their_secrets(
    url: str, redacted: str, scrubbed: str | None
) -> None:
    assert redaction.redact_url(url) == redacted
    assert redaction.scrub_url(url) == (scrubbed or redacted)
    assert "pw" not in redacted and "tok" not in redacted


def test_text_loses_given_secrets_url_logins_and_bearer_tokens() -> None:
    text = "GET rtsp://u:p@cam failed, Bearer abc.def, key s3cret-value"
    assert redaction.redact_text(text, ["s3cret-value"]) == (
        "GET rtsp://***@cam failed, Bearer ***, key ***"
    )
    assert [redaction.is_secret_key(k) for k in ("Password", "api_token", "name")] == [
        True,
        True,
        False,
    ]
