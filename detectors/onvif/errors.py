"""Why talking to an ONVIF camera failed, in words an installer can act on.

onvif-zeep-async lets httpx, zeep and its own errors escape unchanged; :mod:`probe`
translates them into these classes so the CLI, the API and Home Assistant repair issues
can say "wrong password" or "camera clock is 1 h off" instead of a stack trace.
"""

from __future__ import annotations

from detectors.errors import SchoolGuardError


class OnvifError(SchoolGuardError):
    """Base class of every ONVIF failure."""


class OnvifUnreachable(OnvifError):
    """Nothing answers at the camera's address (refused, timed out, no route)."""


class OnvifTimeout(OnvifUnreachable):
    """Something accepted the connection but did not finish answering in time."""


class OnvifNotOnvif(OnvifError):
    """Something answers at the address, but not ONVIF (a web page, a printer, a redirect)."""


class OnvifAuthError(OnvifError):
    """The camera refuses the username or password."""


class OnvifClockSkewError(OnvifAuthError):
    """The camera refuses us and its clock is far off ours.

    WS-UsernameToken digests carry a creation time; a camera whose clock is off by more
    than its tolerance rejects correct passwords. ``offset_s`` is camera time minus ours.
    """

    def __init__(self, message: str, offset_s: float) -> None:
        super().__init__(message)
        self.offset_s = offset_s


class OnvifNoProfile(OnvifError):
    """The camera has no media profile with a stream the engine can read."""


class OnvifProtocolError(OnvifError):
    """The camera answered something that is not the ONVIF we expect."""


class OnvifDiscoveryError(OnvifError):
    """A WS-Discovery probe could not be sent at all."""
