"""When a customer may be called: quiet hours (休息时间, default 12:00–14:00 and 21:00–08:00)
or a customer's own preferred times. Pure functions over local clock time, tested without a
database; a window may run across midnight ("21:00-08:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import ValidationFailed

DEFAULT_QUIET = "12:00-14:00,21:00-08:00"
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
_DAY = 24 * 60
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*$")

Span = tuple[int, int]  # minutes after midnight, start < end, within one day


def parse_spans(text: str) -> tuple[Span, ...]:
    """ "12:00-14:00,21:00-08:00" → day spans in minutes, the midnight one split in two.
    Raises ValidationFailed with a Chinese message on anything else."""
    spans: list[Span] = []
    for part in re.split(r"[,，;；、\s]+(?=\d)", (text or "").strip()):
        if not part.strip():
            continue
        match = _SPAN.match(part)
        if match is None:
            raise ValidationFailed(f"时间段格式不正确：{part}（应如 12:00-14:00）")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
            raise ValidationFailed(f"时间不正确：{part}")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise ValidationFailed(f"时间段的开始和结束不能相同：{part}")
        if start < end:
            spans.append((start, end))
        else:  # across midnight
            spans.extend(s for s in ((start, _DAY), (0, end)) if s[0] < s[1])
    return _merge(spans)


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _complement(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    free, cursor = [], 0
    for start, end in spans:
        if start > cursor:
            free.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < _DAY:
        free.append((cursor, _DAY))
    return tuple(free)


def format_spans(spans: tuple[Span, ...]) -> str:
    def clock(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return "，".join(f"{clock(a)}-{clock(b)}" for a, b in spans)


@dataclass(frozen=True)
class ContactWindows:
    """The times of day a customer may be called, as spans of local clock time."""

    allowed: tuple[Span, ...]
    tz: ZoneInfo = DEFAULT_TZ

    @classmethod
    def outside(cls, quiet: str = DEFAULT_QUIET, tz: ZoneInfo = DEFAULT_TZ) -> ContactWindows:
        """Any time but the quiet hours."""
        return cls(_complement(parse_spans(quiet)), tz)

    @classmethod
    def for_customer(cls, preferred: str, quiet: str = DEFAULT_QUIET, tz: ZoneInfo = DEFAULT_TZ) -> ContactWindows:
        """The customer's own preferred times when they gave any, else outside quiet hours. A
        preferred time that cannot be read falls back to the quiet-hours rule."""
        try:
            spans = parse_spans(preferred)
        except ValidationFailed:
            spans = ()
        return cls(spans, tz) if spans else cls.outside(quiet, tz)

    def __post_init__(self) -> None:
        if not self.allowed:
            raise ValidationFailed("一天中没有可以联系客户的时间")

    def _minute(self, moment: datetime) -> tuple[datetime, int]:
        local = moment.astimezone(self.tz)
        return local, local.hour * 60 + local.minute

    def allows(self, moment: datetime) -> bool:
        _, minute = self._minute(moment)
        return any(start <= minute < end for start, end in self.allowed)

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` if calling is allowed then, else the start of the next allowed span."""
        local, minute = self._minute(moment)
        for day in range(2):
            for start, end in self.allowed:
                if day == 0 and start <= minute < end:
                    return moment
                if day == 1 or start > minute:
                    base = datetime.combine(local.date() + timedelta(days=day), time(0), tzinfo=self.tz)
                    return base + timedelta(minutes=start)
        raise AssertionError("unreachable: at least one allowed span exists")

    def last_allowed_by(self, moment: datetime) -> datetime:
        """The latest allowed moment not after ``moment``: ``moment`` itself when allowed, else
        the end of the previous allowed span (a deadline never falls in quiet hours)."""
        local, minute = self._minute(moment)
        for day in range(2):
            for start, end in reversed(self.allowed):
                if day == 0 and start <= minute < end:
                    return moment
                if day == 1 or end <= minute:
                    base = datetime.combine(local.date() - timedelta(days=day), time(0), tzinfo=self.tz)
                    return base + timedelta(minutes=end) - timedelta(minutes=1)
        raise AssertionError("unreachable: at least one allowed span exists")
