"""The per-process cache of reference data: loaded once, forgotten at a change here at once,
at a change elsewhere within a second, and never keeps a rolled-back write."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from kefu.core import refdata
from kefu.core.numbering import next_value
from kefu.org.models import Department
from kefu.org.queries import calendar_for_site, department_by_id, site_by_id
from kefu.testing import make_category, make_site
from kefu.tickets.models import SlaPolicy, Urgency, WarningRules
from kefu.tickets.queries import category_by_id
from kefu.tickets.sla import policy_for, rules_for


def _policy(site, minutes):
    return SlaPolicy.objects.create(
        site=site, kind="repair", urgency=Urgency.NORMAL, respond_minutes=minutes, resolve_minutes=minutes * 10
    )


@pytest.mark.django_db
def test_a_second_read_asks_the_database_nothing(django_assert_num_queries, refdata_clock):
    site = make_site("翠湖花园", code="CH")
    _policy(site, 30)
    with django_assert_num_queries(2):  # the generation, then every policy
        assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 30
    refdata_clock(0.5)
    with django_assert_num_queries(0):
        assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 30
        assert policy_for(site_id=site.id + 1, kind="repair", urgency=Urgency.NORMAL) is None
    refdata_clock(1.0)
    with django_assert_num_queries(1):  # a second on: only the generation is checked
        policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL)


@pytest.mark.django_db
def test_a_change_in_this_process_is_seen_at_once(refdata_clock):
    site = make_site("翠湖花园", code="CH")
    policy = _policy(site, 30)
    assert rules_for(site.id).blue_minutes == 60  # the defaults: no row yet
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 30
    policy.respond_minutes = 45
    policy.save()
    WarningRules.objects.create(site=site, blue_minutes=15)
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 45
    assert rules_for(site.id).blue_minutes == 15
    policy.delete()
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL) is None


@pytest.mark.django_db
def test_a_change_in_another_process_is_seen_within_the_check_interval(refdata_clock):
    site = make_site("翠湖花园", code="CH")
    policy = _policy(site, 30)
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 30
    # Another process writes the row and bumps the generation; no signal reaches this one.
    SlaPolicy.objects.filter(pk=policy.pk).update(respond_minutes=50)
    next_value(refdata.GENERATION_KEY)
    refdata_clock(refdata.CHECK_SECONDS / 2)
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 30
    refdata_clock(refdata.CHECK_SECONDS)
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 50


@pytest.mark.django_db
def test_an_unsignalled_write_is_forgotten_after_the_maximum_age(refdata_clock):
    site = make_site("翠湖花园", code="CH")
    assert site_by_id(site.id).name == "翠湖花园"
    site.__class__.objects.filter(pk=site.pk).update(name="翠湖花园二期")  # no signal, no bump
    refdata_clock(refdata.MAX_AGE_SECONDS - 1)
    assert site_by_id(site.id).name == "翠湖花园"
    refdata_clock(2)
    assert site_by_id(site.id).name == "翠湖花园二期"


@pytest.mark.django_db
def test_a_rolled_back_change_does_not_stay(refdata_clock):
    site = make_site("翠湖花园", code="CH")
    _policy(site, 30)
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.filter(site=site).get().delete()
        _policy(site, 90)
        # Read inside the transaction: the cache fills with the uncommitted row.
        assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 90
        _policy(site, 91)  # the same site × kind × urgency twice: the transaction fails
    refdata_clock(refdata.CHECK_SECONDS)
    assert policy_for(site_id=site.id, kind="repair", urgency=Urgency.NORMAL).respond_minutes == 30


@pytest.mark.django_db
def test_callers_get_copies(refdata_clock):
    site = make_site("翠湖花园", code="CH")
    first = site_by_id(site.id)
    first.name = "改了"
    assert site_by_id(site.id).name == "翠湖花园"
    site.is_active = False
    site.save()
    assert site_by_id(site.id) is None
    assert site_by_id(site.id, active=False).name == "翠湖花园"
    assert site_by_id(10**20) is None


@pytest.mark.django_db
def test_the_category_tree_and_departments(refdata_clock, django_assert_num_queries):
    root = make_category("报修", kinds=["repair"])
    leaf = make_category("给排水", parent=root, kinds=["repair"])
    eng = Department.objects.create(name="工程部", kind=Department.Kind.ENGINEERING)
    assert category_by_id(leaf.id).path == "报修 / 给排水"
    assert department_by_id(eng.id).name == "工程部"
    with django_assert_num_queries(0):
        assert category_by_id(leaf.id).parent.id == root.id
        assert category_by_id(-1) is None
        assert department_by_id(eng.id + 1) is None
    root.name = "维修"
    root.save()
    assert category_by_id(leaf.id).path == "维修 / 给排水"


@pytest.mark.django_db
def test_a_site_calendar_change_reaches_the_due_times(refdata_clock):
    from kefu.org.models import SiteCalendar

    site = make_site("翠湖花园", code="CH")
    before = calendar_for_site(site.id)
    SiteCalendar.objects.create(site=site, hours="08:00-12:00")
    after = calendar_for_site(site.id)
    assert after is not before
    assert after.hours != before.hours
