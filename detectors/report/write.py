"""Build the report for a period and write it as JSON, HTML or PDF: the CLI's one call."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Final, Literal

from detectors.errors import ConfigError
from detectors.report.document import Period, report_json
from detectors.report.pdf import html_to_pdf
from detectors.report.render import report_html
from detectors.report.source import read_incidents

type Format = Literal["json", "html", "pdf"]
FORMATS: Final[tuple[Format, ...]] = ("json", "html", "pdf")


def parse_moment(text: str, zone: tzinfo, *, end: bool) -> float:
    """``YYYY-MM-DD`` (a whole day: ``--to`` includes it) or an ISO date and time."""
    try:
        if "T" in text or " " in text.strip():
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.timestamp()
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"expected a date (YYYY-MM-DD) or an ISO date and time, got {text!r}"
        ) from None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), zone).timestamp()


def write_report(log: Path, period: Period, form: Format, output: Path) -> dict[str, object]:
    """Read the period from the log (read-only), write ``output``; the JSON document back."""
    if period.end <= period.start:
        raise ConfigError("--to must be after --from")
    incidents = read_incidents(
        log,
        start=period.start,
        end=period.end,
        cameras=period.cameras,
        rules=period.rules,
        snapshots=form != "json",
    )
    document = report_json(incidents, period)
    output.parent.mkdir(parents=True, exist_ok=True)
    if form == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        _write_private(output, text.encode())
    elif form == "html":
        _write_private(output, report_html(incidents, period).encode())
    else:
        html_to_pdf(report_html(incidents, period), output)
        output.chmod(0o600)
    return document


def _write_private(path: Path, data: bytes) -> None:
    """Write owner-only: a report names staff and may hold evidence pictures of students."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
