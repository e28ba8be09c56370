"""Every page, as every demo role, on the demo data: nothing answers 500, and each page
answers what the role's rights say (200, or 403/404 when out of scope)."""

from __future__ import annotations

import pytest

from kefu.appraisal.models import Appraisal, Period
from kefu.customers.models import Customer
from kefu.demo.tests.test_demo import run_demo
from kefu.org.models import Staff
from kefu.reports.models import MonthlyReport
from kefu.surveys.models import Batch
from kefu.tickets.models import Ticket
from kefu.visits.models import Visit

pytestmark = pytest.mark.django_db

ROLES = ["director", "manager", "supervisor", "agent", "frontdesk", "tech", "dept", "admin"]
PAGES = [
    "/",
    "/tickets/",
    "/tickets/?open=1&overdue=1&sort=due",
    "/tickets/?mine=1&kind=repair&size=100&page=2",
    "/tickets/intake/",
    "/tickets/intake/lookup/?q=1-2-301",
    "/tickets/export/",
    "/tickets/categories/",
    "/tickets/m/",
    "/tickets/m/?tab=done",
    "/customers/",
    "/customers/?q=138",
    "/customers/new/",
    "/customers/export/",
    "/customers/import/",
    "/tickets/approvals/",
    "/tickets/warnings/",
    "/tickets/warnings/?color=red&state=active&staff=me",
    "/tickets/warnings/export/",
    "/tickets/first-response/",
    "/tickets/sla-settings/",
    "/notifications/",
    "/notifications/preferences/",
    "/notifications/deliveries/",
    "/customers/ownership/",
    "/customers/ownership/?overdue=1",
    "/visits/",
    "/visits/?scope=overdue",
    "/visits/campaigns/",
    "/visits/coverage/",
    "/visits/report/",
    "/visits/report/?export=xlsx",
    "/surveys/",
    "/surveys/templates/",
    "/surveys/summary/",
    "/surveys/summary/?print=1",
    "/surveys/summary/?export=xlsx",
    "/reports/",
    "/reports/dashboard/",
    "/reports/monthly/",
    "/appraisal/",
    "/appraisal/ledger/",
    "/appraisal/ledger/?export=xlsx&start=2026-01-01",
    "/reports/dashboard/?start=2026-01-01&site=1",
    "/reports/volume/?by=channel",
    "/reports/volume/?start=2026-01-01&end=2026-12-31&by=category",
    "/reports/pareto/?by=building",
    "/reports/pareto/?by=assignee&export=xlsx",
    "/reports/sla/?by=person",
    "/reports/sla/?export=xlsx",
    "/reports/resolution/?by=first_responder",
    "/reports/complaints/",
    "/reports/complaints/?export=xlsx&start=2026-01-01",
    "/reports/satisfaction/?start=2026-01-01",
    "/reports/cards/",
    "/reports/workload/",
    "/reports/workload/?by=department&export=xlsx",
    "/reports/pareto/?by=responsible_department&kind=complaint",
]


@pytest.mark.parametrize("username", ROLES)
def test_every_page_answers_without_error_for_every_role(client, username):
    run_demo()
    staff = Staff.objects.get(user__username=username)
    client.force_login(staff.user)
    some_ticket = Ticket.objects.filter(site__code="CH").order_by("id").first()
    some_customer = Customer.objects.filter(site__code="CH").order_by("id").first()
    some_visit = Visit.objects.filter(site__code="CH", status="pending").order_by("id").first()
    some_batch = Batch.objects.filter(site__code="CH").order_by("id").first()
    pages = [
        *PAGES,
        f"/tickets/{some_ticket.pk}/",
        f"/tickets/m/{some_ticket.pk}/",
        f"/customers/{some_customer.pk}/",
        f"/customers/{some_customer.pk}/edit/",
        f"/visits/{some_visit.pk}/",
        f"/surveys/batches/{some_batch.pk}/",
        f"/reports/monthly/{MonthlyReport.objects.filter(site__code='CH').get().pk}/",
        f"/reports/monthly/{MonthlyReport.objects.filter(site__code='CH').get().pk}/?export=xlsx",
        f"/appraisal/periods/{Period.objects.get().pk}/",
        f"/appraisal/results/{Appraisal.objects.get(staff__user__username='agent').pk}/",
    ]
    answers = {path: client.get(path).status_code for path in pages}
    assert all(code in (200, 403, 404) for code in answers.values()), answers
    assert answers["/"] == 200 and answers["/tickets/"] == 200 and answers["/tickets/m/"] == 200
    if username in ("director", "manager", "supervisor", "agent", "frontdesk"):
        assert answers["/tickets/intake/"] == 200 and answers["/customers/"] == 200
        assert answers[f"/tickets/{some_ticket.pk}/"] == 200
    if username in ("tech", "dept"):
        assert answers["/tickets/intake/"] == 403 and answers[f"/customers/{some_customer.pk}/"] == 404
    # Everyone has a ledger (their own cards at least), notifications and preferences.
    assert answers["/tickets/warnings/"] == 200 and answers["/notifications/"] == 200
    supervising = username in ("director", "manager", "supervisor")
    assert (answers["/tickets/approvals/"] == 200) == supervising
    assert (answers["/tickets/sla-settings/"] == 200) == (supervising or username == "admin")
    # The complaint workspace opens on a demo complaint for those who see it.
    complaint = Ticket.objects.filter(site__code="CH", kind="complaint").order_by("id").first()
    if username in ("director", "manager", "supervisor", "agent"):
        assert client.get(f"/tickets/{complaint.pk}/").status_code == 200
