"""The engine's own files in its data directory, each written atomically.

* ``cameras.json``: cameras added through the API, with their credentials (owner-only).
* ``camera_switches.json``: detection switched on or off through the API for cameras of
  the configuration file (the file stays the one place their settings live).
* ``mode.json``: the response mode, so a restart keeps a lockdown a lockdown.

Every write goes to a ``.partial`` file that is renamed over the old one, so a crash (or a
full disk) leaves the previous state, never half a file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TypedDict

from detectors.config import CameraConfig, camera_document, camera_from_json
from detectors.errors import ConfigError
from detectors.protocol.codes import RESPONSE_MODES

_LOGGER = logging.getLogger(__name__)


class ModeState(TypedDict):
    """The response mode, whether it is a drill, and when it was set (Unix seconds)."""

    mode: str
    drill: bool
    changed_at: float


def write_atomically(path: Path, text: str) -> None:
    """Write owner-only (camera files hold passwords) and rename, so a crash keeps the old file."""
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(path)


class StateFiles:
    """Read and write the engine's state files in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        """Keep the files in ``data_dir``."""
        self.data_dir = data_dir

    @property
    def cameras_path(self) -> Path:
        """Cameras added through the API."""
        return self.data_dir / "cameras.json"

    @property
    def switches_path(self) -> Path:
        """Detection switches of configuration-file cameras."""
        return self.data_dir / "camera_switches.json"

    @property
    def mode_path(self) -> Path:
        """The response mode."""
        return self.data_dir / "mode.json"

    def load_cameras(self, schedules: Collection[str]) -> list[CameraConfig]:
        """The cameras added through the API, validated like a new one."""
        if not self.cameras_path.is_file():
            return []
        raw = json.loads(self.cameras_path.read_text(encoding="utf-8"))
        return [camera_from_json(item, schedules=schedules) for item in raw]

    def save_cameras(self, cameras: Iterable[CameraConfig]) -> None:
        """Keep these cameras (with their credentials) for the next start."""
        documents = [camera_document(camera, include_secrets=True) for camera in cameras]
        write_atomically(self.cameras_path, json.dumps(documents, indent=2))

    def load_switches(self) -> dict[str, bool]:
        """Configuration-file cameras whose detection was switched through the API."""
        path = self.switches_path
        if not path.is_file():
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not all(isinstance(v, bool) for v in raw.values()):
            raise ConfigError(f"{path}: expected a JSON object of camera id -> true/false")
        return {str(k): v for k, v in raw.items()}

    def save_switch(self, camera_id: str, enabled: bool) -> None:
        """Remember one switch; the file's own value rules again once the switch is removed."""
        switched = self.load_switches()
        switched[camera_id] = enabled
        write_atomically(self.switches_path, json.dumps(switched, sort_keys=True))

    def load_mode(self) -> ModeState | None:
        """The mode saved before the last stop; None when there is none or it is unreadable."""
        try:
            raw = json.loads(self.mode_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, OSError) as err:
            _LOGGER.warning("%s is unreadable (%s); starting in normal mode", self.mode_path, err)
            return None
        if not _is_mode(raw):
            _LOGGER.warning("%s is not a response mode; starting in normal mode", self.mode_path)
            return None
        return ModeState(mode=raw["mode"], drill=raw["drill"], changed_at=float(raw["changed_at"]))

    def save_mode(self, mode: ModeState) -> None:
        """Keep the mode for the next start."""
        write_atomically(self.mode_path, json.dumps(mode))


def _is_mode(raw: object) -> bool:
    return (
        isinstance(raw, Mapping)
        and raw.get("mode") in RESPONSE_MODES
        and isinstance(raw.get("drill"), bool)
        and isinstance(raw.get("changed_at"), int | float)
        and not isinstance(raw.get("changed_at"), bool)
    )
