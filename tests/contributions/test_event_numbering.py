"""Event numbering in one statement, posting's order of writes, and the study's
newest event number in the presence message (a page behind catches up)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contributions import services
from contributions.models import Comment
from studies import events
from studies.models import Study, StudyEvent
from tests.conftest import broadcast_html
from tests.contributions.factories import member
from tests.contributions.test_consumers import connect, receive_type
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_events_are_numbered_by_one_update_without_a_savepoint():
    study = StudyFactory()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        first = events.record_event(study_id=study.pk, kind="test", key="a")
        second = events.record_event(study_id=study.pk, kind="test", key="b")
    assert (first.seq, second.seq) == (1, 2)
    study.refresh_from_db()
    assert study.last_event_seq == 2
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert not any("SAVEPOINT" in s for s in sql), sql
    assert not any("FOR UPDATE" in s for s in sql), sql
    assert sum(s.startswith("UPDATE STUDIES_STUDY SET") and "RETURNING" in s for s in sql) == 2


def test_recording_outside_a_transaction_is_still_atomic():
    study = StudyFactory()
    event = events.record_event(study_id=study.pk, kind="test")
    assert StudyEvent.objects.get(study=study, seq=1).pk == event.pk


def test_an_unknown_study_records_nothing():
    with pytest.raises(Study.DoesNotExist):
        events.record_event(study_id=987654, kind="test")
    assert not StudyEvent.objects.exists()


def test_a_comment_takes_its_event_number_as_its_transactions_last_write():
    """The study row is locked from numbering to commit: nothing but the event may follow,
    and nothing the poster does not wait for (notification, search) is written at all."""
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(study=study, author=author, title="T", body="b")
    commenter = member(study)
    # The capture ends before the commit, so after-commit work (tasks, e-mail) is left out.
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        services.comment_create(contribution=contribution, author=commenter, body="Hello")
    sql = [q["sql"] for q in queries.captured_queries]
    numbering = next(i for i, s in enumerate(sql) if s.startswith("UPDATE studies_study SET"))
    assert not any("accounts_notification" in s or "search_document" in s for s in sql), sql
    writes_after = [
        s for s in sql[numbering + 1 :] if s.split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert [s.split()[2] for s in writes_after] == ['"studies_studyevent"'], writes_after


def test_current_seq_is_read_once_and_shared_until_it_expires(django_assert_num_queries):
    study = StudyFactory()
    events.record_event(study_id=study.pk, kind="test")
    with django_assert_num_queries(1):
        assert events.current_seq(study_id=study.pk) == 1
        assert events.current_seq(study_id=study.pk) == 1
    assert events.current_seq(study_id=987654) == 0


async def test_presence_message_carries_the_studys_newest_event(settings):
    settings.DUGNAD_PRESENCE_SECONDS = 1
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)

    def post_unseen():
        # Recorded but never broadcast, as when Redis was away at the time.
        with transaction.atomic():
            services.contribution_create(study=study, author=author, title="Unseen", body="b")
            connection.run_on_commit.clear()

    await database_sync_to_async(post_unseen)()
    communicator, connected, _ = await connect(study)
    assert connected
    seqs = []
    for _ in range(4):  # the first presence answers the connect, without a number
        message = await receive_type(communicator, "presence", timeout=4)
        if "seq" in message["data"]:
            seqs.append(message["data"]["seq"])
            break
    assert seqs == [1]
    await communicator.disconnect()


def test_on_postgresql_a_comment_is_rendered_before_its_row_is_written(
    requires_postgres,
):
    """The comment's insert (summary rows) and its event (study row) lock until commit:
    nothing but the two of them may run while those locks are held."""
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(study=study, author=author, title="T", body="b")
    commenter = member(study)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        comment = services.comment_create(contribution=contribution, author=commenter, body="Hello")
    # (The service's own transaction is a savepoint inside the test's.)
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    insert = next(
        i for i, s in enumerate(sql) if s.startswith('INSERT INTO "contributions_comment"')
    )
    assert sql[insert - 1].startswith("SELECT nextval(")
    # The reply notification and the search document follow after commit, in tasks.
    assert not any("accounts_notification" in s or "search_document" in s for s in sql), sql
    assert [s.split()[:3] for s in sql[insert + 1 :]] == [
        ["UPDATE", "studies_study", "SET"],
        ["INSERT", "INTO", '"studies_studyevent"'],
    ]
    event = StudyEvent.objects.get(study=study, key=comment.dom_id)
    assert "Hello" in broadcast_html(event)
    assert Comment.objects.get(pk=comment.pk).body == "Hello"


def test_posting_a_comment_over_htmx_renders_it_once_per_language(client, item_render_count):
    """The event's rendering is reused for the poster's own answer."""
    from django.conf import settings
    from django.urls import reverse

    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(study=study, author=author, title="T", body="b")
    commenter = member(study)
    client.force_login(commenter)
    before = item_render_count["count"]
    response = client.post(
        reverse("comment_form", kwargs={"slug": study.slug, "pk": contribution.pk}),
        {"body": "Rendered once", "idempotency_key": "2b7e1516-28ae-4d2a-8f6b-0e5c0a1b2c3d"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Rendered once" in response.content.decode()
    assert item_render_count["count"] - before == len(settings.LANGUAGES)
    event = StudyEvent.objects.get(study=study, kind="comment.created")
    assert "Rendered once" in broadcast_html(event)


async def test_the_presence_loop_ends_when_its_socket_is_gone(settings, monkeypatch):
    settings.DUGNAD_PRESENCE_SECONDS = 1
    from contributions.consumers import StudyConsumer

    study = await database_sync_to_async(StudyFactory)()
    sends = []

    async def gone(self, payload):
        sends.append(payload)
        raise OSError("client disconnected")

    consumer = StudyConsumer()
    consumer.study_id = study.pk
    consumer.windows = set()
    monkeypatch.setattr(StudyConsumer, "_send", gone)
    # Returns by itself after the first failed send instead of retrying every window.
    await asyncio.wait_for(consumer._presence_loop(), timeout=5)
    assert len(sends) == 1 and sends[0]["data"]["seq"] == 0
