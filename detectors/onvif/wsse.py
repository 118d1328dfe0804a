"""Checking WS-UsernameToken credentials, the way an ONVIF camera does.

ONVIF clients send ``PasswordDigest = Base64(SHA-1(nonce + created + password))`` with
the nonce and creation time beside it. The camera recomputes the digest and also refuses
a ``Created`` time too far from its own clock, which is why a camera whose clock is off
rejects correct passwords until the client shifts its timestamps (``adjust_time``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from detectors.onvif.soap import find_local, text_of

PASSWORD_DIGEST = "PasswordDigest"  # noqa: S105 - a token type name, not a secret
PASSWORD_TEXT = "PasswordText"  # noqa: S105 - a token type name, not a secret
DEFAULT_TOLERANCE_S = 300.0
"""How far ``Created`` may be from the camera's clock before a digest is refused."""


@dataclass(frozen=True, slots=True)
class UsernameToken:
    """The credentials found in a request's ``wsse:Security`` header."""

    username: str
    password: str
    password_type: str
    nonce: bytes | None
    created: str | None

    @classmethod
    def from_header(cls, header: ET.Element | None) -> UsernameToken | None:
        """Return the token in a SOAP header, None when there is none."""
        if header is None:
            return None
        token = find_local(header, "Security", "UsernameToken")
        if token is None:
            return None
        password = find_local(token, "Password")
        kind = (password.get("Type", "") if password is not None else "").rpartition("#")[2]
        nonce_text = text_of(find_local(token, "Nonce"))
        try:
            nonce = base64.b64decode(nonce_text, validate=True) if nonce_text else None
        except binascii.Error:
            nonce = None
        return cls(
            username=text_of(find_local(token, "Username")) or "",
            password=text_of(password) or "",
            password_type=kind or PASSWORD_TEXT,
            nonce=nonce,
            created=text_of(find_local(token, "Created")),
        )


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Return ``Base64(SHA-1(nonce + created + password))``."""
    raw = hashlib.sha1(nonce + created.encode() + password.encode(), usedforsecurity=False)
    return base64.b64encode(raw.digest()).decode("ascii")


def parse_created(created: str) -> datetime | None:
    """Parse an ``xs:dateTime`` creation time as UTC, None when it is not one."""
    try:
        value = datetime.fromisoformat(created)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def token_is_valid(
    token: UsernameToken | None,
    username: str,
    password: str,
    *,
    camera_now: datetime,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Return True when ``token`` carries these credentials, fresh by the camera's clock.

    ``camera_now`` is the camera's idea of the time (skewed for a camera whose clock is
    off). Plain-text passwords are accepted too, as most cameras do.
    """
    if token is None or not hmac.compare_digest(token.username, username):
        return False
    if token.password_type == PASSWORD_TEXT:
        return hmac.compare_digest(token.password, password)
    if token.password_type != PASSWORD_DIGEST or token.nonce is None or token.created is None:
        return False
    created_at = parse_created(token.created)
    if created_at is None or abs((created_at - camera_now).total_seconds()) > tolerance_s:
        return False
    expected = password_digest(token.nonce, token.created, password)
    return hmac.compare_digest(expected, token.password)
