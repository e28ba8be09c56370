"""A site's business calendar and the customers' call windows as tables over the seeded
year, in epoch seconds.

``BusinessCalendar`` walks day by day for every question; a million tickets ask it about
two million times. ``DayTable`` asks it once per day of the period and answers from the
tables: business minutes between two moments (``handling_minutes``), working days ahead
(the return visit's deadline), the start of each local day. ``Windows`` is
``ContactWindows`` on the same footing. The tests check both against the originals.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, time, timedelta

from kefu.core.calendar import MIDNIGHT, BusinessCalendar
from kefu.core.quiet import ContactWindows


class DayTable:
    """Local days ``first`` … ``last`` of ``calendar``, with their working intervals."""

    def __init__(self, calendar: BusinessCalendar, first: date, last: date) -> None:
        self.tz = calendar.tz
        self.first = first
        self.starts: list[int] = []
        self.intervals: list[tuple[tuple[int, int], ...]] = []
        self.before: list[int] = []  # business seconds of all earlier days
        self.workdays: list[int] = []  # indices of working days
        total = 0
        day = first
        index = 0
        while day <= last + timedelta(days=1):
            self.starts.append(self._epoch(day, MIDNIGHT))
            spans = []
            for begin_t, end_t in calendar.working_periods(day):
                begin = self._epoch(day, begin_t)
                end = self._epoch(day + timedelta(days=1), MIDNIGHT) if end_t == MIDNIGHT else self._epoch(day, end_t)
                spans.append((begin, end))
            self.intervals.append(tuple(spans))
            self.before.append(total)
            total += sum(end - begin for begin, end in spans)
            if calendar.is_workday(day):
                self.workdays.append(index)
            day += timedelta(days=1)
            index += 1
        self.last = len(self.starts) - 2

    def _epoch(self, day: date, clock: time) -> int:
        return int(datetime.combine(day, clock, tzinfo=self.tz).timestamp())

    def day_start(self, index: int) -> int:
        return self.starts[index]

    def index(self, ts: int) -> int:
        """The local day ``ts`` falls on, as an index into the table."""
        found = bisect_right(self.starts, ts) - 1
        if not 0 <= found <= self.last:
            raise ValueError(f"{ts} is outside the calendar table")
        return found

    def _business(self, ts: int) -> int:
        index = self.index(ts)
        done = self.before[index]
        for begin, end in self.intervals[index]:
            if ts > begin:
                done += min(ts, end) - begin
        return done

    def business_minutes_between(self, a: int, b: int) -> int:
        """``BusinessCalendar.business_minutes_between`` for whole seconds."""
        if b < a:
            return -self.business_minutes_between(b, a)
        return (self._business(b) - self._business(a)) // 60

    def add_workdays(self, ts: int, days: int) -> int:
        """``BusinessCalendar.add_workdays``: the same clock time ``days`` working days on."""
        index = self.index(ts)
        position = bisect_right(self.workdays, index) + days - 1
        if position >= len(self.workdays):
            raise ValueError("calendar table too short")
        target = self.workdays[position]
        return self.starts[target] + (ts - self.starts[index])


class Windows:
    """``ContactWindows`` (when a customer may be called) on epoch seconds."""

    def __init__(self, windows: ContactWindows, table: DayTable) -> None:
        self.allowed = tuple(windows.allowed)
        self.table = table

    def allows(self, ts: int) -> bool:
        minute = (ts - self.table.day_start(self.table.index(ts))) // 60
        return any(start <= minute < end for start, end in self.allowed)

    def next_allowed(self, ts: int) -> int:
        index = self.table.index(ts)
        base = self.table.day_start(index)
        minute = (ts - base) // 60
        for start, end in self.allowed:
            if start <= minute < end:
                return ts
            if start > minute:
                return base + start * 60
        return self.table.day_start(index + 1) + self.allowed[0][0] * 60

    def last_allowed_by(self, ts: int) -> int:
        index = self.table.index(ts)
        base = self.table.day_start(index)
        minute = (ts - base) // 60
        for start, end in reversed(self.allowed):
            if start <= minute < end:
                return ts
            if end <= minute:
                return base + (end - 1) * 60
        return self.table.day_start(index - 1) + (self.allowed[-1][1] - 1) * 60
