"""Dates, times and numbers as people read them, in the active language.

The one set of formatting functions for templates (the ``dugnad_format``
filters, built into every template) and for Python (e-mails, notifications,
exports' readable headers, statistics). The forms themselves live in the locale
format modules (``config/formats/nb`` and ``config/formats/en``), so nothing
here writes a month name or a separator by hand. docs/glossary.md lists them.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, timezone
from django.utils.dateformat import format as date_pattern
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

Day = dt.date | dt.datetime


def _format(name: str) -> str:
    """A format from the active language's format modules, custom names included."""
    for module in formats.get_format_modules(get_language()):
        value = getattr(module, name, None)
        if value is not None:
            return value
    return formats.get_format(name)


def _local(value: Day | str) -> Day:
    if isinstance(value, str):  # an ISO date or moment, as cached statistics keep them
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _render(value: Day | None, name: str) -> str:
    if value is None or value == "":
        return ""
    return date_pattern(_local(value), _format(name))


def long_date(value: Day | None) -> str:
    """7. desember 2026 / 7 December 2026."""
    return _render(value, "DATE_FORMAT")


def short_date(value: Day | None) -> str:
    """7. des. 2026 / 7 Dec 2026."""
    return _render(value, "ABBR_DATE_FORMAT")


def long_moment(value: dt.datetime | None) -> str:
    """7. desember 2026 kl. 14:05 / 7 December 2026, 14:05 (Oslo time)."""
    return _render(value, "DATETIME_FORMAT")


def short_moment(value: dt.datetime | None) -> str:
    """7. des. 2026 kl. 14:05 / 7 Dec 2026, 14:05 (Oslo time)."""
    return _render(value, "ABBR_DATETIME_FORMAT")


def day_month(value: Day | None) -> str:
    """4. januar / 4 January."""
    return _render(value, "MONTH_DAY_FORMAT")


def clock(value: dt.datetime | dt.time | None) -> str:
    """14:05."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return _render(value, "TIME_FORMAT")


def date_range(start: Day | None, end: Day | None) -> str:
    """26. okt.–16. nov. 2026, 3.–16. nov. 2026 / 26 Oct–16 Nov 2026, 3–16 Nov 2026."""
    if not start or not end:
        return short_date(start or end)
    first, last = _local(start), _local(end)
    first_day = first.date() if isinstance(first, dt.datetime) else first
    last_day = last.date() if isinstance(last, dt.datetime) else last
    if first_day == last_day:
        return short_date(first)
    if (first_day.year, first_day.month) == (last_day.year, last_day.month):
        head = date_pattern(first, _format("RANGE_SAME_MONTH_START"))
    elif first_day.year == last_day.year:
        head = date_pattern(first, _format("RANGE_SAME_YEAR_START"))
    else:
        head = short_date(first)
    return f"{head}{_format('RANGE_SEPARATOR')}{short_date(last)}"


def number(value: int | float | Decimal | str | None, decimals: int | None = None) -> str:
    """12 345 and 3,5 / 12,345 and 3.5: grouped thousands, the language's decimal mark."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return value
    if decimals is None and isinstance(value, float) and value.is_integer():
        value = int(value)
    elif decimals is not None:
        # Rounded half up as people round (number_format alone cuts off).
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


def percent(value: int | float | Decimal | None, decimals: int = 0) -> str:
    """12,5 % / 12.5%."""
    if value is None or value == "":
        return ""
    return _format("PERCENT_FORMAT") % number(value, decimals)


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """For 3 minutter siden / 3 minutes ago; beyond a week the date itself."""
    if value is None or value == "":
        return ""
    now = now or timezone.now()
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return short_moment(value)
    if seconds < 60:
        return _("just now")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(count)d minute ago", "%(count)d minutes ago", minutes) % {
            "count": minutes
        }
    hours = minutes // 60
    if hours < 24:
        return ngettext("%(count)d hour ago", "%(count)d hours ago", hours) % {"count": hours}
    days = hours // 24
    if days < 7:
        return ngettext("%(count)d day ago", "%(count)d days ago", days) % {"count": days}
    return short_date(value)
