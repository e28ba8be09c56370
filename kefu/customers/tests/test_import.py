"""Excel import: template, every row checked, all or nothing, clear refusals."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.excel import XLSX
from kefu.customers import imports
from kefu.customers.imports import HEADERS, customers_import
from kefu.customers.models import Customer, CustomerEvent, CustomerPhone, Unit

pytestmark = pytest.mark.django_db


def xlsx(rows, headers=HEADERS, name="客户.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def row(code="CH", name="孙七", phone1="13500000001", **kw):
    values = {
        "kind": "个人",
        "gender": "",
        "contact": "",
        "phone2": "",
        "building": "",
        "entrance": "",
        "room": "",
        "relation": "",
        "tags": "",
        "email": "",
        "note": "",
    }
    values.update(kw)
    return [
        code,
        values["kind"],
        name,
        values["gender"],
        values["contact"],
        phone1,
        values["phone2"],
        values["building"],
        values["entrance"],
        values["room"],
        values["relation"],
        values["tags"],
        values["email"],
        values["note"],
    ]


def test_template_download_opens_with_header_and_example(world, login):
    response = login(world.supervisor).get("/customers/import/template/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert rows[0][:3] == ("项目编码*", "类型(个人/单位)", "姓名/单位名称*")
    assert len(rows) == 2 and rows[1][0] == "CH" and rows[1][5] == "13800138000"
    codes = list(book["项目编码"].iter_rows(values_only=True))
    assert ("CH", "翠湖花园") in codes and ("GM", "国贸中心") not in codes


def test_happy_path_imports_every_row_in_one_go(world, login):
    before = Customer.objects.count()
    upload = xlsx(
        [
            row(name="孙七", phone1=13500000001, building="2", entrance="1", room="101", tags="VIP，会员"),
            row(
                kind="单位",
                name="翠湖便利店",
                phone1="0755-86668888",
                contact="周经理",
                relation="租户",
                building="商铺",
                room="S01",
                email="shop@example.com",
            ),
            row(
                name="钱八",
                phone1="135 0000 0003",
                phone2="13500000004",
                gender="女",
                relation="家属",
                building=3,
                room=202,
            ),
        ]
    )
    response = login(world.supervisor).post("/customers/import/", {"file": upload})
    assert response.status_code == 302 and response["Location"] == "/customers/"
    assert Customer.objects.count() == before + 3
    shop = Customer.objects.get(name="翠湖便利店")
    assert shop.kind == "company" and shop.contact_person == "周经理" and shop.source == "import"
    assert [link.get_relation_display() for link in shop.unit_links.all()] == ["租户"]
    qian = Customer.objects.get(name="钱八")
    assert [p.number for p in qian.phones.all()] == ["13500000003", "13500000004"]
    assert qian.gender == "female" and qian.unit_links.get().unit.label == "3-202"
    sun = Customer.objects.get(name="孙七")
    assert sorted(t.name for t in sun.tags.all()) == ["VIP", "会员"]
    event = CustomerEvent.objects.get(customer=sun)
    assert event.type == "imported" and event.actor == world.supervisor
    follow = login(world.supervisor).get("/customers/")
    assert "导入成功，共导入 3 条客户档案" in follow.content.decode()


def test_any_error_imports_nothing_and_lists_every_row(world, login):
    before = Customer.objects.count()
    upload = xlsx(
        [
            row(name="正常客户", phone1="13500000001"),  # row 2: fine on its own
            row(name="", phone1="13500000002"),  # row 3
            row(name="号码错", phone1="1234"),  # row 4
            row(code="GM", name="别的项目", phone1="13500000005"),  # row 5: not my site
            row(name="重复号", phone1="13500000001"),  # row 6: same number as row 2
            row(name="老号码", phone1="13912345678"),  # row 7: 张业主 has it
            row(name="类型错", phone1="13912345678", kind="公司", relation="朋友", building="1", room="1"),  # row 8
        ]
    )
    response = login(world.supervisor).post("/customers/import/", {"file": upload})
    body = response.content.decode()
    assert response.status_code == 422
    assert Customer.objects.count() == before
    assert "未导入任何数据" in body
    assert "第 3 行" in body and "姓名不能为空" in body
    assert "第 4 行" in body and "手机号码格式不正确：1234" in body
    assert "第 5 行" in body and "项目编码 GM 不存在或您无权在该项目建档" in body
    assert "第 6 行" in body and "电话 13500000001 与第 2 行重复" in body
    assert "第 7 行" in body and "电话 13912345678 已存在（客户：张业主）" in body
    assert "类型只能填写“个人”或“单位”" in body and "关系只能填写“业主”“租户”或“家属”" in body
    # A row with several problems lists them all, the duplicate number included.
    row8 = re.search(r"<td>第 8 行</td><td>([^<]+)</td>", body).group(1)
    assert "类型只能填写" in row8 and "电话 13912345678 已存在（客户：张业主）" in row8
    assert re.findall(r"<td>第 (\d+) 行</td>", body) == ["3", "4", "5", "6", "7", "8"]

    report = login(world.supervisor).get("/customers/import/errors/")
    assert report.status_code == 200
    sheet = load_workbook(BytesIO(report.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "行号" and rows[0][-1] == "错误原因"
    assert [r[0] for r in rows[1:]] == [3, 4, 5, 6, 7, 8]
    assert rows[2][3] == "号码错" and "手机号码格式不正确" in rows[2][-1]


def test_service_returns_row_errors_in_chinese(world):
    result = customers_import(file=xlsx([row(name="号码错", phone1="12")]), actor=world.supervisor)
    assert not result.ok and result.created == 0
    assert result.errors[0].text == "第 2 行：手机号码格式不正确：12"


BROKEN = "文件已损坏或不是有效的 Excel 文件"


def zipped(files: dict[str, bytes]) -> bytes:
    import zipfile

    out = BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def broken_xml_workbook() -> bytes:
    """A real template whose sheet XML has been damaged."""
    import zipfile

    good = xlsx([row()]).read()
    files = {}
    with zipfile.ZipFile(BytesIO(good)) as z:
        for name in z.namelist():
            files[name] = z.read(name)
    files["xl/worksheets/sheet1.xml"] = files["xl/worksheets/sheet1.xml"][:200]
    return zipped(files)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("客户.xlsx", b"PK\x03\x04 not really a workbook"), BROKEN),
        (SimpleUploadedFile("客户.xlsx", b"just text"), BROKEN),
        (SimpleUploadedFile("报告.xlsx", zipped({"word/document.xml": b"<w/>"})), BROKEN),
        (SimpleUploadedFile("客户.xlsx", broken_xml_workbook()), BROKEN),
        (SimpleUploadedFile("客户.csv", b"a,b,c"), "请上传 Excel 文件（.xlsx 格式）"),
        (SimpleUploadedFile("客户.xls", b"\xd0\xcf\x11\xe0"), "请上传 Excel 文件（.xlsx 格式）"),
        (SimpleUploadedFile("客户.xlsx", b""), "文件是空的"),
    ],
)
def test_bad_files_are_refused_clearly(world, login, upload, message):
    before = Customer.objects.count()
    response = login(world.supervisor).post("/customers/import/", {"file": upload})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Customer.objects.count() == before


def test_wrong_columns_are_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        customers_import(file=xlsx([["CH", "孙七"]], headers=["项目", "名字"]), actor=world.supervisor)
    assert "表头与导入模板不一致，缺少列：项目编码*、姓名/单位名称*、电话1*" in exc.value.message


def test_header_only_file_is_refused(world):
    with pytest.raises(ValidationFailed, match="没有数据行"):
        customers_import(file=xlsx([]), actor=world.supervisor)


def test_files_over_5_mb_are_refused(world, login):
    upload = SimpleUploadedFile("客户.xlsx", b"0" * (5 * 1024 * 1024 + 1))
    response = login(world.supervisor).post("/customers/import/", {"file": upload})
    assert response.status_code == 422 and "文件不能超过 5 MB" in response.content.decode()


def test_more_than_max_rows_is_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    upload = xlsx([row(name=f"客户{n}", phone1=f"1350000000{n}") for n in range(4)])
    with pytest.raises(ValidationFailed, match="一次最多导入 3 行"):
        customers_import(file=upload, actor=world.supervisor)
    assert imports.MAX_ROWS == 3 and Customer.objects.filter(name__startswith="客户").count() == 0


def test_blank_rows_are_skipped_and_columns_may_move(world):
    headers = ["电话1*", "姓名/单位名称*", "项目编码*"]
    upload = xlsx([["13500000009", "挪列客户", "CH"], [None, None, None], ["13500000010", "第二位", "CH"]], headers)
    result = customers_import(file=upload, actor=world.supervisor)
    assert result.ok and result.created == 2


def test_admin_may_import_without_edit_right(world):
    result = customers_import(file=xlsx([row(name="管理员导入")]), actor=world.admin)
    assert result.created == 1


def test_import_needs_the_import_right(world, login):
    assert login(world.agent).get("/customers/import/").status_code == 403
    assert login(world.agent).post("/customers/import/", {"file": xlsx([row()])}).status_code == 403
    assert login(world.agent).get("/customers/import/template/").status_code == 403
    assert login(world.tech).get("/customers/import/").status_code == 403
    with pytest.raises(PermissionDenied):
        customers_import(file=xlsx([row()]), actor=world.agent)
    assert not Customer.objects.filter(name="孙七").exists()


def test_upload_page_and_missing_file(world, login):
    client = login(world.supervisor)
    body = client.get("/customers/import/").content.decode()
    assert "下载导入模板" in body and 'type="file"' in body
    response = client.post("/customers/import/", {})
    assert response.status_code == 422 and "请选择要导入的 Excel 文件" in response.content.decode()


def test_error_report_needs_a_failed_import_first(world, login):
    assert login(world.supervisor).get("/customers/import/errors/").status_code == 404


def test_a_late_failure_rolls_back_earlier_rows(world, monkeypatch):
    # The history rows are written last; if that fails, no customer, phone or unit stays behind.
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(CustomerEvent.objects, "bulk_create", broken)
    counts = (Customer.objects.count(), CustomerPhone.objects.count(), Unit.objects.count())
    upload = xlsx([row(name=f"客户{n}", phone1=f"1350000001{n}", building="9", room=f"90{n}") for n in range(4)])
    with pytest.raises(RuntimeError):
        customers_import(file=upload, actor=world.supervisor)
    assert (Customer.objects.count(), CustomerPhone.objects.count(), Unit.objects.count()) == counts


def test_imported_records_match_hand_made_ones(world):
    """The bulk path writes what customer_create writes, history snapshot included."""
    from kefu.customers.services import CustomerData, UnitLink, _snapshot, customer_create

    upload = xlsx(
        [
            row(
                name="批量",
                phone1="13500000021",
                phone2="13500000022",
                building="7",
                entrance="1",
                room="701",
                relation="租户",
                tags="VIP，会员，VIP",
                email="a@b.cn",
                note="备注",
            )
        ]
    )
    customers_import(file=upload, actor=world.supervisor)
    imported = Customer.objects.get(name="批量")
    by_hand = customer_create(
        site=world.site,
        data=CustomerData(
            name="手工",
            phones=["13500000031", "13500000032"],
            units=[UnitLink("7", "1", "702", "tenant")],
            tags=["VIP", "会员"],
            email="a@b.cn",
            note="备注",
            source="import",
        ),
        actor=world.supervisor,
    )
    snap = imported.events.get().data
    assert snap == _snapshot(imported)
    hand = by_hand.events.get().data
    assert {k: v for k, v in snap.items() if k not in ("name", "phones", "units")} == {
        k: v for k, v in hand.items() if k not in ("name", "phones", "units")
    }
    assert snap["units"] == ["7-1-701(租户)"] and snap["tags"] == ["VIP", "会员"]
    assert imported.primary_phone == "13500000021" and imported.phones.get(number="13500000022").last4 == "0022"
    assert imported.created_at is not None and imported.updated_at is not None


def test_import_reuses_existing_units_and_tags(world):
    from kefu.customers.models import Tag

    units_before, tags_before = Unit.objects.count(), Tag.objects.count()
    # 1-2-301 and VIP exist already (张业主).
    upload = xlsx(
        [
            row(
                name="同住家属",
                phone1="13500000041",
                building="1",
                entrance="2",
                room="301",
                relation="家属",
                tags="VIP",
            )
        ]
    )
    customers_import(file=upload, actor=world.supervisor)
    assert Unit.objects.count() == units_before and Tag.objects.count() == tags_before
    family = Customer.objects.get(name="同住家属")
    assert family.unit_links.get().unit == world.zhang.unit_links.get().unit


def test_import_writes_in_batches_not_row_by_row(world, django_assert_max_num_queries):
    # Row by row this would be ~20 queries a row (6,000 here); batches keep it to a few dozen.
    upload = xlsx(
        [row(name=f"客户{i}", phone1=f"135{i:08d}", building="8", room=f"{i}", tags="VIP") for i in range(300)]
    )
    with django_assert_max_num_queries(40):
        result = customers_import(file=upload, actor=world.supervisor)
    assert result.created == 300


def test_error_reports_do_not_pile_up(world, login, settings):
    import os
    import time

    client = login(world.supervisor)
    folder = settings.MEDIA_ROOT / "customer-imports"
    client.post("/customers/import/", {"file": xlsx([row(phone1="1")])})
    first = set(os.listdir(folder))
    assert len(first) == 1
    # An abandoned report of another session, two days old, is swept by the next failed import.
    stale = folder / "abandoned.xlsx"
    stale.write_bytes(b"old")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    client.post("/customers/import/", {"file": xlsx([row(phone1="2")])})
    second = set(os.listdir(folder))
    assert len(second) == 1 and second != first
    assert client.get("/customers/import/errors/").status_code == 200
    # A successful import removes the report of the failed attempt.
    assert client.post("/customers/import/", {"file": xlsx([row()])}).status_code == 302
    assert os.listdir(folder) == []
    assert client.get("/customers/import/errors/").status_code == 404
