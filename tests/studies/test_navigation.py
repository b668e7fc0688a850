"""Finding one's way: My studies, the study page's tools for those who run it, and closed
studies that say so everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studies import services
from studies.models import Phase, Role, StudyStatus
from tests.factories import MembershipFactory, SectionFactory, StudyFactory, UserFactory, login_as

pytestmark = pytest.mark.django_db


def tool_links(study) -> dict[str, str]:
    return {
        "moderation": reverse("moderation:queue", args=[study.slug]),
        "members": reverse("studies:members", args=[study.slug]),
        "moderation members": reverse("moderation:members", args=[study.slug]),
        "statistics": reverse("reports:statistics", args=[study.slug]),
        "exports": reverse("reports:exports", args=[study.slug]),
    }


def _tools_seen(client, role, page) -> tuple[str, dict]:
    """The page a person with ``role`` in a new study sees, and the study's tool links."""
    study = StudyFactory()
    login_as(client, MembershipFactory(study=study, role=role).user)
    url = reverse("study_detail", args=[study.slug]) if page == "study" else reverse("my_studies")
    return client.get(url).content.decode(), tool_links(study)


@pytest.mark.parametrize("page", ["study", "my_studies"])
def test_a_coordinator_reaches_moderation_members_statistics_and_exports(client, page):
    html, links = _tools_seen(client, Role.COORDINATOR, page)
    for name in ("moderation", "members", "statistics", "exports"):
        assert f'href="{links[name]}"' in html, name


@pytest.mark.parametrize("page", ["study", "my_studies"])
def test_a_facilitator_reaches_moderation_members_and_statistics_but_not_exports(client, page):
    html, links = _tools_seen(client, Role.FACILITATOR, page)
    for name in ("moderation", "moderation members", "statistics"):
        assert f'href="{links[name]}"' in html, name
    assert links["exports"] not in html


def test_a_contributor_sees_no_tools_and_finds_their_studies_under_my_studies(client):
    study = StudyFactory(title="Joined study")
    member = MembershipFactory(study=study, role=Role.CONTRIBUTOR).user
    login_as(client, member)
    html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert f'href="{tool_links(study)["moderation"]}"' not in html
    mine = client.get(reverse("my_studies")).content.decode()
    assert "Joined study" in mine
    assert f'href="{tool_links(study)["moderation"]}"' not in mine


def test_every_signed_in_page_links_my_studies(client):
    client.force_login(UserFactory())
    assert f'href="{reverse("my_studies")}"' in client.get(reverse("home")).content.decode()


def test_a_closed_study_says_so_and_links_its_report(client):
    study = StudyFactory(opens_at=timezone.now() - timedelta(days=10))
    section = SectionFactory(study=study, title="Problem")
    phase = Phase.objects.create(
        study=study,
        title="Running phase",
        starts_at=timezone.now() - timedelta(days=5),
        ends_at=timezone.now() + timedelta(days=5),
    )
    phase.sections.set([section])
    later = Phase.objects.create(
        study=study,
        title="Later phase",
        starts_at=timezone.now() + timedelta(days=6),
        ends_at=timezone.now() + timedelta(days=9),
    )
    later.sections.set([section])
    coordinator = MembershipFactory(study=study, role=Role.COORDINATOR).user
    services.study_set_status(study=study, status=StudyStatus.CLOSED, by=coordinator)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert ">Now<" not in html
    assert "Open sections:" not in html
    assert "This study closed on" in html
    assert f'href="{reverse("reports:report", args=[study.slug])}"' in html
    assert "Did not take place: the study closed" in html  # the later phase
    listing = client.get(reverse("home")).content.decode()
    assert reverse("reports:report", args=[study.slug]) in listing


def test_in_bokmal_a_closed_study_has_no_phase_called_now(client):
    study = StudyFactory()
    phase = Phase.objects.create(
        study=study,
        title="Fase",
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=1),
    )
    assert phase.pk
    client.cookies["django_language"] = "nb"
    open_html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert ">Nå<" in open_html
    services.study_set_status(study=study, status=StudyStatus.CLOSED)
    closed_html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert ">Nå<" not in closed_html


def test_a_closed_studys_statistics_say_it_is_closed_and_link_the_report(client):
    study = StudyFactory()
    services.study_set_status(study=study, status=StudyStatus.CLOSED)
    html = client.get(reverse("reports:statistics", args=[study.slug])).content.decode()
    assert "This study is closed: it takes no more contributions." in html
    assert f'href="{reverse("reports:report", args=[study.slug])}"' in html
