"""Business calendar maths: pure functions, no database.

The official dates used here are checked against ``chinese_calendar`` itself rather than
typed from memory, so a wrong assumption fails loudly instead of testing the wrong thing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine

from kefu.core.calendar import (
    LIBRARY_YEARS,
    BusinessCalendar,
    WorkingHours,
    YearSchedule,
    add_calendar_minutes,
    format_schedule,
    parse_schedule,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()
DAY = 450  # business minutes in a default day: 08:30–12:00 and 13:30–17:30


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# An administrator-entered 2027 schedule, invented for the tests (not the official one).
SCHEDULE_2027 = parse_schedule(
    """
    # 春节
    2027-02-06~2027-02-12 放假
    2027-02-13 上班
    2027-10-01 至 2027-10-07 休
    2027-10-09 班
    """,
    2027,
)


# -- library data the tests rely on -----------------------------------------------------------


def test_library_range_is_what_the_issue_says():
    assert range(2004, 2027) == LIBRARY_YEARS
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_spring_festival_2026_matches_library():
    festival = days(date(2026, 2, 15), date(2026, 2, 23))
    assert all(chinese_calendar.is_holiday(d) for d in festival)
    assert not any(CAL.is_workday(d) for d in festival)
    # The last working day before it is a 调休 Saturday, and work resumes on Tuesday 24th.
    assert date(2026, 2, 14).weekday() == 5
    assert chinese_calendar.is_workday(date(2026, 2, 14))
    assert chinese_calendar.is_workday(date(2026, 2, 24))
    assert CAL.is_workday(date(2026, 2, 14))
    assert CAL.source(date(2026, 2, 14)) == "library"


def test_ticket_before_spring_festival_is_due_after_it():
    received = at(2026, 2, 14, 17, 0)  # 调休 Saturday, half an hour before closing
    due = CAL.add_business_minutes(received, 8 * 60)
    # 30 minutes on the 14th, then the whole 7.5 hours of Tuesday 24 February.
    assert due == at(2026, 2, 24, 17, 30)
    assert all(chinese_calendar.is_holiday(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert CAL.business_minutes_between(received, due) == 480


@time_machine.travel(datetime(2026, 2, 18, 10, 0, tzinfo=SH), tick=False)
def test_during_spring_festival_next_working_moment_is_after_it():
    now = datetime.now(UTC)
    assert CAL.next_working_moment(now) == at(2026, 2, 24, 8, 30)
    assert CAL.add_business_minutes(now, 60) == at(2026, 2, 24, 9, 30)


@pytest.mark.parametrize(
    ("first", "last", "resume"),
    [
        (date(2025, 10, 1), date(2025, 10, 8), date(2025, 10, 9)),
        (date(2026, 10, 1), date(2026, 10, 7), date(2026, 10, 8)),
    ],
)
def test_national_day_golden_week(first, last, resume):
    week = days(first, last)
    assert all(chinese_calendar.is_holiday(d) for d in week)
    assert chinese_calendar.is_workday(resume)
    assert not any(CAL.is_workday(d) for d in week)
    before = first - timedelta(days=1)
    assert chinese_calendar.is_workday(before)
    due = CAL.add_business_minutes(at(before.year, before.month, before.day, 17, 0), 60)
    assert due == at(resume.year, resume.month, resume.day, 9, 0)


@pytest.mark.parametrize("saturday", [date(2025, 9, 28), date(2026, 1, 4)])
def test_make_up_weekend_day_counts_as_working_day(saturday):
    assert saturday.weekday() in (5, 6)
    assert chinese_calendar.is_workday(saturday)
    assert CAL.is_workday(saturday)
    start = at(saturday.year, saturday.month, saturday.day, 9, 0)
    assert CAL.add_business_minutes(start, 60) == start + timedelta(hours=1)


def test_ordinary_weekend_is_skipped():
    assert not chinese_calendar.is_workday(date(2025, 3, 8))
    friday_evening = at(2025, 3, 7, 17, 0)
    assert CAL.add_business_minutes(friday_evening, 60) == at(2025, 3, 10, 9, 0)


# -- hours of the day ---------------------------------------------------------------------------


def test_lunch_break_is_skipped():
    assert CAL.add_business_minutes(at(2025, 3, 4, 11, 30), 60) == at(2025, 3, 4, 14, 0)
    assert CAL.business_minutes_between(at(2025, 3, 4, 11, 0), at(2025, 3, 4, 14, 0)) == 90
    assert CAL.next_working_moment(at(2025, 3, 4, 12, 30)) == at(2025, 3, 4, 13, 30)


def test_start_before_opening_and_after_closing():
    assert CAL.add_business_minutes(at(2025, 3, 4, 6, 0), 30) == at(2025, 3, 4, 9, 0)
    assert CAL.add_business_minutes(at(2025, 3, 4, 20, 0), 30) == at(2025, 3, 5, 9, 0)
    assert CAL.next_working_moment(at(2025, 3, 4, 9, 15)) == at(2025, 3, 4, 9, 15)
    assert CAL.business_minutes_between(at(2025, 3, 4, 18, 0), at(2025, 3, 5, 8, 0)) == 0


def test_ending_exactly_at_closing_gives_closing_time():
    assert CAL.add_business_minutes(at(2025, 3, 4, 8, 30), DAY) == at(2025, 3, 4, 17, 30)
    assert CAL.add_business_minutes(at(2025, 3, 4, 8, 30), DAY + 1) == at(2025, 3, 5, 8, 31)


def test_results_are_in_local_time_whatever_the_input_zone():
    start_utc = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    due = CAL.add_business_minutes(start_utc, 30)
    assert due == at(2025, 3, 4, 9, 30)
    assert due.tzinfo == SH
    assert due.utcoffset() == timedelta(hours=8)


def test_naive_datetimes_and_negative_minutes_are_refused():
    with pytest.raises(ValueError, match="时区"):
        CAL.add_business_minutes(datetime(2025, 3, 4, 9, 0), 10)
    with pytest.raises(ValueError, match="负数"):
        CAL.add_business_minutes(at(2025, 3, 4, 9, 0), -1)
    assert CAL.add_business_minutes(at(2025, 3, 4, 20, 0), 0) == at(2025, 3, 4, 20, 0)


def test_per_weekday_hours():
    hours = WorkingHours.parse("08:30-12:00, 13:30-17:30", {4: "09:00-12:00"})
    cal = BusinessCalendar(hours=hours)
    friday = at(2025, 3, 7, 11, 0)
    assert cal.add_business_minutes(friday, 90) == at(2025, 3, 10, 9, 0)


def test_round_the_clock_hours_still_honour_holidays():
    cal = BusinessCalendar(hours=WorkingHours.around_the_clock())
    assert WorkingHours.parse("00:00-24:00") == WorkingHours.around_the_clock()
    assert str(WorkingHours.around_the_clock()) == "00:00-24:00"
    assert cal.add_business_minutes(at(2025, 3, 4, 23, 0), 120) == at(2025, 3, 5, 1, 0)
    assert cal.add_business_minutes(at(2025, 3, 7, 23, 0), 120) == at(2025, 3, 10, 1, 0)
    assert cal.business_minutes_between(at(2025, 3, 4), at(2025, 3, 5)) == 24 * 60


def test_calendar_minutes_ignore_everything():
    start = at(2026, 2, 14, 17, 0)
    assert CAL.add_calendar_minutes(start, 48 * 60) == at(2026, 2, 16, 17, 0)
    assert add_calendar_minutes(datetime(2026, 1, 1, tzinfo=UTC), 60) == at(2026, 1, 1, 9, 0)


@pytest.mark.parametrize(
    "bad",
    [
        ((time(12, 0), time(8, 30)),),
        ((time(8, 30), time(12, 0)), (time(11, 0), time(13, 0))),
        ((time(8, 30, 15), time(12, 0)),),
    ],
)
def test_bad_working_hours_are_refused(bad):
    with pytest.raises(ValueError, match="工作时段"):
        WorkingHours(periods=bad)


def test_bad_working_hours_text_is_refused():
    with pytest.raises(ValueError, match="无法识别的工作时段"):
        WorkingHours.parse("8点半到12点")
    with pytest.raises(ValueError, match="无效的时间"):
        WorkingHours.parse("08:30-25:00")


def test_no_working_time_at_all_raises_instead_of_looping():
    closed = WorkingHours(periods=(), weekday_periods=())
    assert not closed.has_any()
    with pytest.raises(ValueError, match="没有任何工作时间"):
        BusinessCalendar(hours=closed).add_business_minutes(at(2025, 3, 4), 10)


# -- consistency and efficiency ---------------------------------------------------------------


@pytest.mark.parametrize("calendar", [CAL, BusinessCalendar(hours=WorkingHours.around_the_clock())])
def test_between_inverts_add(calendar):
    starts = [
        at(2026, 2, 13, 16, 45),
        at(2026, 2, 14, 7, 0),
        at(2025, 9, 27, 10, 0),
        at(2025, 12, 31, 12, 10),
        at(2026, 9, 30, 17, 29),
        at(2026, 12, 31, 23, 59),
        at(2027, 2, 5, 13, 0),
        datetime(2025, 6, 1, 3, 17, 42, tzinfo=UTC),
    ]
    for start in starts:
        for minutes in (0, 1, 29, 60, 210, 451, 8 * 60, 3 * DAY + 7, 30 * DAY):
            due = calendar.add_business_minutes(start, minutes)
            assert due >= start
            assert calendar.business_minutes_between(start, due) == minutes, (start, minutes)
            assert calendar.business_minutes_between(due, start) == -minutes
            if minutes:
                assert calendar.business_minutes_between(start, due - timedelta(minutes=1)) == minutes - 1


def test_long_span_walks_days_not_minutes(monkeypatch):
    calls = []
    real = BusinessCalendar.is_workday

    def counting(self, day):
        calls.append(day)
        return real(self, day)

    monkeypatch.setattr(BusinessCalendar, "is_workday", counting)
    CAL.add_business_minutes(at(2026, 1, 5, 9, 0), 30 * DAY)
    assert len(calls) < 60
    calls.clear()
    assert CAL.business_minutes_between(at(2025, 1, 1), at(2026, 1, 1)) > 200 * DAY
    assert len(calls) <= 366


def test_year_2026_working_days_agree_with_library():
    for day in days(date(2026, 1, 1), date(2026, 12, 31)):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day


# -- years past the library ---------------------------------------------------------------------


def test_missing_year_falls_back_to_plain_weekdays():
    assert CAL.missing_year(2027)
    assert not CAL.missing_year(2026)
    assert CAL.missing_years(date(2026, 12, 1), date(2028, 1, 1)) == [2027, 2028]
    assert CAL.source(date(2027, 2, 8)) == "weekdays"
    # 2027-02-08 is a Monday: without a schedule it is an ordinary working day.
    assert CAL.is_workday(date(2027, 2, 8))
    assert not CAL.is_workday(date(2027, 2, 13))  # Saturday
    assert CAL.add_business_minutes(at(2026, 12, 31, 17, 0), 60) == at(2027, 1, 1, 9, 0)


def test_administrator_schedule_for_2027_is_respected():
    cal = BusinessCalendar(schedules={2027: SCHEDULE_2027})
    assert not cal.missing_year(2027)
    assert 2027 in cal.known_years()
    assert cal.source(date(2027, 2, 8)) == "schedule"
    assert not cal.is_workday(date(2027, 2, 8))
    assert cal.is_workday(date(2027, 2, 13))  # the entered make-up Saturday
    assert cal.is_workday(date(2027, 2, 15))  # a Monday not in the schedule: plain weekday
    assert not cal.is_workday(date(2027, 2, 20))  # a Saturday not in the schedule
    friday = at(2027, 2, 5, 17, 0)
    assert cal.add_business_minutes(friday, 60) == at(2027, 2, 13, 9, 0)


def test_administrator_schedule_beats_library():
    # e.g. a correction the library has not caught up with yet
    schedule = YearSchedule(year=2026, holidays=frozenset({date(2026, 3, 2)}))
    cal = BusinessCalendar(schedules={2026: schedule})
    assert chinese_calendar.is_workday(date(2026, 3, 2))
    assert not cal.is_workday(date(2026, 3, 2))


def test_site_override_beats_schedule_and_library():
    cal = BusinessCalendar(
        schedules={2027: SCHEDULE_2027},
        extra_holidays=frozenset({date(2027, 2, 13), date(2025, 9, 28)}),
        extra_workdays=frozenset({date(2027, 2, 8), date(2026, 2, 16)}),
    )
    assert chinese_calendar.is_workday(date(2025, 9, 28))
    assert chinese_calendar.is_holiday(date(2026, 2, 16))
    assert not cal.is_workday(date(2027, 2, 13))
    assert not cal.is_workday(date(2025, 9, 28))
    assert cal.is_workday(date(2027, 2, 8))
    assert cal.is_workday(date(2026, 2, 16))
    assert cal.source(date(2026, 2, 16)) == "site"


def test_library_can_be_switched_off():
    cal = BusinessCalendar(use_library=False)
    assert cal.missing_year(2025)
    assert cal.is_workday(date(2025, 10, 1))  # a Wednesday, National Day in the library


@time_machine.travel(datetime(2099, 6, 15, 10, 0, tzinfo=SH), tick=False)
def test_far_future_never_crashes():
    now = datetime.now(UTC)
    assert CAL.missing_year(2099)
    assert CAL.is_workday(date(2099, 6, 15))  # a Monday
    assert CAL.add_business_minutes(now, DAY) == at(2099, 6, 16, 10, 0)
    assert CAL.business_minutes_between(now, at(2099, 12, 31, 23, 59)) > 100 * DAY
    assert CAL.next_working_moment(at(2099, 6, 20, 12, 0)) == at(2099, 6, 22, 8, 30)


def test_calendar_validation():
    with pytest.raises(ValueError, match="不能既放假又上班"):
        BusinessCalendar(extra_holidays=frozenset({date(2027, 1, 4)}), extra_workdays=frozenset({date(2027, 1, 4)}))
    with pytest.raises(ValueError, match="2026 年的日期"):
        BusinessCalendar(schedules={2027: YearSchedule(year=2026)})
    with pytest.raises(ValueError, match="不在 2027 年内"):
        YearSchedule(year=2027, holidays=frozenset({date(2026, 12, 31)}))
    cal = BusinessCalendar(schedules={2027: SCHEDULE_2027})
    with pytest.raises(TypeError):
        cal.schedules[2028] = SCHEDULE_2027  # type: ignore[index]


# -- administrator import -----------------------------------------------------------------------


def test_parse_schedule_good_input():
    schedule = parse_schedule(
        "2027-02-06~2027-02-08 放假\n"
        "\n"
        "2027-02-14 上班  春节调休\n"
        "2027-10-01 至 2027-10-03 休\n"
        "2027年5月1日 到 2027年5月2日 假期\n"
        "2027/9/26 补班\n",
        2027,
    )
    assert schedule.year == 2027
    assert schedule.holidays == frozenset(
        [
            *days(date(2027, 2, 6), date(2027, 2, 8)),
            *days(date(2027, 10, 1), date(2027, 10, 3)),
            date(2027, 5, 1),
            date(2027, 5, 2),
        ]
    )
    assert schedule.workdays == frozenset({date(2027, 2, 14), date(2027, 9, 26)})


def test_format_schedule_round_trips():
    text = format_schedule(SCHEDULE_2027)
    assert text.splitlines()[0] == "2027-02-06~2027-02-12 放假"
    assert parse_schedule(text, 2027) == SCHEDULE_2027


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-02-06~2027-02-13 放假\n2026-12-31 上班", "第 2 行：日期 2026-12-31 不在 2027 年内"),
        ("2027-02-13~2027-02-06 放假", "第 1 行：结束日期 2027-02-06 早于开始日期 2027-02-13"),
        ("\n# 注释\n2027-02-14 调班", "第 3 行：未知的类型“调班”"),
        ("2027-02-14", "第 1 行：缺少“放假”或“上班”"),
        ("春节 放假", "第 1 行：无法识别“春节 放假”"),
        ("2027-02-30 放假", "第 1 行：无效的日期“2027-02-30”"),
        ("2027-02-06~2027-02-13 放假\n2027-02-10 上班", "第 2 行：2027-02-10 已在第 1 行标为放假"),
        ("# 只有注释\n", "没有找到任何放假或上班日期"),
    ],
)
def test_parse_schedule_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        parse_schedule(text, 2027)


def test_add_workdays_skips_weekends_and_spring_festival():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kefu.core.calendar import BusinessCalendar

    sh = ZoneInfo("Asia/Shanghai")
    cal = BusinessCalendar()
    friday = datetime(2026, 11, 20, 15, 30, tzinfo=sh)
    assert cal.add_workdays(friday, 3) == datetime(2026, 11, 25, 15, 30, tzinfo=sh)
    assert cal.add_workdays(friday, 0) == friday
    # Spring Festival 2026: 15–23 February off, 14 and 28 February worked (调休).
    before = datetime(2026, 2, 13, 10, 0, tzinfo=sh)
    assert cal.add_workdays(before, 1) == datetime(2026, 2, 14, 10, 0, tzinfo=sh)
    assert cal.add_workdays(before, 2) == datetime(2026, 2, 24, 10, 0, tzinfo=sh)
