"""Weekly schedules: validation, midnight spans, built-ins and time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from detectors.errors import ConfigError
from detectors.schedule import (
    SCHEDULE_SCHEMA,
    Schedule,
    TimeRange,
    local_timezone,
    parse_schedules,
)

CHICAGO = ZoneInfo("America/Chicago")
REGINA = ZoneInfo("America/Regina")  # Saskatchewan: UTC-6 all year, no DST


def at(zone: dt.tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """POSIX time of a local wall-clock moment."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


@pytest.fixture
def schedules() -> dict[str, Schedule]:
    raw = {
        "after_hours": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "17:00", "to": "07:00"}
        ],
        "school_hours": [{"days": "weekdays", "from": "08:00", "to": "15:30"}],
        "weekend": [{"days": "weekends", "from": "00:00", "to": "00:00"}],
    }
    return parse_schedules({name: SCHEDULE_SCHEMA(value) for name, value in raw.items()})


def test_schema_normalises_days_and_times() -> None:
    value = SCHEDULE_SCHEMA([{"days": ["Friday", "mon", "mon"], "from": "7:05", "to": "17:00"}])
    assert value == [{"days": ["mon", "fri"], "from": "07:05", "to": "17:00"}]
    assert SCHEDULE_SCHEMA(value) == value
    assert SCHEDULE_SCHEMA([{"days": "daily", "from": "00:00", "to": "23:59"}])[0]["days"] == [
        "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"days": ["funday"], "from": "07:00", "to": "08:00"}, "unknown day 'funday'"),
        ({"days": ["mon"], "from": 1020, "to": "08:00"}, "quoted string"),
        ({"days": ["mon"], "from": "25:00", "to": "08:00"}, "out of range"),
        ({"days": ["mon"], "from": "7h", "to": "08:00"}, "not HH:MM"),
        ({"days": [], "from": "07:00", "to": "08:00"}, "non-empty list"),
        ({"days": ["mon"], "from": "07:00", "to": "08:00", "tz": "UTC"}, "extra keys"),
    ],
)
def test_schema_refuses_bad_entries(entry: dict[str, object], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        SCHEDULE_SCHEMA([entry])


def test_schema_refuses_empty_schedule() -> None:
    with pytest.raises(vol.Invalid, match="at least one time range"):
        SCHEDULE_SCHEMA([])


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        ((2025, 1, 17, 16, 59), False),  # Friday before closing
        ((2025, 1, 17, 17, 0), True),  # Friday closing time: start is inclusive
        ((2025, 1, 18, 6, 59), True),  # Saturday morning still belongs to Friday's range
        ((2025, 1, 18, 7, 0), False),  # end is exclusive
        ((2025, 1, 18, 17, 0), False),  # Saturday is not listed
        ((2025, 1, 20, 6, 0), False),  # Monday early: Sunday's night is not listed
        ((2025, 1, 21, 6, 0), True),  # Tuesday early: Monday's night
        ((2025, 1, 21, 12, 0), False),
    ],
)
def test_after_hours_spans_midnight(
    schedules: dict[str, Schedule], moment: tuple[int, int, int, int, int], active: bool
) -> None:
    assert schedules["after_hours"].active(at(CHICAGO, *moment), CHICAGO) is active


def test_whole_day_range(schedules: dict[str, Schedule]) -> None:
    weekend = schedules["weekend"]
    assert weekend.active(at(CHICAGO, 2025, 1, 18, 0, 0), CHICAGO) is True
    assert weekend.active(at(CHICAGO, 2025, 1, 19, 23, 59), CHICAGO) is True
    assert weekend.active(at(CHICAGO, 2025, 1, 20, 0, 0), CHICAGO) is False
    assert weekend.active(at(CHICAGO, 2025, 1, 17, 23, 59), CHICAGO) is False


def test_wall_clock_holds_across_dst(schedules: dict[str, Schedule]) -> None:
    school = schedules["school_hours"]
    # 08:00 local is 14:00 UTC in winter (CST) and 13:00 UTC in summer (CDT).
    winter_open = dt.datetime(2025, 1, 15, 14, 0, tzinfo=dt.UTC).timestamp()
    summer_open = dt.datetime(2025, 7, 16, 13, 0, tzinfo=dt.UTC).timestamp()
    summer_before = dt.datetime(2025, 7, 16, 12, 59, tzinfo=dt.UTC).timestamp()
    assert school.active(winter_open, CHICAGO) is True
    assert school.active(summer_open, CHICAGO) is True
    assert school.active(summer_before, CHICAGO) is False


def test_dst_free_zone_keeps_one_offset(schedules: dict[str, Schedule]) -> None:
    school = schedules["school_hours"]
    # 13:30 UTC in July: 08:30 in Chicago (CDT) but 07:30 in Regina (no DST).
    instant = dt.datetime(2025, 7, 16, 13, 30, tzinfo=dt.UTC).timestamp()
    assert school.active(instant, CHICAGO) is True
    assert school.active(instant, REGINA) is False
    # In January both zones are UTC-6 and agree.
    january = dt.datetime(2025, 1, 15, 14, 30, tzinfo=dt.UTC).timestamp()
    assert school.active(january, CHICAGO) is True
    assert school.active(january, REGINA) is True


def test_range_over_spring_forward_night() -> None:
    # Sunday 2025-03-09: clocks jump from 02:00 to 03:00 in Chicago.
    night = Schedule("night", (TimeRange(frozenset({5}), dt.time(22, 0), dt.time(3, 30)),))
    three_fifteen_cdt = dt.datetime(2025, 3, 9, 8, 15, tzinfo=dt.UTC).timestamp()
    three_forty_five_cdt = dt.datetime(2025, 3, 9, 8, 45, tzinfo=dt.UTC).timestamp()
    assert dt.datetime.fromtimestamp(three_fifteen_cdt, CHICAGO).hour == 3
    assert night.active(three_fifteen_cdt, CHICAGO) is True
    assert night.active(three_forty_five_cdt, CHICAGO) is False


def test_builtins_exist_and_cannot_be_redefined() -> None:
    built = parse_schedules({})
    assert set(built) == {"always", "never"}
    now = at(CHICAGO, 2025, 1, 15, 3, 0)
    assert built["always"].active(now, CHICAGO) is True
    assert built["never"].active(now, CHICAGO) is False
    with pytest.raises(ConfigError, match=r"schedules\.always: 'always' is built in"):
        parse_schedules({"always": [{"days": "daily", "from": "00:00", "to": "00:00"}]})


def test_parse_reports_invalid_schedule_by_name() -> None:
    with pytest.raises(ConfigError, match=r"schedules\.lunch: .*not HH:MM"):
        parse_schedules({"lunch": [{"days": "weekdays", "from": "noon", "to": "13:00"}]})


def test_parse_builds_time_ranges(schedules: dict[str, Schedule]) -> None:
    assert schedules["after_hours"] == Schedule(
        "after_hours", (TimeRange(frozenset({0, 1, 2, 3, 4}), dt.time(17, 0), dt.time(7, 0)),)
    )


def test_local_timezone_follows_tz_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Chicago")
    assert local_timezone() == ZoneInfo("America/Chicago")
