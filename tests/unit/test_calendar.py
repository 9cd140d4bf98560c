"""Working days on China's official calendar: weekends and public holidays off, make-up workdays (调休) on."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.domain.calendar import ENTERED
from engine.domain.calendar import ESTIMATED
from engine.domain.calendar import LIBRARY
from engine.domain.calendar import FixedSchedules
from engine.domain.calendar import OfficialSchedule
from engine.domain.calendar import WorkingCalendar
from engine.domain.calendar import add_working_days
from engine.domain.calendar import current
from engine.domain.calendar import install_overlay
from engine.domain.calendar import is_estimated
from engine.domain.calendar import is_working_day
from engine.domain.calendar import library_days
from engine.domain.calendar import subtract_working_days
from engine.domain.calendar import uninstall_overlay
from engine.domain.calendar import year_source
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


# ---------------------------------------------------------------------------------------------------------
# Entered schedules (made up here: none of these is an official schedule), the overlay, estimated years

# A made-up 2031: Wednesday 1 to Friday 3 January off, Saturday 4 January worked.
FAKE_2031 = OfficialSchedule(
    year=2031,
    holidays=frozenset({dt.date(2031, 1, 1), dt.date(2031, 1, 2), dt.date(2031, 1, 3)}),
    workdays=frozenset({dt.date(2031, 1, 4)}),
    reference="测试用",
)
# A made-up correction of a year the library knows: Wednesday 2025-09-17 off, Saturday 2025-09-20 worked.
FAKE_2025 = OfficialSchedule(
    year=2025,
    holidays=frozenset({dt.date(2025, 9, 17)}),
    workdays=frozenset({dt.date(2025, 9, 20)}),
    reference="测试用更正",
)


def test_where_each_year_comes_from():
    plain = WorkingCalendar()
    assert plain.year_source(2025) == LIBRARY and plain.year_source(2026) == LIBRARY
    assert plain.year_source(2031) == ESTIMATED and plain.is_official(2031) is False
    entered = WorkingCalendar(FixedSchedules({2031: FAKE_2031}))
    assert entered.year_source(2031) == ENTERED and entered.is_official(2031) is True


def test_an_entered_schedule_takes_precedence_over_the_library():
    calendar = WorkingCalendar(FixedSchedules({2025: FAKE_2025}))
    assert WorkingCalendar().is_working_day(dt.date(2025, 9, 17)) is True
    assert calendar.is_working_day(dt.date(2025, 9, 17)) is False
    assert calendar.is_working_day(dt.date(2025, 9, 20)) is True  # a Saturday
    # The library's own make-up Sunday 2025-09-28 is not in the entered schedule: a plain Sunday now.
    assert calendar.is_working_day(dt.date(2025, 9, 28)) is False
    # Friday 2025-09-12 + 3: Mon 15, Tue 16, (Wed 17 off), Thu 18.
    assert calendar.add_working_days(local(2025, 9, 12), 3) == end_of_day_utc(2025, 9, 18)


def test_a_year_without_data_is_weekdays_and_says_it_is_estimated():
    calendar = WorkingCalendar()
    assert [calendar.is_working_day(dt.date(2031, 1, d)) for d in range(1, 6)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    install_overlay(FixedSchedules({}))
    try:
        assert is_estimated(local(2031, 1, 3, 18)) is True
        assert is_estimated(dt.date(2031, 1, 3)) is True
        assert is_estimated(local(2026, 12, 31, 18)) is False
        assert is_estimated(None) is False
        # 23:30 UTC on 31 December 2026 is already 2027 in Shanghai.
        assert is_estimated(dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) is True
    finally:
        uninstall_overlay(current().source)


def test_the_installed_overlay_is_what_the_module_functions_count_on():
    source = FixedSchedules({2031: FAKE_2031})
    assert add_working_days(local(2030, 12, 31), 1) == end_of_day_utc(2031, 1, 1)
    install_overlay(source)
    try:
        assert year_source(2031) == ENTERED and is_estimated(local(2031, 1, 2)) is False
        assert add_working_days(local(2030, 12, 31), 1) == end_of_day_utc(2031, 1, 4)
        assert subtract_working_days(end_of_day_utc(2031, 1, 6), 1) == local(2031, 1, 4, 9, 0)
    finally:
        uninstall_overlay(FixedSchedules({}))  # not the installed one: nothing happens
        assert year_source(2031) == ENTERED
        uninstall_overlay(source)
    assert year_source(2031) == ESTIMATED


def test_recount_keeps_the_number_of_working_days_from_the_start():
    old, new = WorkingCalendar(), WorkingCalendar(FixedSchedules({2031: FAKE_2031}))
    signed = local(2030, 12, 24, 10, 0)  # Tuesday
    # 8 working days on weekdays: Dec 25, 26, 27, 30, 31, Jan 1, 2, 3.
    deadline = old.add_working_days(signed, 8)
    assert deadline == end_of_day_utc(2031, 1, 3)
    # The same 8 on the new calendar: Dec 25, 26, 27, 30, 31, Jan 4 (worked), 6, 7 — at the same time of day.
    assert new.recount(deadline, signed, old) == new.add_working_days(signed, 8) == end_of_day_utc(2031, 1, 7)
    yellow = old.subtract_working_days(deadline, 1)  # 09:00 on Thursday 2 January
    assert new.recount(yellow, signed, old) == new.subtract_working_days(new.add_working_days(signed, 8), 1)
    assert new.recount(yellow, signed, old) == local(2031, 1, 6, 9, 0)
    # Before the start (a warning more working days ahead than the limit) counts backwards the same way.
    early = old.subtract_working_days(old.add_working_days(local(2031, 1, 6), 1), 3)
    assert new.recount(early, local(2031, 1, 6), old) == local(2030, 12, 31, 9, 0)
    # Nothing in between changed: nothing moves.
    assert new.recount(end_of_day_utc(2030, 12, 27), signed, old) == end_of_day_utc(2030, 12, 27)


def test_differences_between_two_calendars():
    old, new = WorkingCalendar(), WorkingCalendar(FixedSchedules({2031: FAKE_2031}))
    assert new.differences(old, 2031) == [dt.date(2031, 1, d) for d in (1, 2, 3, 4)]
    assert new.differences(old, 2030) == []


def test_the_library_days_of_a_year_carry_their_names():
    days = library_days(2026)
    assert (dt.date(2026, 2, 17), False, "春节") in days
    assert (dt.date(2026, 2, 14), True, "春节") in days  # a make-up Saturday
    assert library_days(2031) == []
