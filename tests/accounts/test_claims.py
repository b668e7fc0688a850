"""Claims to act for an organisation: pending until confirmed, and who may decide them.

docs/accounts.md: a claim is confirmed by a verified address at one of the
organisation's e-mail domains, by one of its representatives, or by an
administrator; representatives and administrators may refuse it.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import (
    Affiliation,
    ClaimDecision,
    ClaimState,
    Notification,
    OrganisationDomain,
)
from accounts.services import (
    ClaimError,
    affiliation_add,
    affiliation_remove,
    claim_decide,
    organisation_domain_add,
    representative_set,
)
from contributions.models import Contribution
from contributions.services import contribution_create
from studies.models import Membership
from tests.factories import (
    AffiliationFactory,
    MembershipFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
    login_as,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def nav():
    organisation = OrganisationFactory(name="NAV", verified=True)
    OrganisationDomain.objects.create(organisation=organisation, domain="nav.no")
    return organisation


@pytest.fixture
def representative(nav):
    person = UserFactory(display_name="Rita Representant")
    AffiliationFactory(user=person, organisation=nav, is_representative=True)
    return person


def claim_of(user, organisation) -> Affiliation:
    return Affiliation.objects.get(user=user, organisation=organisation)


def pending_claim(organisation, **user_kwargs) -> Affiliation:
    return affiliation_add(user=UserFactory(**user_kwargs), organisation=organisation)


def decide(client, claim, action="confirm", **data):
    return client.post(reverse("claim_decision", args=[claim.pk]), {"action": action, **data})


# --- claiming ------------------------------------------------------------------------


def test_joining_an_organisation_over_http_is_a_pending_claim_even_for_a_verified_one(client, nav):
    person = UserFactory(email="attacker@example.org")
    login_as(client, person)
    response = client.post(reverse("organisation_join"), {"organisation": nav.pk})
    assert response.status_code == 302
    claim = claim_of(person, nav)
    assert claim.state == ClaimState.PENDING
    assert claim.decided_at is None and claim.decided_by is None
    page = client.get(reverse("profile")).content.decode()
    assert "waiting for confirmation" in page or "venter på bekreftelse" in page


def test_a_verified_address_at_the_organisations_domain_confirms_the_claim_at_once(nav):
    person = UserFactory(email="kari@nav.no")
    claim = affiliation_add(user=person, organisation=nav)
    assert claim.state == ClaimState.CONFIRMED
    assert claim.decided_how == ClaimDecision.DOMAIN
    assert claim.decision_note == "nav.no"
    assert claim.decided_by is None and claim.decided_at is not None


def test_an_unverified_address_at_the_domain_does_not_confirm(nav):
    person = UserFactory(email="kari@example.org")
    EmailAddress.objects.create(user=person, email="kari@nav.no", verified=False, primary=False)
    assert affiliation_add(user=person, organisation=nav).state == ClaimState.PENDING


def test_an_address_at_a_subdomain_or_a_lookalike_domain_does_not_confirm(nav):
    for address in ("ola@intern.nav.no", "ola@nav.no.example.org", "ola@evilnav.no"):
        person = UserFactory(email=address)
        assert affiliation_add(user=person, organisation=nav).state == ClaimState.PENDING


def test_verifying_an_address_later_confirms_the_pending_claim(nav):
    person = UserFactory(email="kari@example.org")
    claim = affiliation_add(user=person, organisation=nav)
    address = EmailAddress.objects.create(user=person, email="kari@nav.no", verified=False)
    assert claim_of(person, nav).state == ClaimState.PENDING
    address.verified = True
    address.save()
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    claim.refresh_from_db()
    assert (claim.state, claim.decided_how) == (ClaimState.CONFIRMED, ClaimDecision.DOMAIN)


def test_a_domain_added_by_an_administrator_confirms_waiting_claims_with_verified_addresses():
    organisation = OrganisationFactory()
    matching = pending_claim(organisation, email="per@digdir.no")
    other = pending_claim(organisation, email="per@example.org")
    administrator = UserFactory(is_administrator=True)
    entry = organisation_domain_add(
        organisation=organisation, domain=" DigDir.NO. ", by=administrator
    )
    assert entry.domain == "digdir.no"
    matching.refresh_from_db()
    other.refresh_from_db()
    assert matching.state == ClaimState.CONFIRMED
    assert other.state == ClaimState.PENDING


@pytest.mark.parametrize("bad", ["", "nav", "nav..no", "-nav.no", "nav.no/x", "n@v.no", "1.2"])
def test_a_domain_that_is_not_a_domain_name_is_refused(bad):
    organisation = OrganisationFactory()
    with pytest.raises(ValidationError):
        organisation_domain_add(
            organisation=organisation, domain=bad, by=UserFactory(is_administrator=True)
        )
    assert not OrganisationDomain.objects.exists()


def test_only_administrators_add_domains(nav):
    with pytest.raises(PermissionDenied):
        organisation_domain_add(organisation=nav, domain="nav.com", by=UserFactory())


def test_the_same_domain_twice_is_refused_with_an_error(nav):
    with pytest.raises(ValidationError):
        organisation_domain_add(
            organisation=nav, domain="NAV.no", by=UserFactory(is_administrator=True)
        )
    assert OrganisationDomain.objects.filter(organisation=nav).count() == 1


def test_a_refused_claim_cannot_be_made_again_by_the_person(client, nav, representative):
    claim = pending_claim(nav)
    claim_decide(claim_id=claim.pk, by=representative, confirm=False)
    login_as(client, claim.user)
    response = client.post(reverse("organisation_join"), {"organisation": nav.pk})
    assert response.status_code == 400
    assert "was refused" in response.content.decode() or "ble avvist" in response.content.decode()
    assert claim_of(claim.user, nav).state == ClaimState.REFUSED


@pytest.mark.parametrize("value", ["", "abc", "999999", "1.5"])
def test_joining_an_unknown_or_malformed_organisation_is_a_clear_error(client, value):
    person = UserFactory()
    login_as(client, person)
    response = client.post(reverse("organisation_join"), {"organisation": value})
    assert response.status_code == 400
    assert not Affiliation.objects.filter(user=person).exists()


def test_leaving_keeps_the_decided_claim_for_the_items_and_ends_representation(nav, representative):
    affiliation_remove(user=representative, organisation=nav)
    claim = claim_of(representative, nav)
    assert claim.ended_at is not None
    assert (claim.state, claim.is_representative) == (ClaimState.CONFIRMED, False)
    # Claiming again takes the claim up as it was.
    assert affiliation_add(user=representative, organisation=nav).ended_at is None


# --- deciding --------------------------------------------------------------------------


def test_a_representative_confirms_a_claim_and_the_person_is_told(client, nav, representative):
    claim = pending_claim(nav, display_name="Ola")
    login_as(client, representative)
    page = client.get(reverse("claims"))
    assert page.status_code == 200 and "Ola" in page.content.decode()
    response = decide(client, claim)
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == ClaimState.CONFIRMED
    assert claim.decided_how == ClaimDecision.REPRESENTATIVE
    assert claim.decided_by == representative and claim.decided_at is not None
    notification = Notification.objects.get(user=claim.user, kind="claim_decided")
    assert "NAV" in notification.title


def test_a_representative_refuses_with_a_reason_the_person_reads(client, nav, representative):
    claim = pending_claim(nav)
    login_as(client, representative)
    decide(client, claim, "refuse", reason="Not employed here")
    claim.refresh_from_db()
    assert (claim.state, claim.decision_note) == (ClaimState.REFUSED, "Not employed here")
    notification = Notification.objects.get(user=claim.user, kind="claim_decided")
    assert "Not employed here" in notification.body


def test_an_administrator_confirms_a_claim(client, nav):
    claim = pending_claim(nav)
    administrator = give_mfa(UserFactory(is_administrator=True))
    login_as(client, administrator)
    assert decide(client, claim).status_code == 302
    claim.refresh_from_db()
    assert (claim.state, claim.decided_how, claim.decided_by) == (
        ClaimState.CONFIRMED,
        ClaimDecision.ADMINISTRATOR,
        administrator,
    )


def test_a_representative_of_another_organisation_cannot_confirm(client, nav, representative):
    other = OrganisationFactory(name="Skatteetaten")
    claim = pending_claim(other)
    login_as(client, representative)
    assert decide(client, claim).status_code == 403
    claim.refresh_from_db()
    assert claim.state == ClaimState.PENDING
    assert "Skatteetaten" not in client.get(reverse("claims")).content.decode()


def test_a_confirmed_member_who_is_not_a_representative_cannot_confirm(client, nav):
    member = UserFactory()
    AffiliationFactory(user=member, organisation=nav)  # confirmed, not a representative
    claim = pending_claim(nav)
    login_as(client, member)
    assert client.get(reverse("claims")).status_code == 403
    assert decide(client, claim).status_code == 403
    claim.refresh_from_db()
    assert claim.state == ClaimState.PENDING


def test_an_ended_representative_can_no_longer_confirm(client, nav, representative):
    claim = pending_claim(nav)
    affiliation_remove(user=representative, organisation=nav)
    login_as(client, representative)
    assert decide(client, claim).status_code == 403


def test_the_claimant_cannot_confirm_their_own_claim(client, nav):
    administrator = give_mfa(UserFactory(is_administrator=True, email="boss@example.org"))
    own = affiliation_add(user=administrator, organisation=nav)
    assert own.state == ClaimState.PENDING
    login_as(client, administrator)
    response = decide(client, own)
    assert response.status_code == 400
    assert "your own claim" in response.content.decode() or "din egen" in response.content.decode()
    own.refresh_from_db()
    assert own.state == ClaimState.PENDING
    with pytest.raises(ClaimError):
        claim_decide(claim_id=own.pk, by=administrator, confirm=True)


def test_the_anonymous_visitor_is_sent_to_sign_in(client, nav):
    claim = pending_claim(nav)
    response = decide(client, claim)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    claim.refresh_from_db()
    assert claim.state == ClaimState.PENDING


def test_an_unknown_claim_is_a_clear_error(client, nav, representative):
    login_as(client, representative)
    response = client.post(reverse("claim_decision", args=[987654]), {"action": "confirm"})
    assert response.status_code == 400
    assert (
        "does not exist" in response.content.decode() or "finnes ikke" in response.content.decode()
    )


def test_a_non_numeric_claim_id_is_not_found(client, representative):
    login_as(client, representative)
    assert client.post("/me/organisations/claims/abc/", {"action": "confirm"}).status_code == 404


@pytest.mark.parametrize("action", ["", "approve", "CONFIRM"])
def test_an_unknown_action_is_a_clear_error_and_decides_nothing(
    client, nav, representative, action
):
    claim = pending_claim(nav)
    login_as(client, representative)
    assert decide(client, claim, action).status_code == 400
    claim.refresh_from_db()
    assert claim.state == ClaimState.PENDING


def test_a_repeated_decision_is_a_clear_error(client, nav, representative):
    claim = pending_claim(nav)
    login_as(client, representative)
    decide(client, claim)
    again = decide(client, claim)
    assert again.status_code == 400
    assert "already" in again.content.decode() or "allerede" in again.content.decode()
    refused = decide(client, claim, "refuse")
    assert refused.status_code == 400  # a representative cannot reverse a decision
    claim.refresh_from_db()
    assert claim.state == ClaimState.CONFIRMED
    assert Notification.objects.filter(user=claim.user, kind="claim_decided").count() == 1


def test_an_administrator_may_reverse_a_decision(nav, representative):
    claim = pending_claim(nav)
    claim_decide(claim_id=claim.pk, by=representative, confirm=True)
    administrator = UserFactory(is_administrator=True)
    claim = claim_decide(claim_id=claim.pk, by=administrator, confirm=False, reason="Left in May")
    assert (claim.state, claim.decided_how) == (ClaimState.REFUSED, ClaimDecision.ADMINISTRATOR)


def test_a_reason_longer_than_500_characters_is_refused(nav, representative):
    claim = pending_claim(nav)
    with pytest.raises(ClaimError):
        claim_decide(claim_id=claim.pk, by=representative, confirm=False, reason="x" * 501)
    claim.refresh_from_db()
    assert claim.state == ClaimState.PENDING


def test_a_reason_with_a_nul_character_is_a_clear_error_and_decides_nothing(
    client, nav, representative
):
    # PostgreSQL cannot store NUL in text: without the check this was a 500 there.
    claim = pending_claim(nav)
    login_as(client, representative)
    response = decide(client, claim, "refuse", reason="not\x00employed")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    claim.refresh_from_db()
    assert (claim.state, claim.decision_note) == (ClaimState.PENDING, "")
    assert not Notification.objects.filter(user=claim.user, kind="claim_decided").exists()
    with pytest.raises(ClaimError):
        claim_decide(claim_id=claim.pk, by=representative, confirm=False, reason="\x00")


def test_a_pending_claim_of_someone_who_left_is_neither_offered_nor_decidable(
    client, nav, representative
):
    claim = pending_claim(nav, display_name="Ola Gått")
    affiliation_remove(user=claim.user, organisation=nav)
    login_as(client, representative)
    page = client.get(reverse("claims")).content.decode()
    assert "Ola Gått" not in page
    response = decide(client, claim)
    assert response.status_code == 400
    claim.refresh_from_db()
    assert claim.state == ClaimState.PENDING
    administrator = UserFactory(is_administrator=True)
    with pytest.raises(ClaimError):
        claim_decide(claim_id=claim.pk, by=administrator, confirm=True)
    assert not Notification.objects.filter(user=claim.user, kind="claim_decided").exists()
    # Claiming again takes the claim up, and it is offered again.
    affiliation_add(user=claim.user, organisation=nav)
    assert "Ola Gått" in client.get(reverse("claims")).content.decode()


def test_a_pending_claim_on_a_merged_duplicate_is_decided_by_the_surviving_organisation(
    client, nav, representative
):
    from reports.registry import organisation_merge

    duplicate = OrganisationFactory(name="NAV (duplikat)")
    claim = pending_claim(duplicate, display_name="Per Duplikat")
    organisation_merge(
        source_id=duplicate.pk, target_id=nav.pk, user=UserFactory(is_administrator=True)
    )
    login_as(client, representative)
    assert "Per Duplikat" in client.get(reverse("claims")).content.decode()
    assert decide(client, claim).status_code == 302
    claim.refresh_from_db()
    assert (claim.state, claim.decided_by) == (ClaimState.CONFIRMED, representative)
    # A representative of some other organisation still cannot.
    other = pending_claim(OrganisationFactory(name="Annet"), display_name="Kari Annen")
    assert "Kari Annen" not in client.get(reverse("claims")).content.decode()
    assert decide(client, other).status_code == 403


# --- representatives -------------------------------------------------------------------


def test_only_a_confirmed_claim_can_be_made_a_representative(nav):
    administrator = UserFactory(is_administrator=True)
    claim = pending_claim(nav)
    with pytest.raises(ClaimError):
        representative_set(claim_id=claim.pk, by=administrator, representative=True)
    with pytest.raises(PermissionDenied):
        representative_set(claim_id=claim.pk, by=UserFactory(), representative=True)


def test_an_administrator_appoints_a_representative_in_the_registry(client, nav):
    member = UserFactory(display_name="Mona")
    claim = AffiliationFactory(user=member, organisation=nav)
    administrator = give_mfa(UserFactory(is_administrator=True))
    login_as(client, administrator)
    url = reverse("reports:organisation_representative", args=[nav.pk, claim.pk])
    assert client.post(url, {"representative": "1"}).status_code == 302
    claim.refresh_from_db()
    assert claim.is_representative
    page = client.get(reverse("reports:organisation", args=[nav.pk])).content.decode()
    assert "Mona" in page and "nav.no" in page
    assert client.post(url, {"representative": "maybe"}).status_code == 400
    other = OrganisationFactory()
    wrong = reverse("reports:organisation_representative", args=[other.pk, claim.pk])
    assert client.post(wrong, {"representative": "0"}).status_code == 400
    claim.refresh_from_db()
    assert claim.is_representative


def test_the_registry_adds_and_removes_domains_with_clear_errors(client, nav):
    administrator = give_mfa(UserFactory(is_administrator=True))
    login_as(client, administrator)
    add = reverse("reports:organisation_domain_add", args=[nav.pk])
    assert client.post(add, {"domain": "Nav.No"}).status_code == 400  # already there
    assert client.post(add, {"domain": "not a domain"}).status_code == 400
    assert client.post(add, {"domain": "nav.com"}).status_code == 302
    assert set(nav.domains.values_list("domain", flat=True)) == {"nav.no", "nav.com"}
    entry = nav.domains.get(domain="nav.com")
    remove = reverse("reports:organisation_domain_remove", args=[nav.pk, entry.pk])
    assert client.post(remove).status_code == 302
    assert client.post(remove).status_code == 400  # gone already
    assert set(nav.domains.values_list("domain", flat=True)) == {"nav.no"}


def test_a_nul_character_in_any_claim_or_domain_input_is_a_clear_error(client, nav):
    # PostgreSQL cannot store NUL in text; each of these is refused before saving.
    person = UserFactory()
    login_as(client, person)
    join = client.post(reverse("organisation_join"), {"organisation": f"{nav.pk}\x00"})
    assert join.status_code == 400
    propose = {"name": "Null\x00etaten", "org_number": "", "sector": "public", "website": ""}
    assert client.post(reverse("organisation_propose"), propose).status_code == 400
    assert not Affiliation.objects.filter(user=person).exists()
    administrator = give_mfa(UserFactory(is_administrator=True))
    login_as(client, administrator)
    add = reverse("reports:organisation_domain_add", args=[nav.pk])
    assert client.post(add, {"domain": "nav\x00.com"}).status_code == 400
    assert set(nav.domains.values_list("domain", flat=True)) == {"nav.no"}


# --- items and studies -------------------------------------------------------------------


def test_a_decision_updates_the_items_and_is_a_study_event(nav, representative):
    study = StudyFactory()
    claim = pending_claim(nav)
    MembershipFactory(study=study, user=claim.user, organisation=nav)
    item = contribution_create(study=study, author=claim.user, title="Idé", body="Tekst")
    assert item.acted_for == nav and item.acted_for_claim == ClaimState.PENDING
    assert item.organisation_unconfirmed
    study.refresh_from_db()
    before = study.last_event_seq
    claim_decide(claim_id=claim.pk, by=representative, confirm=True)
    item = Contribution.objects.get(pk=item.pk)
    assert item.acted_for_claim == ClaimState.CONFIRMED and not item.organisation_unconfirmed
    study.refresh_from_db()
    assert study.last_event_seq > before


def test_after_a_refusal_items_stay_without_the_organisation_and_the_person_acts_as_themselves(
    nav, representative
):
    study = StudyFactory()
    claim = pending_claim(nav)
    MembershipFactory(study=study, user=claim.user, organisation=nav)
    item = contribution_create(study=study, author=claim.user, title="Idé", body="Tekst")
    claim_decide(claim_id=claim.pk, by=representative, confirm=False)
    item = Contribution.objects.get(pk=item.pk)
    assert item.state == "published"
    assert item.acted_for == nav  # the snapshot stays for the record
    assert item.shown_organisation is None
    assert Membership.objects.get(study=study, user=claim.user).organisation is None
    later = contribution_create(study=study, author=claim.user, title="Neste", body="Tekst")
    assert later.acted_for is None


def test_a_person_cannot_join_a_study_for_an_organisation_that_refused_them(
    client, nav, representative
):
    study = StudyFactory()
    claim = pending_claim(nav)
    claim_decide(claim_id=claim.pk, by=representative, confirm=False)
    login_as(client, claim.user)
    client.post(reverse("studies:join", args=[study.slug]), {"organisation": nav.pk})
    assert not Membership.objects.filter(study=study, user=claim.user, organisation=nav).exists()


def test_the_join_form_says_which_claims_are_not_confirmed_yet(client, nav):
    study = StudyFactory()
    confirmed = OrganisationFactory(name="Confirmed Org")
    claim = pending_claim(nav)
    AffiliationFactory(user=claim.user, organisation=confirmed)
    login_as(client, claim.user)
    page = client.get(reverse("studies:join", args=[study.slug])).content.decode()
    assert "NAV (not confirmed yet)" in page or "NAV (ikke bekreftet ennå)" in page
    assert "Confirmed Org (" not in page


def test_a_domain_added_in_the_django_admin_is_lower_cased_and_validated(client, nav):
    from tests.factories import sign_in_with_second_factor

    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in_with_second_factor(client, staff)
    data = {
        "name": nav.name,
        "org_number": nav.org_number or "",
        "sector": nav.sector,
        "website": "",
        "created_at_0": nav.created_at.strftime("%Y-%m-%d"),
        "created_at_1": nav.created_at.strftime("%H:%M:%S"),
        "domains-TOTAL_FORMS": "2",
        "domains-INITIAL_FORMS": "1",
        "domains-0-id": str(nav.domains.get().pk),
        "domains-0-organisation": str(nav.pk),
        "domains-0-domain": "nav.no",
        "domains-0-added_at_0": "2026-01-01",
        "domains-0-added_at_1": "10:00:00",
        "domains-1-organisation": str(nav.pk),
        "domains-1-domain": "NAV.COM",
        "domains-1-added_at_0": "2026-01-01",
        "domains-1-added_at_1": "10:00:00",
    }
    url = f"/admin/accounts/organisation/{nav.pk}/change/"
    assert client.post(url, data).status_code == 302
    assert set(nav.domains.values_list("domain", flat=True)) == {"nav.no", "nav.com"}
    data["domains-1-domain"] = "not a domain"
    data["domains-INITIAL_FORMS"] = "1"
    assert client.post(url, data).status_code == 200  # the form again, with the error
    assert "not a domain" not in set(nav.domains.values_list("domain", flat=True))


def test_the_profile_tells_a_verified_organisation_from_a_confirmed_claim_in_bokmal(client, nav):
    # "bekreftet" is the claim's state; the registry's mark must not read the same,
    # or a refused claim on a verified organisation reads "bekreftet avvist".
    claim = pending_claim(nav)
    administrator = UserFactory(is_administrator=True)
    claim_decide(claim_id=claim.pk, by=administrator, confirm=False, reason="No")
    login_as(client, claim.user)
    client.cookies["django_language"] = "nb"
    html = client.get(reverse("profile")).content.decode()
    item = html.split('class="organisation-list"')[1].split("</li>")[0]
    assert "verifisert organisasjon" in item
    assert ">avvist<" in item
    assert ">bekreftet<" not in item
