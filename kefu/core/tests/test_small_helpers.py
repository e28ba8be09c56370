"""The shared parsers and the percentage every report uses."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.core.figures import percent
from kefu.core.web import parse_date, parse_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-11-30", date(2026, 11, 30)), (" 2026-11-30 ", date(2026, 11, 30)), ("2026-02-30", None), ("x", None),
     ("", None), (None, None)],
)  # fmt: skip
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 7 ", 7), ("-1", None), ("1.5", None), ("１２", 12), ("9" * 12, None), ("", None), (None, None)],
)
def test_parse_id(raw, expected):
    # Full-width digits (typed with a Chinese input method) are the same number.
    assert parse_id(raw) == expected


def test_percent():
    assert (percent(1, 3), percent(0, 5), percent(3, 0), percent(None, 4)) == (33.3, 0.0, None, 0.0)


@pytest.mark.django_db
def test_by_pk_finds_the_row_of_the_scope_or_none():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.core.lookup import by_pk
    from kefu.customers.models import Unit
    from kefu.testing import make_site

    site, other = make_site("一区", code="YQ"), make_site("二区", code="EQ")
    here = Unit.objects.create(site=site, building="1", entrance="1", room="101")
    there = Unit.objects.create(site=other, building="1", entrance="1", room="101")
    with CaptureQueriesContext(connection) as queries:
        assert by_pk(Unit.objects.filter(site=site), here.pk) == here
    assert "ORDER BY" not in queries[0]["sql"]
    assert by_pk(Unit.objects.filter(site=site), there.pk) is None
    assert by_pk(Unit.objects, there.pk + 1000) is None
    # A scope through a join that repeats the row still gives it once.
    from kefu.org.models import Role, Staff
    from kefu.testing import make_staff

    both = make_staff(Role.AGENT, sites=[site, other])
    assert by_pk(Staff.objects.filter(sites__in=[site, other]), both.pk) == both
