"""What the engine client raises: a connection failure, a refused token, or an engine answer.

Callers tell them apart to say the right thing (``errors.py`` translates each one for
Home Assistant); an API error keeps the engine's code so ``conflict`` and ``invalid``
are told apart without reading prose.
"""

from __future__ import annotations


class SchoolGuardError(Exception):
    """Base of every error this client raises."""


class SchoolGuardConnectionError(SchoolGuardError):
    """The engine could not be reached, or answered with something that is not the API."""


class SchoolGuardAuthError(SchoolGuardError):
    """The engine refused the bearer token (401)."""


class SchoolGuardApiError(SchoolGuardError):
    """The engine answered with a documented error (4xx/5xx with a code)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep the engine's error code so callers can tell ``conflict`` from ``invalid``."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
