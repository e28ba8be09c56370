"""营业日历 settings: year schedules, site hours and exceptions, and the missing-year warning."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import HolidaySchedule
from kefu.org.models import Role, SiteCalendar, SiteDayOverride
from kefu.org.queries import calendar_for_site, missing_calendar_years
from kefu.org.services import holiday_schedule_save, site_calendar_save, site_day_override_set
from kefu.testing import make_site, make_staff

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")

SCHEDULE_2027 = """
# 春节（测试用安排）
2027-02-06~2027-02-12 放假
2027-02-13 上班
"""


@pytest.fixture
def people():
    site, other = make_site("翠湖花园"), make_site("国贸中心")
    return {
        "site": site,
        "other": other,
        "manager": make_staff(Role.MANAGER, sites=[site]),
        "agent": make_staff(Role.AGENT, sites=[site]),
    }


def test_entered_year_drives_the_site_calendar(people):
    holiday_schedule_save(year=2027, text=SCHEDULE_2027, actor=people["manager"])
    cal = calendar_for_site(people["site"].id)
    assert not cal.is_workday(date(2027, 2, 8)) and cal.is_workday(date(2027, 2, 13))  # a Saturday at work
    assert not cal.missing_year(2027)
    due = cal.add_business_minutes(datetime(2027, 2, 5, 17, 0, tzinfo=SH), 60)
    assert due == datetime(2027, 2, 13, 9, 0, tzinfo=SH)  # 30 min on Friday, 30 on the 调休 Saturday


def test_bad_schedule_lines_are_refused_with_the_line_number(people):
    with pytest.raises(ValidationFailed, match="第 2 行"):
        holiday_schedule_save(year=2027, text="2027-02-06 放假\n2026-02-14 上班", actor=people["manager"])
    assert not HolidaySchedule.objects.exists()


def test_only_settings_roles_edit_the_calendar(people):
    with pytest.raises(PermissionDenied):
        holiday_schedule_save(year=2027, text=SCHEDULE_2027, actor=people["agent"])
    with pytest.raises(PermissionDenied):
        site_calendar_save(
            site=people["other"], hours="09:00-18:00", saturday_hours="", sunday_hours="", actor=people["manager"]
        )


def test_site_hours_and_exceptions_beat_the_national_schedule(people):
    site = people["site"]
    site_calendar_save(
        site=site,
        hours="09:00-12:00, 13:00-18:00",
        saturday_hours="09:00-12:00",
        sunday_hours="",
        actor=people["manager"],
    )
    site_day_override_set(site=site, day=date(2026, 10, 3), is_workday=True, note="国庆值班", actor=people["manager"])
    cal = calendar_for_site(site.id)
    assert cal.is_workday(date(2026, 10, 3))  # a National Day holiday, worked at this site
    assert calendar_for_site(people["other"].id).is_workday(date(2026, 10, 3)) is False
    assert cal.add_business_minutes(datetime(2026, 10, 3, 11, 0, tzinfo=SH), 60) == datetime(
        2026, 10, 3, 12, 0, tzinfo=SH
    )
    with pytest.raises(ValidationFailed) as info:
        site_calendar_save(site=site, hours="18:00-09:00", saturday_hours="x", sunday_hours="", actor=people["manager"])
    assert set(info.value.fields) == {"hours", "saturday_hours"}
    assert SiteCalendar.objects.get(site=site).hours == "09:00-12:00, 13:00-18:00"


@time_machine.travel("2026-11-23 10:00:00+08:00", tick=False)
def test_missing_year_warning_until_the_schedule_is_entered(people, client):
    assert missing_calendar_years(date(2026, 11, 23)) == [2027]
    client.force_login(people["manager"].user)
    assert 'id="calendar-warning"' in client.get("/tickets/").content.decode()
    client.force_login(people["agent"].user)
    assert 'id="calendar-warning"' not in client.get("/tickets/").content.decode()

    client.force_login(people["manager"].user)
    response = client.post("/settings/calendar/schedule/", {"year": "2027", "text": SCHEDULE_2027})
    assert response.status_code == 302
    assert missing_calendar_years(date(2026, 11, 23)) == []
    assert 'id="calendar-warning"' not in client.get("/tickets/").content.decode()


def test_calendar_page_and_forms(people, client):
    client.force_login(people["manager"].user)
    assert client.get("/settings/calendar/").status_code == 200
    bad = client.post("/settings/calendar/schedule/", {"year": "2027", "text": "明天放假"})
    assert bad.status_code == 422 and "第 1 行" in bad.content.decode()
    site = people["site"]
    assert (
        client.post(
            f"/settings/calendar/override/{site.pk}/", {"day": "2026-12-31", "is_workday": "0", "note": "年终盘点"}
        ).status_code
        == 302
    )
    assert SiteDayOverride.objects.get().note == "年终盘点"
    assert client.post(f"/settings/calendar/override/{site.pk}/", {"day": "31/12"}).status_code == 422
    assert client.post(f"/settings/calendar/override/{people['other'].pk}/", {"day": "2026-12-31"}).status_code == 404
    assert client.post("/settings/calendar/nonsense/").status_code == 404
    client.force_login(people["agent"].user)
    assert client.get("/settings/calendar/").status_code == 403
    assert client.post("/settings/calendar/schedule/", {"year": "2027", "text": SCHEDULE_2027}).status_code == 403
