"""The moderation log is append-only: model, queryset, admin and database all refuse changes."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from moderation import services
from moderation.models import AppendOnlyError, ModerationLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(study, facilitator, contribution):
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="off_topic")
    return ModerationLog.objects.get()


def test_log_action_records_who_what_which_item_reason_and_when(study, coordinator):
    entry = services.log_action(
        study=study,
        actor=coordinator,
        action="export_named",
        target_type="export",
        target_id=7,
        reason="Participant list for the report",
        details={"rows": 12},
    )
    entry.refresh_from_db()
    assert entry.study == study and entry.actor == coordinator
    assert (entry.action, entry.target_type, entry.target_id) == ("export_named", "export", 7)
    assert entry.details == {"rows": 12} and entry.created_at is not None


def test_saving_an_existing_entry_is_refused(entry):
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert ModerationLog.objects.get().reason == "off_topic"


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert ModerationLog.objects.count() == 1


def test_queryset_update_and_delete_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        ModerationLog.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        ModerationLog.objects.all().delete()
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        ModerationLog.objects.bulk_update([entry], ["reason"])
    assert ModerationLog.objects.get().reason == "off_topic"


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _check_constraints_now():
    """PostgreSQL refuses TRUNCATE of a table with deferred checks pending in this
    transaction (the test's own inserts); run them first, as a real flush would."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_database_refuses_raw_update_and_delete(entry):
    with pytest.raises(DatabaseError):
        _raw("UPDATE moderation_moderationlog SET reason = %s WHERE id = %s", ["x", entry.pk])
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM moderation_moderationlog WHERE id = %s", [entry.pk])
    assert ModerationLog.objects.get().reason == "off_topic"


def test_database_refuses_raw_changes_on_postgresql(requires_postgres, entry):
    assert connection.vendor == "postgresql"
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE moderation_moderationlog SET reason = %s WHERE id = %s", ["x", entry.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM moderation_moderationlog WHERE id = %s", [entry.pk])
    assert ModerationLog.objects.get().reason == "off_topic"


def test_database_refuses_raw_changes_to_every_row(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE moderation_moderationlog SET reason = %s", ["x"])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM moderation_moderationlog", [])
    assert ModerationLog.objects.count() == 1


def test_postgresql_refuses_truncate_of_the_log(requires_postgres, entry):
    assert connection.vendor == "postgresql"
    _check_constraints_now()
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        _raw("TRUNCATE moderation_moderationlog", [])
    # A TRUNCATE elsewhere that cascades into the log is refused as well.
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        _raw("TRUNCATE studies_study CASCADE", [])
    # Only Django's flush may set the switch; a stale "off" value changes nothing.
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        _raw(
            "SELECT set_config('dugnad.log_flush', 'off', true); TRUNCATE moderation_moderationlog",
            [],
        )
    assert ModerationLog.objects.count() == 1


def test_postgresql_truncate_switch_does_not_outlive_the_flush(requires_postgres, entry):
    """After Django's flush, the same transaction cannot TRUNCATE the log again."""
    from django.core.management.color import no_style

    sql = connection.ops.sql_flush(no_style(), ["moderation_moderationlog"])
    _check_constraints_now()
    with transaction.atomic():
        connection.ops.execute_sql_flush(sql)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('dugnad.log_flush', true)")
            assert cursor.fetchone()[0] in ("", None)
        transaction.set_rollback(True)
    assert ModerationLog.objects.count() == 1


def test_admin_is_read_only_and_cannot_delete(entry, admin_user):
    model_admin = site._registry[ModerationLog]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert not model_admin.get_actions(request)


def test_admin_change_page_post_changes_nothing(client, entry, admin_user):
    client.force_login(admin_user)
    url = f"/admin/moderation/moderationlog/{entry.pk}/change/"
    client.post(url, {"reason": "rewritten"})
    response = client.post(f"/admin/moderation/moderationlog/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code in (403, 302)
    assert ModerationLog.objects.get().reason == "off_topic"


def test_sqlite_triggers_refuse_deletes_from_connections_outside_dugnad(tmp_path):
    import importlib
    import sqlite3

    guard = importlib.import_module("moderation.migrations.0003_sqlite_log_guard_allows_flush")
    update = importlib.import_module("moderation.migrations.0002_moderation_log_append_only")
    raw = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        raw.execute("CREATE TABLE moderation_moderationlog (id INTEGER PRIMARY KEY, reason TEXT)")
        raw.execute(update.SQLITE_UP[0])
        for sql in guard.UP:
            raw.execute(sql)
        raw.execute("INSERT INTO moderation_moderationlog (reason) VALUES ('spam')")
        with pytest.raises(sqlite3.DatabaseError):
            raw.execute("DELETE FROM moderation_moderationlog")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE moderation_moderationlog SET reason = 'x'")
        assert raw.execute("SELECT reason FROM moderation_moderationlog").fetchall() == [("spam",)]
    finally:
        raw.close()


def test_flush_of_the_whole_database_still_empties_the_log(entry):
    """The test runner (and manage.py flush) wipes every table, the log included.

    SQLite flushes with DELETE, PostgreSQL with TRUNCATE; both guards let
    Django's flush through and nothing else.
    """
    from django.core.management.color import no_style

    sql = connection.ops.sql_flush(no_style(), ["moderation_moderationlog"])
    _check_constraints_now()
    with transaction.atomic():
        connection.ops.execute_sql_flush(sql)
        assert not ModerationLog.objects.exists()
        transaction.set_rollback(True)
    assert ModerationLog.objects.count() == 1
