"""First-response SLA in working hours, counted on the official calendar (chinese-calendar)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

LOCAL = ZoneInfo("Asia/Shanghai")


def is_workday(day: date) -> bool:
    """Official working day (holidays off, make-up working days on); outside the calendar's
    years chinese-calendar raises, so fall back to Monday–Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_hours(start: datetime, hours: float, day_start: int = 9, day_end: int = 18) -> datetime:
    """The instant ``hours`` working hours after ``start`` (UTC in, UTC out)."""
    local = start.astimezone(LOCAL)
    remaining = timedelta(hours=hours)
    while True:
        day = local.date()
        open_at = datetime.combine(day, time(day_start), LOCAL)
        close_at = datetime.combine(day, time(day_end), LOCAL)
        if is_workday(day) and local < close_at:
            begin = max(local, open_at)
            available = close_at - begin
            if remaining <= available:
                return (begin + remaining).astimezone(timezone.utc)
            remaining -= available
        local = datetime.combine(day + timedelta(days=1), time(0), LOCAL)


def working_hours_between(start: datetime, end: datetime, day_start: int = 9, day_end: int = 18) -> float:
    """Working hours from ``start`` to ``end`` on the official calendar (0 when ``end`` is not later):
    the inverse of :func:`add_working_hours`, for response and resolution times."""
    if end <= start:
        return 0.0
    local, stop = start.astimezone(LOCAL), end.astimezone(LOCAL)
    total = timedelta()
    day = local.date()
    while day <= stop.date():
        if is_workday(day):
            open_at = datetime.combine(day, time(day_start), LOCAL)
            close_at = datetime.combine(day, time(day_end), LOCAL)
            begin, finish = max(local, open_at), min(stop, close_at)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def sla_state(due_at: datetime, first_response_at: datetime | None, now: datetime) -> str:
    """met / overdue / due_soon (within an hour) / ok."""
    if first_response_at is not None:
        return "met" if first_response_at <= due_at else "overdue"
    if now > due_at:
        return "overdue"
    return "due_soon" if due_at - now <= timedelta(hours=1) else "ok"


def due_text(due_at: datetime) -> str:
    """'11月27日 11:00前' in local time, for the owner."""
    local = due_at.astimezone(LOCAL)
    return f"{local.month}月{local.day}日 {local:%H:%M}前"
