"""Engine logs never carry secrets; JSON lines when asked."""

import json
import logging

from detectors.engine.logs import JsonFormatter, RedactingFilter
from detectors.redaction import redact_text


def test_secrets_urls_and_bearer_tokens_are_redacted() -> None:
    text = (
        "open rtsp://admin:hunter2@10.0.0.5/stream failed; token abcd1234efgh; "
        "header Authorization: Bearer abc.def-123 sent; password s3cret-pass"
    )
    out = redact_text(text, ["abcd1234efgh", "s3cret-pass"])
    assert out == (
        "open rtsp://***@10.0.0.5/stream failed; token ***; "
        "header Authorization: Bearer *** sent; password ***"
    )


def test_filter_rewrites_messages_arguments_and_exceptions() -> None:
    redactor = RedactingFilter(["tok-0123456789"])
    redactor.add("camera-pass", None, "abc")  # too short to redact safely: ignored
    try:
        raise RuntimeError("login camera-pass refused at http://u:camera-pass@cam/")
    except RuntimeError:
        record = logging.LogRecord(
            "detectors",
            logging.ERROR,
            __file__,
            1,
            "token %s for %s",
            ("tok-0123456789", "x"),
            exc_info=__import__("sys").exc_info(),
        )
    assert redactor.filter(record) is True
    assert record.getMessage() == "token *** for x"
    assert "camera-pass" not in (record.exc_text or "")
    assert "RuntimeError: login *** refused at http://***@cam/" in (record.exc_text or "")
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == (
        "error",
        "detectors",
        "token *** for x",
    )
    assert "camera-pass" not in line["exception"]
