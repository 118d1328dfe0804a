"""PullPoint subscriptions held by the camera simulator.

A subscription queues ``MotionAlarm`` messages until the client pulls them; a pull with
nothing queued waits up to its timeout (long polling, as cameras do). A subscription not
renewed before its termination time is gone, like on a real camera, and so are all of
them after :meth:`PullPointHub.drop_all` (a camera reboot), which is how tests make the
engine's subscription get lost.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from detectors.onvif.wsse import parse_created

DEFAULT_TERMINATION = timedelta(seconds=60)
MAX_TERMINATION = timedelta(hours=1)
MAX_PULL_WAIT_S = 60.0
MAX_QUEUED_MESSAGES = 100

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: str) -> timedelta | None:
    """Parse an ``xs:duration`` such as ``PT60S`` or ``P1DT2H``; None when it is not one."""
    match = _DURATION.match(value.strip())
    if match is None or value.strip() in {"P", "PT"}:
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return timedelta(**parts)


def termination_after(requested: str | None, camera_now: datetime) -> datetime:
    """Return when a subscription ends given a relative or absolute requested time."""
    if not requested:
        return camera_now + DEFAULT_TERMINATION
    duration = parse_duration(requested)
    if duration is None:
        absolute = parse_created(requested)
        duration = (absolute - camera_now) if absolute is not None else DEFAULT_TERMINATION
    duration = min(max(duration, timedelta(seconds=1)), MAX_TERMINATION)
    return camera_now + duration


@dataclass(frozen=True, slots=True)
class MotionMessage:
    """One ``tns1:VideoSource/MotionAlarm`` notification."""

    utc_time: datetime
    state: bool
    operation: str


@dataclass(slots=True)
class PullPointSubscription:
    """One client's queue of messages and its lease."""

    token: str
    terminates_at: datetime
    messages: list[MotionMessage] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, message: MotionMessage) -> None:
        """Queue ``message``, dropping the oldest beyond the queue limit."""
        self.messages.append(message)
        del self.messages[:-MAX_QUEUED_MESSAGES]
        self.arrived.set()


class PullPointHub:
    """All live subscriptions of one simulated camera."""

    def __init__(self, camera_now: Callable[[], datetime]) -> None:
        self._camera_now = camera_now
        self._subscriptions: dict[str, PullPointSubscription] = {}

    def create(self, requested_termination: str | None, motion: bool) -> PullPointSubscription:
        """Open a subscription whose first message is the current motion state."""
        now = self._camera_now()
        subscription = PullPointSubscription(
            token=secrets.token_hex(8), terminates_at=termination_after(requested_termination, now)
        )
        subscription.push(MotionMessage(now, motion, "Initialized"))
        self._subscriptions[subscription.token] = subscription
        return subscription

    def get(self, token: str) -> PullPointSubscription | None:
        """Return a live subscription, forgetting it once its lease has run out."""
        subscription = self._subscriptions.get(token)
        if subscription is not None and subscription.terminates_at <= self._camera_now():
            del self._subscriptions[token]
            return None
        return subscription

    def remove(self, token: str) -> bool:
        """End a subscription; False when it did not exist."""
        return self._subscriptions.pop(token, None) is not None

    def drop_all(self) -> None:
        """Forget every subscription, as a rebooting camera does."""
        self._subscriptions.clear()

    def publish(self, motion: bool) -> None:
        """Send a changed motion state to every live subscription."""
        message = MotionMessage(self._camera_now(), motion, "Changed")
        for token in list(self._subscriptions):
            subscription = self.get(token)
            if subscription is not None:
                subscription.push(message)

    @staticmethod
    async def pull(
        subscription: PullPointSubscription, wait_s: float, limit: int
    ) -> list[MotionMessage]:
        """Return up to ``limit`` queued messages, waiting ``wait_s`` for the first."""
        if not subscription.messages:
            subscription.arrived.clear()
            try:
                async with asyncio.timeout(min(max(wait_s, 0.0), MAX_PULL_WAIT_S)):
                    await subscription.arrived.wait()
            except TimeoutError:
                return []
        taken = subscription.messages[: max(1, limit)]
        del subscription.messages[: len(taken)]
        return taken

    def __len__(self) -> int:
        """Return how many subscriptions are open (expired ones included until touched)."""
        return len(self._subscriptions)
