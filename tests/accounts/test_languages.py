"""Bokmål by default, English on request; dates and numbers follow the language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.models import Notification
from accounts.services import notification_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def test_pages_are_in_bokmal_by_default(client):
    content = client.get(reverse("account_login")).content.decode()
    assert '<html lang="nb">' in content
    assert "Gå til hovedinnholdet" in content  # project catalogue
    assert "Logg inn" in content  # allauth's own bokmål catalogue


def test_pages_are_in_english_when_chosen(client):
    client.cookies[COOKIE] = "en"
    content = client.get(reverse("account_login")).content.decode()
    assert '<html lang="en">' in content
    assert "Skip to main content" in content


def test_the_language_switcher_sets_the_page_language(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert client.cookies[COOKIE].value == "en"


def test_a_signed_in_person_gets_their_saved_language_on_a_new_browser(client):
    person = UserFactory(language="en")
    client.force_login(person)
    response = client.get(reverse("profile"))
    assert '<html lang="en">' in response.content.decode()
    assert response.cookies[COOKIE].value == "en"


@pytest.mark.parametrize(
    ("chosen", "saved"),
    [
        pytest.param("en", "en", id="a-known-language-is-saved-for-emails"),
        pytest.param("xx", "nb", id="an-unknown-language-is-not-saved"),
    ],
)
def test_switching_language_is_saved_on_the_person(client, chosen, saved):
    person = UserFactory(language="nb")
    client.force_login(person)
    client.post(reverse("set_language"), {"language": chosen, "next": "/"})
    person.refresh_from_db()
    assert person.language == saved


def test_saving_the_profile_language_switches_the_pages(client):
    person = UserFactory(language="nb")
    client.force_login(person)
    response = client.post(
        reverse("profile"),
        {"display_name": "Kari", "language": "en", "digest_frequency": "daily"},
    )
    assert response.cookies[COOKIE].value == "en"
    assert '<html lang="en">' in client.get(reverse("profile")).content.decode()


def test_dates_on_the_notification_list_follow_the_language(client):
    person = UserFactory()
    notification = notification_create(user=person, kind="other", title="Hello")
    when = timezone.make_aware(dt.datetime(2026, 11, 28, 18, 5))
    Notification.objects.filter(pk=notification.pk).update(created_at=when)
    client.force_login(person)
    client.cookies[COOKIE] = "nb"
    norwegian = client.get(reverse("notifications")).content.decode()
    assert "28. november 2026" in norwegian
    client.cookies[COOKIE] = "en"
    english = client.get(reverse("notifications")).content.decode()
    assert "28 November 2026" in english


def test_numbers_follow_the_language():
    with translation.override("nb"):
        assert formats.localize(1234.5) == "1234,5"
        assert formats.number_format(1234567, force_grouping=True) == "1\u202f234\u202f567"
    with translation.override("en"):
        assert formats.localize(1234.5) == "1234.5"
        assert formats.number_format(1234567, force_grouping=True) == "1,234,567"


def test_allauth_emails_are_in_bokmal_by_default(client):
    person = UserFactory()
    client.post(reverse("account_reset_password"), {"email": person.email})
    assert "Dugnad" in mail.outbox[-1].subject
    assert "passord" in mail.outbox[-1].body.lower()


def test_a_person_who_never_chose_follows_the_site_default_and_gets_bokmal_emails(
    client, django_capture_on_commit_callbacks
):
    person = UserFactory(display_name="Kari")
    assert person.language == "" and person.preferred_language == "nb"
    client.force_login(person)
    response = client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in response.content.decode()
    assert COOKIE not in response.cookies
    with django_capture_on_commit_callbacks(execute=True):
        notification_create(user=person, kind="other", title="Hei")
    assert "Hei Kari" in mail.outbox[-1].body


def test_set_up_compiles_the_catalogues_without_gnu_gettext(monkeypatch, tmp_path):
    """`make setup` (and `make test`) compile every catalogue with polib: no msgfmt needed."""
    import io
    import os
    import re
    from pathlib import Path

    import polib
    from django.core.management import call_command

    from accounts.management.commands.compiletranslations import catalogue_dirs

    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert re.search(r"^setup:.*\btranslations\b", makefile, re.M)
    assert re.search(r"^test:.*\btranslations\b", makefile, re.M)
    assert re.search(r"^translations:.*\n\t.*manage\.py compiletranslations", makefile, re.M)

    monkeypatch.setenv("PATH", str(tmp_path))  # no msgfmt, no gettext tools at all
    project = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES" / "django.po"
    os.utime(project)  # newer than its .mo, so it is compiled again
    output = io.StringIO()
    call_command("compiletranslations", stdout=output)
    assert re.search(r"Compiled [1-9]\d* translation catalogue", output.getvalue())
    dirs = catalogue_dirs()
    assert project.parent.parent.parent in dirs
    assert Path(settings.BASE_DIR) / "api" / "locale" in dirs
    assert all((d / "nb" / "LC_MESSAGES" / "django.mo").exists() for d in dirs)
    compiled = polib.mofile(str(project.with_suffix(".mo")))
    translated = {e.msgid for e in polib.pofile(str(project)).translated_entries()}
    assert translated and translated <= {e.msgid for e in compiled}
    with translation.override("nb"):
        assert translation.gettext("Deleted participant") == "Slettet deltaker"
