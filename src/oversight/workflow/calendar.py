"""Working days: weekends and configured holidays are skipped, make-up working days (调休) count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


class WorkCalendar:
    def __init__(self, holidays: Iterable[dt.date | str] = (), workdays: Iterable[dt.date | str] = ()) -> None:
        self.holidays = {_d(x) for x in holidays}
        self.workdays = {_d(x) for x in workdays}      # weekend days that are worked (调休)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The day ``days`` working days after ``start`` (``start`` itself is not counted)."""
        day = start
        left = days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        n, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            n += self.is_working_day(day)
        return n


def _d(x: dt.date | str) -> dt.date:
    return x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x))
