"""Notifications: the list, unread count, live updates, per-kind settings, e-mail."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.core.cache import cache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from accounts.models import Delivery, Notification, NotificationSetting
from accounts.selectors import UNREAD_KEY, unread_count
from accounts.services import notification_create, notification_mark_read
from tests.factories import UserFactory
from tests.live_browser import cookie_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory(email="kari@example.org", display_name="Kari")


def _notify(person, kind="reply", title="Ola replied to your contribution", **extra):
    return notification_create(user=person, kind=kind, title=title, url="/studies/x/", **extra)


def test_a_notification_is_emailed_at_once_after_commit_by_default(
    person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(person)
    assert notification.delivery == Delivery.INSTANT
    [message] = mail.outbox
    assert message.to == ["kari@example.org"]
    assert "Ola replied to your contribution" in message.subject
    assert "http://127.0.0.1:8000/studies/x/" in message.body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_no_email_is_sent_when_the_transaction_rolls_back(
    person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify(person)
    assert callbacks  # queued for after commit, not sent inside the transaction
    assert not mail.outbox


def test_a_notification_is_emailed_once_even_if_the_task_runs_twice(person):
    from accounts.services import notification_email_send

    notification = _notify(person)
    assert notification_email_send(notification_id=notification.pk) is True
    assert notification_email_send(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_person_who_chose_only_in_app_gets_no_email(person, django_capture_on_commit_callbacks):
    NotificationSetting.objects.create(user=person, kind="moderation", delivery=Delivery.NONE)
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(person, kind="moderation", title="Your comment was hidden")
    assert notification.delivery == Delivery.NONE
    assert not mail.outbox
    assert Notification.objects.filter(user=person).count() == 1


def test_a_person_who_chose_the_digest_gets_no_email_at_once(
    person, django_capture_on_commit_callbacks
):
    NotificationSetting.objects.create(user=person, kind="reply", delivery=Delivery.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(person)
    assert notification.delivery == Delivery.DIGEST
    assert not mail.outbox


def test_settings_are_per_kind(person, django_capture_on_commit_callbacks):
    NotificationSetting.objects.create(user=person, kind="reply", delivery=Delivery.NONE)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person, kind="reply")
        _notify(person, kind="invitation", title="You are invited")
    assert [m.subject for m in mail.outbox] == ["[Dugnad] You are invited"]


def test_lazy_titles_are_written_in_the_recipients_language(person):
    person.language = "en"
    person.save()
    title = format_lazy("{} {}", gettext_lazy("Notifications"), "!")
    assert _notify(person, title=title).title == "Notifications !"
    person.language = "nb"
    person.save()
    assert _notify(person, title=title).title == "Varsler !"


def test_the_email_is_in_the_recipients_language(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)
    assert "Hei Kari" in mail.outbox[-1].body
    person.language = "en"
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)
    assert "Hello Kari" in mail.outbox[-1].body


def test_the_settings_page_saves_a_choice_per_kind(client, person):
    client.force_login(person)
    data = dict.fromkeys(("reply", "moderation", "invitation", "approval"), "instant")
    data.update({"reply": "digest", "data_export": "instant", "other": "none"})
    response = client.post(reverse("notification_settings"), data)
    assert response.status_code == 302
    saved = dict(NotificationSetting.objects.filter(user=person).values_list("kind", "delivery"))
    assert saved["reply"] == "digest" and saved["other"] == "none"


def test_the_settings_page_refuses_an_unknown_choice(client, person):
    client.force_login(person)
    response = client.post(reverse("notification_settings"), {"reply": "carrier-pigeon"})
    assert response.status_code == 400
    assert not NotificationSetting.objects.exists()


def test_the_list_shows_only_my_notifications_with_the_unread_count(client, person):
    _notify(person, title="Mine, unread")
    _notify(UserFactory(), title="Someone else's")
    client.force_login(person)
    response = client.get(reverse("notifications"))
    content = response.content.decode()
    assert "Mine, unread" in content and "Someone else's" not in content
    assert response.context["unread_notifications"] == 1
    badge = '<span class="ds-tag badge" id="unread-count" data-person-socket="/ws/me/">1</span>'
    assert badge in content


def test_marking_read_lowers_the_unread_count(client, person):
    first = _notify(person)
    _notify(person)
    client.force_login(person)
    response = client.post(reverse("notification_read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert client.get(reverse("notifications")).context["unread_notifications"] == 1
    client.post(reverse("notifications_read_all"))
    assert client.get(reverse("notifications")).context["unread_notifications"] == 0


def _badge(client) -> str:
    html = client.get(reverse("home")).content.decode()
    start = html.index('id="unread-count"')
    return html[html.index(">", start) + 1 : html.index("</span>", start)]


def test_the_unread_count_is_counted_once_and_then_read_from_the_cache(client, person):
    _notify(person)
    client.force_login(person)
    assert _badge(client) == "1"
    with CaptureQueriesContext(connection) as queries:
        assert _badge(client) == "1"
    assert not any('FROM "accounts_notification"' in q["sql"] for q in queries)


def test_a_new_or_read_notification_changes_the_cached_count_at_once(client, person):
    client.force_login(person)
    assert _badge(client) == "0"
    first = _notify(person)
    assert _badge(client) == "1"
    notification_mark_read(user=person, notification_id=first.pk)
    assert _badge(client) == "0"


def test_a_count_stored_by_another_request_before_the_commit_is_dropped_at_the_commit(
    person, django_capture_on_commit_callbacks
):
    key = UNREAD_KEY.format(person.pk)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)
        cache.set(key, 0)  # a page counted without this transaction's notification
    assert cache.get(key) is None
    assert unread_count(user=person) == 1


def test_pages_and_marking_read_work_while_the_cache_is_down(
    client, person, monkeypatch, django_capture_on_commit_callbacks
):
    first = _notify(person)
    _notify(person)

    def down(real):
        def call(key, *args, **kwargs):
            if str(key).startswith("unread:"):
                raise ConnectionError("cache down")
            return real(key, *args, **kwargs)

        return call

    for name in ("get", "add", "delete"):
        monkeypatch.setattr(cache, name, down(getattr(cache, name)))
    client.force_login(person)
    assert _badge(client) == "2"  # counted in the database
    with django_capture_on_commit_callbacks(execute=True):
        notification_mark_read(user=person, notification_id=first.pk)
    assert _badge(client) == "1"


def test_the_cached_count_is_per_person(client, person):
    other = UserFactory()
    _notify(other)
    client.force_login(person)
    assert _badge(client) == "0"
    client.force_login(other)
    assert _badge(client) == "1"


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, person):
    notification = _notify(person)
    client.force_login(person)
    response = client.post(reverse("notification_read", args=[notification.pk]), {"open": "1"})
    assert response.status_code == 302 and response.url == "/studies/x/"


def test_opening_never_leaves_the_site(client, person):
    notification = notification_create(
        user=person, kind="other", title="Odd", url="https://evil.example/"
    )
    client.force_login(person)
    response = client.post(reverse("notification_read", args=[notification.pk]), {"open": "1"})
    assert response.url == reverse("notifications")


def test_someone_else_cannot_mark_my_notification_read(client, person):
    notification = _notify(person)
    client.force_login(UserFactory())
    response = client.post(reverse("notification_read", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_notification_pages_need_a_signed_in_person(client):
    for name in ("notifications", "notification_settings", "my_data"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("account_login") in response.url


def _person_socket(user) -> WebsocketCommunicator:
    """A socket to /ws/me/ for ``user``, not yet connected."""
    from config.routing import websocket_urlpatterns

    socket = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/me/")
    socket.scope["user"] = user
    return socket


async def _connected(user) -> WebsocketCommunicator:
    socket = _person_socket(user)
    assert (await socket.connect())[0]
    return socket


@pytest.mark.django_db(transaction=True)
async def test_the_unread_count_arrives_live_on_my_socket_only(person):
    from asgiref.sync import sync_to_async

    other = await sync_to_async(UserFactory)()
    mine, theirs = await _connected(person), await _connected(other)
    await sync_to_async(_notify)(person, title="A reply arrived")
    message = await mine.receive_json_from(timeout=2)
    assert message == {"type": "notifications", "data": {"unread": 1, "title": "A reply arrived"}}
    # The control: their own notification does arrive on their socket, and first,
    # so my notification never reached it (a socket's messages keep their order).
    await sync_to_async(_notify)(other, title="Theirs")
    message = await theirs.receive_json_from(timeout=2)
    assert message == {"type": "notifications", "data": {"unread": 1, "title": "Theirs"}}
    await sync_to_async(notification_mark_read)(user=person)
    message = await mine.receive_json_from(timeout=2)
    assert message["data"]["unread"] == 0
    await mine.disconnect()
    await theirs.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_deactivated_accounts_socket_closes_and_anothers_stays_open(person):
    from asgiref.sync import sync_to_async

    other = await sync_to_async(UserFactory)()
    mine, theirs = await _connected(person), await _connected(other)

    def deactivate():
        person.is_active = False
        person.save(update_fields=["is_active"])

    await sync_to_async(deactivate)()
    assert await mine.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}
    # Only that account is told: the other person's socket stays open and live.
    await sync_to_async(_notify)(other, title="Still here")
    message = await theirs.receive_json_from(timeout=2)
    assert message["data"] == {"unread": 1, "title": "Still here"}
    await theirs.disconnect()


async def test_an_anonymous_socket_is_refused():
    from django.contrib.auth.models import AnonymousUser

    connected, code = await _person_socket(AnonymousUser()).connect()
    assert not connected and code == 4401


def test_the_channel_layer_is_in_memory_by_default():
    assert get_channel_layer() is not None


def test_kinds_used_by_other_apps_follow_the_matching_setting(person):
    NotificationSetting.objects.create(user=person, kind="approval", delivery=Delivery.NONE)
    notification = notification_create(user=person, kind="join_request_decided", title="Welcome")
    assert notification.delivery == Delivery.NONE
    NotificationSetting.objects.create(user=person, kind="other", delivery=Delivery.DIGEST)
    assert notification_create(user=person, kind="new_thing", title="x").delivery == "digest"


def test_marking_read_from_the_list_with_htmx_returns_the_updated_item(client, person):
    notification = _notify(person, title="Swap me")
    client.force_login(person)
    response = client.post(
        reverse("notification_read", args=[notification.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f'id="notification-{notification.pk}"' in content
    assert "Swap me" in content and "unread" not in content


def test_the_email_links_to_the_notification_settings(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)
    assert "http://127.0.0.1:8000/me/notifications/settings/" in mail.outbox[-1].body


@pytest.mark.django_db(transaction=True)
async def test_the_person_socket_works_through_the_asgi_application_with_the_session(person):
    from asgiref.sync import sync_to_async

    from config.asgi import application

    cookie = await sync_to_async(cookie_header)(person)
    socket = WebsocketCommunicator(
        application,
        "/ws/me/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)],
    )
    assert (await socket.connect())[0]
    await sync_to_async(_notify)(person, title="Through the stack")
    message = await socket.receive_json_from(timeout=2)
    assert message["data"] == {"unread": 1, "title": "Through the stack"}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_person_socket_refuses_a_foreign_origin(person):
    from asgiref.sync import sync_to_async

    from config.asgi import application

    cookie = await sync_to_async(cookie_header)(person)
    socket = WebsocketCommunicator(
        application, "/ws/me/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)]
    )
    connected, _code = await socket.connect()
    assert not connected
    # The refused socket never reached a consumer that would close the database
    # connection of the thread that read the session; close it here.
    await sync_to_async(connections.close_all)()


def test_a_fragment_without_the_header_does_not_count_notifications(client, person):
    """The unread count is taken only when the page's header shows it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import StudyFactory

    study = StudyFactory()
    _notify(person)
    client.force_login(person)
    with CaptureQueriesContext(connection) as queries:
        fragment = client.get(
            reverse("contribution_list", kwargs={"slug": study.slug}), HTTP_HX_REQUEST="true"
        )
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert not [q for q in queries.captured_queries if "accounts_notification" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("study_detail", kwargs={"slug": study.slug}))
    assert 'id="unread-count" data-person-socket="/ws/me/">1</span>' in page.content.decode()
    assert [q for q in queries.captured_queries if "accounts_notification" in q["sql"]]
