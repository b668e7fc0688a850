"""The study page keeps the parts that depend only on the study per process.

``{% remember %}`` (studies/templatetags/study_tags.py) renders a block once
per process for the values it names, the language and the time zone; the
study header and the live strings use it. Whatever those parts show must
still change at once.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone, translation

from studies.models import Study, StudyStatus
from studies.services import study_update
from tests.factories import MembershipFactory, StudyFactory
from tests.studies.factories import PhaseFactory


def _render(source: str, **context) -> str:
    return Template("{% load i18n study_tags %}" + source).render(Context(context))


def test_a_block_is_rendered_once_for_the_values_it_names():
    block = '{% remember "test-once" a %}{{ a }}/{{ b }}{% endremember %}'
    assert _render(block, a=1, b="first") == "1/first"
    # Same value named: the kept block, whatever else changed.
    assert _render(block, a=1, b="second") == "1/first"
    assert _render(block, a=2, b="second") == "2/second"
    # A list is a value like any other.
    listed = '{% remember "test-list" a %}{{ b }}{% endremember %}'
    assert _render(listed, a=[1, 2], b="x") == "x"
    assert _render(listed, a=[1, 2], b="y") == "x"
    assert _render(listed, a=[1, 3], b="y") == "y"


def test_a_block_is_kept_per_language_and_time_zone():
    block = '{% remember "test-language" %}{% translate "Sections" %}{% endremember %}'
    with translation.override("en"):
        assert _render(block) == "Sections"
    with translation.override("nb"):
        assert _render(block) == "Deler"
    when = '{% remember "test-zone" t %}{{ t|time:"H:i" }}{% endremember %}'
    moment = timezone.now().replace(hour=12, minute=0)
    with timezone.override("UTC"):
        assert _render(when, t=moment) == "12:00"
    with timezone.override("Asia/Kolkata"):
        assert _render(when, t=moment) == "17:30"


def test_a_value_that_is_not_there_keeps_nothing_but_none_is_a_value():
    missing = '{% remember "test-missing" nothing.here %}{{ b }}{% endremember %}'
    assert _render(missing, b="first") == "first"
    assert _render(missing, b="second") == "second"  # rendered each time
    none = '{% remember "test-none" a %}{{ b }}{% endremember %}'
    assert _render(none, a=None, b="first") == "first"
    assert _render(none, a=None, b="second") == "first"  # None is a value like any other


def test_a_block_without_a_name_is_refused():
    with pytest.raises(TemplateSyntaxError, match="needs a name"):
        _render("{% remember %}x{% endremember %}")


# --- On the study page -------------------------------------------------------


def _page(client, study) -> str:
    response = client.get(reverse("study_detail", args=[study.slug]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def member(client, db):
    study = StudyFactory(title="Digital assistant", summary="A first sketch.")
    client.force_login(MembershipFactory(study=study).user)
    page = _page(client, study)
    assert "Digital assistant" in page and "A first sketch." in page  # kept from here on
    return study


@pytest.mark.django_db
def test_a_new_title_and_summary_show_at_once(client, member):
    study_update(
        study=Study.objects.get(pk=member.pk), title="Digital helper", summary="Second sketch."
    )
    page = _page(client, member)
    assert "Digital helper" in page and "Second sketch." in page
    assert "Digital assistant" not in page and "A first sketch." not in page


@pytest.mark.django_db
def test_a_status_changed_without_saving_the_row_shows_at_once(client, member):
    """Even a bulk update, which moves no ``updated_at``: the status is in the key."""
    Study.objects.filter(pk=member.pk).update(status=StudyStatus.CLOSED)
    page = _page(client, member)
    assert 'class="ds-tag badge badge-closed"' in page
    assert 'class="ds-tag badge badge-open"' not in page


@pytest.mark.django_db
def test_a_phase_that_starts_shows_as_current_without_any_change(client, member):
    now = timezone.now()
    PhaseFactory(
        study=member,
        title="Ideas",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    page = _page(client, member)
    assert 'aria-current="step"' not in page and "Coming" in page
    with mock.patch("studies.selectors.timezone.now", return_value=now + timedelta(hours=2)):
        page = _page(client, member)
    assert 'aria-current="step"' in page


@pytest.mark.django_db
def test_the_kept_header_follows_the_language(client, member):
    client.cookies["django_language"] = "nb"
    page = _page(client, member)
    assert 'lang="nb"' in page
    assert "Deltakerstatistikk" in page and "Participation statistics" not in page
    client.cookies["django_language"] = "en"
    page = _page(client, member)
    assert "Participation statistics" in page and "Deltakerstatistikk" not in page


@pytest.mark.django_db
def test_a_new_slug_shows_in_the_kept_links_at_once(client, member):
    Study.objects.filter(pk=member.pk).update(slug="renamed-study")
    member.slug = "renamed-study"
    page = _page(client, member)
    assert reverse("reports:statistics", args=["renamed-study"]) in page
