"""The request bodies the engine API accepts, as voluptuous schemas.

The API validates with these and the OpenAPI document describes them from the same
objects. A camera's body is the configuration file's camera (``detectors.config``).
"""

from __future__ import annotations

import voluptuous as vol

from detectors.incidents.records import MAX_RECIPIENTS, MAX_STEP_TARGETS, MAX_TARGET_LENGTH
from detectors.protocol.codes import RESPONSE_MODES, RESPONSE_STEPS, RULE_NAMES

_PERSON = vol.All(str, vol.Length(min=1, max=100))
_TEXT = vol.All(str, vol.Length(max=1000))

ACKNOWLEDGE = vol.Schema({vol.Required("by"): _PERSON, vol.Optional("note", default=""): _TEXT})
DISMISS = vol.Schema({vol.Required("by"): _PERSON, vol.Optional("reason", default=""): _TEXT})
NOTIFIED = vol.Schema(
    {
        vol.Required("recipients"): vol.All([_PERSON], vol.Length(min=1, max=MAX_RECIPIENTS)),
        vol.Required("channel"): vol.All(str, vol.Length(min=1, max=100)),
        vol.Required("by"): _PERSON,
    }
)
_TARGET = vol.All(str, vol.Length(min=1, max=MAX_TARGET_LENGTH))


def _confirmed_among_targets(body: dict[str, object]) -> dict[str, object]:
    """Only a target can confirm a step (a lock that was not locked cannot report it)."""
    targets = body.get("targets")
    confirmed = body.get("confirmed")
    assert isinstance(targets, list)  # the field schema ran first
    assert isinstance(confirmed, dict)
    strangers = sorted(set(confirmed) - set(targets))
    if strangers:
        raise vol.Invalid(f"not among the targets: {', '.join(strangers)}", path=["confirmed"])
    return body


_ACTION_FIELDS = vol.Schema(
    {
        vol.Required("step"): vol.In(RESPONSE_STEPS),
        vol.Required("step_id"): vol.All(str, vol.Match(r"^[A-Za-z0-9_.:-]{1,64}$")),
        vol.Required("by"): _PERSON,
        vol.Optional("targets", default=[]): vol.All([_TARGET], vol.Length(max=MAX_STEP_TARGETS)),
        vol.Optional("confirmed", default={}): vol.All(
            {_TARGET: bool}, vol.Length(max=MAX_STEP_TARGETS)
        ),
        vol.Optional("note", default=""): _TEXT,
    }
)
ACTION = vol.All(_ACTION_FIELDS, _confirmed_among_targets)
MODE = vol.Schema(
    {vol.Required("mode"): vol.In(RESPONSE_MODES), vol.Optional("drill", default=False): bool}
)
TEST_ALERT = vol.Schema(
    {
        vol.Required("camera_id"): str,
        vol.Required("rule"): vol.In(RULE_NAMES),
        vol.Optional("seconds", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(min=1.0, max=600.0)
        ),
    }
)


def _target(value: object) -> tuple[str, int]:
    """``HOST[:PORT]`` of a unicast WS-Discovery target (port 3702 by default)."""
    text = str(value)
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "3702")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise vol.Invalid(f"expected HOST[:PORT], got {text!r}")
    return host, int(port)


ONVIF_DISCOVER = vol.Schema(
    {
        vol.Optional("targets", default=[]): [_target],
        vol.Optional("timeout", default=3.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.2, max=30.0)
        ),
        vol.Optional("multicast", default=True): bool,
    }
)
ONVIF_PROBE = vol.Schema(
    {
        vol.Required("host"): vol.All(str, vol.Length(min=1, max=253)),
        vol.Optional("port", default=80): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("username", default=""): str,
        vol.Optional("password", default=""): str,
        vol.Optional("timeout", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(min=1.0, max=60.0)
        ),
    }
)
