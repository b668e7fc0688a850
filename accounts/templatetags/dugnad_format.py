"""Template filters for dates, times and numbers (accounts.formatting).

Built into every template (settings.TEMPLATES' ``builtins``), so no ``{% load %}``:
``{{ when|moment }}``, ``{{ start|date_range:end }}``, ``{{ count|number }}``,
``{{ share|percent:1 }}``, ``{{ when|ago }}``. docs/glossary.md lists them all.
"""

from __future__ import annotations

from django import template

from accounts import formatting

register = template.Library()

register.filter("day", formatting.long_date)
register.filter("short_day", formatting.short_date)
register.filter("moment", formatting.short_moment)
register.filter("long_moment", formatting.long_moment)
register.filter("day_month", formatting.day_month)
register.filter("clock", formatting.clock)
register.filter("date_range", formatting.date_range)
register.filter("ago", formatting.ago)


@register.filter("number")
def number(value, decimals=None):
    return formatting.number(value, None if decimals in (None, "") else int(decimals))


@register.filter("percent")
def percent(value, decimals=0):
    return formatting.percent(value, int(decimals))


@register.filter(is_safe=True)
def page_title(value: str) -> str:
    """The page's own title, then "Dugnad": "Versjoner – Studie – Dugnad"."""
    text = " ".join(str(value).split())
    return f"{text} – Dugnad" if text else "Dugnad"


@register.filter(is_safe=True)
def oneline(value: str) -> str:
    """Text on one line, at most 300 characters: for a meta description."""
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:299].rstrip() + "…"


@register.filter
def page_links(page) -> list:
    """The page numbers to link for a Django ``Page``: the ends and the neighbours, with
    ``None`` for the gaps (templates/_pagination.html draws Designsystemet's pagination)."""
    paginator = page.paginator
    return [
        None if number == paginator.ELLIPSIS else number
        for number in paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
    ]
