"""Statistics of claims (definitions version 2), computed by hand.

The study (small-count threshold 1, so that every figure is published):

  A (public sector)    p1 confirmed by a verified address at a.no: 2 contributions
                       p2 confirmed by A's representative r: 1 contribution, 1 comment
  B (private sector)   p3 claims it, pending: 1 contribution
  C (academia)         p4 claimed it and C's administrator refused: 1 contribution
  (none)               p5 as themselves: 1 comment
  D (civil, verified)  p6 the attacker: joins D over HTTP and posts for it: 1 contribution
  E (public sector)    p7 confirmed by an administrator: 1 comment, with one more
                       contribution as themselves

Version 2: participants 7; confirmed organisations 2 (A, E); unconfirmed 2 (B,
D); people under unconfirmed claims 2 (p3, p6); individuals 3 (p4 refused,
p5, p7 also as themselves); people for organisations 3 (p1, p2, p7);
contributions 2+1+1+1+1+1 = 7; comments 1+1+1 = 3.
  public: 2 organisations, 3 participants, 3 contributions, 2 comments
  unconfirmed: 2 organisations, 2 participants, 2 contributions, 0 comments
  individuals: 3 participants, 2 contributions, 1 comment
Version 1 (every organisation on an item): organisations 5, individuals 2.
"""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from accounts.models import ClaimState, OrganisationDomain, Sector
from accounts.services import affiliation_add, claim_decide
from contributions.models import Contribution
from reports.disclosure import disclosed, protect, public_tables
from reports.exports import document_for, write
from reports.statistics import (
    INDIVIDUALS,
    UNCONFIRMED,
    headline,
    study_participant_rows,
    study_statistics,
)
from studies.models import Membership
from tests.contributions.factories import contribution_form
from tests.factories import (
    AffiliationFactory,
    CommentFactory,
    ContributionFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
    login_as,
)
from tests.reports.statistics_fixtures import _english  # noqa: F401 (autouse fixture)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def claims_study(db, client):
    study = StudyFactory(title="Claims", small_count_threshold=1)
    a = OrganisationFactory(name="Alfa etat", sector=Sector.PUBLIC)
    b = OrganisationFactory(name="Beta AS", sector=Sector.PRIVATE)
    c = OrganisationFactory(name="Cetus universitet", sector=Sector.ACADEMIA)
    d = OrganisationFactory(name="Delta forening", sector=Sector.CIVIL, verified=True)
    e = OrganisationFactory(name="Epsilon kommune", sector=Sector.PUBLIC)
    OrganisationDomain.objects.create(organisation=a, domain="a.no")
    administrator = UserFactory(is_administrator=True)
    r = UserFactory(display_name="Representative")
    AffiliationFactory(user=r, organisation=a, is_representative=True)
    p1 = UserFactory(email="p1@a.no")
    p2, p3, p4, p5, p7 = (UserFactory() for _ in range(5))
    assert affiliation_add(user=p1, organisation=a).state == ClaimState.CONFIRMED
    claim_decide(claim_id=affiliation_add(user=p2, organisation=a).pk, by=r, confirm=True)
    affiliation_add(user=p3, organisation=b)
    claim_decide(
        claim_id=affiliation_add(user=p4, organisation=c).pk, by=administrator, confirm=False
    )
    claim_decide(
        claim_id=affiliation_add(user=p7, organisation=e).pk, by=administrator, confirm=True
    )

    def post(author, org, claim, comment=False, on=None):
        kwargs = {
            "study": study,
            "author": author,
            "acted_for": org,
            "acted_for_sector": org.sector if org else "",
            "acted_for_claim": claim,
        }
        if comment:
            return CommentFactory(contribution=on, **kwargs)
        return ContributionFactory(**kwargs)

    first = post(p1, a, ClaimState.CONFIRMED)
    post(p1, a, ClaimState.CONFIRMED)
    post(p2, a, ClaimState.CONFIRMED)
    post(p2, a, ClaimState.CONFIRMED, comment=True, on=first)
    pending = post(p3, b, ClaimState.PENDING)
    refused = post(p4, c, ClaimState.REFUSED)
    post(p5, None, "", comment=True, on=first)
    post(p7, e, ClaimState.CONFIRMED, comment=True, on=first)
    post(p7, None, "")
    # The attacker, through the web pages only: claims a verified organisation,
    # joins the study for it and posts.
    p6 = UserFactory(display_name="Mallory")
    login_as(client, p6)
    assert client.post(reverse("organisation_join"), {"organisation": d.pk}).status_code == 302
    client.post(reverse("studies:join", args=[study.slug]), {"organisation": d.pk})
    assert Membership.objects.get(study=study, user=p6).organisation == d
    response = client.post(
        reverse("contribution_list", args=[study.slug]),
        contribution_form("Delta says", "We speak for Delta."),
        **HTMX,
    )
    assert response.status_code in (200, 201)
    attack = Contribution.objects.get(author=p6)
    client.logout()
    return {
        "study": study,
        "orgs": {"A": a, "B": b, "C": c, "D": d, "E": e},
        "pending": pending,
        "refused": refused,
        "attack": attack,
        "people": {"p3": p3, "p4": p4, "p6": p6, "r": r},
    }


def test_the_hand_computed_figures_of_version_2(claims_study):
    figures = study_statistics(study=claims_study["study"])
    t = figures.totals
    assert (t.participants, t.organisations, t.unconfirmed_organisations) == (7, 2, 2)
    assert (t.unconfirmed_participants, t.individuals, t.for_organisations) == (2, 3, 3)
    assert (t.contributions, t.comments) == (7, 3)
    sectors = {
        row.sector: (row.organisations, row.participants, row.contributions, row.comments)
        for row in figures.sectors
    }
    assert sectors == {
        Sector.PUBLIC: (2, 3, 3, 2),
        UNCONFIRMED: (2, 2, 2, 0),
        INDIVIDUALS: (0, 3, 2, 1),
    }
    assert [
        (r.name, r.participants, r.contributions, r.comments) for r in figures.organisations
    ] == [
        ("Alfa etat", 2, 3, 1),
        ("Epsilon kommune", 1, 0, 1),
    ]


def test_version_1_still_counts_every_organisation_on_an_item(claims_study):
    figures = study_statistics(study=claims_study["study"], version=1)
    assert figures.definitions_version == 1
    assert (figures.totals.organisations, figures.totals.individuals) == (5, 2)
    assert figures.totals.unconfirmed_organisations is None
    assert {row.sector for row in figures.sectors} == {
        Sector.PUBLIC,
        Sector.PRIVATE,
        Sector.ACADEMIA,
        Sector.CIVIL,
        INDIVIDUALS,
    }


def test_the_attackers_organisation_is_neither_counted_nor_shown(client, claims_study):
    study, d = claims_study["study"], claims_study["orgs"]["D"]
    figures = study_statistics(study=study)
    assert d.pk not in {row.id for row in figures.organisations}
    public = public_tables(figures)
    assert "Delta forening" not in json.dumps(public)
    page = client.get(reverse("reports:statistics", args=[study.slug])).content.decode()
    assert "Delta forening" not in page
    api = client.get(f"/api/v1/studies/{study.slug}/statistics/").json()
    assert "Delta forening" not in json.dumps(api)
    assert api["totals"]["organisations"] == 2
    assert api["totals"]["unconfirmed_organisations"] == 2
    # On the item the organisation is named only as what the author says.
    study_page = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert (
        "says they represent Delta forening" in study_page
        or "oppgir å representere Delta forening" in study_page
    )
    item = client.get(
        f"/api/v1/studies/{study.slug}/contributions/{claims_study['attack'].pk}/"
    ).json()
    assert (item["organisation"], item["organisation_confirmed"]) == ("Delta forening", False)


def test_the_headline_names_only_confirmed_organisations(claims_study):
    figures = study_statistics(study=claims_study["study"])
    assert headline(figures, "en") == (
        "7 people contributed, 3 of them for 2 organisations in the public sector, "
        "with 7 contributions and 3 comments"
    )


def test_a_refused_claims_items_count_and_show_as_the_persons_own(client, claims_study):
    study, refused = claims_study["study"], claims_study["refused"]
    rows = {
        (row.user_id, row.sector, row.organisation)
        for row in study_participant_rows(study=study)
        if row.user_id == claims_study["people"]["p4"].pk
    }
    assert rows == {(claims_study["people"]["p4"].pk, INDIVIDUALS, "")}
    page = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert "Cetus universitet" not in page
    item = client.get(f"/api/v1/studies/{study.slug}/contributions/{refused.pk}/").json()
    assert (item["organisation"], item["organisation_confirmed"], item["sector"]) == (
        None,
        None,
        None,
    )


def test_confirming_the_pending_claim_moves_its_figures_and_its_label(client, claims_study):
    study, b = claims_study["study"], claims_study["orgs"]["B"]
    from accounts.models import Affiliation

    claim = Affiliation.objects.get(user=claims_study["people"]["p3"], organisation=b)
    claim_decide(claim_id=claim.pk, by=UserFactory(is_administrator=True), confirm=True)
    t = study_statistics(study=study).totals
    assert (t.organisations, t.unconfirmed_organisations, t.unconfirmed_participants) == (3, 1, 1)
    page = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert "represent Beta AS" not in page and "representere Beta AS" not in page
    assert "Beta AS" in page


def test_the_statistics_page_refreshes_after_a_decision(client, claims_study):
    study, b = claims_study["study"], claims_study["orgs"]["B"]
    from accounts.models import Affiliation

    url = reverse("reports:statistics", args=[study.slug])
    assert "Beta AS" not in client.get(url).content.decode()
    claim = Affiliation.objects.get(user=claims_study["people"]["p3"], organisation=b)
    claim_decide(claim_id=claim.pk, by=UserFactory(is_administrator=True), confirm=True)
    # The cached figures are keyed by the study's last event: the decision is one.
    assert "Beta AS" in client.get(url).content.decode()


def test_the_aggregate_export_counts_confirmed_and_unconfirmed_apart(claims_study):
    figures = study_statistics(study=claims_study["study"])
    out = io.BytesIO()
    write(document_for(statistics=figures, tier="aggregate"), "json", out)
    payload = json.loads(out.getvalue())
    assert payload["totals"]["organisations"] == 2
    assert payload["totals"]["unconfirmed_organisations"] == 2
    assert payload["totals"]["unconfirmed_participants"] == 2
    assert payload["definitions_version"] == 2
    assert "Delta forening" not in out.getvalue().decode()
    assert "Beta AS" not in out.getvalue().decode()


def test_suppression_holds_with_the_unconfirmed_row(claims_study):
    study = claims_study["study"]
    study.small_count_threshold = 3
    study.save(update_fields=["small_count_threshold"])
    figures = study_statistics(study=study)
    withheld = protect(figures)
    assert withheld.organisations  # both organisations are below 3
    assert disclosed(figures, withheld) == []


def test_participant_rows_name_no_unconfirmed_organisation(claims_study):
    from reports.exports import pseudonymous_rows

    study = claims_study["study"]
    figures = study_statistics(study=study)
    rows = study_participant_rows(study=study)
    by_sector = {}
    for row in rows:
        by_sector.setdefault(row.sector, set()).add(row.organisation)
    assert by_sector[UNCONFIRMED] == {""}
    assert by_sector[INDIVIDUALS] == {""}
    assert by_sector[Sector.PUBLIC] == {"Alfa etat", "Epsilon kommune"}
    out = pseudonymous_rows(statistics=figures, rows=rows)
    assert len([r for r in out if r["sector"] == UNCONFIRMED]) == 2
    text = json.dumps(out)
    assert "Beta AS" not in text and "Delta forening" not in text
