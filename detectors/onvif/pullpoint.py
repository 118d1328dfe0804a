"""A camera's own motion events over an ONVIF PullPoint subscription.

Cameras forget subscriptions when they reboot, when a lease runs out, or when the
network drops long enough, and say nothing about it: the next pull just fails. So
:class:`MotionSubscription` renews its lease before it ends, treats any failed pull or
renewal as a lost subscription, and subscribes again with a growing back-off, counting
what happened so the engine can report a camera whose events keep getting lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from detectors.onvif.errors import OnvifAuthError, OnvifError
from detectors.onvif.probe import OnvifSession
from detectors.pipeline.reader import Backoff, BackoffPolicy

_LOGGER = logging.getLogger(__name__)

MOTION_TOPIC = "tns1:VideoSource/MotionAlarm"
_PULLPOINT_NAMESPACE = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"
RENEW_AT_FRACTION = 0.8
"""Renew when this fraction of the lease has passed."""


@dataclass(frozen=True, slots=True)
class MotionEvent:
    """One motion state from the camera; ``initial`` for the state sent on subscribing."""

    state: bool
    source: str | None
    utc_time: datetime | None
    initial: bool


def parse_motion(message: Any) -> MotionEvent | None:
    """Return the motion state in one ``NotificationMessage``, None for other topics."""
    topic = getattr(getattr(message, "Topic", None), "_value_1", None)
    if not isinstance(topic, str) or topic.strip().rstrip("/.") != MOTION_TOPIC:
        return None
    payload = getattr(getattr(message, "Message", None), "_value_1", None)
    data_items = getattr(getattr(payload, "Data", None), "SimpleItem", None) or []
    state = next((i.Value for i in data_items if i.Name == "State"), None)
    if state is None:
        return None
    source_items = getattr(getattr(payload, "Source", None), "SimpleItem", None) or []
    source = next((str(i.Value) for i in source_items), None)
    utc_time = getattr(payload, "UtcTime", None)
    return MotionEvent(
        state=str(state).lower() == "true",
        source=source,
        utc_time=utc_time if isinstance(utc_time, datetime) else None,
        initial=getattr(payload, "PropertyOperation", None) == "Initialized",
    )


class MotionSubscription:
    """Yield a camera's motion events for as long as the caller iterates :meth:`events`.

    ``lease_s`` is the termination time asked for (renewed at 80 %), ``pull_timeout_s``
    how long one pull may wait for events on the camera. ``sleep`` and ``clock`` are
    injectable for tests; ``on_lost`` hears why each subscription was lost.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        lease_s: float = 60.0,
        pull_timeout_s: float = 5.0,
        request_timeout_s: float = 15.0,
        backoff: BackoffPolicy | None = None,
        adjust_time: bool = True,
        on_lost: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._target = (host, port, username, password)
        self._lease = timedelta(seconds=lease_s)
        self._pull_timeout = timedelta(seconds=pull_timeout_s)
        self._request_timeout_s = request_timeout_s + pull_timeout_s
        self._backoff = Backoff(backoff or BackoffPolicy(initial_s=1.0, cap_s=60.0))
        self._adjust_time = adjust_time
        self._on_lost = on_lost
        self._clock = clock
        self._sleep = sleep
        self._session: OnvifSession | None = None
        self._pullpoint: Any = None
        self._manager: Any = None
        self._renew_at = 0.0
        self.subscriptions = 0
        self.renewals = 0
        self.lost = 0
        self.last_error: str | None = None

    async def events(self) -> AsyncGenerator[MotionEvent]:
        """Subscribe, pull and yield motion events; resubscribe whenever it is lost."""
        try:
            while True:
                try:
                    await self._subscribe()
                    self._backoff.reset()
                    while True:
                        for event in await self._pull():
                            yield event
                except (OnvifError, httpx.HTTPError, TimeoutError) as error:
                    await self._lose(error)
        finally:
            await self._close(unsubscribe=True)

    async def _call[T](self, what: str, awaitable: Awaitable[T]) -> T:
        assert self._session is not None
        async with asyncio.timeout(self._request_timeout_s):
            return await self._session.call(what, awaitable)

    async def _subscribe(self) -> None:
        host, port, username, password = self._target
        session = OnvifSession(host, port, username, password, self._adjust_time)
        self._session = session
        camera = session.camera
        await self._call("GetCapabilities", camera.update_xaddrs())
        events = await self._call("setup", camera.create_events_service())
        result = await self._call(
            "CreatePullPointSubscription",
            events.CreatePullPointSubscription({"InitialTerminationTime": _duration(self._lease)}),
        )
        camera.xaddrs[_PULLPOINT_NAMESPACE] = result.SubscriptionReference.Address._value_1
        self._pullpoint = await self._call("setup", camera.create_pullpoint_service())
        self._manager = await self._call(
            "setup", camera.create_subscription_service("PullPointSubscription")
        )
        self.subscriptions += 1
        self._schedule_renewal(result.CurrentTime, result.TerminationTime)

    def _schedule_renewal(self, now: Any, terminates_at: Any) -> None:
        lease = self._lease.total_seconds()
        if isinstance(now, datetime) and isinstance(terminates_at, datetime):
            lease = max(1.0, (terminates_at - now).total_seconds())
        self._renew_at = self._clock() + lease * RENEW_AT_FRACTION

    async def _pull(self) -> list[MotionEvent]:
        # Renew before a pull that could outlast the renewal time, not after it.
        if self._clock() + self._pull_timeout.total_seconds() >= self._renew_at:
            result = await self._call(
                "Renew", self._manager.Renew({"TerminationTime": _duration(self._lease)})
            )
            self.renewals += 1
            self._schedule_renewal(result.CurrentTime, result.TerminationTime)
        answer = await self._call(
            "PullMessages",
            self._pullpoint.PullMessages({"Timeout": self._pull_timeout, "MessageLimit": 50}),
        )
        messages = getattr(answer, "NotificationMessage", None) or []
        return [event for m in messages if (event := parse_motion(m)) is not None]

    async def _lose(self, error: BaseException) -> None:
        self.lost += 1
        reason = str(error) or type(error).__name__
        if isinstance(error, OnvifAuthError):
            reason = f"credentials refused: {reason}"
        self.last_error = reason
        _LOGGER.info("ONVIF events of %s:%s lost: %s", self._target[0], self._target[1], reason)
        if self._on_lost is not None:
            self._on_lost(reason)
        await self._close(unsubscribe=False)
        await self._sleep(self._backoff.next_delay())

    async def _close(self, *, unsubscribe: bool) -> None:
        session, manager = self._session, self._manager
        self._session = self._pullpoint = self._manager = None
        if session is None:
            return
        if unsubscribe and manager is not None:
            with contextlib.suppress(OnvifError, TimeoutError):
                async with asyncio.timeout(5.0):
                    await session.call("Unsubscribe", manager.Unsubscribe())
        await session.camera.close()


def _duration(value: timedelta) -> str:
    return f"PT{max(1, round(value.total_seconds()))}S"
