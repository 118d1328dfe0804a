"""PullPoint motion events from the simulator, renewal and recovery of a lost subscription."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from detectors.onvif.pullpoint import MotionEvent, MotionSubscription
from detectors.pipeline.reader import BackoffPolicy
from detectors.sim.camera import CameraSim
from tests.sim import MJPEG_SIM

pytestmark = pytest.mark.usefixtures("socket_enabled")

FAST = BackoffPolicy(initial_s=0.05, factor=2.0, cap_s=0.2, jitter=0.0)


def _subscription(sim: CameraSim, lost: list[str], **kwargs: float) -> MotionSubscription:
    return MotionSubscription(
        "127.0.0.1",
        sim.port,
        "admin",
        "admin",
        pull_timeout_s=kwargs.get("pull_timeout_s", 0.5),
        lease_s=kwargs.get("lease_s", 60.0),
        backoff=FAST,
        on_lost=lost.append,
    )


async def test_motion_starts_and_stops_with_the_video(motion_video: Path) -> None:
    lost: list[str] = []
    async with CameraSim(motion_video, motion_hold_s=0.3, **MJPEG_SIM) as sim:
        subscription = _subscription(sim, lost, lease_s=2.0)
        events: list[MotionEvent] = []
        async with contextlib.aclosing(subscription.events()) as stream:
            async for event in stream:
                events.append(event)
                states = [e.state for e in events if not e.initial]
                if True in states and False in states[states.index(True) :]:
                    break
        # The lease of 2 s is renewed at 80 %, so a run of a few seconds renews.
        first = events[0]
        assert first.initial is True
        assert first.source == "VideoSource_1"
        assert first.utc_time is not None
        changes = [e.state for e in events[1:]]
        assert all(not e.initial for e in events[1:])
        assert changes == [s for i, s in enumerate(changes) if i == 0 or s != changes[i - 1]]
        assert subscription.subscriptions == 1
        assert subscription.lost == 0
        assert lost == []
        assert len(sim.pullpoints) == 0  # closing the stream unsubscribed


async def test_lease_is_renewed_before_it_ends(motion_video: Path) -> None:
    lost: list[str] = []
    async with CameraSim(motion_video, motion_hold_s=0.3, **MJPEG_SIM) as sim:
        subscription = _subscription(sim, lost, lease_s=1.5, pull_timeout_s=0.4)
        events = 0
        async with contextlib.aclosing(subscription.events()) as stream:
            async for _ in stream:
                events += 1
                if subscription.renewals >= 2:
                    break
        assert lost == []
        assert subscription.lost == 0
        assert subscription.subscriptions == 1
        assert events >= 1


async def test_lost_subscription_is_detected_and_resubscribed(motion_video: Path) -> None:
    lost: list[str] = []
    async with CameraSim(motion_video, motion_hold_s=0.3, **MJPEG_SIM) as sim:
        subscription = _subscription(sim, lost)
        initial_events = 0
        async with contextlib.aclosing(subscription.events()) as stream:
            async for event in stream:
                if event.initial:
                    initial_events += 1
                    if initial_events == 2:
                        break
                    sim.drop_subscriptions()  # the camera "reboots"
        assert subscription.lost == 1
        assert subscription.subscriptions == 2
        assert len(lost) == 1
        assert "ResourceUnknown" in lost[0] or "no subscription" in lost[0]


async def test_refused_credentials_are_reported_as_lost(motion_video: Path) -> None:
    async with CameraSim(motion_video, motion_hold_s=0.3, **MJPEG_SIM) as sim:
        sim.faults.wrong_credentials = True
        lost: list[str] = []

        def password_fixed_after_two_failures(reason: str) -> None:
            lost.append(reason)
            if len(lost) == 2:
                sim.faults.wrong_credentials = False

        subscription = MotionSubscription(
            "127.0.0.1",
            sim.port,
            "admin",
            "admin",
            pull_timeout_s=0.5,
            backoff=FAST,
            on_lost=password_fixed_after_two_failures,
        )
        async with contextlib.aclosing(subscription.events()) as stream:
            event = await anext(stream)
        assert event.initial is True
        assert subscription.lost == 2
        assert subscription.subscriptions == 1
        assert [reason.startswith("credentials refused") for reason in lost] == [True, True]
