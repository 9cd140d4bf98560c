"""Working days on China's official calendar: weekends and public holidays off, make-up workdays (调休) on."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.domain.calendar import add_working_days
from engine.domain.calendar import is_working_day
from engine.domain.clock import LOCAL_TZ

UTC = dt.UTC


def local(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def end_of_day_utc(year, month, day) -> dt.datetime:
    """18:00 Asia/Shanghai on that day, in UTC (10:00Z: China has no daylight saving time)."""
    return dt.datetime(year, month, day, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2025, 9, 26), True),  # Friday
        (dt.date(2025, 9, 27), False),  # Saturday
        (dt.date(2025, 9, 28), True),  # Sunday, make-up workday for National Day
        (dt.date(2025, 9, 30), True),
        (dt.date(2025, 10, 1), False),  # National Day + Mid-Autumn 2025: Oct 1-8 off
        (dt.date(2025, 10, 6), False),  # a Monday inside the holiday
        (dt.date(2025, 10, 8), False),
        (dt.date(2025, 10, 9), True),
        (dt.date(2025, 10, 11), True),  # Saturday, make-up workday
        (dt.date(2025, 10, 12), False),  # Sunday
        (dt.date(2025, 1, 1), False),  # New Year's Day (a Wednesday)
        (dt.date(2025, 1, 26), True),  # Sunday, make-up workday for Spring Festival
        (dt.date(2025, 1, 29), False),  # Spring Festival
        (dt.date(2025, 9, 15), True),  # an ordinary Monday
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


def test_national_day_2025_is_off_as_a_block():
    holiday = [dt.date(2025, 10, d) for d in range(1, 9)]
    assert [is_working_day(day) for day in holiday] == [False] * 8


def test_ordinary_weekend_is_skipped():
    # Friday 2025-09-12 + 3 working days: Mon 15, Tue 16, Wed 17.
    assert add_working_days(local(2025, 9, 12), 3) == end_of_day_utc(2025, 9, 17)


def test_friday_before_national_day_skips_saturday_and_counts_the_makeup_sunday():
    # Friday 2025-09-26 + 3: Saturday 27 off; Sunday 28 (调休) counts, then Mon 29 and Tue 30.
    deadline = add_working_days(local(2025, 9, 26, 16, 30), 3)
    assert deadline == end_of_day_utc(2025, 9, 30)
    assert deadline.astimezone(LOCAL_TZ) == local(2025, 9, 30, 18, 0)


def test_one_day_before_national_day_lands_after_the_holiday():
    deadline = add_working_days(local(2025, 9, 30, 10, 0), 1)
    assert deadline.astimezone(LOCAL_TZ) == local(2025, 10, 9, 18, 0)
    assert deadline == end_of_day_utc(2025, 10, 9)


def test_counting_across_the_holiday_uses_the_makeup_saturday():
    # From Tue 2025-09-30: Oct 9 (Thu), 10 (Fri), 11 (Sat, 调休), 13 (Mon).
    assert add_working_days(local(2025, 9, 30), 4) == end_of_day_utc(2025, 10, 13)
    assert add_working_days(local(2025, 9, 30), 3) == end_of_day_utc(2025, 10, 11)


def test_zero_days_on_a_holiday_moves_to_the_next_working_day():
    assert add_working_days(local(2025, 10, 3, 9, 0), 0) == end_of_day_utc(2025, 10, 9)


def test_zero_days_on_a_working_day_is_the_end_of_that_day():
    assert add_working_days(local(2025, 9, 29, 9, 0), 0) == end_of_day_utc(2025, 9, 29)
    assert add_working_days(local(2025, 9, 28, 9, 0), 0) == end_of_day_utc(2025, 9, 28)  # make-up Sunday


def test_start_is_read_in_china_time_not_utc():
    # 2025-09-30 23:30Z is already 2025-10-01 07:30 in Shanghai: a holiday.
    start = dt.datetime(2025, 9, 30, 23, 30, tzinfo=UTC)
    assert add_working_days(start, 0) == end_of_day_utc(2025, 10, 9)
    assert add_working_days(start, 1) == end_of_day_utc(2025, 10, 9)  # the start day itself never counts
    assert add_working_days(start, 2) == end_of_day_utc(2025, 10, 10)
    # 2025-09-26 15:59Z is still Friday evening in Shanghai (23:59).
    assert add_working_days(dt.datetime(2025, 9, 26, 15, 59, tzinfo=UTC), 1) == end_of_day_utc(2025, 9, 28)


def test_results_are_timezone_aware_utc():
    deadline = add_working_days(local(2025, 9, 26), 3)
    assert deadline.tzinfo is not None
    assert deadline.utcoffset() == dt.timedelta(0)
    assert deadline.tzinfo == UTC


def test_long_limits_count_only_working_days():
    # 20 working days from Mon 2025-09-15: Sep 16-30 gives 12 (incl. Sunday 28), then Oct 9, 10, 11, 13-17.
    assert add_working_days(local(2025, 9, 15), 20) == end_of_day_utc(2025, 10, 17)


def test_years_without_calendar_data_fall_back_to_weekdays():
    # chinesecalendar has no data for 2099: Friday 2099-01-02 + 1 is Monday 2099-01-05.
    assert is_working_day(dt.date(2099, 1, 3)) is False
    assert add_working_days(local(2099, 1, 2), 1) == end_of_day_utc(2099, 1, 5)
