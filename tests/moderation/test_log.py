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


def test_database_refuses_raw_changes_on_sqlite(entry):
    if connection.vendor != "sqlite":
        pytest.skip("this run uses PostgreSQL; its trigger is tested above")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE moderation_moderationlog SET reason = %s", ["x"])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM moderation_moderationlog", [])
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
