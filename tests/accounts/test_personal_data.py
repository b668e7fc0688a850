"""Download my data: an archive prepared by Celery, for its owner alone."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Affiliation, DataExport, Notification
from accounts.services import data_export_build
from contributions.models import Reaction, Revision
from moderation.models import Flag, FlagReason
from studies.models import Role
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    user = UserFactory(display_name="Kari Nordmann", email="kari@example.org")
    organisation = OrganisationFactory(name="Digdir")
    Affiliation.objects.create(user=user, organisation=organisation)
    study = StudyFactory(title="Digital assistent", slug="digital-assistent")
    MembershipFactory(study=study, user=user, role=Role.CONTRIBUTOR, organisation=organisation)
    contribution = ContributionFactory(
        study=study,
        author=user,
        title="Use plain language",
        body="Second text",
        acted_for=organisation,
    )
    Revision.objects.create(contribution=contribution, title="Plain language", body="First text")
    comment = CommentFactory(contribution=contribution, author=user, body="My own comment")
    Revision.objects.create(comment=comment, body="Earlier comment text")
    other = ContributionFactory(study=study, author=UserFactory(), title="Someone else's idea")
    Reaction.objects.create(user=user, contribution=other)
    return user


def _request(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("data_export_create"))
    assert response.status_code == 302
    return DataExport.objects.get()


def _archive(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_archive_holds_my_data_as_json_and_a_readable_page(
    client, person, django_capture_on_commit_callbacks
):
    client.force_login(person)
    export = _request(client, django_capture_on_commit_callbacks)
    assert export.status == DataExport.Status.READY
    response = client.get(reverse("data_export_download", args=[export.token]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    archive = _archive(response)
    assert sorted(archive.namelist()) == ["data.json", "index.html"]
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["email"] == "kari@example.org"
    assert data["organisations"][0]["name"] == "Digdir"
    assert data["memberships"][0]["study"] == "Digital assistent"
    assert data["memberships"][0]["acting_for"] == "Digdir"
    [contribution] = data["contributions"]
    assert contribution["title"] == "Use plain language"
    [version] = contribution["versions"]
    assert (version["title"], version["body"]) == ("Plain language", "First text")
    assert data["comments"][0]["body"] == "My own comment"
    assert data["comments"][0]["versions"][0]["body"] == "Earlier comment text"
    assert len(data["reactions"]) == 1
    assert "Someone else's idea" not in json.dumps(data)
    page = archive.read("index.html").decode()
    assert "Use plain language" in page and "First text" in page and "Digdir" in page
    assert '<html lang="nb">' in page


def test_the_person_is_told_when_the_archive_is_ready(
    client, person, django_capture_on_commit_callbacks
):
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        export = _request(client, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=person, kind="data_export")
    assert notification.url == reverse("data_export_download", args=[export.token])
    assert any("kari@example.org" in m.to for m in mail.outbox)


def test_the_archive_page_is_in_the_persons_language(person):
    person.language = "en"
    person.save()
    export = DataExport.objects.create(user=person)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        page = zipfile.ZipFile(handle).read("index.html").decode()
    assert "My data in Dugnad" in page and '<html lang="en">' in page


def test_someone_else_cannot_download_my_archive(
    client, person, django_capture_on_commit_callbacks
):
    client.force_login(person)
    export = _request(client, django_capture_on_commit_callbacks)
    client.force_login(UserFactory())
    assert client.get(reverse("data_export_download", args=[export.token])).status_code == 404


def test_an_anonymous_visitor_cannot_download_an_archive(client, person):
    export = DataExport.objects.create(user=person)
    data_export_build(export_id=export.pk)
    response = client.get(reverse("data_export_download", args=[export.token]))
    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_an_archive_still_being_prepared_cannot_be_downloaded(client, person):
    export = DataExport.objects.create(user=person)
    client.force_login(person)
    assert client.get(reverse("data_export_download", args=[export.token])).status_code == 404


def test_flags_i_made_are_in_the_archive_and_others_flags_are_not(person):
    from accounts.selectors import personal_data

    contribution = ContributionFactory(author=UserFactory(), title="Buy now")
    comment = CommentFactory(contribution=contribution, author=UserFactory())
    Flag.objects.create(
        study=contribution.study,
        contribution=contribution,
        user=person,
        reason=FlagReason.SPAM,
        note="Advertising",
    )
    Flag.objects.create(
        study=comment.study, comment=comment, user=person, reason=FlagReason.OFF_TOPIC
    )
    Flag.objects.create(
        study=contribution.study,
        contribution=contribution,
        user=UserFactory(),
        reason=FlagReason.ABUSE,
        note="Someone else's flag",
    )
    flags = personal_data(user=person)["flags"]
    assert [(f.get("contribution"), f.get("comment")) for f in flags] == [
        (contribution.pk, None),
        (None, comment.pk),
    ]
    assert flags[0]["note"] == "Advertising"
    assert "Someone else's flag" not in json.dumps(personal_data(user=person))

    export = DataExport.objects.create(user=person)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(handle)
        data = json.loads(archive.read("data.json"))
        page = archive.read("index.html").decode()
    assert len(data["flags"]) == 2
    assert "Advertising" in page and "Someone else&#x27;s flag" not in page


def test_the_my_data_page_lists_my_archives_only(client, person):
    mine = DataExport.objects.create(user=person)
    data_export_build(export_id=mine.pk)
    theirs = DataExport.objects.create(user=UserFactory())
    data_export_build(export_id=theirs.pk)
    client.force_login(person)
    content = client.get(reverse("my_data")).content.decode()
    assert str(mine.token) in content
    assert str(theirs.token) not in content


def test_asking_again_while_an_archive_is_prepared_does_not_start_another(person):
    from accounts.services import data_export_request

    first = data_export_request(user=person)
    assert data_export_request(user=person) == first
    assert DataExport.objects.count() == 1


def _built(user) -> DataExport:
    export = DataExport.objects.create(user=user)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    return export


def _requested_days_ago(exports, days: float) -> None:
    import datetime as dt

    from django.utils import timezone

    DataExport.objects.filter(pk__in=[e.pk for e in exports]).update(
        requested_at=timezone.now() - dt.timedelta(days=days)
    )


def test_an_archive_is_offered_for_a_week_then_removed(
    client, person, django_capture_on_commit_callbacks
):
    from accounts.services import data_export_request

    export = _built(person)
    name = export.file.name
    _requested_days_ago([export], 8)
    client.force_login(person)
    assert client.get(reverse("data_export_download", args=[export.token])).status_code == 404
    from django.core.files.storage import default_storage

    with django_capture_on_commit_callbacks(execute=True):
        data_export_request(user=person)
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert not default_storage.exists(name)


def test_archives_of_people_who_never_come_back_are_removed_after_a_week(
    person, django_capture_on_commit_callbacks, settings
):
    from django.core.files.storage import default_storage

    from accounts.services import data_exports_remove_expired
    from accounts.tasks import data_exports_remove_expired as task

    old = _built(person)
    name = old.file.name
    assert default_storage.exists(name)
    stuck = DataExport.objects.create(user=UserFactory())  # its task died: still pending
    recent = _built(UserFactory())
    _requested_days_ago([old, stuck], 7 + 1 / 1440)  # a week and a minute
    with django_capture_on_commit_callbacks(execute=True):
        assert data_exports_remove_expired() == 2
    assert list(DataExport.objects.all()) == [recent]
    assert not default_storage.exists(name)
    assert default_storage.exists(recent.file.name)
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-data-exports-remove"]
    assert entry["task"] == "accounts.tasks.data_exports_remove_expired"
    assert entry["schedule"] <= 3600
    assert task.delay().get() == 0  # nothing left to remove


def test_an_archive_removed_while_it_was_built_leaves_no_file(person, monkeypatch):
    """A late task builds a request that the hourly removal took meanwhile."""
    from django.core.files.storage import default_storage

    from accounts import services

    export = DataExport.objects.create(user=person)
    written = []
    real = services.personal_data

    def removed_meanwhile(*, user):
        DataExport.objects.filter(pk=export.pk).delete()
        return real(user=user)

    monkeypatch.setattr(services, "personal_data", removed_meanwhile)
    monkeypatch.setattr(
        default_storage,
        "delete",
        lambda name, real=default_storage.delete: (written.append(name), real(name)),
    )
    assert data_export_build(export_id=export.pk) is None
    assert len(written) == 1 and not default_storage.exists(written[0])
    assert not DataExport.objects.exists()
    assert not Notification.objects.filter(user=person).exists()


def test_an_archive_requested_before_the_account_was_deleted_is_never_built(person):
    from accounts.services import account_delete

    export = DataExport.objects.create(user=person)
    account_delete(user=person)
    assert data_export_build(export_id=export.pk) is None
    assert not DataExport.objects.exists()


@pytest.mark.parametrize(
    ("language", "shown"),
    [("nb", "28. november 2026 kl. 18:05"), ("en", "28 November 2026, 18:05")],
)
def test_times_on_the_archive_page_follow_the_persons_language(person, language, shown):
    import datetime as dt

    from contributions.models import Contribution

    when = dt.datetime(2026, 11, 28, 17, 5, tzinfo=dt.UTC)
    Contribution.objects.filter(author=person).update(created_at=when)
    person.language = language
    person.save()
    export = DataExport.objects.create(user=person)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(handle)
        page = archive.read("index.html").decode()
        data = json.loads(archive.read("data.json"))
    assert shown in page
    assert data["contributions"][0]["created_at"] == "2026-11-28T17:05:00+00:00"
