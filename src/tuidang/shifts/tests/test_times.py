"""Where a shift's wall-clock times land: across midnight and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tuidang.shifts import times

ZONES = [
    "America/Toronto",
    "America/New_York",
    "America/Santiago",  # clocks change at midnight
    "America/St_Johns",  # a half-hour offset
    "Asia/Shanghai",  # no DST
    "Asia/Taipei",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a half-hour DST change
    "Europe/Berlin",
    "Europe/London",
    "Pacific/Chatham",
]


def _change_days(name: str) -> list[tuple[str, date]]:
    """The days on which ``name``'s clocks change, and the day before each (a shift
    across midnight meets the change on its second day)."""
    zone = ZoneInfo(name)
    found = []
    day = date(2020, 1, 1)
    while day < date(2036, 1, 1):
        today = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
        if today != tomorrow:
            found += [(name, day), (name, day - timedelta(days=1)), (name, day + timedelta(1))]
        day += timedelta(days=1)
    return found


CHANGE_DAYS = [pair for name in ZONES for pair in _change_days(name)]
any_day = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
# Half the examples on or next to a day the clocks change, in that zone.
zoned_days = st.one_of(
    st.tuples(st.sampled_from(ZONES), any_day), st.sampled_from(CHANGE_DAYS)
).map(lambda pair: (ZoneInfo(pair[0]), pair[1]))
# Quarter hours, most of them in the small hours, when clocks change (Santiago's at 00:00).
wall_times = st.one_of(
    st.builds(time, st.integers(0, 3), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
days = any_day


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@settings(max_examples=400)
@given(zoned_days, wall_times)
def test_a_wall_time_that_exists_lands_on_itself(zoned: tuple[ZoneInfo, date], at: time) -> None:
    zone, day = zoned
    instant, oddity = times.resolve(day, at, zone)
    assert instant.tzinfo is UTC
    if oddity is None or oddity == times.Oddity.FOLD:
        assert wall(instant, zone) == datetime.combine(day, at)
    if oddity == times.Oddity.FOLD:
        # The first of the two: an hour (or half) later the clock reads it again.
        later = datetime.combine(day, at, tzinfo=zone).replace(fold=1).astimezone(UTC)
        assert later > instant


@settings(max_examples=400)
@given(zoned_days, wall_times)
def test_a_wall_time_in_a_gap_lands_as_much_later_as_the_clocks_jump(
    zoned: tuple[ZoneInfo, date], at: time
) -> None:
    zone, day = zoned
    instant, oddity = times.resolve(day, at, zone)
    if oddity == times.Oddity.GAP:
        # The clock reads that much later: the time it would have read without the jump.
        shown = wall(instant, zone)
        assert datetime.combine(day, at) < shown <= datetime.combine(day, at) + timedelta(hours=1)
        before = datetime.combine(day, at, tzinfo=zone).utcoffset()
        assert before is not None
        assert instant == (datetime.combine(day, at) - before).replace(tzinfo=UTC)


@settings(max_examples=300)
@given(zoned_days, wall_times, wall_times)
def test_an_occurrence_lasts_its_wall_clock_hours_give_or_take_the_clock_change(
    zoned: tuple[ZoneInfo, date], start: time, end: time
) -> None:
    zone, day = zoned
    found = times.occurrence(day, start, end, zone)
    if start == end:
        return
    nominal = datetime.combine(day + timedelta(days=end <= start), end) - datetime.combine(
        day, start
    )
    if found is None:
        # Only a gap empties an occurrence.
        assert times.resolve(day, start, zone)[1] == times.Oddity.GAP
        return
    assert found.ends_at > found.starts_at
    assert found.ends_at - found.starts_at <= timedelta(hours=25)
    if found.start_oddity is None and found.end_oddity is None:
        # Exactly the wall-clock span, less what the clocks gained between.
        at_end = found.ends_at.astimezone(zone).utcoffset()
        at_start = found.starts_at.astimezone(zone).utcoffset()
        assert at_end is not None and at_start is not None
        change = at_end - at_start
        assert found.ends_at - found.starts_at == nominal - change


@settings(max_examples=300)
@given(zoned_days, wall_times, wall_times)
def test_a_shift_across_midnight_ends_on_the_next_local_day(
    zoned: tuple[ZoneInfo, date], start: time, end: time
) -> None:
    zone, day = zoned
    found = times.occurrence(day, start, end, zone)
    if found is None or found.end_oddity or found.start_oddity:
        return
    ends_on = found.ends_at.astimezone(zone).date()
    assert ends_on == (day + timedelta(days=1) if end <= start else day)
    assert found.starts_at.astimezone(zone).date() == day


@given(days, days, days, st.integers(min_value=0, max_value=400))
def test_weekly_dates_fall_on_the_first_dates_weekday_inside_the_window(
    first: date, since: date, other: date, span: int
) -> None:
    until = since + timedelta(days=span)
    found = list(times.weekly_dates(first, None, since, until))
    assert all(day.weekday() == first.weekday() for day in found)
    assert all(since <= day < until and day >= first for day in found)
    expected = [
        since + timedelta(days=n)
        for n in range(span)
        if (since + timedelta(days=n)).weekday() == first.weekday()
        and since + timedelta(days=n) >= first
    ]
    assert found == expected


def test_a_toronto_night_shift_is_an_hour_earlier_in_china_time_after_the_clocks_go_forward() -> (
    None
):
    toronto = ZoneInfo("America/Toronto")
    china = ZoneInfo("Asia/Shanghai")
    february = times.occurrence(date(2027, 2, 22), time(22), time(2), toronto)
    march = times.occurrence(date(2027, 3, 15), time(22), time(2), toronto)
    assert february is not None and march is not None
    assert wall(february.starts_at, china) == datetime(2027, 2, 23, 11, 0)
    assert wall(march.starts_at, china) == datetime(2027, 3, 16, 10, 0)
    # The night the clocks go forward (2027-03-14, 02:00 → 03:00), the shift is an hour short.
    night = times.occurrence(date(2027, 3, 13), time(22), time(2, 30), toronto)
    assert night is not None and night.end_oddity == times.Oddity.GAP
    assert wall(night.ends_at, toronto) == datetime(2027, 3, 14, 3, 30)
    assert night.ends_at - night.starts_at == timedelta(hours=4, minutes=30)
