"""The SQL that statistics.py reads with and summaries.py keeps the tables for.

Both write raw SQL (one statement per figure set; triggers per dialect), so
both need the same pieces: the counted-item rule, the tables' names (from
each model's ``_meta``, never typed twice), the Europe/Oslo date of a moment
and the union of counted items. They live here, public, so neither module
reaches into the other's private helpers.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from accounts.models import Affiliation, Organisation
from contributions.models import UNCOUNTED_REASONS, Comment, Contribution, ItemState
from reports.models import (
    ParticipationDay,
    ParticipationMultiGroup,
    ParticipationOrganisation,
    ParticipationPerson,
    ParticipationSummary,
)

STATISTICS_TIME_ZONE = "Europe/Oslo"

SUMMARY_TABLE = ParticipationSummary._meta.db_table
DAY_TABLE = ParticipationDay._meta.db_table
PERSON_TABLE = ParticipationPerson._meta.db_table
KEY_TABLE = ParticipationOrganisation._meta.db_table
MULTI_TABLE = ParticipationMultiGroup._meta.db_table
ORGANISATION_TABLE = Organisation._meta.db_table
AFFILIATION_TABLE = Affiliation._meta.db_table
CONTRIBUTION_TABLE = Contribution._meta.db_table
COMMENT_TABLE = Comment._meta.db_table
# (table, is a contribution, is a comment): the two item tables the figures count.
ITEM_TABLES = ((CONTRIBUTION_TABLE, 1, 0), (COMMENT_TABLE, 0, 1))

_quoted_reasons = ", ".join(f"'{r}'" for r in UNCOUNTED_REASONS)


def counted_sql(prefix: str = "") -> str:
    """The counted-item rule in SQL, on columns named with ``prefix`` ("i.", "NEW.")."""
    return (
        f"({prefix}state IN ('{ItemState.PUBLISHED}', '{ItemState.WITHDRAWN}') "
        f"OR ({prefix}state = '{ItemState.HIDDEN}' "
        f"AND {prefix}moderation_reason NOT IN ({_quoted_reasons})))"
    )


# The counted-item rule in SQL. It must stay word for word the predicate of the
# partial indexes in reports/migrations, or PostgreSQL will not use them.
COUNTED_SQL = counted_sql()


def local_date_sql(column: str, conn=None) -> tuple[str, list]:
    """The vendor's expression for the Europe/Oslo calendar date of a timestamp column."""
    return (conn or connection).ops.datetime_cast_date_sql(column, (), STATISTICS_TIME_ZONE)


def items_sql(
    where: str, params: list, columns: str, column_params: tuple | list = ()
) -> tuple[str, list]:
    """Counted contributions UNION ALL counted comments; {c}/{m} in columns mark the table."""
    parts, all_params = [], []
    for table, is_contribution, is_comment in ITEM_TABLES:
        # Constant SQL text (table names, the counted rule); values are parameters.
        select = columns.format(c=is_contribution, m=is_comment)
        parts.append(f"SELECT {select} FROM {table} WHERE {where} AND {COUNTED_SQL}")  # noqa: S608
        all_params += [*column_params, *params]
    return " UNION ALL ".join(parts), all_params


def iso_utc(value) -> str:
    """A moment from the database (a datetime, or text from SQLite) in UTC, ISO 8601."""
    if isinstance(value, str):  # SQLite returns text from aggregates over a union
        value = dt.datetime.fromisoformat(value)
        if timezone.is_naive(value):
            value = value.replace(tzinfo=dt.UTC)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()
