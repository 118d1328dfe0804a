"""What the HTTP sources (MJPEG, snapshot) share: credentials and error reasons."""

from __future__ import annotations

import aiohttp
from yarl import URL

from detectors.http_auth import HttpAuth
from detectors.pipeline.sources.base import (
    OfflineReason,
    SourceOfflineError,
    reason_for_os_error,
)


def split_url_credentials(url: str, auth: HttpAuth | None) -> tuple[URL, HttpAuth | None]:
    """Move ``user:password@`` out of ``url`` so it never reaches a log or an error.

    Credentials in the URL become Basic auth (what browsers do) unless ``auth`` is given,
    which wins.
    """
    parsed = URL(url)
    if parsed.user is None:
        return parsed, auth
    if auth is None:
        auth = aiohttp.BasicAuth(parsed.user, parsed.password or "")
    return parsed.with_user(None), auth


def offline_error_for(error: BaseException, name: str) -> SourceOfflineError:
    """Translate an aiohttp/socket failure into the reason shown for the camera."""
    reason: OfflineReason
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        reason = OfflineReason.HOST_NOT_FOUND
    elif isinstance(error, aiohttp.ClientConnectorError):
        reason = reason_for_os_error(error.os_error)
    elif isinstance(error, aiohttp.ConnectionTimeoutError):
        reason = OfflineReason.CONNECTION_TIMEOUT
    elif isinstance(error, aiohttp.SocketTimeoutError | TimeoutError):
        reason = OfflineReason.STREAM_STALLED
    elif isinstance(error, OSError):
        reason = reason_for_os_error(error)
    else:
        reason = OfflineReason.CONNECTION_LOST
    return SourceOfflineError(reason, name)
