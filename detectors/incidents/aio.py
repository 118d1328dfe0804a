"""The incident log for asyncio code: the same calls, each run in a worker thread.

SQLite blocks (an fsync per alert, a lock another reader holds), so nothing on the event
loop may call :class:`~.log.IncidentLog` directly: the engine and its API go through this
façade. Each method is the log's own method, awaited: same arguments, same answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Concatenate, overload

from detectors.incidents.log import IncidentLog


class _OffLoop[**P, R]:
    """A method of the log that, read from an :class:`AsyncIncidentLog`, runs in a thread."""

    def __init__(self, method: Callable[Concatenate[IncidentLog, P], R]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, owner: None, kind: type) -> _OffLoop[P, R]: ...

    @overload
    def __get__(self, owner: AsyncIncidentLog, kind: type) -> Callable[P, Awaitable[R]]: ...

    def __get__(
        self, owner: AsyncIncidentLog | None, kind: type
    ) -> _OffLoop[P, R] | Callable[P, Awaitable[R]]:
        if owner is None:
            return self
        log, method = owner.log, self._method

        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return await asyncio.to_thread(method, log, *args, **kwargs)

        return call


class AsyncIncidentLog:
    """Await the incident log's calls; see :class:`IncidentLog` for what each one does."""

    def __init__(self, log: IncidentLog) -> None:
        """Wrap ``log`` (the one the engine owns)."""
        self.log = log

    open = _OffLoop(IncidentLog.open)
    close = _OffLoop(IncidentLog.close)
    get = _OffLoop(IncidentLog.get)
    events = _OffLoop(IncidentLog.events)
    snapshot = _OffLoop(IncidentLog.snapshot)
    changes_since = _OffLoop(IncidentLog.changes_since)
    latest_cursor = _OffLoop(IncidentLog.latest_cursor)
    record_start = _OffLoop(IncidentLog.record_start)
    record_update = _OffLoop(IncidentLog.record_update)
    attach_evidence = _OffLoop(IncidentLog.attach_evidence)
    attach_clip = _OffLoop(IncidentLog.attach_clip)
    evidence = _OffLoop(IncidentLog.evidence)
    record_end = _OffLoop(IncidentLog.record_end)
    acknowledge = _OffLoop(IncidentLog.acknowledge)
    dismiss = _OffLoop(IncidentLog.dismiss)
    record_notified = _OffLoop(IncidentLog.record_notified)
    record_action = _OffLoop(IncidentLog.record_action)
    purge = _OffLoop(IncidentLog.purge)
