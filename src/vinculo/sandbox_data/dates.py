"""Calendar helpers: month ends, paydays and business days.

Business days are Monday to Friday. Public holidays are not modelled.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Final

ONE_DAY: Final = timedelta(days=1)

# Lower-case month abbreviations, as banks print them in credit card bill names.
MONTH_ABBREVIATIONS: Final[dict[str, tuple[str, ...]]] = {
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "pt": ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"),
}


@functools.lru_cache(maxsize=512)
def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """Move `day` by `months` months, clipping the day of month to the month's length.

    `day_of_month` replaces the day of `day` when given.
    """
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    target_day = day.day if day_of_month is None else day_of_month
    return date(year, month + 1, min(target_day, calendar.monthrange(year, month + 1)[1]))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def previous_business_day(day: date) -> date:
    """Return `day` itself on a weekday, otherwise the Friday before it."""
    while not is_business_day(day):
        day -= ONE_DAY
    return day


@functools.lru_cache(maxsize=512)
def paydays(year: int, month: int) -> tuple[date, date]:
    """Return the two salary dates of a month: the 15th and the last day.

    A date that falls on a weekend moves to the previous Friday.
    """
    return (
        previous_business_day(date(year, month, 15)),
        previous_business_day(month_end(year, month)),
    )


def days_between(first: date, last: date) -> Iterator[date]:
    """Yield every day from `first` to `last`, both included."""
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def month_label(day: date, language: str) -> str:
    """Return a bill name such as `mar-2025` (Spanish) or `fev-2025` (Portuguese)."""
    return f"{MONTH_ABBREVIATIONS[language][day.month - 1]}-{day.year}"
