"""The incident export: a folder with ``events.json`` and the events' images and clips.

An export is handed to people outside the system (an investigation, a district office),
so its events are the same JSON the API sends (:data:`detectors.protocol.events.EVENT`),
each with its change history and the names of its files: the snapshot under ``images/``,
the keyframe strip under ``images/`` (``<id>-strip.jpg``) and the clip under ``clips/``.
"""

from __future__ import annotations

import json
import re
from hashlib import sha256
from pathlib import Path
from typing import Final

from detectors.errors import IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.protocol.events import event_json

_SAFE_FILE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def snapshot_file_name(event_id: str, suffix: str = ".jpg") -> str:
    """Return the export file name of an event's snapshot (or its strip, its clip).

    Event ids are chosen by the engine, but an id that is not a plain file name (a slash,
    a leading dot) must never pick where the file lands, so such ids are hashed.
    """
    if _SAFE_FILE_NAME.fullmatch(event_id):
        return f"{event_id}{suffix}"
    return f"event-{sha256(event_id.encode()).hexdigest()[:16]}{suffix}"


def _write(dest: Path, folder: str, event_id: str, suffix: str, data: bytes | None) -> str | None:
    """Write one evidence file of an export; its path relative to ``dest`` (None: none)."""
    if data is None:
        return None
    name = snapshot_file_name(event_id, suffix)
    (dest / folder).mkdir(exist_ok=True)
    (dest / folder / name).write_bytes(data)
    return f"{folder}/{name}"


def export_incidents(log: IncidentLog, dest: Path, *, start: float, end: float) -> Path:
    """Write events that started in ``[start, end)`` to ``dest``; return the JSON path.

    ``dest/events.json`` holds every event (oldest first) with its change history and
    the names of its snapshot and strip under ``dest/images/`` and its clip under
    ``dest/clips/``. ``dest`` must be new or empty so an
    export never mixes with an older one.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise IncidentLogError(f"export destination {dest} must be a new or empty folder")
    window = log.window(start=start, end=end)
    images = dest / "images"
    images.mkdir(parents=True, exist_ok=True)
    exported = []
    for item in window:
        record = item.record
        data = event_json(record)
        data["snapshot_file"] = None
        jpeg = log.snapshot(record.id) if record.has_snapshot else None
        if jpeg is not None:
            name = snapshot_file_name(record.id)
            (images / name).write_bytes(jpeg)
            data["snapshot_file"] = f"images/{name}"
        data["clip_file"] = data["strip_file"] = None
        if record.evidence_at is not None:
            data["clip_file"] = _write(
                dest, "clips", record.id, ".mp4", log.evidence(record.id, "clip")
            )
            data["strip_file"] = _write(
                dest, "images", record.id, "-strip.jpg", log.evidence(record.id, "strip")
            )
        data["history"] = item.history
        exported.append(data)
    document = {
        "exported_at": log.now(),
        "start": start,
        "end": end,
        "count": len(exported),
        "events": exported,
    }
    target = dest / "events.json"
    partial = dest / "events.json.partial"
    partial.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    partial.replace(target)
    return target
