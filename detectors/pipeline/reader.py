"""One reader per camera: keeps only its newest frame and knows whether it is online.

Detection runs slower than cameras send frames, so a queue would only grow stale: the
reader overwrites a single :class:`LatestFrame` slot and counts what nobody took. A
watchdog marks the camera offline (with a reason a person can act on) when no fresh frame
arrives in time, and reconnects with exponential back-off and jitter so fifty cameras
behind one dead switch do not hammer it in lockstep.

OpenCV sources block, so they run in a thread of their own; aiohttp sources run as a task.
Either way the reader is driven from asyncio: ``await start()`` and ``await stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from detectors.pipeline.sources.base import (
    AsyncSource,
    BlockingSource,
    Frame,
    FrameSource,
    OfflineReason,
    SourceOfflineError,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlotItem:
    """The frame in the slot and its sequence number (1 for the first frame)."""

    frame: Frame
    sequence: int

    @property
    def timestamp(self) -> float:
        """Return the frame's capture timestamp."""
        return self.frame.timestamp


class LatestFrame:
    """A one-frame mailbox: the producer overwrites, consumers take the newest.

    The lock is held only to swap a reference, so a slow consumer never holds up the
    camera thread. A frame overwritten before anyone took it counts as dropped.

    Decoded camera frames are converted to BGR lazily (:class:`Frame`). The consumer says
    from when on it will take a frame (:meth:`want_from`, a ``clock`` time); a frame put
    from then on is converted by the producer, in the camera's own thread, before it goes
    into the slot, so the conversion never runs on the event loop and frames that will
    only be overwritten are never converted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: SlotItem | None = None
        self._taken = True
        self._dropped = 0
        self._wanted_from = float("-inf")
        """Until a consumer takes a frame, every frame is converted (tools, snapshots)."""

    def want_from(self, at: float) -> None:
        """Frames put at or after ``at`` (``clock`` seconds) are prepared for the consumer."""
        self._wanted_from = at

    def put(self, frame: Frame, now: float = float("inf")) -> int:
        """Store ``frame`` as the newest and return its sequence number.

        ``now`` is the producer's ``clock`` time; from :meth:`want_from` on, the frame is
        converted here, outside the lock.
        """
        if now >= self._wanted_from and not frame.converted:
            _ = frame.image
        with self._lock:
            sequence = 1 if self._item is None else self._item.sequence + 1
            if not self._taken:
                self._dropped += 1
            self._item = SlotItem(frame, sequence)
            self._taken = False
            return sequence

    def take(self) -> SlotItem | None:
        """Return the newest frame if it was not taken yet, else None.

        Taking also ends the consumer's wish (:meth:`want_from`): frames that arrive while
        it analyses this one would only be overwritten, so they stay unconverted until it
        says again from when on it wants one. Measured in ``bench --capacity``: with the
        wish left standing, every frame arriving during an analysis was converted to BGR,
        two to three per analysed frame.
        """
        with self._lock:
            if self._taken:
                return None
            self._taken = True
            self._wanted_from = float("inf")
            return self._item

    def peek(self) -> SlotItem | None:
        """Return the newest frame without taking it (for snapshots)."""
        with self._lock:
            return self._item

    @property
    def dropped(self) -> int:
        """Return how many frames were overwritten before anyone took them."""
        with self._lock:
            return self._dropped


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How long to wait between reconnects: ``initial_s * factor**n`` up to ``cap_s``.

    ``jitter`` spreads each delay by up to that fraction either way; the count starts
    over once a connection has stayed healthy for ``reset_after_s``.
    """

    initial_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 60.0
    jitter: float = 0.2
    reset_after_s: float = 30.0


class Backoff:
    """The reconnect delays of one camera under a :class:`BackoffPolicy`."""

    def __init__(self, policy: BackoffPolicy, rng: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self._rng = rng
        self._failures = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count this failure."""
        policy = self.policy
        base = min(policy.cap_s, policy.initial_s * policy.factor**self._failures)
        self._failures += 1
        spread = 1.0 + policy.jitter * (2.0 * self._rng() - 1.0)
        return max(0.0, min(policy.cap_s, base * spread))

    def reset(self) -> None:
        """Start over at the initial delay."""
        self._failures = 0

    def after_session(self, healthy_for: float | None) -> float:
        """Return the delay after a session that delivered frames for ``healthy_for`` s.

        A connection that stayed healthy long enough was a real recovery, so the next
        failure is treated as the first again (None: the session never delivered).
        """
        if healthy_for is not None and healthy_for >= self.policy.reset_after_s:
            self.reset()
        return self.next_delay()


class RateMeter:
    """Events per second over the last ``window_s`` seconds (arrivals, analysed frames).

    A time window, not a count of recent events: a stream that delivers a burst of thirty
    buffered frames after a stall must not read as 1000 fps, and one that stops must fall
    to 0 within the window. Until the window has filled, the rate is taken over the time
    since :meth:`clear` (the session's start), so a fresh stream is not under-reported.
    """

    def __init__(self, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self._window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._since = clock()
        self._lock = threading.Lock()

    def tick(self, now: float) -> None:
        """Record one event at ``now`` (``clock`` seconds)."""
        with self._lock:
            self._times.append(now)
            self._trim(now)

    def clear(self) -> None:
        """Forget all events (the stream restarted); the window starts again now."""
        with self._lock:
            self._times.clear()
            self._since = self._clock()

    def _trim(self, now: float) -> None:
        horizon = now - self._window_s
        times = self._times
        while times and times[0] < horizon:
            times.popleft()

    def rate(self) -> float:
        """Return events per second over the window (0 when nothing happened in it)."""
        now = self._clock()
        with self._lock:
            self._trim(now)
            span = min(self._window_s, now - self._since)
            return len(self._times) / span if span > 0 else 0.0


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """What the API, MQTT and Home Assistant show about a camera's stream."""

    camera_id: str
    online: bool
    reason: str | None
    fps: float
    """Frames arriving per second, over the last ten seconds."""
    last_frame_at: float | None
    analysed_fps: float = 0.0
    """Frames analysed per second over the same window (at most ``detect_fps``)."""

    def to_json(self) -> dict[str, object]:
        """Return the ``status`` object of the engine API."""
        return {
            "online": self.online,
            "reason": self.reason,
            "fps": round(self.fps, 2),
            "analysed_fps": round(self.analysed_fps, 2),
            "last_frame_at": self.last_frame_at,
        }


@dataclass(frozen=True, slots=True)
class ReaderCounters:
    """Running totals since the reader started."""

    frames_in: int
    decode_errors: int
    stalls: int
    reconnects: int
    dropped: int


type StatusCallback = Callable[[CameraStatus], None]


class CameraReader:
    """Run one camera's source, keep its newest frame, watch it and reconnect.

    ``clock`` (monotonic seconds) drives the watchdog, the measured fps and the back-off
    reset; ``wall_clock`` stamps ``last_frame_at``. Both and ``rng`` are injectable for
    tests. ``on_status`` is called on the event loop whenever online/reason changes.
    """

    def __init__(
        self,
        camera_id: str,
        source: FrameSource,
        *,
        timeout_s: float = 10.0,
        backoff: BackoffPolicy | None = None,
        on_status: StatusCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.camera_id = camera_id
        self.slot = LatestFrame()
        self._source = source
        self._timeout_s = timeout_s
        self._backoff = Backoff(backoff or BackoffPolicy(), rng)
        self._on_status = on_status
        self._clock = clock
        self._wall_clock = wall_clock
        self._rate = RateMeter(clock=clock)
        self._online = False
        self._reason: str | None = OfflineReason.STARTING
        self._last_frame_at: float | None = None
        self._last_fresh = 0.0
        self._session_online_at: float | None = None
        self._session = 0
        self._frames_in = 0
        self._decode_errors = 0
        self._stalls = 0
        self._reconnects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()

    def __repr__(self) -> str:
        """Name the camera and its (redacted) source."""
        return f"CameraReader({self.camera_id!r}, {self._source.name!r})"

    # -- public API ---------------------------------------------------------------

    async def start(self) -> None:
        """Start reading in the background of the running event loop."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._supervise(), name=f"camera-{self.camera_id}")

    async def stop(self) -> None:
        """Stop reading, wait for the source's thread or task to end, report stopped."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self._finished.is_set():
            self._set_status(online=False, reason=OfflineReason.STOPPED)

    async def wait_finished(self) -> None:
        """Wait until the source has ended for good (a file without ``loop``)."""
        await self._finished.wait()

    @property
    def finished(self) -> bool:
        """Return True once the source ended and will not be retried."""
        return self._finished.is_set()

    def status(self) -> CameraStatus:
        """Return the current status, with fps measured over recent frames."""
        return CameraStatus(
            camera_id=self.camera_id,
            online=self._online,
            reason=None if self._online else self._reason,
            fps=self._rate.rate() if self._online else 0.0,
            last_frame_at=self._last_frame_at,
        )

    def counters(self) -> ReaderCounters:
        """Return the running totals."""
        return ReaderCounters(
            frames_in=self._frames_in,
            decode_errors=self._decode_errors,
            stalls=self._stalls,
            reconnects=self._reconnects,
            dropped=self.slot.dropped,
        )

    # -- supervision --------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            outcome = await self._run_session()
            healthy_since = self._session_online_at
            healthy_for = None if healthy_since is None else self._clock() - healthy_since
            self._set_status(online=False, reason=outcome.reason)
            _LOGGER.info("Camera %s offline: %s", self.camera_id, outcome)
            if not outcome.retry:
                self._finished.set()
                return
            await asyncio.sleep(self._backoff.after_session(healthy_for))
            self._reconnects += 1

    async def _run_session(self) -> SourceOfflineError:
        """Run the source once; return why it ended (a stall ends it too)."""
        self._session += 1
        self._session_online_at = None
        self._rate.clear()
        self._last_fresh = self._clock()
        if isinstance(self._source, BlockingSource):
            return await self._run_blocking(self._source)
        return await self._run_async(self._source)

    async def _watch(self, work: asyncio.Future[SourceOfflineError]) -> SourceOfflineError | None:
        """Wait for ``work`` to end; return None when the stream stalls first."""
        while True:
            remaining = self._last_fresh + self._timeout_s - self._clock()
            if remaining <= 0:
                self._stalls += 1
                self._session += 1  # frames still trickling in must not flip it online
                self._set_status(online=False, reason=OfflineReason.STREAM_STALLED)
                return None
            done, _ = await asyncio.wait({work}, timeout=remaining)
            if done:
                self._session += 1
                return work.result()

    async def _run_async(self, source: AsyncSource) -> SourceOfflineError:
        task = asyncio.ensure_future(self._pump_async(source))
        try:
            outcome = await self._watch(task)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return outcome or SourceOfflineError(OfflineReason.STREAM_STALLED, source.name)

    async def _pump_async(self, source: AsyncSource) -> SourceOfflineError:
        try:
            async with contextlib.aclosing(source.frames()) as frames:
                async for frame in frames:
                    self._accept(frame)
        except SourceOfflineError as error:
            return error
        except Exception as error:  # a broken camera must not kill the engine
            return _unexpected(error, source)
        return SourceOfflineError(OfflineReason.CONNECTION_LOST, f"{source.name}: stream ended")

    async def _run_blocking(self, source: BlockingSource) -> SourceOfflineError:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[SourceOfflineError] = loop.create_future()
        stop = threading.Event()

        def deliver(outcome: SourceOfflineError) -> None:
            if not done.done():
                done.set_result(outcome)

        def work() -> None:
            outcome = self._pump_blocking(source, stop)
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(deliver, outcome)

        # Not a daemon: a thread killed by interpreter exit in the middle of a native call
        # aborts the process ("FATAL: exception not rethrown"); the reader joins it instead.
        thread = threading.Thread(target=work, name=f"camera-{self.camera_id}")
        thread.start()
        try:
            outcome = await self._watch(done)
        finally:
            stop.set()
            await _join(thread, done)
        return outcome or SourceOfflineError(OfflineReason.STREAM_STALLED, source.name)

    def _pump_blocking(self, source: BlockingSource, stop: threading.Event) -> SourceOfflineError:
        try:
            source.open()
            while not stop.is_set():
                frame = source.read()
                if stop.is_set():
                    break
                self._accept(frame)
        except SourceOfflineError as error:
            return error
        except Exception as error:  # a broken camera must not kill the engine
            return _unexpected(error, source)
        finally:
            source.close()
        return SourceOfflineError(OfflineReason.STOPPED)

    # -- frames and status --------------------------------------------------------

    def _accept(self, frame: Frame | None) -> None:
        """Take one frame from the source (any thread); None is a decode error."""
        if frame is None:
            self._decode_errors += 1
            return
        now = self._clock()
        self._frames_in += 1
        self._rate.tick(now)
        self._last_fresh = now
        self._last_frame_at = self._wall_clock()
        self.slot.put(frame, now)
        if self._session_online_at is None:
            self._session_online_at = now
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._went_online, self._session)

    def _went_online(self, session: int) -> None:
        """Go online unless the session that saw the frame has ended meanwhile."""
        if session == self._session and self._task is not None:
            self._set_status(online=True, reason=None)

    def _set_status(self, *, online: bool, reason: str | None) -> None:
        if online == self._online and reason == self._reason:
            return
        self._online = online
        self._reason = reason
        if online:
            _LOGGER.info("Camera %s online", self.camera_id)
        if self._on_status is not None:
            try:
                self._on_status(self.status())
            except Exception:
                _LOGGER.exception("Status callback failed for camera %s", self.camera_id)


async def _join(thread: threading.Thread, done: asyncio.Future[SourceOfflineError]) -> None:
    """Wait for a source thread to end, even when cancelled meanwhile (then re-cancel).

    A blocked read returns within the source's read timeout and the thread's last act is
    to deliver ``done``, so this wait is bounded; giving up on it would leave a thread
    (and its socket and decoder) behind the reader.
    """
    cancelled = False
    while not done.done() and thread.is_alive():
        try:
            await asyncio.wait({done}, timeout=0.5)
        except asyncio.CancelledError:
            cancelled = True
    thread.join()
    if cancelled:
        raise asyncio.CancelledError


def _unexpected(error: Exception, source: FrameSource) -> SourceOfflineError:
    """Report an unexpected failure by its type only: messages may carry credentials."""
    _LOGGER.warning("Source %s failed with %s", source.name, type(error).__name__)
    return SourceOfflineError(OfflineReason.CANNOT_OPEN, type(error).__name__)
