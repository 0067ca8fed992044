"""Calendar arithmetic in the organization's time zone: board dates, weeks, months and fiscal quarters."""

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-4) given weekday (0 = Monday) of a month."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def next_meeting_at(after: datetime, tz: ZoneInfo, weekday: int, week: int, at: time) -> datetime:
    """The first board meeting strictly after `after`: the n-th weekday of a month at `at`, local time."""
    local = after.astimezone(tz)
    year, month = local.year, local.month
    for _ in range(3):
        candidate = datetime.combine(nth_weekday(year, month, weekday, week), at, tzinfo=tz)
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("a monthly date always occurs within two months")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_bounds(day: date) -> tuple[date, date]:
    """First day of the month and first day of the next."""
    start = day.replace(day=1)
    return start, start + timedelta(days=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_bounds(day: date, fiscal_year_start_month: int) -> tuple[date, date]:
    """The fiscal quarter containing `day`: its first day and the first day of the next quarter."""
    months_into_year = (day.month - fiscal_year_start_month) % 12
    start = add_months(day.replace(day=1), -(months_into_year % 3))
    return start, add_months(start, 3)
