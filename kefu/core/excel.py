"""Excel exports: a one-sheet .xlsx written as it is read, row by row, and sent as it is
written (decision 0010).

``stream`` answers a download with a StreamingHttpResponse whose body is produced while the
rows are fetched: the first bytes leave at once, memory stays flat however many rows there
are, and a 100,000-row export takes seconds. ``workbook`` gives the same file as bytes (small
exports, import templates and error reports). The file is the minimal SpreadsheetML package
Excel, WPS and LibreOffice open: one worksheet of inline strings and numbers, a bold shaded
header row, column widths, dates with a date format.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's limits: rows in a sheet (the header is one), characters in a cell.
MAX_ROWS = 1_048_576
MAX_CELL = 32_767
# Rows written between two chunks handed to the server: about 100 kB of compressed sheet.
ROWS_PER_CHUNK = 500
# zlib level 1: the file comes out ~15 % bigger than at the default level 6, and the writer
# spends a quarter less CPU (measured on ticket rows); CPU is what a big export waits for.
COMPRESS_LEVEL = 1

# Characters XML 1.0 does not allow (a pasted control character would make the file
# unreadable); dropped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Anything in a text that needs more than copying: markup or a forbidden character.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INVALID_TITLE = re.compile(r"[\[\]:*?/\\]")
_EPOCH = datetime(1899, 12, 30)

# Cell styles of styles.xml, by their index: 0 plain, 1 the header, 2 a date, 3 a date and time.
_HEADER, _DATE, _DATETIME = 1, 2, 3

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name={name} sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>\
<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""
_SHEET_START = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" \
state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>"""


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, widths: Sequence[int] = ()) -> bytes:
    """The whole file as bytes (for small sheets; a big one goes through ``stream``)."""
    return b"".join(xlsx_chunks(title, headers, rows, widths=widths))


def download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _disposition(filename)
    return response


def stream(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], filename: str, *, widths: Sequence[int] = ()
) -> StreamingHttpResponse:
    """A download whose file is written while ``rows`` are read: pass a lazy iterable (a
    generator over ``queryset.iterator()``) and nothing but one chunk of rows is ever held.

    The rows are read after the view has returned, while the server sends the body. A
    failure then cannot become an error page any more: the download ends short and the file
    does not open."""
    response = StreamingHttpResponse(xlsx_chunks(title, headers, rows, widths=widths), content_type=XLSX)
    response["Content-Disposition"] = _disposition(filename)
    # Not for proxies to buffer or compress: the body is already compressed and streamed.
    response["X-Accel-Buffering"] = "no"
    return response


def xlsx_chunks(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, widths: Sequence[int] = ()
) -> Iterator[bytes]:
    """The .xlsx file in pieces, as it is compressed: the package parts, then the sheet a few
    hundred rows at a time. At most ``MAX_ROWS`` - 1 rows; the rest are left unread."""
    out = _Pipe()
    # The pipe cannot seek: zipfile writes each part's sizes after its data (a data descriptor).
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK.format(name=quoteattr(_sheet_name(title))))
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        yield out.take()
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_START.encode())
            if widths or headers:
                sheet.write(_cols(widths or [16] * len(headers)).encode())
            sheet.write(b"<sheetData>")
            letters = _Letters()
            sheet.write(_utf8(_row(1, headers, letters, style=_HEADER)))
            number = 1
            pending: list[str] = []
            for values in rows:
                number += 1
                if number > MAX_ROWS:
                    break
                pending.append(_row(number, values, letters))
                if len(pending) >= ROWS_PER_CHUNK:
                    sheet.write(_utf8("".join(pending)))
                    pending.clear()
                    chunk = out.take()
                    if chunk:
                        yield chunk
            sheet.write(_utf8("".join(pending) + "</sheetData></worksheet>"))
    yield out.take()


class _Pipe:
    """Where zipfile writes: kept until the next ``take`` (no ``seek``, no ``tell``)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _Letters:
    """Column letters (A … Z, AA …), worked out once per column."""

    def __init__(self) -> None:
        self._known: list[str] = []

    def upto(self, count: int) -> list[str]:
        while len(self._known) < count:
            n, name = len(self._known) + 1, ""
            while n:
                n, rest = divmod(n - 1, 26)
                name = chr(ord("A") + rest) + name
            self._known.append(name)
        return self._known


def _cols(widths: Sequence[int]) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{float(width):g}" customWidth="1"/>' for i, width in enumerate(widths, 1)
    )
    return f"<cols>{cols}</cols>"


def _row(number: int, values: Sequence[Any], letters: _Letters, *, style: int = 0) -> str:
    """One row's XML. Text, nearly every cell of an export, takes the short way: a cell a
    100,000-row export writes 1.6 million times."""
    styled = f' s="{style}"' if style else ""
    cells = [f'<row r="{number}">']
    for letter, value in zip(letters.upto(len(values)), values, strict=False):
        if type(value) is str:
            if not value:
                continue
            if len(value) > MAX_CELL or _SPECIAL.search(value):
                value = _text(value)
            cells.append(
                f'<c r="{letter}{number}"{styled} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
            )
        elif value is not None:
            cells.append(_cell(f"{letter}{number}", value, styled))
    cells.append("</row>")
    return "".join(cells)


def _cell(ref: str, value: Any, styled: str) -> str:
    """A cell of anything but text in a str: numbers as numbers; dates and times as Excel
    serial days in the local time zone, with a date format; anything else as its text."""
    if isinstance(value, bool):
        return f'<c r="{ref}"{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | Decimal) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"{styled}><v>{value}</v></c>'
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        serial = (local.replace(tzinfo=None) - _EPOCH) / timedelta(days=1)
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        serial = (datetime.combine(value, time()) - _EPOCH) / timedelta(days=1)
        return f'<c r="{ref}" s="{_DATE}"><v>{int(serial)}</v></c>'
    text = str(value)  # a lazy translation, a number that is not finite, …
    if not text:
        return ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{_text(text)}</t></is></c>'


def _text(value: str) -> str:
    """Text as XML: at most ``MAX_CELL`` characters, the characters XML 1.0 forbids dropped,
    markup escaped."""
    return escape(_ILLEGAL.sub("", value[:MAX_CELL]))


def _utf8(xml: str) -> bytes:
    # "replace": a lone surrogate (broken text pasted from elsewhere) becomes "?" instead of
    # failing the whole download.
    return xml.encode("utf-8", "replace")


def _sheet_name(title: str) -> str:
    """A name Excel accepts for a sheet: no []:*?/\\, at most 31 characters, not empty."""
    name = _INVALID_TITLE.sub("", _ILLEGAL.sub("", str(title))).strip("'")[:31]
    return name or "Sheet1"


def _disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"
