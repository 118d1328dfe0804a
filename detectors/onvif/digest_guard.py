"""The server side of HTTP Digest for the camera simulator's snapshot and stream URLs.

Real cameras protect ``snapshot.jpg`` with Digest, so the simulator does too; that way
the engine's Digest client (:mod:`detectors.http_auth`) is tested against a server that
refuses wrong answers. The expected response is computed with that same module's
:meth:`DigestAuth.answer` so there is one implementation of the RFC 7616 arithmetic.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Callable

from detectors.http_auth import DigestAuth, DigestChallenge

_FIELD = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
NONCE_LIFETIME_S = 600.0


def parse_authorization(header: str) -> dict[str, str] | None:
    """Return the fields of a ``Digest ...`` Authorization header, None if not Digest."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    fields: dict[str, str] = {}
    for match in _FIELD.finditer(rest):
        quoted = match.group(2)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group(3)
        fields[match.group(1).lower()] = value
    return fields


class DigestGuard:
    """Issue Digest challenges (MD5, ``qop=auth``) and check the answers."""

    def __init__(
        self,
        realm: str,
        credentials: Callable[[], tuple[str, str]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.realm = realm
        self._credentials = credentials
        self._clock = clock
        self._nonces: dict[str, float] = {}
        self._opaque = secrets.token_hex(8)

    def challenge(self) -> str:
        """Return a fresh ``WWW-Authenticate`` value."""
        now = self._clock()
        self._nonces = {n: t for n, t in self._nonces.items() if now - t < NONCE_LIFETIME_S}
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now
        return (
            f'Digest realm="{self.realm}", nonce="{nonce}", qop="auth", '
            f'algorithm=MD5, opaque="{self._opaque}"'
        )

    def accepts(self, method: str, path_qs: str, authorization: str | None) -> bool:
        """Return True when ``authorization`` answers one of our live nonces correctly."""
        fields = parse_authorization(authorization or "")
        if fields is None:
            return False
        nonce = fields.get("nonce", "")
        issued = self._nonces.get(nonce)
        if issued is None or self._clock() - issued >= NONCE_LIFETIME_S:
            return False
        if fields.get("uri") != path_qs or fields.get("realm") != self.realm:
            return False
        username, password = self._credentials()
        if not hmac.compare_digest(fields.get("username", ""), username):
            return False
        qop = fields.get("qop", "")
        try:
            nonce_count = int(fields.get("nc", "0"), 16)
        except ValueError:
            return False
        challenge = DigestChallenge(
            realm=self.realm,
            nonce=nonce,
            algorithm=fields.get("algorithm", "MD5").upper(),
            qop=(qop,) if qop else (),
            opaque=self._opaque,
        )
        if challenge.algorithm != "MD5" or qop not in {"", "auth"}:
            return False
        expected = DigestAuth(username, password).answer(
            challenge, method, path_qs, nonce_count=nonce_count, cnonce=fields.get("cnonce", "")
        )
        expected_fields = parse_authorization(expected) or {}
        return hmac.compare_digest(expected_fields.get("response", ""), fields.get("response", ""))
