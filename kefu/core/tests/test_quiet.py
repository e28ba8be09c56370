"""Quiet hours and preferred times: pure clock maths, across midnight, no database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.core.errors import ValidationFailed
from kefu.core.quiet import ContactWindows, format_spans, parse_spans

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_default_quiet_hours_split_across_midnight():
    assert parse_spans("12:00-14:00,21:00-08:00") == ((0, 480), (720, 840), (1260, 1440))
    windows = ContactWindows.outside()
    assert windows.allowed == ((480, 720), (840, 1260))
    assert format_spans(windows.allowed) == "08:00-12:00，14:00-21:00"


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (at(23, 7, 59), False),
        (at(23, 8, 0), True),
        (at(23, 11, 59), True),
        (at(23, 12, 0), False),
        (at(23, 13, 30), False),
        (at(23, 14, 0), True),
        (at(23, 20, 59), True),
        (at(23, 21, 0), False),
        (at(23, 23, 30), False),
        (at(24, 0, 30), False),
    ],
)
def test_allows(moment, allowed):
    assert ContactWindows.outside().allows(moment) is allowed


def test_next_allowed_skips_lunch_and_the_night():
    w = ContactWindows.outside()
    assert w.next_allowed(at(23, 10, 15)) == at(23, 10, 15)
    assert w.next_allowed(at(23, 12, 30)) == at(23, 14, 0)
    assert w.next_allowed(at(23, 22, 0)) == at(24, 8, 0)  # across midnight
    assert w.next_allowed(at(24, 3, 0)) == at(24, 8, 0)


def test_last_allowed_by_pulls_a_deadline_out_of_quiet_hours():
    w = ContactWindows.outside()
    assert w.last_allowed_by(at(23, 13, 0)) == at(23, 11, 59)
    assert w.last_allowed_by(at(24, 6, 0)) == at(23, 20, 59)  # back across midnight
    assert w.last_allowed_by(at(23, 16, 0)) == at(23, 16, 0)


def test_a_moment_in_utc_is_judged_by_local_time():
    # 05:00 UTC is 13:00 in Shanghai: lunch.
    assert not ContactWindows.outside().allows(datetime(2026, 11, 23, 5, 0, tzinfo=ZoneInfo("UTC")))


def test_customer_preferred_times_override_the_quiet_hours():
    w = ContactWindows.for_customer("19:00-20:30")
    assert w.allows(at(23, 19, 30)) and not w.allows(at(23, 10, 0))
    assert w.next_allowed(at(23, 10, 0)) == at(23, 19, 0)
    assert w.next_allowed(at(23, 21, 0)) == at(24, 19, 0)
    # Unreadable or empty preferences fall back to the quiet-hours rule.
    assert ContactWindows.for_customer("晚上").allowed == ContactWindows.outside().allowed
    assert ContactWindows.for_customer("").allowed == ContactWindows.outside().allowed


@pytest.mark.parametrize("text", ["12-14", "25:00-26:00", "12:00-12:00", "12:61-13:00", "午休"])
def test_bad_spans_are_refused_in_chinese(text):
    with pytest.raises(ValidationFailed) as err:
        parse_spans(text)
    assert "时间" in err.value.message


def test_quiet_all_day_is_refused():
    with pytest.raises(ValidationFailed):
        ContactWindows.outside("00:00-24:00")


def test_full_width_separators():
    assert parse_spans("12:00-14:00，21:00-08:00") == parse_spans("12:00-14:00,21:00-08:00")
