"""Background threads (evidence encoding) run at a lower priority than live analysis."""

from __future__ import annotations

import os
import threading

from detectors.background import BACKGROUND_NICE, background_executor, lower_thread_priority


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_background_thread_is_niced_and_the_caller_is_not() -> None:
    before = _own_nice()
    executor = background_executor("test-background")
    try:
        nice, name = executor.submit(
            lambda: (_own_nice(), threading.current_thread().name)
        ).result()
    finally:
        executor.shutdown(wait=True)
    assert nice == min(19, before + BACKGROUND_NICE)
    assert name.startswith("test-background")
    assert _own_nice() == before  # only the worker thread was lowered


def test_threads_started_from_a_background_thread_inherit_its_priority() -> None:
    """libx264 starts its own threads from the clip thread: they must be lowered too."""
    executor = background_executor("test-inherit")
    seen: list[int] = []

    def spawn() -> None:
        child = threading.Thread(target=lambda: seen.append(_own_nice()))
        child.start()
        child.join()

    before = _own_nice()
    try:
        executor.submit(spawn).result()
    finally:
        executor.shutdown(wait=True)
    assert seen == [min(19, before + BACKGROUND_NICE)]


def test_lowering_reports_success_in_a_plain_thread() -> None:
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(lower_thread_priority(1)))
    thread.start()
    thread.join()
    assert results == [True]
