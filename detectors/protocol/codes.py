"""Every code and enum that crosses the engine's boundary.

Clients (Home Assistant, MQTT subscribers, scripts) decide on these values, so they are
declared once here and published in ``/info`` and the OpenAPI document; clients read them
rather than keeping their own copies. Human-readable text (an offline ``reason``, an error
``message``) travels beside a code for people, never instead of one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, get_args

from detectors.incidents.records import RESPONSE_STEPS as _RESPONSE_STEPS
from detectors.incidents.records import ChangeKind, EventState
from detectors.pipeline.defaults import DEFAULT_RULES as _DEFAULT_RULES
from detectors.pipeline.sources.base import OfflineReason
from detectors.rules import RULES

RULE_NAMES: Final[tuple[str, ...]] = tuple(RULES)
"""The rules the engine runs, in the order clients list them."""

DEFAULT_RULES: Final[tuple[str, ...]] = tuple(_DEFAULT_RULES)
"""Rules worth switching on for a new camera without site knowledge (not ``intrusion``:
it needs zones and a schedule)."""


class ResponseMode(StrEnum):
    """The school's response mode (Standard Response Protocol), in escalation order."""

    NORMAL = "normal"
    HOLD = "hold"
    SECURE = "secure"
    LOCKDOWN = "lockdown"
    EVACUATE = "evacuate"
    SHELTER = "shelter"


RESPONSE_MODES: Final[tuple[str, ...]] = tuple(str(mode) for mode in ResponseMode)

CHANGE_KINDS: Final[tuple[str, ...]] = get_args(ChangeKind.__value__)
"""What happened to an event: ``started`` ... ``notified``, ``action`` (a response step)."""

RESPONSE_STEPS: Final[tuple[str, ...]] = _RESPONSE_STEPS
"""The response steps a client records on an event (``POST /events/{id}/actions``):
``paged``, ``doors_locked``, ``pa_played``, ``mode_set``, ``all_clear``..."""

EVENT_STATES: Final[tuple[str, ...]] = get_args(EventState.__value__)


SNAPSHOT_SOURCES: Final[tuple[str, ...]] = ("uri", "stream", "frame")
"""Where a camera's alert snapshots come from (``streams.snapshot.from``): its ONVIF
snapshot URI, a frame of its main stream, or the analysed frame."""


class CameraOrigin(StrEnum):
    """Where a camera is defined: the configuration file, or added through the API."""

    CONFIG = "config"
    API = "api"


class CameraFailure(StrEnum):
    """Why the engine cannot use a camera it tried to reach (ONVIF probe failures).

    The same codes answer ``POST /onvif/probe`` (HTTP 422) and mark a camera whose source
    cannot be built (its status ``reason_code``).
    """

    UNREACHABLE = "camera_unreachable"
    TIMEOUT = "camera_timeout"
    """Something accepted the connection but did not finish answering in time."""
    NOT_ONVIF = "camera_not_onvif"
    """Something answers at the address, but not ONVIF (a web page, a printer...)."""
    AUTH = "camera_auth"
    CLOCK_SKEW = "camera_clock_skew"
    NO_PROFILE = "camera_no_profile"
    ERROR = "camera_error"
    HOST_NOT_ALLOWED = "host_not_allowed"
    """403: the host (or an address the camera handed back) lies outside
    ``security.camera_networks``; nothing was contacted there."""


class OfflineCode(StrEnum):
    """Why a camera delivers no frames (its status ``reason_code``; ``reason`` is for people).

    The first members mirror :class:`detectors.pipeline.sources.base.OfflineReason` name
    for name (a test keeps them in step); the engine adds its own: detection switched off,
    and a source that could not be built. A source the engine could not reach (an ONVIF
    probe that failed) has a :class:`CameraFailure` code instead.
    """

    STARTING = "starting"
    STOPPED = "stopped"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_TIMEOUT = "connection_timeout"
    CONNECTION_LOST = "connection_lost"
    HOST_NOT_FOUND = "host_not_found"
    STREAM_STALLED = "stream_stalled"
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    HTTP_ERROR = "http_error"
    NOT_A_STREAM = "not_a_stream"
    CANNOT_OPEN = "cannot_open"
    END_OF_FILE = "end_of_file"
    DISABLED = "disabled"
    """A person switched detection off: no fault."""
    SOURCE_ERROR = "source_error"
    """The source could not be built for another reason (the ``reason`` says which)."""


type ReasonCode = OfflineCode | CameraFailure
"""A camera status's ``reason_code``: the reader's and the engine's codes, or why the
camera's source could not be reached."""
REASON_CODES: Final[tuple[str, ...]] = (*OfflineCode, *CameraFailure)


NOT_FAULTS: Final = frozenset({OfflineCode.STARTING, OfflineCode.STOPPED, OfflineCode.DISABLED})
"""Offline codes that are nobody's fault: the engine is (re)starting or stopping the
camera, or a person switched its detection off."""

_BY_READER_REASON: Final = {reason.value: OfflineCode[reason.name] for reason in OfflineReason}


def offline_code(reason: str | None) -> OfflineCode | None:
    """The code of a reader's offline reason (None for a reason the reader never gives)."""
    return None if reason is None else _BY_READER_REASON.get(str(reason))


class ErrorCode(StrEnum):
    """The ``error.code`` of every API error answer."""

    INVALID = "invalid"
    """400: the body or a query value fails validation; the message names the key."""
    BAD_REQUEST = "bad_request"
    """400: not JSON, or not an object."""
    REJECTED = "rejected"
    """400: valid, but the engine cannot do it."""
    SOURCE_NOT_ALLOWED = "source_not_allowed"
    """403: a source the API may not create (a file outside ``security.media_folder``)."""
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    """409: a duplicate camera, a camera defined in the configuration file, dismissing twice."""
    REQUEST_ENTITY_TOO_LARGE = "request_entity_too_large"
    HTTP_ERROR = "http_error"
    """Any other HTTP-level refusal."""
    INTERNAL = "internal"
    """500: an engine bug (never bad input)."""


type ApiErrorCode = ErrorCode | CameraFailure
"""An error answer's code: the API's own, or (422) why the camera cannot be used."""
API_ERROR_CODES: Final[tuple[str, ...]] = (*ErrorCode, *CameraFailure)


class MessageType(StrEnum):
    """The ``type`` of every WebSocket message."""

    HELLO = "hello"
    EVENT = "event"
    CAMERA = "camera"
    CAMERA_REMOVED = "camera_removed"
    MODE = "mode"
