"""What a participation summary row is keyed by, for the triggers of each dialect
(summary_triggers_postgresql.py, summary_triggers_sqlite.py) and the rebuild
(summaries.py)."""

from __future__ import annotations

from reports.sql import (
    DAY_TABLE,
    KEY_TABLE,
    MULTI_TABLE,
    PERSON_TABLE,
    SUMMARY_TABLE,
)

# The tables' names (from the models, reports/sql.py), short for the triggers' SQL.
SUMMARY, DAY, PERSON = SUMMARY_TABLE, DAY_TABLE, PERSON_TABLE
KEY, MULTI = KEY_TABLE, MULTI_TABLE

KEY_GROUP = ("study_id", "acted_for_id", "acted_for_sector")
GROUP = ("study_id", "author_id", "acted_for_id", "acted_for_sector")
TRIGGER_PREFIX = "reports_summary_"
# The migration that installed these triggers; its schema is the one they need.
SCHEMA_MIGRATION = "0006_participation_multi_groups"
# What decides whether and where an item counts; a change of anything else
# (text, revision, moderation note, …) leaves the summaries alone.
KEY_COLUMNS = ("study_id", "author_id", "acted_for_id", "acted_for_sector", "created_at")


def same_group(left: str, right: str) -> str:
    """SQL: two rows (aliases) are in the same summary group (no organisation is group 0)."""
    return (
        f"{left}.study_id = {right}.study_id AND {left}.author_id = {right}.author_id "
        f"AND COALESCE({left}.acted_for_id, 0) = COALESCE({right}.acted_for_id, 0) "
        f"AND {left}.acted_for_sector = {right}.acted_for_sector"
    )
