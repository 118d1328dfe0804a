"""Which failure answers which HTTP status and error code: the API's one error table.

Clients decide on the code (``camera_auth`` becomes "wrong password" in Home Assistant);
the message is for people. The same table names the offline code of a camera whose
source could not be built, so a probe failure reads the same in both places.
"""

from __future__ import annotations

from typing import Final

import voluptuous as vol

from detectors.errors import (
    CameraConflictError,
    CameraNotFoundError,
    ConfigError,
    EventNotFoundError,
    EventStateError,
    HostLookupError,
    HostNotAllowedError,
    SchoolGuardError,
    SourceNotAllowedError,
)
from detectors.onvif.errors import (
    OnvifAuthError,
    OnvifClockSkewError,
    OnvifError,
    OnvifNoProfile,
    OnvifNotOnvif,
    OnvifTimeout,
    OnvifUnreachable,
)
from detectors.protocol.codes import ApiErrorCode, CameraFailure, ErrorCode, OfflineCode, ReasonCode

_CAMERA_FAILURES: Final[tuple[tuple[type[OnvifError], CameraFailure], ...]] = (
    (OnvifClockSkewError, CameraFailure.CLOCK_SKEW),  # before its base class OnvifAuthError
    (OnvifAuthError, CameraFailure.AUTH),
    (OnvifTimeout, CameraFailure.TIMEOUT),  # before its base class OnvifUnreachable
    (OnvifUnreachable, CameraFailure.UNREACHABLE),
    (OnvifNotOnvif, CameraFailure.NOT_ONVIF),
    (OnvifNoProfile, CameraFailure.NO_PROFILE),
)

ERRORS: Final[tuple[tuple[type[Exception], int, ApiErrorCode | None], ...]] = (
    (vol.Invalid, 400, ErrorCode.INVALID),
    (CameraNotFoundError, 404, ErrorCode.NOT_FOUND),
    (EventNotFoundError, 404, ErrorCode.NOT_FOUND),
    (CameraConflictError, 409, ErrorCode.CONFLICT),
    (EventStateError, 409, ErrorCode.CONFLICT),
    (HostNotAllowedError, 403, CameraFailure.HOST_NOT_ALLOWED),
    (SourceNotAllowedError, 403, ErrorCode.SOURCE_NOT_ALLOWED),
    (OnvifError, 422, None),  # the camera, not the request: code from camera_failure()
    (ConfigError, 400, ErrorCode.INVALID),
    (SchoolGuardError, 400, ErrorCode.REJECTED),
)
"""Failures in the order they are matched (subclasses first)."""

HTTP_CODES: Final = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_ENTITY_TOO_LARGE,
}
"""HTTP-level refusals (aiohttp's own, and ours for a body that is not a JSON object)."""


def camera_failure(err: OnvifError) -> CameraFailure:
    """The code of an ONVIF failure (``camera_error`` for one without its own)."""
    for kind, code in _CAMERA_FAILURES:
        if isinstance(err, kind):
            return code
    return CameraFailure.ERROR


def classify(err: Exception) -> tuple[int, ApiErrorCode] | None:
    """The status and code a failure answers with; None for an engine bug (500)."""
    for kind, status, code in ERRORS:
        if isinstance(err, kind):
            if code is None:
                assert isinstance(err, OnvifError)
                return status, camera_failure(err)
            return status, code
    return None


def http_code(status: int) -> ErrorCode:
    """The code of an HTTP-level refusal."""
    return HTTP_CODES.get(status, ErrorCode.HTTP_ERROR)


def source_failure(err: Exception) -> ReasonCode:
    """The offline code of a camera whose source could not be built."""
    if isinstance(err, OnvifError):
        return camera_failure(err)
    if isinstance(err, HostNotAllowedError):
        return CameraFailure.HOST_NOT_ALLOWED
    if isinstance(err, HostLookupError):
        return OfflineCode.HOST_NOT_FOUND
    return OfflineCode.SOURCE_ERROR
