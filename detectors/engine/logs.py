"""Engine logging: secrets never reach a log line, and JSON lines on request.

Every record passes through :class:`RedactingFilter` before any handler formats it: the API
token, the MQTT password and camera passwords are replaced wherever they appear (an
exception message from a library can quote a URL with a password in it), and credentials
inside URLs are removed whatever they are.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from detectors.redaction import redact_text


class RedactingFilter(logging.Filter):
    """Rewrite each record's message (arguments merged) with secrets removed."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """Remove ``secrets`` (longest first, so a secret containing another goes whole)."""
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def add(self, *secrets: str | None) -> None:
        """Also remove these (a camera added at run time)."""
        merged = set(self.secrets) | {s for s in secrets if s and len(s) >= 4}
        self.secrets = sorted(merged, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; only its text changes."""
        message = redact_text(record.getMessage(), self.secrets)
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_text(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        data: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def configure_logging(
    secrets: Iterable[str], *, json_lines: bool, level: int = logging.INFO
) -> RedactingFilter:
    """Install the redacting filter on every root handler; return it to add secrets later."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return redactor
