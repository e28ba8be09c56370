"""The rewards and penalties ledger: entries by hand, checked; cards as penalties."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from kefu.appraisal.models import RewardPenalty
from kefu.appraisal.queries import ledger
from kefu.appraisal.services import reward_record
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.tickets.models import WarningCard

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=SH), tick=False):
        yield


def record(world, **kwargs):
    values = {"staff": world.tech, "site": world.site, "day": date(2026, 11, 20), "kind": "reward", "points": "5",
              "amount": "200", "reason": "雨夜抢修", "actor": world.supervisor}  # fmt: skip
    values.update(kwargs)
    return reward_record(**values)


def test_entries_are_checked(world):
    entry = record(world)
    assert (entry.points, entry.amount, entry.created_by) == (Decimal("5.00"), Decimal("200.00"), world.supervisor)
    with pytest.raises(PermissionDenied):
        record(world, actor=world.agent)
    bad = [
        {"points": "0"}, {"points": "abc"}, {"points": "NaN"}, {"amount": "-1"}, {"reason": " "}, {"kind": "bonus"},
        {"day": date(2026, 12, 1)}, {"site": world.other_site}, {"staff": world.outsider_tech},
    ]  # fmt: skip
    for change in bad:
        with pytest.raises(ValidationFailed):
            record(world, **change)
    assert RewardPenalty.objects.count() == 1


def test_cards_join_the_ledger_as_penalties(world):
    record(world)
    WarningCard.objects.create(key="c1", site=world.site, staff=world.tech, color="yellow", rule="respond",
                               issued_at=datetime(2026, 11, 21, 9, tzinfo=SH))  # fmt: skip
    revoked = datetime(2026, 11, 23, tzinfo=SH)
    WarningCard.objects.create(key="c2", site=world.site, staff=world.tech, color="red", rule="serious",
                               issued_at=datetime(2026, 11, 22, 9, tzinfo=SH), revoked_at=revoked)  # fmt: skip
    rows = ledger(site_ids=[world.site.id], start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert [(r["kind"], r["points"], r["source"]) for r in rows] == [
        ("penalty", 3, "警告卡"),
        ("reward", Decimal("5.00"), "登记"),
    ]


def test_ledger_page_scope_and_excel(world, client):
    record(world)
    record(world, staff=world.agent, kind="penalty", points="2", amount="", reason="迟到")
    client.force_login(world.tech.user)  # sees only their own
    page = client.get("/appraisal/ledger/?start=2026-11-01&end=2026-11-30").content.decode()
    assert f'data-staff="{world.tech.name}"' in page and f'data-staff="{world.agent.name}"' not in page
    assert 'id="record"' not in page
    client.force_login(world.manager.user)
    bad = client.post("/appraisal/ledger/", {"site": world.site.id, "staff": world.tech.id, "kind": "reward",
                                             "day": "2026-11-20", "points": "500", "reason": "x"})  # fmt: skip
    assert bad.status_code == 422 and RewardPenalty.objects.count() == 2
    ok = client.post("/appraisal/ledger/", {"site": world.site.id, "staff": world.tech.id, "kind": "reward",
                                            "day": "2026-11-24", "points": "3", "reason": "业主表扬"})  # fmt: skip
    assert ok.status_code == 302 and RewardPenalty.objects.count() == 3
    response = client.get("/appraisal/ledger/?start=2026-11-01&end=2026-11-30&export=xlsx")
    rows = list(load_workbook(BytesIO(response.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("日期", "员工", "类型", "分值") and len(rows) == 4
