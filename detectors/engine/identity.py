"""The engine's stable id and API token, kept in its data directory.

The token is generated on first start with 256 bits from ``secrets`` and written with mode
0600 before anything else can read it; the engine prints where the file is (never the
token: logs are shipped to journald and collectors), so the installer can copy it into
Home Assistant.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_ENV = "SCHOOL_GUARD_TOKEN"  # noqa: S105 - the variable name, not a secret


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)


def engine_id(data_dir: Path) -> str:
    """This engine's id: 12 hex digits, created once and kept in ``<data_dir>/engine_id``."""
    path = data_dir / "engine_id"
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    value = secrets.token_hex(6)
    _write_private(path, value)
    return value


def load_token(data_dir: Path, override: str | None = None) -> tuple[str, bool]:
    """The API token and whether it was created just now.

    ``override`` (``--token``) wins, then ``$SCHOOL_GUARD_TOKEN``, then ``<data_dir>/token``.
    """
    if override:
        return override, False
    if env := os.environ.get(TOKEN_ENV):
        return env, False
    path = data_dir / "token"
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value, False
    value = secrets.token_urlsafe(32)
    _write_private(path, value)
    return value, True
