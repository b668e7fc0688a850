"""Statistics pages: each role against each page, small counts, charts, live fragment."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studies.events import record_event
from studies.models import Role, Visibility
from tests.contributions.factories import member
from tests.factories import StudyFactory, UserFactory, give_mfa, login_as
from tests.reports import statistics_fixtures
from tests.reports.statistics_fixtures import contribution

pytestmark = pytest.mark.django_db

figures_study = statistics_fixtures.figures_study
coordinator = statistics_fixtures.coordinator
facilitator = statistics_fixtures.facilitator


def login(client, user, language="en"):
    if user is not None:
        login_as(client, user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def page(study):
    return reverse("reports:statistics", args=[study.slug])


def live(study):
    return reverse("reports:statistics_live", args=[study.slug])


def org_cells(html: str) -> list[str]:
    """The participants column of the per-organisation table."""
    table = html.split('class="ds-table statistics-organisations"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, flags=re.S)
    return [re.findall(r'<td class="num">([^<]*)</td>', r)[0] for r in rows]


@pytest.fixture
def people(figures_study, coordinator, facilitator):
    staff = UserFactory(is_administrator=True)
    give_mfa(staff)
    return {
        "anonymous": None,
        "non-member": UserFactory(),
        "member": figures_study.people["p1"],
        "facilitator": facilitator,
        "coordinator": coordinator,
        "staff": staff,
    }


# --- the study's statistics page -----------------------------------------------------


@pytest.mark.parametrize(
    ("role", "full"),
    [
        ("anonymous", False),
        ("non-member", False),
        ("member", False),
        ("facilitator", True),
        ("coordinator", True),
        ("staff", False),  # platform staff see the public view of a study they do not run
    ],
)
def test_each_role_sees_the_public_or_the_full_statistics(
    client, figures_study, people, role, full
):
    response = login(client, people[role]).get(page(figures_study.study))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "6 people contributed, 5 of them for 3 organisations in the public sector, the "
        "private sector and academia, with 7 contributions and 3 comments." in html
    )
    assert 'id="chart-sectors-title">Participants by sector</title>' in html
    assert ('id="chart-time-title"' in html) is full
    assert ('id="chart-organisations-title"' in html) is full
    # Each organisation has 2 (< k = 3), alone in its sector: all three are withheld, with
    # their sector rows, or one sector's figures would give its organisation away.
    assert org_cells(html) == (["2", "2", "2"] if full else ["withheld"] * 3)


def test_exact_counts_at_or_above_the_threshold_are_shown_to_the_public(client, figures_study):
    figures_study.study.small_count_threshold = 2
    figures_study.study.save()
    html = login(client, None).get(page(figures_study.study)).content.decode()
    assert org_cells(html) == ["2", "2", "2"]


def test_a_members_only_study_is_invisible_to_outsiders(client, figures_study, people):
    study = figures_study.study
    study.visibility = Visibility.MEMBERS
    study.save()
    for role in ("anonymous", "non-member"):
        client.logout()
        assert login(client, people[role]).get(page(study)).status_code == 404
        assert login(client, people[role]).get(live(study)).status_code == 404
    for role in ("member", "coordinator", "staff"):
        assert login(client, people[role]).get(page(study)).status_code == 200


def test_an_unknown_study_is_404(client):
    assert client.get(reverse("reports:statistics", args=["no-such-study"])).status_code == 404


def test_a_facilitator_without_two_factor_authentication_sees_only_the_public_view(
    client, figures_study
):
    unprotected = member(figures_study.study, role=Role.FACILITATOR)
    html = login(client, unprotected).get(page(figures_study.study)).content.decode()
    assert "Set up two-factor authentication to see every figure" in html
    assert 'id="chart-time-title"' not in html
    assert org_cells(html) == ["withheld"] * 3


def test_a_facilitator_who_has_not_used_totp_in_this_session_sees_the_public_view(
    client, figures_study
):
    facilitator = give_mfa(member(figures_study.study, role=Role.FACILITATOR))
    client.force_login(facilitator)  # TOTP set up, not used in this session
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(page(figures_study.study)).content.decode()
    assert "Confirm with your authenticator app to see every figure" in html
    assert reverse("mfa_reauthenticate") in html
    assert 'id="chart-time-title"' not in html
    assert org_cells(html) == ["withheld"] * 3


def test_every_chart_is_an_accessible_svg_with_its_table(client, figures_study, coordinator):
    html = login(client, coordinator).get(page(figures_study.study)).content.decode()
    for chart_id, title, caption in [
        ("chart-sectors", "Participants by sector", "Organisations and participants by sector"),
        ("chart-time", "Participants over time", "Per day in Norwegian time, with running totals"),
        ("chart-organisations", "Top organisations by participants", None),
    ]:
        svg = re.search(
            rf'<svg[^>]*aria-labelledby="{chart_id}-title {chart_id}-desc".*?</svg>', html, re.S
        )
        assert svg, chart_id
        assert 'role="img"' in svg.group(0)
        assert f'<title id="{chart_id}-title">{title}</title>' in svg.group(0)
        assert f'<desc id="{chart_id}-desc">' in svg.group(0)
        figure_end = html.index("</figure>", svg.end())
        table = html[figure_end : html.index("</table>", figure_end)]
        assert '<table class="ds-table' in table
        assert re.search(rf'<caption id="[^"]+">{re.escape(caption or title)}</caption>', table)
    # The descriptions carry the figures for screen readers.
    assert "Public sector: 2; Private sector: 2; Academia: 2; Individuals: 1" in html
    assert "5 Mar 2026: 6" in html


def test_the_page_is_in_bokmal(client, figures_study):
    html = login(client, None, "nb").get(page(figures_study.study)).content.decode()
    assert (
        "6 personer bidro, 5 av dem for 3 organisasjoner i offentlig sektor, privat sektor og "
        "akademia, med 7 innspill og 3 kommentarer." in html
    )
    assert "Deltakere etter sektor" in html


def test_the_page_links_the_definitions_with_their_version(client, figures_study):
    html = login(client, None).get(page(figures_study.study)).content.decode()
    assert "Statistics definitions version 2." in html
    assert f"{reverse('reports:definitions')}?study={figures_study.study.slug}" in html


def test_coordinators_get_a_link_to_exports_and_facilitators_do_not(
    client, figures_study, coordinator, facilitator
):
    exports = reverse("reports:exports", args=[figures_study.study.slug])
    assert exports in login(client, coordinator).get(page(figures_study.study)).content.decode()
    assert exports not in login(client, facilitator).get(page(figures_study.study)).content.decode()


def test_the_study_page_links_the_statistics(client, figures_study):
    html = login(client, None).get(reverse("study_detail", args=[figures_study.study.slug]))
    assert (
        f'href="{page(figures_study.study)}">Participation statistics</a>' in html.content.decode()
    )


def test_the_statistics_page_query_count_does_not_grow_with_the_study(
    client, figures_study, django_assert_num_queries
):
    small = StudyFactory()
    contribution(small, member(small), None, "2026-03-01 10:00")
    login(client, None)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page(small)).status_code == 200
    with django_assert_num_queries(len(queries)):
        assert client.get(page(figures_study.study)).status_code == 200
    # The study, its statistics (one query), the people who only voted or answered
    # a survey (one query), nothing per row.
    assert len(queries) <= 4


# --- live refresh -------------------------------------------------------------------


def test_the_live_fragment_has_the_figures_and_the_last_event_number(client, figures_study):
    response = login(client, None).get(live(figures_study.study))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "6 people contributed, 5 of them for 3 organisations" in html
    assert response["X-Dugnad-Last-Seq"] == str(figures_study.study.last_event_seq)
    assert response["Cache-Control"] == "no-store"


def test_the_live_fragment_follows_study_events(client, figures_study):
    study = figures_study.study
    login(client, None)
    assert "6 people" in client.get(live(study)).content.decode()
    newcomer = member(study)
    contribution(study, newcomer, None, "2026-03-06 10:00")
    # Figures are shared until the study's next event ...
    assert "6 people" in client.get(live(study)).content.decode()
    record_event(study_id=study.pk, kind="item.created", key="contribution-x")
    # ... which every post and moderation decision records.
    response = client.get(live(study))
    assert "7 people contributed, 5 of them for 3 organisations" in response.content.decode()
    assert response["X-Dugnad-Last-Seq"] == str(study.last_event_seq + 1)


def test_the_page_carries_what_the_live_script_needs(client, figures_study):
    html = login(client, None).get(page(figures_study.study)).content.decode()
    assert f'data-ws-path="/ws/studies/{figures_study.study.slug}/"' in html
    assert f'data-refresh-url="{live(figures_study.study)}"' in html
    assert "/static/js/statistics.js" in html
    assert "<script>" not in html  # no inline script (CSP)


# --- definitions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "term", "version"),
    [("en", "Counted item", "Statistics definitions version 2."), ("nb", "Talt innlegg", "2")],
)
def test_the_definitions_page_explains_every_rule_with_the_version(client, language, term, version):
    response = login(client, None, language).get(reverse("reports:definitions"))
    assert response.status_code == 200
    html = response.content.decode()
    assert term in html and version in html
    for key in ("counted_item", "participant", "member", "organisation", "by_sector"):
        assert f'id="definition-{key}"' in html


def test_the_definitions_page_links_back_only_to_a_visible_study(client, figures_study):
    study = figures_study.study
    url = reverse("reports:definitions")
    assert page(study) in login(client, None).get(f"{url}?study={study.slug}").content.decode()
    study.visibility = Visibility.MEMBERS
    study.save()
    html = client.get(f"{url}?study={study.slug}").content.decode()
    assert page(study) not in html and study.title not in html


# --- platform statistics --------------------------------------------------------------


def test_platform_statistics_for_staff(client, figures_study, people):
    StudyFactory(status="draft")
    response = login(client, people["staff"]).get(reverse("reports:platform"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "6 people contributed, 5 of them for 3 organisations" in html
    assert figures_study.study.title in html
    assert re.search(r"<th scope=\"row\">Draft</th><td class=\"num\">1</td>", html)
    for chart_id in ("chart-sectors", "chart-time", "chart-organisations"):
        assert f'<title id="{chart_id}-title">' in html
    assert org_cells(html) == ["2", "2", "2"]


@pytest.mark.parametrize("role", ["non-member", "member", "facilitator", "coordinator"])
def test_platform_statistics_refuse_everyone_but_staff(client, people, role):
    assert login(client, people[role]).get(reverse("reports:platform")).status_code == 403


def test_platform_statistics_send_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("reports:platform"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_platform_statistics_ask_staff_for_two_factor_authentication(client, db):
    response = login(client, UserFactory(is_administrator=True)).get(reverse("reports:platform"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_platform_page_query_count_is_bounded(
    client, figures_study, people, django_assert_max_num_queries
):
    login(client, people["staff"])
    client.get(reverse("reports:platform"))  # session and MFA look-ups warmed the same way
    with django_assert_max_num_queries(8):
        assert client.get(reverse("reports:platform")).status_code == 200


# --- every role against every page ------------------------------------------------------

STAFF_PAGES = ["reports:platform", "reports:organisations", "reports:organisation_duplicates"]


@pytest.mark.parametrize(
    "role", ["anonymous", "non-member", "member", "facilitator", "coordinator", "staff"]
)
def test_every_role_against_every_page(client, figures_study, people, role):
    login(client, people[role])
    study = figures_study.study
    assert client.get(page(study)).status_code == 200
    assert client.get(live(study)).status_code == 200
    assert client.get(reverse("reports:definitions")).status_code == 200
    organisation = reverse("reports:organisation", args=[figures_study.orgs["A"].pk])
    for url in [reverse(name) for name in STAFF_PAGES] + [organisation]:
        status = client.get(url).status_code
        if role == "staff":
            assert status == 200, url
        elif role == "anonymous":
            assert status == 302, url
        else:
            assert status == 403, url


@pytest.mark.parametrize("role", ["anonymous", "non-member", "staff"])
def test_a_draft_study_has_statistics_only_for_its_team_and_staff(client, people, role):
    draft = StudyFactory(status="draft")
    status = login(client, people[role]).get(page(draft)).status_code
    assert status == (200 if role == "staff" else 404)


def test_pages_of_an_empty_study_and_platform_render_with_empty_charts(client, db):
    study = StudyFactory()
    coordinator = member(study, role=Role.COORDINATOR)
    give_mfa(coordinator)
    html = login(client, coordinator).get(page(study)).content.decode()
    assert "No one has contributed yet." in html
    assert '<title id="chart-time-title">Participants over time</title>' in html
    staff = UserFactory(is_administrator=True)
    give_mfa(staff)
    html = login(client, staff).get(reverse("reports:platform")).content.decode()
    assert "No one has contributed yet." in html
    assert "<polyline" not in html  # no line without days
