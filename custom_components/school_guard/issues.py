"""Repair issues: problems with an engine or camera that a person has to fix.

The hub reports what it sees (link up/down, camera states, the engine's models); this
module decides when that deserves a repair issue and removes the issue again as soon as
the cause is gone. Short outages are normal (an engine restart, a camera reboot), so the
"unreachable" and "offline" issues appear only after the problem has lasted a while.

This module is not named ``repairs.py`` on purpose: Home Assistant treats that name as a
repairs platform and requires a fix flow, and none of these issues can be fixed from
Home Assistant (the engine, the camera or the network has to change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from .client import CameraState, EngineInfo
from .const import DOMAIN

ENGINE_UNREACHABLE_AFTER = 300.0
"""Seconds without the engine's push link before the user is told (restarts take less)."""
CAMERA_OFFLINE_AFTER = 600.0
"""Seconds a camera may deliver no frames before the user is told (reboots take less)."""

CLOCK_SKEW = "camera_clock_skew"
"""The engine's code for an ONVIF camera that refused it because the camera's clock is off."""

NOT_FAULTS = frozenset({"disabled", "stopped", "starting"})
"""The engine's offline codes that are no fault of the camera: a person switched detection
off, or the engine is stopping or (re)starting the camera."""


def camera_fault(camera: CameraState) -> bool:
    """Whether the camera is offline through a fault (not by choice or an engine restart)."""
    return not camera.online and camera.reason_code not in NOT_FAULTS


def engine_issue_id(engine_id: str, kind: str) -> str:
    """Issue id of an engine-wide problem (unique per engine)."""
    return f"{engine_id}_{kind}"


def camera_issue_id(engine_id: str, camera_id: str, kind: str) -> str:
    """Issue id of one camera's problem (camera ids are unique per engine only)."""
    return f"{engine_id}_{camera_id}_{kind}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g}"


@dataclass
class RepairIssues:
    """Creates and deletes one engine's repair issues from what the hub reports.

    ``engine_unreachable_after`` and ``camera_offline_after`` are read whenever a timer
    starts, so tests (and nothing else) may shorten them on a running hub.
    """

    hass: HomeAssistant
    engine_id: str
    engine_name: str
    address: str
    engine_unreachable_after: float = ENGINE_UNREACHABLE_AFTER
    camera_offline_after: float = CAMERA_OFFLINE_AFTER
    _engine_timer: CALLBACK_TYPE | None = None
    _camera_timers: dict[str, CALLBACK_TYPE] = field(default_factory=dict)
    _offline: dict[str, CameraState] = field(default_factory=dict)
    _raised: set[str] = field(default_factory=set)
    _stopped: bool = False

    @property
    def raised(self) -> frozenset[str]:
        """Ids of the issues currently open for this engine."""
        return frozenset(self._raised)

    def _create(
        self,
        issue_id: str,
        translation_key: str,
        placeholders: dict[str, str],
        severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
    ) -> None:
        if self._stopped:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )
        self._raised.add(issue_id)

    def _delete(self, issue_id: str) -> None:
        if issue_id in self._raised:
            self._raised.discard(issue_id)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    # -- engine ----------------------------------------------------------------

    @callback
    def engine_link_down(self) -> None:
        """The push link is not up (yet, or any more): start counting, once.

        The listener reports its link down once more while the entry unloads, after
        :meth:`async_stop`; a stopped tracker starts nothing that would outlive the entry.
        """
        if self._stopped:
            return
        for timer in self._camera_timers.values():
            timer()
        # While the engine is away its cameras' states are unknown; the engine issue
        # covers them, and the states it sends on reconnecting are judged afresh.
        self._camera_timers.clear()
        if self._engine_timer is None:
            self._engine_timer = async_call_later(
                self.hass, self.engine_unreachable_after, self._engine_expired
            )

    @callback
    def engine_link_up(self) -> None:
        """The push link is up: the engine is reachable."""
        if self._engine_timer is not None:
            self._engine_timer()
            self._engine_timer = None
        self._delete(engine_issue_id(self.engine_id, "engine_unreachable"))

    @callback
    def _engine_expired(self, _now: datetime) -> None:
        self._engine_timer = None
        self._create(
            engine_issue_id(self.engine_id, "engine_unreachable"),
            "engine_unreachable",
            {
                "name": self.engine_name,
                "address": self.address,
                "minutes": _minutes(self.engine_unreachable_after),
            },
        )

    @callback
    def check_models(self, info: EngineInfo) -> None:
        """Raise "model missing" for a missing detector (error) or pose model (warning).

        Without the detector nothing is detected at all; without the pose model fights
        cannot be seen and a person down is judged from boxes only.
        """
        placeholders = {"name": info.name}
        detector_id = engine_issue_id(self.engine_id, "model_missing")
        if info.models.get("detector") is None:
            self._create(detector_id, "model_missing", placeholders)
        else:
            self._delete(detector_id)
        pose_id = engine_issue_id(self.engine_id, "pose_model_missing")
        if info.models.get("pose") is None:
            self._create(pose_id, "pose_model_missing", placeholders, ir.IssueSeverity.WARNING)
        else:
            self._delete(pose_id)

    # -- cameras ---------------------------------------------------------------

    @callback
    def camera_changed(self, camera: CameraState) -> None:
        """Judge one camera's pushed state (also the unchanged ones re-sent on reconnect)."""
        if self._stopped:
            return
        camera_id = camera.camera_id
        reason = camera.reason or ""
        skew_id = camera_issue_id(self.engine_id, camera_id, "camera_clock_skew")
        skewed = not camera.online and camera.reason_code == CLOCK_SKEW
        if skewed:
            # A definite configuration fault: no point waiting for it to pass.
            self._create(
                skew_id,
                "camera_clock_skew",
                {"camera": camera.name, "location": camera.location, "reason": reason},
            )
        else:
            self._delete(skew_id)
        offline_id = camera_issue_id(self.engine_id, camera_id, "camera_offline")
        if skewed or not camera_fault(camera):
            self._forget_camera(camera_id)
            self._delete(offline_id)
            return
        self._offline[camera_id] = camera
        if offline_id in self._raised:
            self._raise_offline(camera_id, None)
        elif camera_id not in self._camera_timers:
            self._camera_timers[camera_id] = async_call_later(
                self.hass, self.camera_offline_after, partial(self._raise_offline, camera_id)
            )

    @callback
    def _raise_offline(self, camera_id: str, _now: datetime | None) -> None:
        self._camera_timers.pop(camera_id, None)
        camera = self._offline[camera_id]
        self._create(
            camera_issue_id(self.engine_id, camera_id, "camera_offline"),
            "camera_offline",
            {
                "camera": camera.name,
                "location": camera.location,
                "reason": camera.reason or "unknown",
                "minutes": _minutes(self.camera_offline_after),
            },
        )

    def _forget_camera(self, camera_id: str) -> None:
        if (timer := self._camera_timers.pop(camera_id, None)) is not None:
            timer()
        self._offline.pop(camera_id, None)

    @callback
    def camera_removed(self, camera_id: str) -> None:
        """A removed camera has nothing left to repair."""
        self._forget_camera(camera_id)
        for kind in ("camera_offline", "camera_clock_skew"):
            self._delete(camera_issue_id(self.engine_id, camera_id, kind))

    @callback
    def async_stop(self) -> None:
        """The entry unloads: stop every timer and withdraw every issue it raised.

        A reloaded entry judges everything afresh, so nothing stale stays behind.
        """
        self._stopped = True
        if self._engine_timer is not None:
            self._engine_timer()
            self._engine_timer = None
        for camera_id in list(self._camera_timers):
            self._forget_camera(camera_id)
        for issue_id in list(self._raised):
            self._delete(issue_id)
