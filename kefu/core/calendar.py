"""Business calendar: working hours, Chinese public holidays and make-up working days (调休).

Pure time maths, no database: callers build a :class:`BusinessCalendar` from what a site has
configured (working hours, administrator-entered year schedules, site-level override dates)
and ask it for due times and elapsed business minutes.

Whether a date is a working day is decided, in this order of precedence, by

1. the site's own override dates (``extra_holidays`` / ``extra_workdays``);
2. an administrator-entered :class:`YearSchedule` for that year (the State Council's official
   放假 days and 调休 make-up working days, typed in or imported with :func:`parse_schedule`);
3. the ``chinese_calendar`` library, for the years it has data for (2004–2026 in 1.11);
4. plain weekdays, Monday to Friday.

A year that falls through to 4 is *missing*: :meth:`BusinessCalendar.missing_year` tells the UI
to warn administrators that deadlines in that year ignore public holidays. Nothing raises for a
date past the library's range; it merely falls back.

Times are walked on the local wall clock of the calendar's time zone (``Asia/Shanghai`` by
default), while durations are measured in real (UTC) time, so the maths stays right even in a
zone with daylight-saving changes. All public functions take and return aware datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

Period = tuple[time, time]
"""A working period on one day, ``(start, end)``; an ``end`` of ``time(0, 0)`` means 24:00."""

MIDNIGHT = time(0, 0)
DAY_MINUTES = 24 * 60

# A calendar whose every day is closed would make the walk endless; no real calendar has a
# gap this long between two working moments, so hitting it means a misconfiguration.
_MAX_IDLE_DAYS = 3 * 366

ScheduleSource = Literal["site", "schedule", "library", "weekdays"]


def _library_years() -> range:
    """The years ``chinese_calendar`` has official data for (2004–2026 in version 1.11)."""
    try:
        known = list(chinese_calendar.constants.holidays) + list(chinese_calendar.constants.workdays)
        return range(min(known).year, max(known).year + 1)
    except (AttributeError, ValueError):  # a future release reorganising its data: rely on nothing
        return range(0)


LIBRARY_YEARS: range = _library_years()


@lru_cache(maxsize=4096)
def _library_is_workday(day: date) -> bool | None:
    """``chinese_calendar``'s verdict on ``day``, or ``None`` when it has no data for that date."""
    if day.year not in LIBRARY_YEARS:
        return None
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _end_minutes(value: time) -> int:
    """Minutes after midnight of a period's end, with ``00:00`` standing for 24:00."""
    return DAY_MINUTES if value == MIDNIGHT else _minutes(value)


def _validate_periods(periods: tuple[Period, ...]) -> None:
    previous_end = -1
    for start, end in periods:
        if start.second or start.microsecond or end.second or end.microsecond:
            raise ValueError(f"工作时段须精确到分钟：{_format_period((start, end))}")
        begin, finish = _minutes(start), _end_minutes(end)
        if begin >= finish:
            raise ValueError(f"工作时段的结束时间须晚于开始时间：{_format_period((start, end))}")
        if begin < previous_end:
            raise ValueError(f"工作时段须按时间先后排列且互不重叠：{_format_period((start, end))}")
        previous_end = finish


def _format_period(period: Period) -> str:
    start, end = period
    return f"{start:%H:%M}-{'24:00' if end == MIDNIGHT else f'{end:%H:%M}'}"


_PERIOD_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-~～–—至到]\s*(\d{1,2}):(\d{2})\s*$")


def _parse_clock(hours: str, minutes: str, *, end: bool, text: str) -> time:
    h, m = int(hours), int(minutes)
    if end and h == 24 and m == 0:
        return MIDNIGHT
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"无效的时间：{text}")
    return time(h, m)


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of a working day.

    ``periods`` applies to every working day; ``weekday_periods`` optionally replaces it for
    particular weekdays (0 = Monday … 6 = Sunday), e.g. a shorter Friday. A 调休 Saturday that
    is worked uses the Saturday entry if there is one, else ``periods``. Round-the-clock service
    is one period ``(time(0, 0), time(0, 0))``, i.e. 00:00–24:00 (see :meth:`around_the_clock`).
    """

    periods: tuple[Period, ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
    weekday_periods: tuple[tuple[int, tuple[Period, ...]], ...] = ()

    def __post_init__(self) -> None:
        _validate_periods(self.periods)
        seen: set[int] = set()
        for weekday, periods in self.weekday_periods:
            if not 0 <= weekday <= 6 or weekday in seen:
                raise ValueError(f"无效或重复的星期：{weekday}")
            seen.add(weekday)
            _validate_periods(periods)

    @classmethod
    def around_the_clock(cls) -> WorkingHours:
        """00:00–24:00 on every working day."""
        return cls(periods=((MIDNIGHT, MIDNIGHT),))

    @classmethod
    def parse(cls, text: str, weekdays: Mapping[int, str] | None = None) -> WorkingHours:
        """Build from ``"08:30-12:00, 13:30-17:30"`` (``24:00`` allowed as an end), optionally
        with per-weekday texts (an empty text means no working time on that weekday)."""
        return cls(
            periods=cls._parse_periods(text),
            weekday_periods=tuple(sorted((wd, cls._parse_periods(t)) for wd, t in (weekdays or {}).items())),
        )

    @staticmethod
    def _parse_periods(text: str) -> tuple[Period, ...]:
        periods: list[Period] = []
        for chunk in re.split(r"[,，;；\s]+(?=\d)", text.strip()):
            if not chunk.strip():
                continue
            match = _PERIOD_RE.match(chunk)
            if not match:
                raise ValueError(f"无法识别的工作时段“{chunk.strip()}”，应形如 08:30-12:00")
            start = _parse_clock(match[1], match[2], end=False, text=chunk.strip())
            end = _parse_clock(match[3], match[4], end=True, text=chunk.strip())
            periods.append((start, end))
        return tuple(periods)

    def for_weekday(self, weekday: int) -> tuple[Period, ...]:
        for wd, periods in self.weekday_periods:
            if wd == weekday:
                return periods
        return self.periods

    def has_any(self) -> bool:
        """Whether any weekday has working time at all."""
        return any(self.for_weekday(wd) for wd in range(7))

    def __str__(self) -> str:
        return ", ".join(_format_period(p) for p in self.periods)


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: 放假 days and 调休 make-up working days."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for day in self.holidays | self.workdays:
            if day.year != self.year:
                raise ValueError(f"日期 {day.isoformat()} 不在 {self.year} 年内")
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"日期 {min(both).isoformat()} 不能既放假又上班")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours of one site; see the module docstring for the precedence."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    schedules: Mapping[int, YearSchedule] = field(default_factory=dict, hash=False)
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    tz: ZoneInfo = DEFAULT_TZ
    use_library: bool = True

    def __post_init__(self) -> None:
        for year, schedule in self.schedules.items():
            if schedule.year != year:
                raise ValueError(f"{year} 年的安排里是 {schedule.year} 年的日期")
        both = self.extra_holidays & self.extra_workdays
        if both:
            raise ValueError(f"日期 {min(both).isoformat()} 不能既放假又上班")
        # Freeze the mapping so the dataclass really is immutable.
        object.__setattr__(self, "schedules", MappingProxyType(dict(self.schedules)))

    # -- which days are working days ------------------------------------------------------

    def known_years(self) -> frozenset[int]:
        """Years with an official schedule: administrator-entered ones and the library's."""
        years = set(self.schedules)
        if self.use_library:
            years.update(LIBRARY_YEARS)
        return frozenset(years)

    def missing_year(self, year: int) -> bool:
        """True when ``year`` falls back to plain weekdays (warn the administrators)."""
        return year not in self.known_years()

    def missing_years(self, start: date, end: date) -> list[int]:
        """The missing years among those from ``start`` to ``end`` inclusive."""
        return [y for y in range(start.year, end.year + 1) if self.missing_year(y)]

    def source(self, day: date) -> ScheduleSource:
        """Which rule decides whether ``day`` is a working day."""
        if day in self.extra_holidays or day in self.extra_workdays:
            return "site"
        if day.year in self.schedules:
            return "schedule"
        if self.use_library and _library_is_workday(day) is not None:
            return "library"
        return "weekdays"

    def is_workday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.holidays:
                return False
            if day in schedule.workdays:
                return True
            return day.weekday() < 5
        if self.use_library:
            verdict = _library_is_workday(day)
            if verdict is not None:
                return verdict
        return day.weekday() < 5

    def working_periods(self, day: date) -> tuple[Period, ...]:
        """The working periods of ``day``; empty on a non-working day."""
        return self.hours.for_weekday(day.weekday()) if self.is_workday(day) else ()

    # -- time maths -----------------------------------------------------------------------

    def _intervals(self, start: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in UTC from ``start`` on (clipped to it), in order, up to ``until``.

        Whole non-working days cost one ``is_workday`` call each; without ``until`` the walk
        gives up with ValueError after ``_MAX_IDLE_DAYS`` days without any working time.
        """
        start_utc = start.astimezone(UTC)
        until_utc = until.astimezone(UTC) if until is not None else None
        day = start.astimezone(self.tz).date()
        idle = 0
        while until_utc is None or self._local(day, MIDNIGHT) < until_utc:
            found = False
            for begin_t, end_t in self.working_periods(day):
                begin = self._local(day, begin_t)
                end = self._local(day + timedelta(days=1), MIDNIGHT) if end_t == MIDNIGHT else self._local(day, end_t)
                begin = max(begin, start_utc)
                if until_utc is not None:
                    end = min(end, until_utc)
                if begin < end:
                    found = True
                    yield begin, end
            idle = 0 if found else idle + 1
            if until_utc is None and idle > _MAX_IDLE_DAYS:
                raise ValueError("日历中长期没有任何工作时间，请检查工作时段和放假安排")
            day += timedelta(days=1)

    def _local(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is within working hours, else the next opening time."""
        _require_aware(moment)
        for begin, _end in self._intervals(moment):
            return begin.astimezone(self.tz)
        raise AssertionError("unreachable: _intervals never ends without raising")  # pragma: no cover

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The earliest moment at which ``minutes`` business minutes have elapsed since ``start``.

        Ending exactly at a period's close gives that closing time (not the next opening).
        """
        _require_aware(start)
        if minutes < 0:
            raise ValueError("工作分钟数不能为负数")
        if minutes == 0:
            return start.astimezone(self.tz)
        remaining = timedelta(minutes=minutes)
        for begin, end in self._intervals(start):
            if end - begin >= remaining:
                return (begin + remaining).astimezone(self.tz)
            remaining -= end - begin
        raise AssertionError("unreachable: _intervals never ends without raising")  # pragma: no cover

    def business_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole business minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        _require_aware(a)
        _require_aware(b)
        if b < a:
            return -self.business_minutes_between(b, a)
        total = sum((end - begin for begin, end in self._intervals(a, b)), timedelta())
        return int(total.total_seconds() // 60)

    def add_workdays(self, start: datetime, days: int) -> datetime:
        """The same clock time ``days`` working days after ``start`` (非工作日不计): a return
        visit due "within 3 days" of a Friday afternoon is due the next Wednesday afternoon,
        and Spring Festival does not count."""
        _require_aware(start)
        if days < 0:
            raise ValueError("工作日数不能为负数")
        local = start.astimezone(self.tz)
        day, counted, idle = local.date(), 0, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted, idle = counted + 1, 0
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError("日历中长期没有任何工作日，请检查放假安排")
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.tz)

    def add_calendar_minutes(self, start: datetime, minutes: int) -> datetime:
        """Plain elapsed time, for round-the-clock (calendar-hour) policies."""
        return add_calendar_minutes(start, minutes, self.tz)


def add_calendar_minutes(start: datetime, minutes: int, tz: ZoneInfo = DEFAULT_TZ) -> datetime:
    """``start`` plus ``minutes`` of real elapsed time, returned in ``tz``."""
    _require_aware(start)
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(tz)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("需要带时区的时间（aware datetime）")


# -- administrator import ------------------------------------------------------------------

_HOLIDAY_WORDS = frozenset({"放假", "休", "休息", "假", "假期", "节假日", "休假"})
_WORKDAY_WORDS = frozenset({"上班", "班", "补班", "调休上班", "工作", "工作日"})
_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
_LINE_RE = re.compile(
    rf"^(?P<start>{_DATE})(?:\s*(?:~|～|至|到|—|–|--)\s*(?P<end>{_DATE}))?\s*(?P<word>[^\s\d#][^\s#]*)?(?:\s+.*)?$"
)
_EXAMPLE = "应形如“2027-02-06~2027-02-13 放假”或“2027-02-14 上班”"


def _parse_date(text: str, line_no: int) -> date:
    parts = re.findall(r"\d+", text)
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except (ValueError, IndexError):
        raise ValueError(f"第 {line_no} 行：无效的日期“{text.strip()}”") from None


def parse_schedule(text: str, year: int) -> YearSchedule:
    """Parse an administrator's schedule for ``year``, one entry a line::

        2027-02-06~2027-02-13 放假     # a range, ~ or 至 or 到
        2027-02-14 上班                # a 调休 make-up working day
        2027-10-01 至 2027-10-07 休    # anything after the word is a free comment

    Blank lines and ``#`` comments are ignored. Holiday words: 放假/休/休息/假/假期/节假日/休假;
    working-day words: 上班/班/补班/调休上班/工作/工作日. Raises ValueError with a Chinese
    message naming the line for a line it cannot read, a date outside ``year``, an end before
    its start, an unknown word or a date given both ways.
    """
    holidays: dict[date, int] = {}
    workdays: dict[date, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE_RE.match(line)
        if not match:
            raise ValueError(f"第 {line_no} 行：无法识别“{line}”，{_EXAMPLE}")
        word = match["word"]
        if word is None:
            raise ValueError(f"第 {line_no} 行：缺少“放假”或“上班”，{_EXAMPLE}")
        if word in _HOLIDAY_WORDS:
            target, other, other_name = holidays, workdays, "上班"
        elif word in _WORKDAY_WORDS:
            target, other, other_name = workdays, holidays, "放假"
        else:
            raise ValueError(f"第 {line_no} 行：未知的类型“{word}”，应为“放假”（或“休”）或“上班”（或“班”）")
        start = _parse_date(match["start"], line_no)
        end = _parse_date(match["end"], line_no) if match["end"] else start
        for day in (start, end):
            if day.year != year:
                raise ValueError(f"第 {line_no} 行：日期 {day.isoformat()} 不在 {year} 年内")
        if end < start:
            raise ValueError(f"第 {line_no} 行：结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}")
        day = start
        while day <= end:
            if day in other:
                raise ValueError(
                    f"第 {line_no} 行：{day.isoformat()} 已在第 {other[day]} 行标为{other_name}，不能同时标为{word}"
                )
            target.setdefault(day, line_no)
            day += timedelta(days=1)
    if not holidays and not workdays:
        raise ValueError(f"没有找到任何放假或上班日期，{_EXAMPLE}")
    return YearSchedule(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays))


def format_schedule(schedule: YearSchedule) -> str:
    """The text form :func:`parse_schedule` reads, consecutive days folded into ranges."""
    entries = [(d, "放假") for d in _runs(schedule.holidays)] + [(d, "上班") for d in _runs(schedule.workdays)]
    lines = []
    for (first, last), word in sorted(entries):
        span = first.isoformat() if first == last else f"{first.isoformat()}~{last.isoformat()}"
        lines.append(f"{span} {word}")
    return "\n".join(lines)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
