"""Reporting periods (calendar quarters, `AAAA-Tn`) and cut-off dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PERIOD = re.compile(r"^(\d{4})-T([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip().upper())
        if not m:
            raise ValueError(f"« {text} » n'est pas une période au format AAAA-Tn (ex. 2025-T2).")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Period:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_finished(cls, today: dt.date) -> Period:
        """The last quarter that is over on `today`: the default period of a quarterly run."""
        return cls.of(today).previous()

    def previous(self) -> Period:
        return Period(self.year - 1, 4) if self.quarter == 1 else Period(self.year, self.quarter - 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> dt.date:
        if self.quarter == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.quarter + 1, 1) - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return f"{self.year}-T{self.quarter}"


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` calendar months later, clamped to the month's end (31/08 + 6 → 28/02)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)
