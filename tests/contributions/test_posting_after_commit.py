"""Posting does only what the poster waits for: the item, its event and its broadcast.

The reply notification (with its unread count and e-mail) and the search
document follow after commit, in tasks that read the item as it is when they
run: a comment hidden, withdrawn or edited before then is never notified or
indexed with the text it no longer has, and a task run twice is harmless.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Notification
from contributions import notifications, services
from contributions.models import Comment, Contribution, ItemState
from core.tasks import task
from search import selectors as search_selectors
from search.models import SearchDocument
from search.text import parse_query
from studies.models import ModerationMode, Visibility
from tests.contributions.factories import member
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """The tasks run where they are queued, also with a broker (REDIS_URL)."""


@pytest.fixture
def thread():
    study = StudyFactory(slug="digital-assistent")
    author = member(study, display_name="Kari", language="en")
    commenter = member(study, display_name="Ola", language="en")
    contribution = services.contribution_create(
        study=study, author=author, title="Plain language", body="Forms in plain words."
    )
    return study, author, commenter, contribution


def found(word: str, *, study, user=None) -> list[str]:
    page = search_selectors.search(
        user=user or AnonymousUser(),
        query=parse_query(word),
        filters=search_selectors.SearchFilters(),
        study=study,
    )
    return [f"{r.document.source}:{r.document.object_id}" for r in page.results]


def post_comment(client, study, contribution, body: str, **extra):
    return client.post(
        reverse("comment_form", kwargs={"slug": study.slug, "pk": contribution.pk}),
        {"body": body, "idempotency_key": str(uuid.uuid4()), **extra},
        HTTP_HX_REQUEST="true",
    )


def run(callbacks) -> None:
    for callback in callbacks:
        callback()


@pytest.fixture
def commented(thread, django_capture_on_commit_callbacks):
    """Posts a comment to the thread as its commenter; gives the comment and its
    deferred tasks (the on-commit callbacks), not yet run: `run` runs them."""

    def post(body: str):
        _study, _author, commenter, contribution = thread
        with django_capture_on_commit_callbacks() as callbacks:
            comment = services.comment_create(
                contribution=contribution, author=commenter, body=body
            )
        return comment, callbacks

    return post


# --- what the posting request does --------------------------------------------------


def test_posting_a_comment_writes_only_the_comment_and_its_event_in_the_request(
    client, thread, django_capture_on_commit_callbacks
):
    study, author, commenter, contribution = thread
    client.force_login(commenter)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        response = post_comment(client, study, contribution, "Agreed, plainly.")
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "accounts_notification" not in sql
    assert "search_document" not in sql
    assert not Notification.objects.exists()
    comment = Comment.objects.get(body="Agreed, plainly.")
    assert not SearchDocument.objects.filter(source="comment", object_id=comment.pk).exists()
    # After the commit, eager Celery: the notification and the document arrive.
    run(callbacks)
    notification = Notification.objects.get(user=author)
    assert notification.title == "Ola commented on your contribution “Plain language”"
    assert notification.body == "Agreed, plainly."
    assert found("plainly", study=study) == [f"comment:{comment.pk}"]


@pytest.fixture
def sent(monkeypatch):
    """The names of the Celery messages sent (each still runs, eagerly)."""
    from config.celery import DugnadTask

    names: list[str] = []
    apply_async = DugnadTask.apply_async

    def recorded(self, *args, **kwargs):
        names.append(self.name)
        return apply_async(self, *args, **kwargs)

    monkeypatch.setattr(DugnadTask, "apply_async", recorded)
    return names


def test_a_posted_comment_sends_one_message_for_its_notifications_and_its_document(
    client, thread, sent, django_capture_on_commit_callbacks
):
    study, author, commenter, contribution = thread
    client.force_login(commenter)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_comment(client, study, contribution, "One message, plainly")
    assert response.status_code == 200
    assert sent == []  # nothing before the commit
    run(callbacks)
    assert sent == ["contributions.tasks.comment_posted"]
    comment = Comment.objects.get(body="One message, plainly")
    assert Notification.objects.filter(user=author).count() == 1
    assert found("plainly", study=study) == [f"comment:{comment.pk}"]


def test_a_pending_comment_sends_only_its_search_message(
    client, thread, sent, django_capture_on_commit_callbacks
):
    study, _author, commenter, contribution = thread
    study.moderation_mode = ModerationMode.PRE
    study.save(update_fields=["moderation_mode"])
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(contribution=contribution, author=commenter, body="Waiting")
    assert sent == ["search.tasks.document_refresh"]
    assert not Notification.objects.exists()


def test_the_document_is_written_even_when_the_notifications_fail(thread, commented, monkeypatch):
    study, _author, _commenter, _contribution = thread
    comment, callbacks = commented("Vaffelhjerte regardless")

    def broken(**kwargs):
        raise RuntimeError("mail server gone")

    monkeypatch.setattr(notifications, "reply_notify", broken)
    with pytest.raises(RuntimeError):
        task("contributions.tasks.comment_posted")(comment.pk)
    assert found("vaffelhjerte", study=study) == [f"comment:{comment.pk}"]


def test_posting_a_comment_takes_the_same_small_number_of_queries_each_time(
    client, thread, django_assert_num_queries
):
    """The user, the contribution with its study, the poster's membership and the
    idempotency check (one query), (PostgreSQL: the id), the comment, the event's
    number and the event, with the transaction's savepoint and its release (a savepoint
    inside the test's transaction): nothing for notifications or search."""
    study, _author, commenter, contribution = thread
    client.force_login(commenter)
    post_comment(client, study, contribution, "Warming up")  # the session's first use
    expected = 8 if connection.vendor == "postgresql" else 7
    for body in ("First of two", "Second of two"):
        with django_assert_num_queries(expected):
            response = post_comment(client, study, contribution, body)
        assert response.status_code == 200


def test_posting_a_comment_reads_the_contribution_once_with_all_the_post_needs(client, thread):
    study, _author, commenter, contribution = thread
    client.force_login(commenter)
    post_comment(client, study, contribution, "Warming up")
    with CaptureQueriesContext(connection) as queries:
        response = post_comment(client, study, contribution, "Counted once")
    assert response.status_code == 200
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "contributions_contribution"' in q["sql"]
    ]
    assert len(reads) == 1, reads
    assert '"studies_membership"' in reads[0]
    assert '"idempotency_key"' in reads[0]
    assert not any('FROM "studies_membership"' in q["sql"] for q in queries.captured_queries)


def test_a_repeated_post_answers_with_the_first_comment(client, thread):
    study, author, commenter, contribution = thread
    client.force_login(commenter)
    key = str(uuid.uuid4())
    first = post_comment(client, study, contribution, "Only once", idempotency_key=key)
    again = post_comment(client, study, contribution, "Only once", idempotency_key=key)
    assert first.status_code == again.status_code == 200
    assert Comment.objects.filter(body="Only once").count() == 1
    # Another person's key is theirs: the same key posts a comment of one's own.
    client.force_login(author)
    mine = post_comment(client, study, contribution, "Mine too", idempotency_key=key)
    assert mine.status_code == 200
    assert Comment.objects.get(body="Mine too").author == author


def test_a_contribution_read_for_another_post_is_checked_again(thread):
    """The read carries the answer for its own person and key only."""
    from contributions import selectors

    study, author, commenter, contribution = thread
    first = services.comment_create(
        contribution=contribution, author=commenter, body="First", idempotency_key=uuid.uuid4()
    )
    _access, read = selectors.contribution_with_access(
        user=commenter, slug=study.slug, pk=contribution.pk, comment_key=uuid.uuid4()
    )
    assert read.comment_posted_with[2] is None
    again = services.comment_create(
        contribution=read, author=commenter, body="Other", idempotency_key=first.idempotency_key
    )
    assert again == first
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="off_topic")
    with pytest.raises(ValidationError):
        # Read by another person: the state is read again, and it is hidden now.
        services.comment_create(
            contribution=read,
            author=author,
            body="Late",
            idempotency_key=read.comment_posted_with[1],
        )
    assert Comment.objects.count() == 1


def test_posting_a_contribution_reads_the_membership_once(
    client, thread, django_assert_num_queries
):
    study, _author, commenter, _contribution = thread
    client.force_login(commenter)
    url = reverse("contribution_list", kwargs={"slug": study.slug})

    def post(title):
        return client.post(
            url,
            {"title": title, "body": "Text", "kind": "idea", "idempotency_key": str(uuid.uuid4())},
            HTTP_HX_REQUEST="true",
        )

    post("Warming up")
    with CaptureQueriesContext(connection) as queries:
        response = post("Counted")
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "studies_membership"' in s for s in sql) == 1, sql
    assert not any("search_document" in s for s in sql)


def test_the_combined_read_refuses_what_the_separate_reads_refused(client, thread):
    study, _author, commenter, contribution = thread
    other = StudyFactory(slug="annen")
    elsewhere = services.contribution_create(
        study=other, author=member(other), title="Elsewhere", body="b"
    )
    client.force_login(commenter)
    # Another study's contribution under this study's address.
    assert post_comment(client, study, elsewhere, "Lost").status_code == 404
    # A members-only study the person is not a member of.
    closed = StudyFactory(slug="lukket", visibility=Visibility.MEMBERS)
    hidden_there = services.contribution_create(
        study=closed, author=member(closed), title="Inside", body="b"
    )
    assert post_comment(client, closed, hidden_there, "Let me in").status_code == 404
    # A hidden contribution, for an ordinary member.
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="off_topic")
    assert post_comment(client, study, contribution, "On a hidden one").status_code == 404
    assert not Comment.objects.exists()


def test_a_non_member_of_an_open_study_is_refused_and_nothing_is_saved(client, thread):
    study, _author, _commenter, contribution = thread
    outsider = member(StudyFactory())  # a member elsewhere only
    outsider.display_name = "Per"
    outsider.save()
    client.force_login(outsider)
    response = post_comment(client, study, contribution, "Not mine to post")
    assert response.status_code in (403, 404)
    assert not Comment.objects.exists()


# --- the deferred tasks read the item as it is ----------------------------------------


def test_a_comment_hidden_before_its_tasks_run_is_neither_notified_nor_found(thread, commented):
    study, author, commenter, _contribution = thread
    comment, callbacks = commented("Hurtigruten spam")
    services.item_change_state(item=comment, state=ItemState.HIDDEN, reason="spam")
    run(callbacks)
    assert not Notification.objects.filter(user=author).exists()
    assert found("hurtigruten", study=study) == []
    assert found("hurtigruten", study=study, user=commenter) == []
    document = SearchDocument.objects.get(source="comment", object_id=comment.pk)
    assert document.state == ItemState.HIDDEN


def test_a_comment_withdrawn_before_its_tasks_run_is_neither_notified_nor_found(thread, commented):
    study, author, commenter, _contribution = thread
    comment, callbacks = commented("Fjellvettreglene first")
    services.comment_withdraw(comment=comment, user=commenter)
    run(callbacks)
    assert not Notification.objects.exists()
    assert found("fjellvettreglene", study=study) == []


def test_a_comment_deleted_before_its_tasks_run_leaves_nothing(thread, commented):
    study, _author, commenter, _contribution = thread
    comment, callbacks = commented("Soon gone")
    Comment.objects.filter(pk=comment.pk).delete()
    run(callbacks)
    assert not Notification.objects.exists()
    assert not SearchDocument.objects.filter(source="comment").exists()


def test_a_comment_edited_before_its_tasks_run_is_notified_and_found_with_its_new_text(
    thread, commented
):
    study, author, commenter, _contribution = thread
    comment, callbacks = commented("Telefonnummeret mitt er hemmelig")
    services.comment_edit(comment=comment, editor=commenter, body="Brukervennlig skjema")
    run(callbacks)
    notification = Notification.objects.get(user=author)
    assert notification.body == "Brukervennlig skjema"
    assert found("telefonnummeret", study=study) == []
    assert found("brukervennlig", study=study) == [f"comment:{comment.pk}"]


def test_the_tasks_run_twice_make_one_notification_and_one_document(thread, commented):
    study, author, commenter, _contribution = thread
    comment, callbacks = commented("Skattemelding twice")
    run(callbacks)
    run(callbacks)
    task("contributions.tasks.comment_posted").delay(comment.pk)
    task("contributions.tasks.reply_notify").delay(comment.pk)
    task("search.tasks.document_refresh").delay("comment", comment.pk)
    assert Notification.objects.filter(user=author).count() == 1
    assert SearchDocument.objects.filter(source="comment", object_id=comment.pk).count() == 1
    assert found("skattemelding", study=study) == [f"comment:{comment.pk}"]


def test_a_reply_run_twice_notifies_each_person_once(thread):
    _study, author, commenter, contribution = thread
    third = member(contribution.study, display_name="Per")
    parent = services.comment_create(contribution=contribution, author=commenter, body="First")
    reply = services.comment_create(
        contribution=contribution, author=third, body="Reply", parent=parent
    )
    assert notifications.reply_notify(comment_id=reply.pk) == 2
    assert notifications.reply_notify(comment_id=reply.pk) == 0
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(
        [author.pk, commenter.pk]
    )


def test_a_pending_comment_is_notified_after_the_approval_commits(
    thread, django_capture_on_commit_callbacks
):
    study, author, commenter, contribution = thread
    study.refresh_from_db()
    study.moderation_mode = ModerationMode.PRE
    study.save(update_fields=["moderation_mode"])
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_create(
            contribution=contribution, author=commenter, body="Wait for it"
        )
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        services.item_change_state(item=comment, state=ItemState.PUBLISHED)
    assert not Notification.objects.exists()  # not in the approving transaction
    run(callbacks)
    assert Notification.objects.filter(user=author).count() == 1


def test_a_rolled_back_post_queues_nothing(thread, django_capture_on_commit_callbacks):
    _study, _author, commenter, contribution = thread

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.comment_create(contribution=contribution, author=commenter, body="Undone")
        raise RuntimeError
    assert callbacks == []
    assert not Comment.objects.exists()


def test_a_contribution_is_found_once_its_task_has_run_and_not_if_hidden_before(
    django_capture_on_commit_callbacks,
):
    study = StudyFactory()
    author = member(study)
    with django_capture_on_commit_callbacks() as callbacks:
        kept = services.contribution_create(
            study=study, author=author, title="Sykkelveier", body="Flere sykkelveier."
        )
        gone = services.contribution_create(
            study=study, author=author, title="Spamvarer", body="Kjøp spamvarer."
        )
    assert found("sykkelveier", study=study) == []  # not yet: the task runs after commit
    services.item_change_state(item=gone, state=ItemState.REMOVED, reason="spam")
    run(callbacks)
    assert found("sykkelveier", study=study) == [f"contribution:{kept.pk}"]
    assert found("spamvarer", study=study) == []
    assert Contribution.objects.count() == 2


def test_queuing_from_another_thread_builds_no_second_result_backend():
    """Each request runs its view in a thread of its own: Celery's stand-in result
    backend (it keeps none) is one for the process, not built again per thread."""
    import threading

    from config.celery import app

    here = app.backend
    there = []
    thread = threading.Thread(target=lambda: there.append(app.backend))
    thread.start()
    thread.join()
    assert there == [here]
