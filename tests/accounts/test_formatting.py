# ruff: noqa: E501  (a table of expected strings reads best one case a line)
"""Dates, times and numbers in bokmål and English (accounts.formatting, config/formats/).

One table of expected strings per language: Språkrådet's bokmål forms ("7. des. 2026",
"26. okt.–16. nov. 2026", "4. januar", "12 345", "3,5", "for 3 minutter siden") and a
day-month-year English with a 24-hour clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from accounts import formatting

OSLO = ZoneInfo("Europe/Oslo")
# 14:05 in Oslo, written in UTC: the filters show Oslo time.
MOMENT = dt.datetime(2026, 12, 7, 13, 5, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
NNBSP = "\u202f"

CASES = [
    # (what, call, bokmål, English)
    ("long date", lambda: formatting.long_date(MOMENT), "7. desember 2026", "7 December 2026"),
    ("short date", lambda: formatting.short_date(MOMENT), "7. des. 2026", "7 Dec 2026"),
    ("short date in May", lambda: formatting.short_date(dt.date(2026, 5, 17)), "17. mai 2026", "17 May 2026"),
    ("date from ISO text", lambda: formatting.short_date("2026-10-26"), "26. okt. 2026", "26 Oct 2026"),
    ("moment", lambda: formatting.short_moment(MOMENT), "7. des. 2026 kl. 14:05", "7 Dec 2026, 14:05"),
    ("long moment", lambda: formatting.long_moment(MOMENT), "7. desember 2026 kl. 14:05", "7 December 2026, 14:05"),
    ("summer time", lambda: formatting.short_moment(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)), "1. jul. 2026 kl. 14:00", "1 Jul 2026, 14:00"),
    ("ordinal day and month", lambda: formatting.day_month(dt.date(2027, 1, 4)), "4. januar", "4 January"),
    ("clock", lambda: formatting.clock(MOMENT), "14:05", "14:05"),
    ("clock of a time", lambda: formatting.clock(dt.time(9, 30)), "09:30", "09:30"),
    ("range in two months", lambda: formatting.date_range(dt.date(2026, 10, 26), dt.date(2026, 11, 16)), "26. okt.–16. nov. 2026", "26 Oct–16 Nov 2026"),
    ("range in one month", lambda: formatting.date_range(dt.date(2026, 11, 3), dt.date(2026, 11, 16)), "3.–16. nov. 2026", "3–16 Nov 2026"),
    ("range over new year", lambda: formatting.date_range(dt.date(2026, 12, 28), dt.date(2027, 1, 8)), "28. des. 2026–8. jan. 2027", "28 Dec 2026–8 Jan 2027"),
    ("range of one day", lambda: formatting.date_range(MOMENT, MOMENT + dt.timedelta(hours=2)), "7. des. 2026", "7 Dec 2026"),
    ("range without an end", lambda: formatting.date_range(dt.date(2026, 11, 3), None), "3. nov. 2026", "3 Nov 2026"),
    ("range of moments in Oslo days", lambda: formatting.date_range(dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.UTC), dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)), "26. okt.–16. nov. 2026", "26 Oct–16 Nov 2026"),
    ("whole number", lambda: formatting.number(1234567), f"1{NNBSP}234{NNBSP}567", "1,234,567"),
    ("small number", lambda: formatting.number(999), "999", "999"),
    ("decimal", lambda: formatting.number(3.5), "3,5", "3.5"),
    ("decimal with places", lambda: formatting.number(12345.678, 2), f"12{NNBSP}345,68", "12,345.68"),
    ("whole float", lambda: formatting.number(12.0), "12", "12"),
    ("percent", lambda: formatting.percent(12.5, 1), "12,5\u00a0%", "12.5%"),
    ("nothing", lambda: formatting.number(None), "", ""),
    ("just now", lambda: formatting.ago(NOW - dt.timedelta(seconds=20), now=NOW), "akkurat nå", "just now"),
    ("one minute", lambda: formatting.ago(NOW - dt.timedelta(seconds=61), now=NOW), "for 1 minutt siden", "1 minute ago"),
    ("minutes", lambda: formatting.ago(NOW - dt.timedelta(minutes=3), now=NOW), "for 3 minutter siden", "3 minutes ago"),
    ("hours", lambda: formatting.ago(NOW - dt.timedelta(hours=5), now=NOW), "for 5 timer siden", "5 hours ago"),
    ("one day", lambda: formatting.ago(NOW - dt.timedelta(days=1), now=NOW), "for 1 dag siden", "1 day ago"),
    ("a week on", lambda: formatting.ago(NOW - dt.timedelta(days=9), now=NOW), "28. nov. 2026", "28 Nov 2026"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "call", "bokmal", "english"), CASES, ids=[c[0] for c in CASES])
def test_formats_in_both_languages(what, call, bokmal, english):
    with translation.override("nb"):
        assert call() == bokmal
    with translation.override("en"):
        assert call() == english


TEMPLATE_CASES = [
    ("{{ when|day }}", "7. desember 2026", "7 December 2026"),
    ("{{ when|short_day }}", "7. des. 2026", "7 Dec 2026"),
    ("{{ when|moment }}", "7. des. 2026 kl. 14:05", "7 Dec 2026, 14:05"),
    ("{{ when|long_moment }}", "7. desember 2026 kl. 14:05", "7 December 2026, 14:05"),
    ("{{ when|day_month }}", "7. desember", "7 December"),
    ("{{ when|clock }}", "14:05", "14:05"),
    ("{{ start|date_range:end }}", "26. okt.–16. nov. 2026", "26 Oct–16 Nov 2026"),
    ("{{ count|number }}", f"12{NNBSP}345", "12,345"),
    ("{{ share|number:1 }}", "3,5", "3.5"),
    ("{{ share|percent:1 }}", "3,5\u00a0%", "3.5%"),
]


@pytest.mark.parametrize(("source", "bokmal", "english"), TEMPLATE_CASES)
def test_the_filters_need_no_load_and_follow_the_language(source, bokmal, english):
    context = Context(
        {
            "when": MOMENT,
            "start": dt.date(2026, 10, 26),
            "end": dt.date(2026, 11, 16),
            "count": 12345,
            "share": 3.5,
        }
    )
    template = Template(source)
    with translation.override("nb"):
        assert template.render(context) == bokmal
    with translation.override("en"):
        assert template.render(context) == english


def test_the_relative_time_filter_counts_from_now():
    from django.utils import timezone

    template = Template("{{ when|ago }}")
    with translation.override("nb"):
        rendered = template.render(Context({"when": timezone.now() - dt.timedelta(minutes=3)}))
    assert rendered == "for 3 minutter siden"


def test_no_template_formats_a_date_by_hand():
    """Dates go through the filters: |date is left for machine forms (ISO 8601, epoch)."""
    from pathlib import Path

    from django.conf import settings

    found = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.*"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in __import__("re").finditer(r"\|date:(['\"])(.*?)\1", line):
                if match.group(2) not in {"c", "U"}:
                    found.append(f"{path.name}:{number}: {match.group(0)}")
    assert found == []
