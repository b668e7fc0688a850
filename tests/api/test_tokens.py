"""Personal API tokens: the page that manages them, and what each token state may read."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from api.models import ApiToken
from api.services import api_token_create, token_digest
from studies.models import Role
from tests.api.factories import coordinator_of, members_only_study, seed_study, token_for
from tests.contributions.factories import member
from tests.factories import (
    StudyFactory,
    UserFactory,
    login_as,
    sign_in_with_second_factor,
)

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/studies/{slug}/exports/{tier}/"


# --- The token page ----------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in_from_the_token_page(client):
    response = client.get("/api/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_person_who_coordinates_nothing_cannot_create_tokens(client):
    study = StudyFactory()
    sign_in_with_second_factor(client, member(study, role=Role.FACILITATOR))
    page = client.get("/api/tokens/")
    assert page.status_code == 200
    assert b'name="name"' not in page.content
    assert client.post("/api/tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_coordinator_without_two_factor_authentication_cannot_create_tokens(client, settings):
    settings.DUGNAD_REQUIRE_MFA = True
    study = StudyFactory()
    coordinator = member(study, role=Role.COORDINATOR)
    login_as(client, coordinator)
    page = client.get("/api/tokens/")
    assert b"/accounts/2fa/totp/activate/" in page.content
    assert b'name="name"' not in page.content
    response = client.post("/api/tokens/", {"name": "x"})
    assert response.status_code == 302
    assert response.url == "/accounts/2fa/totp/activate/"
    assert not ApiToken.objects.exists()


def test_coordinator_who_has_not_used_totp_in_this_session_is_asked_for_a_code(client, settings):
    settings.DUGNAD_REQUIRE_MFA = True
    study = StudyFactory()
    coordinator = coordinator_of(study)
    client.force_login(coordinator)  # TOTP set up, but not used in this session
    page = client.get("/api/tokens/")
    assert b"/accounts/2fa/reauthenticate/" in page.content
    assert b'name="name"' not in page.content
    response = client.post(
        "/api/tokens/", {"name": "x"}, HTTP_REFERER="http://testserver/api/tokens/"
    )
    assert response.status_code == 302
    assert response.url.startswith("/accounts/2fa/reauthenticate/")
    assert not ApiToken.objects.exists()


def test_coordinator_creates_a_token_shown_once_and_stored_hashed(client):
    study = StudyFactory()
    coordinator = coordinator_of(study)
    login_as(client, coordinator)
    response = client.post("/api/tokens/", {"name": "Dashboard"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    secret = response.context["new_secret"]
    assert secret.startswith("dgn_") and secret.encode() in response.content
    assert token.digest == token_digest(secret) and secret not in token.digest
    assert not ApiToken.objects.filter(digest=secret).exists()
    assert token.user == coordinator and token.name == "Dashboard"
    later = client.get("/api/tokens/")
    assert secret.encode() not in later.content
    assert token.prefix.encode() in later.content


@pytest.mark.parametrize("posted", [{"name": ""}, {"name": "   "}, {}])
def test_token_needs_a_name(client, posted):
    login_as(client, coordinator_of(StudyFactory()))
    response = client.post("/api/tokens/", posted)
    assert response.status_code == 400
    assert b'aria-invalid="true"' in response.content
    assert not ApiToken.objects.exists()


def test_coordinator_revokes_own_token(client):
    coordinator = coordinator_of(StudyFactory())
    token, _secret = token_for(coordinator)
    login_as(client, coordinator)
    response = client.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_another_persons_token(client):
    token, _secret = token_for(coordinator_of(StudyFactory()))
    login_as(client, coordinator_of(StudyFactory()))
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_a_post(client):
    coordinator = coordinator_of(StudyFactory())
    token, _secret = token_for(coordinator)
    login_as(client, coordinator)
    assert client.get(f"/api/tokens/{token.pk}/revoke/").status_code == 405


def test_anonymous_cannot_revoke(client):
    token, _secret = token_for(coordinator_of(StudyFactory()))
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None


def test_service_refuses_tokens_for_non_coordinators():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        api_token_create(user=UserFactory(), name="x")


# --- Token states on the export endpoints -------------------------------------------


@pytest.fixture
def own():
    data = seed_study()
    coordinator = coordinator_of(data["study"])
    token, secret = token_for(coordinator)
    return {**data, "coordinator": coordinator, "token": token, "secret": secret}


def _get(api, url, secret=None, header=None):
    if header is not None:
        api.credentials(HTTP_AUTHORIZATION=header)
    elif secret is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api.get(url)


@pytest.mark.parametrize("tier", ["aggregate", "pseudonymous"])
def test_anonymous_client_gets_401_from_exports(api, own, tier):
    response = api.get(EXPORT.format(slug=own["study"].slug, tier=tier))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_reads_the_aggregate_export_of_own_study(api, own):
    response = _get(api, EXPORT.format(slug=own["study"].slug, tier="aggregate"), own["secret"])
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["tier"] == "aggregate" and body["definitions_version"] == 2
    # One small organisation: it is withheld, and so are the totals that would give it away.
    assert body["totals"]["contributions"] == "withheld"
    assert body["organisations"][0]["participants"] == "withheld"
    assert "participants" not in body
    assert response["Cache-Control"] == "private, no-store"


def test_valid_token_reads_the_pseudonymous_export_without_names(api, own):
    response = _get(api, EXPORT.format(slug=own["study"].slug, tier="pseudonymous"), own["secret"])
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["tier"] == "pseudonymous"
    assert body["participants"] and all(
        p["pseudonym"].startswith("P-") for p in body["participants"]
    )
    assert b"Kari Nordmann" not in response.content
    assert b"@example.org" not in response.content


def test_export_as_csv_escapes_formula_cells(api, own):
    own["org"].name = "=cmd|' /C calc'!A0"
    own["org"].save(update_fields=["name"])
    url = EXPORT.format(slug=own["study"].slug, tier="aggregate") + "?file_format=csv"
    response = _get(api, url, own["secret"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert "'=cmd" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_export_as_xlsx(api, own):
    url = EXPORT.format(slug=own["study"].slug, tier="pseudonymous") + "?file_format=xlsx"
    response = _get(api, url, own["secret"])
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def test_export_refuses_an_unknown_file_format(api, own):
    url = EXPORT.format(slug=own["study"].slug, tier="aggregate") + "?file_format=pdf"
    response = _get(api, url, own["secret"])
    assert response.status_code == 400
    assert "file_format" in response.json()["errors"]


def test_named_tier_is_not_available_through_the_api(api, own):
    response = _get(api, EXPORT.format(slug=own["study"].slug, tier="named"), own["secret"])
    assert response.status_code == 404


def test_revoked_token_gets_401_everywhere(api, own):
    own["token"].revoked_at = timezone.now()
    own["token"].save(update_fields=["revoked_at"])
    for url in (
        EXPORT.format(slug=own["study"].slug, tier="aggregate"),
        f"/api/v1/studies/{own['study'].slug}/",
        "/api/v1/studies/",
    ):
        response = _get(api, url, own["secret"])
        assert response.status_code == 401, url
        assert response.json()["code"] == "revoked_token"


@pytest.mark.parametrize(
    "header",
    ["Bearer dgn_not-a-real-token", "Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer ø"],
)
def test_wrong_or_malformed_token_gets_401_with_json(api, own, header):
    for url in (EXPORT.format(slug=own["study"].slug, tier="aggregate"), "/api/v1/studies/"):
        response = _get(api, url, header=header)
        assert response.status_code == 401, (header, url)
        assert response.json()["status"] == 401


def test_token_of_coordinator_of_another_study_gets_403_on_a_public_study(api, own):
    stranger = coordinator_of(StudyFactory())
    _token, secret = token_for(stranger)
    for tier in ("aggregate", "pseudonymous"):
        response = _get(api, EXPORT.format(slug=own["study"].slug, tier=tier), secret)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_token_of_coordinator_of_another_study_gets_404_on_a_members_only_study(api, own):
    hidden = members_only_study()
    response = _get(api, EXPORT.format(slug=hidden.slug, tier="aggregate"), own["secret"])
    assert response.status_code == 404


def test_coordinator_reads_exports_of_own_members_only_study(api):
    study = members_only_study()
    _token, secret = token_for(coordinator_of(study))
    assert _get(api, EXPORT.format(slug=study.slug, tier="aggregate"), secret).status_code == 200


def test_token_stops_reading_exports_when_its_owner_is_no_longer_coordinator(api, own):
    own["study"].memberships.filter(user=own["coordinator"]).update(role=Role.FACILITATOR)
    response = _get(api, EXPORT.format(slug=own["study"].slug, tier="aggregate"), own["secret"])
    assert response.status_code == 403


def test_token_of_owner_without_two_factor_authentication_gets_403(api, own, settings):
    from allauth.mfa.models import Authenticator

    settings.DUGNAD_REQUIRE_MFA = True
    Authenticator.objects.filter(user=own["coordinator"]).delete()
    response = _get(api, EXPORT.format(slug=own["study"].slug, tier="aggregate"), own["secret"])
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_token_of_a_deleted_account_gets_401(api, own):
    own["coordinator"].deleted_at = timezone.now()
    own["coordinator"].save(update_fields=["deleted_at"])
    response = _get(api, "/api/v1/studies/", own["secret"])
    assert response.status_code == 401


def test_valid_token_reads_public_endpoints_like_anyone(api, own):
    slug = own["study"].slug
    for url in (
        f"/api/v1/studies/{slug}/",
        f"/api/v1/studies/{slug}/contributions/",
        f"/api/v1/studies/{slug}/comments/",
        f"/api/v1/studies/{slug}/statistics/",
    ):
        response = _get(api, url, own["secret"])
        assert response.status_code == 200, url
    # A token never shows more: pending items stay out.
    assert (
        b"Not yet approved"
        not in _get(api, f"/api/v1/studies/{slug}/contributions/", own["secret"]).content
    )


def test_using_a_token_records_when_it_was_last_used(api, own):
    assert own["token"].last_used_at is None
    _get(api, "/api/v1/studies/", own["secret"])
    own["token"].refresh_from_db()
    assert own["token"].last_used_at is not None


def test_unknown_study_with_valid_token_is_404(api, own):
    response = _get(api, EXPORT.format(slug="no-such-study", tier="aggregate"), own["secret"])
    assert response.status_code == 404


def test_staff_revoke_tokens_in_the_admin(client):
    token, _secret = token_for(coordinator_of(StudyFactory()))
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in_with_second_factor(client, staff)
    assert client.get("/admin/api/apitoken/").status_code == 200
    response = client.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_export_format_follows_the_accept_header_without_file_format(api, own):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {own['secret']}")
    url = EXPORT.format(slug=own["study"].slug, tier="aggregate")
    assert api.get(url, HTTP_ACCEPT="text/csv")["Content-Type"].startswith("text/csv")
    assert api.get(url)["Content-Type"] == "application/json"


def test_a_person_holds_at_most_twenty_active_tokens(client):
    from api.services import MAX_ACTIVE_TOKENS

    coordinator = coordinator_of(StudyFactory())
    for n in range(MAX_ACTIVE_TOKENS):
        token_for(coordinator, name=f"t{n}")
    login_as(client, coordinator)
    response = client.post("/api/tokens/", {"name": "one more"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert b"Revoke one before you create another" in response.content
    assert ApiToken.objects.filter(user=coordinator).count() == MAX_ACTIVE_TOKENS
    revoked = ApiToken.objects.filter(user=coordinator).first()
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    assert client.post("/api/tokens/", {"name": "one more"}).status_code == 200
