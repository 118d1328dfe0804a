"""Weekly schedules that switch rules on and off (school hours, after hours, weekends).

Schedules are evaluated in wall-clock local time of a ``zoneinfo`` time zone, so
"17:00" means 17:00 on the school's clocks in winter and in summer alike; the engine
passes its zone in, tests inject a fixed one.

A range whose end is not after its start spans midnight and belongs to the day it starts
on: ``fri 17:00-07:00`` covers Friday 17:00 up to Saturday 07:00, which is how people
write "after hours". ``00:00-00:00`` therefore covers a whole day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from detectors.errors import ConfigError

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names in ``datetime.weekday()`` order (0 = Monday)."""

DAY_GROUPS: dict[str, tuple[str, ...]] = {
    "daily": DAY_NAMES,
    "weekdays": DAY_NAMES[:5],
    "weekends": DAY_NAMES[5:],
}

ALWAYS = "always"
NEVER = "never"
BUILTIN_SCHEDULE_NAMES = frozenset({ALWAYS, NEVER})

_FULL_DAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


@dataclass(frozen=True)
class TimeRange:
    """Part of a week: from ``start`` to ``end`` on each day in ``days`` (0 = Monday).

    When ``end <= start`` the range runs past midnight into the next day.
    """

    days: frozenset[int]
    start: dt.time
    end: dt.time

    @property
    def spans_midnight(self) -> bool:
        """Tell whether the range continues into the day after it starts."""
        return self.end <= self.start

    def contains(self, moment: dt.datetime) -> bool:
        """Tell whether the local wall-clock ``moment`` falls inside the range."""
        weekday = moment.weekday()
        clock = moment.time().replace(tzinfo=None)
        if not self.spans_midnight:
            return weekday in self.days and self.start <= clock < self.end
        if weekday in self.days and clock >= self.start:
            return True
        return (weekday - 1) % 7 in self.days and clock < self.end


@dataclass(frozen=True)
class Schedule:
    """A named set of weekly time ranges; active when any range contains the moment."""

    name: str
    ranges: tuple[TimeRange, ...]

    def active(self, ts: float, tz: dt.tzinfo) -> bool:
        """Tell whether the schedule is active at POSIX time ``ts`` in zone ``tz``."""
        moment = dt.datetime.fromtimestamp(ts, tz)
        return any(time_range.contains(moment) for time_range in self.ranges)


ALWAYS_SCHEDULE = Schedule(ALWAYS, (TimeRange(frozenset(range(7)), dt.time(0), dt.time(0)),))
NEVER_SCHEDULE = Schedule(NEVER, ())


def _days(value: Any) -> list[str]:
    """Validate a day list or group name; return canonical short names in week order."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key in DAY_GROUPS:
            return list(DAY_GROUPS[key])
        value = [value]
    if not isinstance(value, list) or not value:
        raise vol.Invalid("days must be a non-empty list of day names or daily/weekdays/weekends")
    chosen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise vol.Invalid(f"day {item!r} is not a day name (mon, tue, ...)")
        key = item.strip().lower()
        key = _FULL_DAY_NAMES.get(key, key)
        if key in DAY_GROUPS:
            chosen.update(DAY_GROUPS[key])
        elif key in DAY_NAMES:
            chosen.add(key)
        else:
            raise vol.Invalid(f"unknown day {item!r}; use mon, tue, wed, thu, fri, sat, sun")
    return [name for name in DAY_NAMES if name in chosen]


def _clock(value: Any) -> str:
    """Validate an ``"HH:MM"`` string and return it zero-padded.

    A bare YAML ``17:00`` is read by YAML 1.1 as the number 1020 (base 60), so numbers are
    refused with a hint to quote the time instead of being guessed at.
    """
    if not isinstance(value, str):
        raise vol.Invalid(f'time {value!r} must be a quoted string like "07:30"')
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise vol.Invalid(f"time {value!r} is not HH:MM")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise vol.Invalid(f"time {value!r} is out of range 00:00-23:59")
    return f"{hour:02d}:{minute:02d}"


SCHEDULE_SCHEMA = vol.Schema(
    vol.All(
        [
            {
                vol.Required("days"): _days,
                vol.Required("from"): _clock,
                vol.Required("to"): _clock,
            }
        ],
        vol.Length(min=1, msg="a schedule needs at least one time range"),
    )
)
"""Schema of one schedule's YAML value; idempotent (its output validates to itself)."""


def _time(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour), int(minute))


def parse_schedules(raw: Mapping[str, Any]) -> dict[str, Schedule]:
    """Build :class:`Schedule` objects from the ``schedules`` section, plus the built-ins.

    ``always`` and ``never`` exist without being declared and cannot be redefined, so a
    rule's default schedule means the same thing in every configuration.
    """
    schedules: dict[str, Schedule] = {ALWAYS: ALWAYS_SCHEDULE, NEVER: NEVER_SCHEDULE}
    for name, value in raw.items():
        if name in BUILTIN_SCHEDULE_NAMES:
            raise ConfigError(f"schedules.{name}: '{name}' is built in and cannot be redefined")
        try:
            entries = SCHEDULE_SCHEMA(value)
        except vol.Invalid as err:
            raise ConfigError(f"schedules.{name}: {err}") from err
        ranges = tuple(
            TimeRange(
                days=frozenset(DAY_NAMES.index(day) for day in entry["days"]),
                start=_time(entry["from"]),
                end=_time(entry["to"]),
            )
            for entry in entries
        )
        schedules[name] = Schedule(name, ranges)
    return schedules


def local_timezone() -> dt.tzinfo:
    """Return the engine host's time zone as a ``zoneinfo`` zone (DST-aware).

    ``datetime.now().astimezone()`` would give a fixed UTC offset that goes wrong at the
    next DST change, so the zone is found by name: ``TZ``, then ``/etc/localtime``.
    """
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    if localtime.exists():
        with localtime.open("rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    return dt.UTC
