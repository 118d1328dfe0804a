"""Secrets out of everything the engine shows: URLs, log lines, MQTT payloads.

One module so that every place that shows a value (configuration errors, API answers,
source names in logs, MQTT payloads, log lines) hides the same things the same way:

* :func:`redact_url`: a URL's password (``rtsp://admin:***@cam``) and password-like query
  values (``?pwd=***``, as some cameras' snapshot URLs take them). The user name stays:
  it tells an installer which account is configured, and API clients are trusted.
* :func:`scrub_url`: the same, and the user name too (``rtsp://***@cam``): for MQTT,
  whose audience is wider than the API's.
* :func:`redact_text`: free text (a log line, an exception quoting a URL): the given
  secrets, any URL's user info, bearer tokens.
* :func:`is_secret_key`: keys that name a credential, dropped from payloads at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

REDACTED: Final = "***"

SECRET_QUERY_KEYS: Final = frozenset(
    {"password", "passwd", "pass", "pwd", "token", "auth", "apikey", "api_key", "key"}
)
"""Query parameters that carry a credential in cameras' URLs."""

SECRET_KEYS: Final = frozenset({"password", "username", "token", "credentials"})
"""Payload keys that name a credential (and any key ending in ``_<one of them>``)."""
_SECRET_SUFFIXES: Final = tuple(f"_{key}" for key in sorted(SECRET_KEYS))

_URL_USERINFO: Final = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
_BEARER: Final = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def _redact_query(query: str) -> str:
    """``query`` with the values of credential-like keys replaced, the rest as written."""
    items = []
    for item in query.split("&"):
        key, sep, _ = item.partition("=")
        items.append(f"{key}={REDACTED}" if sep and key.lower() in SECRET_QUERY_KEYS else item)
    return "&".join(items)


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``.

    Covers ``scheme://user:password@host`` and password-like query parameters
    (``?user=admin&pwd=…``). A URL that cannot be parsed is replaced entirely, since where
    its secret sits is unknown.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if user else f"{REDACTED}@{hostport}"
    query = _redact_query(parts.query) if parts.query else ""
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub_url(text: str) -> str:
    """Return ``text`` with any URL user info and password-like query values removed.

    The user name goes too (``rtsp://***@host``): a camera login is a credential, and
    the API's own redaction keeps it only because API clients are already trusted.
    """
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return REDACTED
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and userinfo:
        text = urlunsplit(
            (parts.scheme, f"{REDACTED}@{hostport}", parts.path, parts.query, parts.fragment)
        )
    return redact_url(text)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` without the given secrets, URL credentials or bearer tokens."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


def is_secret_key(key: str) -> bool:
    """Whether a payload key names a credential (``password``, ``api_token``, ...)."""
    lowered = key.lower()
    return lowered in SECRET_KEYS or lowered.endswith(_SECRET_SUFFIXES)
