"""MQTT payloads: JSON that never carries a secret, whatever the caller hands over.

A broker is a wider audience than the engine API: every client allowed to subscribe sees
every retained state, and brokers are often shared by a whole district. So payloads are
scrubbed here, at the last step before they leave, rather than trusting each caller: keys
that name a secret are dropped at any depth, and credentials inside URLs
(``rtsp://user:pass@host``) are cut out. Non-finite floats become ``null`` because
``NaN`` is not JSON and would break strict subscribers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from detectors.redaction import is_secret_key, scrub_url


def sanitise_payload(value: object) -> object:
    """Return a JSON-ready copy of ``value`` with secrets removed at every depth."""
    if isinstance(value, Mapping):
        return {
            str(key): sanitise_payload(item)
            for key, item in value.items()
            if not is_secret_key(str(key))
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [sanitise_payload(item) for item in value]
    if isinstance(value, str):
        return scrub_url(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_url(str(value))


def encode_json(value: object) -> bytes:
    """Serialise a payload after :func:`sanitise_payload`, compactly, as UTF-8."""
    return json.dumps(sanitise_payload(value), separators=(",", ":"), ensure_ascii=False).encode()


def mode_payload(mode: str, drill: bool, changed_at: float) -> dict[str, object]:
    """The retained response-mode document."""
    return {"mode": mode, "drill": drill, "changed_at": changed_at}


def camera_state_payload(
    status: Mapping[str, object], *, name: str, location: str, person_count: int
) -> dict[str, object]:
    """The retained camera document: the API's ``status`` object plus who/where/how many.

    ``status`` is the API camera's ``status`` object (``detectors.protocol.cameras.STATUS``:
    ``online``, ``reason``, ``fps``, ``reason_code``...); name and location let a pager
    message say where, without a second lookup.
    """
    return {**status, "name": name, "location": location, "person_count": person_count}
