"""Threads for work that must never take CPU from live analysis: evidence encoding.

An engine on two cores is short of CPU by design (benchmarks fill it with cameras). Live
work (decoding every packet, inference, rules) has a deadline of one ``1 / detect_fps``
slot; encoding an alert's clip or a ring JPEG can wait a second without anyone noticing.
So that work runs in threads with a raised nice value: Linux schedules each thread on its
own, and the scheduler gives a thread at nice 10 about a tenth of a contended core next to
one at nice 0, while it still gets every idle cycle. Threads a codec starts from such a
thread (libx264's own) inherit the value.

Measured with ``bench --capacity`` (docs/benchmarks.md): at normal priority an alert's
libx264 clip held both cores for a few hundred milliseconds and cameras missed their slots.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

_LOGGER = logging.getLogger(__name__)

BACKGROUND_NICE: Final = 10
"""How much lower than the engine's own priority background threads run."""


def lower_thread_priority(increment: int = BACKGROUND_NICE) -> bool:
    """Raise the calling thread's nice value by ``increment``; False where it cannot.

    ``setpriority(PRIO_PROCESS, tid)`` applies to one thread on Linux. Elsewhere (or in a
    sandbox that forbids it) the thread keeps its priority: slower under load, not wrong.
    """
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None:
        return False
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
        return True
    _LOGGER.debug("could not lower the priority of thread %s", threading.current_thread().name)
    return False


def background_executor(name: str) -> ThreadPoolExecutor:
    """One thread at background priority, named ``name`` (as ``ps -L`` and py-spy show)."""
    return ThreadPoolExecutor(1, thread_name_prefix=name, initializer=lower_thread_priority)
