"""The engine client: exceptions, models, the REST client and the push listener.

The integration talks to an engine only through this package, the way Home Assistant's
own integrations use a client library (python-peblar, uiprotect); it has no Home Assistant
import, so it could be published as one.
"""

from .client import API_PREFIX, EVIDENCE_FILES, EvidenceFile, SchoolGuardClient
from .exceptions import (
    SchoolGuardApiError,
    SchoolGuardAuthError,
    SchoolGuardConnectionError,
    SchoolGuardError,
)
from .models import (
    DELETED_UNUSED,
    HEALTH_UNUSED,
    STATE_MESSAGE_UNUSED,
    AlertEvent,
    CameraDevice,
    CameraRemoved,
    CameraState,
    EngineInfo,
    EventChange,
    EventPage,
    Hello,
    ModeState,
    OnvifCamera,
    OnvifProbe,
    OpenAlert,
    PushMessage,
    ReportSummary,
    error_fields,
    health_cursor,
)
from .push import RECONNECT_DELAYS, PushListener, parse_push_message

__all__ = [
    "API_PREFIX",
    "DELETED_UNUSED",
    "EVIDENCE_FILES",
    "HEALTH_UNUSED",
    "RECONNECT_DELAYS",
    "STATE_MESSAGE_UNUSED",
    "AlertEvent",
    "CameraDevice",
    "CameraRemoved",
    "CameraState",
    "EngineInfo",
    "EventChange",
    "EventPage",
    "EvidenceFile",
    "Hello",
    "ModeState",
    "OnvifCamera",
    "OnvifProbe",
    "OpenAlert",
    "PushListener",
    "PushMessage",
    "ReportSummary",
    "SchoolGuardApiError",
    "SchoolGuardAuthError",
    "SchoolGuardClient",
    "SchoolGuardConnectionError",
    "SchoolGuardError",
    "error_fields",
    "health_cursor",
    "parse_push_message",
]
