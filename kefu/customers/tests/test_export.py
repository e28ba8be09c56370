"""Excel export of the filtered list: same filters and scope, masked phones, a row cap."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import unquote

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from kefu.customers import views

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[tuple]:
    assert response.status_code == 200
    return list(load_workbook(BytesIO(response.getvalue())).worksheets[0].iter_rows(values_only=True))


def test_supervisor_exports_the_filtered_list(world, login):
    response = login(world.supervisor).get("/customers/export/", {"q": "1-2-301"})
    rows = rows_of(response)
    assert rows[0] == tuple(views.EXPORT_HEADERS)
    assert len(rows) == 2
    site, kind, name, _gender, _contact, phones, units, tags, *_rest, created = rows[1]
    assert (site, kind, name, tags) == ("翠湖花园", "个人", "张业主", "VIP")
    assert (phones, units) == ("13912345678", "1-2-301(业主)")
    assert len(created) == 16  # YYYY-MM-DD HH:mm
    filename = unquote(response["Content-Disposition"].split("''")[1])
    assert filename == f"客户档案_{timezone.localdate():%Y%m%d}.xlsx"


def test_export_covers_only_my_sites(world, login):
    rows = rows_of(login(world.supervisor).get("/customers/export/"))
    assert sorted(r[2] for r in rows[1:]) == sorted(["张业主", "李租户"])


def test_export_follows_the_site_switcher(world, login):
    client = login(world.director)
    assert len(rows_of(client.get("/customers/export/"))) == 4
    client.post("/site/", {"site": world.other_site.pk})
    rows = rows_of(client.get("/customers/export/"))
    assert [r[2] for r in rows[1:]] == ["赵先生"]


def test_export_masks_phones_without_see_phone(world, login):
    rows = rows_of(login(world.admin).get("/customers/export/", {"q": "张业主"}))
    assert rows[1][5] == "139****5678"
    assert all("13912345678" not in str(cell) for r in rows for cell in r)


def test_export_needs_the_export_right(world, login):
    assert login(world.agent).get("/customers/export/").status_code == 403
    assert login(world.tech).get("/customers/export/").status_code == 403
    assert login(world.outsider).get("/customers/export/").status_code == 403


def test_export_over_the_cap_is_refused_with_a_message(world, login, monkeypatch):
    monkeypatch.setattr(views, "EXPORT_LIMIT", 1)
    client = login(world.supervisor)
    response = client.get("/customers/export/", {"kind": "person"})
    assert response.status_code == 302 and response["Location"] == "/customers/?kind=person"
    body = client.get(response["Location"]).content.decode()
    assert "超过单次导出上限 1 条，请缩小查询范围后重试" in body
