"""The organisation registry: duplicates, merges (and their bad input), verification."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Organisation, Sector
from reports import registry
from reports.models import OrganisationMerge
from reports.statistics import study_statistics
from tests.contributions.factories import organisation
from tests.factories import UserFactory, give_mfa, login_as
from tests.reports import statistics_fixtures

pytestmark = pytest.mark.django_db

figures_study = statistics_fixtures.figures_study
_english = statistics_fixtures._english


@pytest.fixture
def staff(db):
    user = UserFactory(is_administrator=True)
    give_mfa(user)
    return user


def login(client, user):
    login_as(client, user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def org_rows(study):
    return {r.name: r.participants for r in study_statistics(study=study).organisations}


def state():
    """Everything a refused merge must leave alone."""
    return (
        list(Organisation.objects.order_by("pk").values_list("pk", "merged_into_id", "verified")),
        OrganisationMerge.objects.count(),
    )


# --- names and duplicates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Bits & Bytes AS", "bits bytes"),
        ("  BITS and bytes, a.s.", "bits and bytes a s"),
        (
            "Direktoratet for forvaltning og økonomistyring",
            "direktoratet for forvaltning og okonomistyring",
        ),
        (
            "Universitetet i Tromsø – Norges arktiske universitet",
            "universitetet i tromso norges arktiske universitet",
        ),
    ],
)
def test_normalised_name(name, normalised):
    assert registry.normalised_name(name) == normalised


def test_likely_duplicates_by_name_and_similarity(figures_study):
    same = organisation(Sector.PRIVATE, name="BITS AND BYTES")
    organisation(Sector.PUBLIC, name="Norwegian Tax Administration")
    pairs = {(p.first.name, p.second.name): p.reason for p in registry.duplicate_candidates()}
    assert pairs[("Bits and Bytes AS", same.name)] == "name"
    # D ("Agency for Digitalization") is merged already: no longer proposed.
    assert not any("Digitalization" in a or "Digitalization" in b for a, b in pairs)
    assert not any("Tax" in a or "Tax" in b for a, b in pairs)


def test_similar_names_are_proposed_with_their_score(db):
    a = organisation(Sector.PUBLIC, name="Norwegian Digitalisation Agency")
    b = organisation(Sector.PUBLIC, name="Norwegian Digitalization Agency")
    organisation(Sector.PUBLIC, name="Norwegian Labour and Welfare Administration")
    [pair] = registry.duplicate_candidates()
    assert {pair.first, pair.second} == {a, b}
    assert pair.reason == "similar" and 0.88 <= pair.score < 1


def test_search_by_name_or_number(figures_study):
    a = figures_study.orgs["A"]
    assert list(registry.organisations_search(query="bits")) == [figures_study.orgs["B"]]
    assert list(registry.organisations_search(query=a.org_number)) == [a]
    unverified = registry.organisations_search(unverified=True)
    assert figures_study.orgs["D"] not in unverified  # merged organisations are done


# --- merging --------------------------------------------------------------------------


def test_merge_moves_the_counts_and_keeps_the_history(figures_study, staff):
    b, c = figures_study.orgs["B"], figures_study.orgs["C"]
    merge = registry.organisation_merge(source_id=b.pk, target_id=c.pk, user=staff, note="Same")
    b.refresh_from_db()
    assert b.merged_into == c
    assert (merge.source, merge.target, merge.merged_by, merge.note) == (b, c, staff, "Same")
    # p1 and p3 (for B), p6 and p7 (for C): four people, once each.
    assert org_rows(figures_study.study) == {"Agency for Digitalisation": 2, "College of Oslo": 4}
    assert study_statistics(study=figures_study.study).totals.organisations == 2


def test_merge_repoints_organisations_merged_into_the_source(figures_study, staff):
    a, b, d = (figures_study.orgs[k] for k in "ABD")
    merge = registry.organisation_merge(source_id=a.pk, target_id=b.pk, user=staff)
    d.refresh_from_db()
    assert d.merged_into == b and merge.repointed == [d.pk]
    # p1 (A and B), p2 (A and D), p3 (B): three people for B, counted once each.
    assert org_rows(figures_study.study) == {"Bits and Bytes AS": 3, "College of Oslo": 2}


def test_merge_into_a_merged_organisation_goes_to_the_end_of_its_chain(figures_study, staff):
    a, c, d = (figures_study.orgs[k] for k in "ACD")
    merge = registry.organisation_merge(source_id=c.pk, target_id=d.pk, user=staff)
    c.refresh_from_db()
    assert c.merged_into == a and merge.target == a
    assert "which is merged into Agency for Digitalisation" in merge.note


@pytest.mark.parametrize(
    ("source", "target", "refusal"),
    [
        pytest.param("A", "A", "cannot be merged into itself", id="into-itself"),
        pytest.param("A", "D", "would make a loop", id="into-one-merged-into-the-source"),
        pytest.param("D", "B", "already merged", id="one-already-merged"),
        pytest.param("A", None, "does not exist", id="with-an-unknown-organisation"),
    ],
)
def test_a_merge_that_cannot_be_is_refused_and_changes_nothing(
    figures_study, staff, source, target, refusal
):
    before = state()
    orgs = figures_study.orgs
    target_id = orgs[target].pk if target else 999_999
    with pytest.raises(registry.RegistryError, match=refusal):
        registry.organisation_merge(source_id=orgs[source].pk, target_id=target_id, user=staff)
    assert state() == before


def test_only_staff_may_merge_or_verify(figures_study):
    before = state()
    a, b = figures_study.orgs["A"], figures_study.orgs["B"]
    for user in (UserFactory(), None):
        with pytest.raises(PermissionDenied):
            registry.organisation_merge(source_id=b.pk, target_id=a.pk, user=user)
        with pytest.raises(PermissionDenied):
            registry.organisation_verify(organisation_id=a.pk, user=user)
    assert state() == before


# --- verifying ----------------------------------------------------------------------------


def test_verify_and_take_the_mark_away(figures_study, staff):
    a = figures_study.orgs["A"]
    assert registry.organisation_verify(organisation_id=a.pk, user=staff).verified is True
    a.refresh_from_db()
    assert a.verified
    registry.organisation_verify(organisation_id=a.pk, user=staff, verified=False)
    a.refresh_from_db()
    assert not a.verified


def test_a_merged_organisation_cannot_be_verified(figures_study, staff):
    with pytest.raises(registry.RegistryError, match="verify that one instead"):
        registry.organisation_verify(organisation_id=figures_study.orgs["D"].pk, user=staff)
    assert not Organisation.objects.get(pk=figures_study.orgs["D"].pk).verified


# --- the pages ------------------------------------------------------------------------------


REGISTRY_PAGES = ["reports:organisations", "reports:organisation_duplicates"]


@pytest.mark.parametrize("name", REGISTRY_PAGES)
def test_registry_pages_for_staff(client, figures_study, staff, name):
    response = login(client, staff).get(reverse(name))
    assert response.status_code == 200


def test_registry_list_searches(client, figures_study, staff):
    html = login(client, staff).get(reverse("reports:organisations") + "?q=bits").content.decode()
    assert "Bits and Bytes AS" in html and "College of Oslo" not in html


def test_organisation_page_shows_merges_and_finds_targets(client, figures_study, staff):
    a = figures_study.orgs["A"]
    html = (
        login(client, staff)
        .get(reverse("reports:organisation", args=[a.pk]) + "?q=College")
        .content.decode()
    )
    assert "Agency for Digitalization" in html  # merged into A
    assert "College of Oslo" in html  # a candidate to merge into
    college = Organisation.objects.get(name="College of Oslo")
    # Chosen from the results, never typed: no number field for an id.
    assert f'type="radio" name="target" value="{college.pk}"' in html
    assert 'type="number"' not in html


@pytest.mark.parametrize("name", REGISTRY_PAGES)
def test_registry_pages_refuse_people_who_are_not_staff(client, figures_study, name):
    assert login(client, figures_study.people["p1"]).get(reverse(name)).status_code == 403
    client.logout()
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_merge_through_the_page(client, figures_study, staff):
    b, c = figures_study.orgs["B"], figures_study.orgs["C"]
    response = login(client, staff).post(
        reverse("reports:organisation_merge", args=[b.pk]), {"target": c.pk, "note": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:organisation", args=[c.pk])
    b.refresh_from_db()
    assert b.merged_into == c


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("A", "A", "cannot be merged into itself"),
        ("A", "D", "would make a loop"),
        ("D", "B", "already merged"),
        ("A", None, "does not exist"),
        ("A", "", "Choose the organisation to merge into."),
        ("A", "abc", "Choose the organisation to merge into from the search."),
    ],
)
def test_bad_merges_through_the_page_explain_and_change_nothing(
    client, figures_study, staff, source, target, message
):
    before = state()
    orgs = figures_study.orgs
    value = orgs[target].pk if target in orgs else (999_999 if target is None else target)
    response = login(client, staff).post(
        reverse("reports:organisation_merge", args=[orgs[source].pk]), {"target": value}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert state() == before


def test_people_who_are_not_staff_cannot_merge_or_verify_through_the_page(client, figures_study):
    before = state()
    a, b = figures_study.orgs["A"], figures_study.orgs["B"]
    login(client, figures_study.people["p1"])
    assert (
        client.post(
            reverse("reports:organisation_merge", args=[b.pk]), {"target": a.pk}
        ).status_code
        == 403
    )
    assert client.post(reverse("reports:organisation_verify", args=[a.pk])).status_code == 403
    client.logout()
    assert (
        client.post(
            reverse("reports:organisation_merge", args=[b.pk]), {"target": a.pk}
        ).status_code
        == 302
    )
    assert state() == before


def test_verify_through_the_page(client, figures_study, staff):
    a = figures_study.orgs["A"]
    response = login(client, staff).post(
        reverse("reports:organisation_verify", args=[a.pk]), {"verified": "1"}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.verified
    client.post(reverse("reports:organisation_verify", args=[a.pk]), {"verified": "0"})
    a.refresh_from_db()
    assert not a.verified


def test_verifying_a_merged_organisation_through_the_page_is_refused(client, figures_study, staff):
    d = figures_study.orgs["D"]
    response = login(client, staff).post(reverse("reports:organisation_verify", args=[d.pk]))
    assert response.status_code == 400
    assert "verify that one instead" in response.content.decode()
    d.refresh_from_db()
    assert not d.verified


def test_registry_pages_are_get_only_and_actions_post_only(client, figures_study, staff):
    a = figures_study.orgs["A"]
    login(client, staff)
    assert client.get(reverse("reports:organisation_merge", args=[a.pk])).status_code == 405
    assert client.post(reverse("reports:organisations")).status_code == 405


def test_a_refused_merge_keeps_the_search_results(client, figures_study, staff):
    a = figures_study.orgs["A"]
    url = reverse("reports:organisation_merge", args=[a.pk]) + "?q=College"
    response = login(client, staff).post(url, {"target": a.pk})
    assert response.status_code == 400
    html = response.content.decode()
    assert "cannot be merged into itself" in html and "College of Oslo" in html


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("Fjordkode AS", "FJORDKODE ASA", "name"),
        ("Nordlys Analyse AS", "Nordlys-Analyse", "name"),
        ("Bølge Tjenestedesign", "BØLGE TJENESTEDESIGN AS.", "name"),
    ],
)
def test_obvious_duplicates_are_paired(db, first, second, reason):
    a = organisation(Sector.PRIVATE, name=first)
    b = organisation(Sector.PRIVATE, name=second)
    pairs = {(p.first.pk, p.second.pk): p.reason for p in registry.duplicate_candidates()}
    assert pairs[(a.pk, b.pk)] == reason
