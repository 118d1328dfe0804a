"""HTTP Digest authentication (RFC 7616) for camera snapshot and MJPEG URLs.

Most IP cameras refuse Basic auth and demand Digest, but aiohttp 3.11 only ships
``BasicAuth``. This module answers a Digest challenge (MD5, SHA-256 and their ``-sess``
variants, ``qop=auth`` or the legacy no-qop form) and :func:`open_with_auth` retries a
request once when the camera answers 401 with a challenge. The nonce is then reused with
a growing nonce count, so a snapshot poller needs one round trip per picture, not two.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
}

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?')


class DigestError(ValueError):
    """A Digest challenge asks for something this client cannot do."""


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """The parameters of one ``WWW-Authenticate: Digest ...`` header."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, header: str) -> DigestChallenge | None:
        """Return the Digest challenge in ``header``, or None if it is not Digest."""
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            return None
        params: dict[str, str] = {}
        for match in _PARAM.finditer(rest):
            quoted = match.group(3)
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group(2)
            params[match.group(1).lower()] = value
        if "nonce" not in params:
            return None
        qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
        return cls(
            realm=params.get("realm", ""),
            nonce=params["nonce"],
            algorithm=params.get("algorithm", "MD5").upper(),
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
        )


class DigestAuth:
    """Credentials answered with Digest; keeps the last challenge to reuse its nonce.

    One instance per camera: it is stateful (nonce count) and not meant to be shared
    between concurrent requests.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        cnonce_factory: Callable[[], str] = lambda: os.urandom(16).hex(),
    ) -> None:
        self.username = username
        self._password = password
        self._cnonce_factory = cnonce_factory
        self._challenge: DigestChallenge | None = None
        self._nonce_count = 0

    def __repr__(self) -> str:
        """Never show the password."""
        return f"DigestAuth(username={self.username!r}, password='***')"

    @property
    def challenge(self) -> DigestChallenge | None:
        """Return the challenge answered last (None before the first 401)."""
        return self._challenge

    def accept_challenge(self, challenge: DigestChallenge) -> None:
        """Answer ``challenge`` from now on, restarting the nonce count."""
        self._check_supported(challenge)
        self._challenge = challenge
        self._nonce_count = 0

    def authorization(self, method: str, uri: str) -> str | None:
        """Return the ``Authorization`` value for a request, None before any challenge."""
        if self._challenge is None:
            return None
        self._nonce_count += 1
        return self.answer(
            self._challenge,
            method,
            uri,
            nonce_count=self._nonce_count,
            cnonce=self._cnonce_factory(),
        )

    def answer(
        self, challenge: DigestChallenge, method: str, uri: str, *, nonce_count: int, cnonce: str
    ) -> str:
        """Compute the header answering ``challenge`` (RFC 7616 section 3.4)."""
        self._check_supported(challenge)
        session_variant = challenge.algorithm.endswith("-SESS")
        hash_bytes = _HASHES[challenge.algorithm.removesuffix("-SESS")]

        def digest(text: str) -> str:
            return str(hash_bytes(text.encode("utf-8")).hexdigest())

        ha1 = digest(f"{self.username}:{challenge.realm}:{self._password}")
        if session_variant:
            ha1 = digest(f"{ha1}:{challenge.nonce}:{cnonce}")
        ha2 = digest(f"{method.upper()}:{uri}")
        fields = [
            f'username="{_quote(self.username)}"',
            f'realm="{_quote(challenge.realm)}"',
            f'nonce="{_quote(challenge.nonce)}"',
            f'uri="{_quote(uri)}"',
        ]
        if "auth" in challenge.qop:
            nc = f"{nonce_count:08x}"
            response = digest(f"{ha1}:{challenge.nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={nc}", f'cnonce="{_quote(cnonce)}"']
        else:
            response = digest(f"{ha1}:{challenge.nonce}:{ha2}")
        fields += [f'response="{response}"', f"algorithm={challenge.algorithm}"]
        if challenge.opaque is not None:
            fields.append(f'opaque="{_quote(challenge.opaque)}"')
        return "Digest " + ", ".join(fields)

    @staticmethod
    def _check_supported(challenge: DigestChallenge) -> None:
        base = challenge.algorithm.removesuffix("-SESS")
        if base not in _HASHES:
            raise DigestError(f"unsupported digest algorithm {challenge.algorithm}")
        if challenge.qop and "auth" not in challenge.qop:
            raise DigestError(f"unsupported digest qop {','.join(challenge.qop)}")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


type HttpAuth = aiohttp.BasicAuth | DigestAuth


def _digest_challenges(response: aiohttp.ClientResponse) -> list[DigestChallenge]:
    challenges = []
    for header in response.headers.getall("WWW-Authenticate", []):
        challenge = DigestChallenge.parse(header)
        if challenge is not None:
            challenges.append(challenge)
    return challenges


def _pick(challenges: list[DigestChallenge]) -> DigestChallenge | None:
    """Prefer SHA-256 over MD5 when a server offers both (RFC 7616 section 3.7)."""
    usable = [c for c in challenges if c.algorithm.removesuffix("-SESS") in _HASHES]
    usable = [c for c in usable if not c.qop or "auth" in c.qop]
    usable.sort(key=lambda c: c.algorithm.startswith("MD5"))
    return usable[0] if usable else None


@asynccontextmanager
async def open_with_auth(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    auth: HttpAuth | None,
    **kwargs: Any,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """Send a request with ``auth``; on a Digest 401 answer the challenge once and retry.

    Yields the final response, which is still 401 when the credentials are wrong, so the
    caller decides how to report it. The response is released on exit. Redirects are not
    followed (a 3xx is the answer): the address was checked against the camera networks
    (:mod:`detectors.camera_networks`), the one a camera redirects to was not.
    """
    target = URL(url)
    kwargs.setdefault("allow_redirects", False)
    if not isinstance(auth, DigestAuth):
        async with session.request(method, target, auth=auth, **kwargs) as response:
            yield response
        return
    uri = target.raw_path_qs
    headers = dict(kwargs.pop("headers", None) or {})
    preemptive = auth.authorization(method, uri)
    if preemptive is not None:
        headers["Authorization"] = preemptive
    response = await session.request(method, target, headers=headers, **kwargs)
    try:
        if response.status == 401:
            challenge = _pick(_digest_challenges(response))
            if challenge is not None:
                response.release()
                auth.accept_challenge(challenge)
                headers["Authorization"] = auth.authorization(method, uri) or ""
                response = await session.request(method, target, headers=headers, **kwargs)
        yield response
    finally:
        response.release()
