"""Excel import of customer records (导入): template, validation of every row, all-or-nothing.

The file is checked in full before anything is written. Any error in any row means nothing is
imported and the user gets a per-row error list (also as an .xlsx report with a 错误原因
column); otherwise every row is created in one transaction, each with an ``imported`` history
entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import IO, Any

from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.excel import workbook
from kefu.core.phones import is_valid, normalize
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import sites_for

from .forms import split_tags
from .models import Customer, CustomerPhone, CustomerUnit
from .services import CustomerData, UnitLink, clean_customer_data, customers_import_create

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000

# The template's columns, in order: (header, key). A trailing * marks a required column.
COLUMNS: list[tuple[str, str]] = [
    ("项目编码*", "site"),
    ("类型(个人/单位)", "kind"),
    ("姓名/单位名称*", "name"),
    ("性别", "gender"),
    ("联系人", "contact_person"),
    ("电话1*", "phone1"),
    ("电话2", "phone2"),
    ("楼栋", "building"),
    ("单元", "entrance"),
    ("房号", "room"),
    ("关系(业主/租户/家属)", "relation"),
    ("标签(逗号分隔)", "tags"),
    ("邮箱", "email"),
    ("备注", "note"),
]
HEADERS = [header for header, _ in COLUMNS]
REQUIRED_KEYS = ("site", "name", "phone1")
ERROR_COLUMN = "错误原因"
BROKEN_FILE = "文件已损坏或不是有效的 Excel 文件，请用导入模板重新填写后上传"

# The import template is Chinese whatever the UI language: match the untranslated labels.
with translation.override(None):
    _KINDS = {str(label): value for value, label in Customer.Kind.choices}
    _RELATIONS = {str(label): value for value, label in CustomerUnit.Relation.choices}
_GENDERS = {"男": Customer.Gender.MALE, "女": Customer.Gender.FEMALE, "未知": Customer.Gender.UNKNOWN}


@dataclass
class RowError:
    """One refused row: its Excel row number, what it held, and every reason."""

    row: int
    values: list[Any]
    messages: list[str]

    @property
    def text(self) -> str:
        return f"第 {self.row} 行：" + "；".join(self.messages)


@dataclass
class ImportResult:
    created: int = 0
    total: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    number: int
    values: list[Any]
    site: Site | None
    data: CustomerData
    phones: list[str]  # the row's well-formed numbers, normalised: checked for duplicates
    messages: list[str]


def _key(header: Any) -> str:
    """``姓名/单位名称*`` and ``类型（个人/单位）`` → the bare column name, for lenient matching."""
    text = re.sub(r"[(（].*?[)）]", "", str(header or ""))
    return text.replace("*", "").replace(" ", "").strip()


_KEY_BY_NAME = {_key(header): key for header, key in COLUMNS}


def _text(value: Any) -> str:
    """A cell as text; Excel stores long digit strings (phones, codes) as numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def customers_import(*, file: IO[bytes], actor: Staff) -> ImportResult:
    """Validate every row of ``file`` (.xlsx); if all are fine create them all, else none.

    File-level problems (not an .xlsx, damaged, too large, too many rows, wrong columns) raise
    ``ValidationFailed`` with a message for the user; row problems come back in the result.
    """
    if not can(actor.role, "customers.import"):
        raise PermissionDenied("您没有导入客户资料的权限")
    rows = _read(file)
    result = ImportResult(total=len(rows))
    sites = {site.code: site for site in sites_for(actor)}
    # Every check runs on every row, so one upload shows every problem at once.
    parsed = [_parse(number, values, sites) for number, values in rows]
    _check_duplicates(parsed)
    result.errors = [RowError(row.number, row.values, row.messages) for row in parsed if row.messages]
    if result.errors:
        return result
    # One transaction for the whole file: nothing is half-imported.
    customers_import_create(rows=[(row.site, row.data) for row in parsed if row.site is not None], actor=actor)
    result.created = len(parsed)
    return result


def _read(file: IO[bytes]) -> list[tuple[int, list[Any]]]:
    """The data rows as (Excel row number, cell values in template order); blank rows skipped."""
    name = getattr(file, "name", "") or ""
    if not name.lower().endswith(".xlsx"):
        raise ValidationFailed("请上传 Excel 文件（.xlsx 格式），可先下载导入模板", field="file")
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    if size > MAX_BYTES:
        raise ValidationFailed("文件不能超过 5 MB，请分批导入", field="file")
    if size == 0:
        raise ValidationFailed("文件是空的，请选择填写好的导入模板", field="file")
    # A damaged or disguised file can fail deep inside openpyxl, zipfile or the XML parser with
    # almost any exception; whatever it is, the user needs the same answer, never a 500.
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception:
        raise ValidationFailed(BROKEN_FILE, field="file") from None
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = next(cells, None) or ()
        positions: dict[str, int] = {}
        for index, value in enumerate(header):
            key = _KEY_BY_NAME.get(_key(value))
            if key and key not in positions:
                positions[key] = index
        missing = [h for h, k in COLUMNS if k in REQUIRED_KEYS and k not in positions]
        if missing:
            raise ValidationFailed(
                "表头与导入模板不一致，缺少列：" + "、".join(missing) + "。请下载最新的导入模板", field="file"
            )
        order = [positions.get(key) for _, key in COLUMNS]
        rows: list[tuple[int, list[Any]]] = []
        for number, raw in enumerate(cells, start=2):
            values = [raw[i] if i is not None and i < len(raw) else None for i in order]
            if all(_text(v) == "" for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 行，请拆分文件后分批导入", field="file")
            rows.append((number, values))
    except ValidationFailed:
        raise
    except Exception:
        raise ValidationFailed(BROKEN_FILE, field="file") from None
    finally:
        book.close()
    if not rows:
        raise ValidationFailed("文件中没有数据行，请在模板第 2 行起填写客户资料", field="file")
    return rows


def _parse(number: int, values: list[Any], sites: dict[str, Site]) -> _Row:
    cell = {key: _text(value) for (_, key), value in zip(COLUMNS, values, strict=True)}
    messages: list[str] = []
    site = None
    if not cell["site"]:
        messages.append("项目编码不能为空")
    else:
        site = sites.get(cell["site"]) or sites.get(cell["site"].upper())
        if site is None:
            messages.append(f"项目编码 {cell['site']} 不存在或您无权在该项目建档")
    kind = _KINDS.get(cell["kind"] or "个人")
    if kind is None:
        messages.append("类型只能填写“个人”或“单位”")
    gender = _GENDERS.get(cell["gender"]) if cell["gender"] else ""
    if gender is None:
        messages.append("性别只能填写“男”或“女”")
    if not cell["phone1"]:
        messages.append("电话1不能为空")
    units: list[UnitLink] = []
    if cell["building"] or cell["entrance"] or cell["room"]:
        relation = _RELATIONS.get(cell["relation"] or "业主")
        if relation is None:
            messages.append("关系只能填写“业主”“租户”或“家属”")
        relation = relation or CustomerUnit.Relation.OWNER
        units.append(UnitLink(cell["building"], cell["entrance"], cell["room"], relation))
    elif cell["relation"] and cell["relation"] not in _RELATIONS:
        messages.append("关系只能填写“业主”“租户”或“家属”")
    data = CustomerData(
        name=cell["name"],
        kind=kind or Customer.Kind.PERSON,
        phones=[p for p in (cell["phone1"], cell["phone2"]) if p],
        units=units,
        tags=split_tags(cell["tags"]),
        gender=gender or "",
        contact_person=cell["contact_person"],
        email=cell["email"],
        source=Customer.Source.IMPORT,
        note=cell["note"],
    )
    try:
        data = clean_customer_data(data)
    except ValidationFailed as exc:
        for name, field_messages in exc.fields.items():
            for message in field_messages:
                # "请至少填写一个联系电话" repeats "电话1不能为空", said above in the template's words.
                if name == "phones" and not cell["phone1"] and not cell["phone2"]:
                    continue
                if message not in messages:
                    messages.append(message)
    if len(cell["contact_person"]) > 50:
        messages.append("联系人不能超过 50 字")
    phones = [normalize(p) for p in (cell["phone1"], cell["phone2"]) if p and is_valid(normalize(p))]
    return _Row(number, values, site, data, list(dict.fromkeys(phones)), messages)


def _check_duplicates(rows: list[_Row]) -> None:
    """A phone number belongs to one customer per site: not twice in the file, not already on file.

    Numbers are compared per site, like the records themselves: the same owner may be a customer
    of two estates.
    """
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        if row.site is None:
            continue
        for phone in row.phones:
            key = (row.site.id, phone)
            if key in seen:
                row.messages.append(f"电话 {phone} 与第 {seen[key]} 行重复")
            else:
                seen[key] = row.number
    existing: dict[tuple[int, str], str] = {}
    numbers = sorted({phone for _, phone in seen})
    site_ids = sorted({site_id for site_id, _ in seen})
    # Chunked so that SQLite's limit on query parameters is never reached.
    for start in range(0, len(numbers), 500):
        for site_id, number, name in CustomerPhone.objects.filter(
            number__in=numbers[start : start + 500], customer__site_id__in=site_ids
        ).values_list("customer__site_id", "number", "customer__name"):
            existing.setdefault((site_id, number), name)
    for row in rows:
        if row.site is None:
            continue
        for phone in row.phones:
            owner = existing.get((row.site.id, phone))
            if owner is not None:
                row.messages.append(f"电话 {phone} 已存在（客户：{owner}）")


def import_template(actor: Staff) -> bytes:
    """The .xlsx template: the header row, one example row, and a sheet of the user's site codes."""
    sites = list(sites_for(actor))
    code = sites[0].code if sites else "S1"
    book = Workbook()
    sheet = book.active
    sheet.title = "客户档案"
    sheet.append(HEADERS)
    example = ["个人", "张三", "男", "", "13800138000", "", "1", "2", "301", "业主", "VIP，会员", ""]
    sheet.append([code, *example, "示例行，导入前请删除"])
    for index, (header, _) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C0392B" if header.endswith("*") else "000000")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = max(12, len(header) * 2 + 2)
    # Phones and codes as text, so Excel keeps leading zeros (landlines such as 010-…).
    for letter in ("A", "F", "G", "H", "I", "J"):
        sheet.column_dimensions[letter].number_format = "@"
        sheet[f"{letter}2"].number_format = "@"
    codes = book.create_sheet("项目编码")
    codes.append(["项目编码", "项目名称"])
    for site in sites:
        codes.append([site.code, site.name])
    codes.column_dimensions["A"].width = 14
    codes.column_dimensions["B"].width = 30
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def error_report(result: ImportResult) -> bytes:
    """The refused rows as they were uploaded, plus a 错误原因 column."""
    rows = ([e.row, *(_text(v) for v in e.values), "；".join(e.messages)] for e in result.errors)
    return workbook("导入错误", ["行号", *HEADERS, ERROR_COLUMN], rows, widths=[8, *[14] * len(HEADERS), 60])
