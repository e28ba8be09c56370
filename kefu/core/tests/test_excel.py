"""The .xlsx writer: what openpyxl reads back from it, written in one piece or streamed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from kefu.core.excel import MAX_CELL, ROWS_PER_CHUNK, stream, workbook


def _read(content: bytes, *, read_only: bool = False):
    return load_workbook(BytesIO(content), read_only=read_only).active


def test_values_come_back_as_written():
    shanghai = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    content = workbook(
        "工单",
        ["文字", "数", "日期"],
        [['漏水 <急> & "快"', 3, date(2026, 1, 2)], [None, 2.5, shanghai], [True, Decimal("1.25"), ""]],
    )
    rows = list(_read(content).iter_rows(values_only=True))
    assert rows[0] == ("文字", "数", "日期")
    assert rows[1] == ('漏水 <急> & "快"', 3, datetime(2026, 1, 2))
    # An aware time is written as the local time (Excel has no time zones).
    assert rows[2] == (None, 2.5, datetime(2026, 11, 23, 9, 30))
    assert rows[3] == (True, 1.25, None)


def test_header_is_bold_and_shaded_with_the_widths_asked_for():
    sheet = _read(workbook("台账", ["工单号", "内容"], [["A-1", "x"]], widths=[20, 40]))
    assert sheet.title == "台账"
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert not sheet["A2"].font.b
    assert (sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width) == (20, 40)
    assert sheet.freeze_panes == "A2"


def test_text_that_would_break_the_file_is_cleaned():
    pasted = "一\x00二\x0b三\x1f四\ud800五"
    sheet = _read(workbook("项目[1]/月报:*?" * 10, ["h"], [[pasted], ["x" * (MAX_CELL + 10)]]))
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == ["一二三四?五", "x" * MAX_CELL]
    assert sheet.title == ("项目1月报" * 10)[:31]  # no []:*?/\\, at most 31 characters


def test_columns_past_z_keep_their_places():
    headers = [f"c{i}" for i in range(30)]
    sheet = _read(workbook("宽表", headers, [list(range(30))]))
    assert sheet["Z2"].value == 25 and sheet["AA2"].value == 26 and sheet["AD2"].value == 29


def test_stream_sends_the_file_while_reading_the_rows():
    read = []

    def rows():
        for i in range(3 * ROWS_PER_CHUNK):
            read.append(i)
            yield [f"第{i}行", i]

    response = stream("大表", ["行", "号"], rows(), "大表_20261202.xlsx")
    assert response.streaming and read == []  # nothing is read before the body is asked for
    assert response["Content-Disposition"] == "attachment; filename*=UTF-8''%E5%A4%A7%E8%A1%A8_20261202.xlsx"
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.startswith(b"PK") and read == []  # the package parts go out before any row
    body = first + b"".join(chunks)
    assert len(read) == 3 * ROWS_PER_CHUNK
    values = list(_read(body, read_only=True).iter_rows(values_only=True))
    assert len(values) == 1 + 3 * ROWS_PER_CHUNK and values[-1] == (
        f"第{3 * ROWS_PER_CHUNK - 1}行",
        3 * ROWS_PER_CHUNK - 1,
    )
