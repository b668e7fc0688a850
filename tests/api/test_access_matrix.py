"""Every endpoint against every kind of client: the whole access table in one place.

Sessions do not authenticate API requests: a signed-in contributor,
facilitator or coordinator reads exactly what an anonymous visitor reads.
"""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from accounts.services import account_delete
from studies.models import Membership, Role, StudyStatus
from tests.api.factories import (
    closed_study,
    coordinator_of,
    members_only_study,
    seed_study,
    token_for,
)
from tests.factories import MembershipFactory, StudyFactory, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/api/v1/",
    "/api/v1/studies/",
    "/api/v1/studies/{slug}/",
    "/api/v1/studies/{slug}/sections/",
    "/api/v1/studies/{slug}/contributions/",
    "/api/v1/studies/{slug}/contributions/{item}/",
    "/api/v1/studies/{slug}/comments/",
    "/api/v1/studies/{slug}/statistics/",
    "/api/v1/studies/{slug}/open-data/",
]
EXPORTS = [
    "/api/v1/studies/{slug}/exports/aggregate/",
    "/api/v1/studies/{slug}/exports/pseudonymous/",
]

# client -> (status on public endpoints, status on the study's exports)
EXPECTED = {
    "anonymous": (200, 401),
    "token_valid": (200, 200),
    "token_revoked": (401, 401),
    "token_wrong": (401, 401),
    "token_of_other_study_coordinator": (200, 403),
    "token_owner_without_mfa": (200, 403),
    "token_owner_no_longer_coordinator": (200, 403),
    "token_owner_deleted": (401, 401),
    "session_contributor": (200, 401),
    "session_facilitator": (200, 401),
    "session_coordinator": (200, 401),
}


def _client(api, kind: str, study):
    if kind == "anonymous":
        return api
    if kind.startswith("session_"):
        role = kind.removeprefix("session_")
        user = give_mfa(UserFactory())
        MembershipFactory(study=study, user=user, role=role)
        login_as(api, user)
        return api
    if kind == "token_wrong":
        api.credentials(HTTP_AUTHORIZATION="Bearer dgn_wrong")
        return api
    owner = coordinator_of(StudyFactory() if kind == "token_of_other_study_coordinator" else study)
    token, secret = token_for(owner)
    if kind == "token_revoked":
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    elif kind == "token_owner_without_mfa":
        Authenticator.objects.filter(user=owner).delete()
    elif kind == "token_owner_no_longer_coordinator":
        MembershipFactory(study=study, role=Role.COORDINATOR)
        Membership.objects.filter(study=study, user=owner).update(role=Role.CONTRIBUTOR)
    elif kind == "token_owner_deleted":
        account_delete(user=owner)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_client_gets_the_expected_answer_from_every_endpoint(api, kind):
    data = closed_study()
    study = data["study"]
    client = _client(api, kind, study)
    public_status, export_status = EXPECTED[kind]
    for template in PUBLIC + EXPORTS:
        url = template.format(slug=study.slug, item=data["published"].pk)
        expected = export_status if template in EXPORTS else public_status
        response = client.get(url)
        assert response.status_code == expected, (kind, url, response.content[:200])
        if expected != 200:
            assert response["Content-Type"] == "application/json"
            assert response.json()["status"] == expected
            assert response["Cache-Control"] == "no-store"


def test_the_export_refusals_say_why(api):
    """The same table, by error code: a harvester can tell what to fix."""
    study = closed_study()["study"]
    url = f"/api/v1/studies/{study.slug}/exports/aggregate/"
    codes = {}
    for kind in EXPECTED:
        if kind.startswith("token_") and kind != "token_valid":
            api.credentials()
            codes[kind] = _client(api, kind, study).get(url).json()["code"]
    assert codes == {
        "token_revoked": "revoked_token",
        "token_wrong": "invalid_token",
        "token_of_other_study_coordinator": "permission_denied",
        "token_owner_without_mfa": "mfa_required",
        "token_owner_no_longer_coordinator": "permission_denied",
        "token_owner_deleted": "inactive_user",
    }


# On a members-only study: no public endpoint exists for anyone; its own
# coordinator's token still reads its exports; another coordinator's is told 404.
MEMBERS_ONLY_EXPORTS = {
    "anonymous": 401,
    "token_valid": 200,
    "token_revoked": 401,
    "token_wrong": 401,
    "token_of_other_study_coordinator": 404,
    "session_contributor": 401,
    "session_facilitator": 401,
    "session_coordinator": 401,
}


@pytest.mark.parametrize("kind", list(MEMBERS_ONLY_EXPORTS))
def test_a_members_only_study_is_invisible_to_every_client_on_every_public_endpoint(api, kind):
    study = seed_study(visibility="members", status=StudyStatus.CLOSED)["study"]
    client = _client(api, kind, study)
    expected_public = 401 if kind in ("token_revoked", "token_wrong") else 404
    for template in PUBLIC[2:]:
        response = client.get(template.format(slug=study.slug, item=1))
        assert response.status_code == expected_public, (kind, template)
    if expected_public == 404:
        listed = client.get("/api/v1/studies/").json()
        assert study.slug not in {s["slug"] for s in listed["results"]}
    for template in EXPORTS:
        response = client.get(template.format(slug=study.slug))
        assert response.status_code == MEMBERS_ONLY_EXPORTS[kind], (kind, template)


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.FACILITATOR, Role.COORDINATOR])
def test_members_only_study_is_invisible_to_every_member_session(api, role):
    study = members_only_study()
    user = give_mfa(UserFactory())
    MembershipFactory(study=study, user=user, role=role)
    login_as(api, user)
    for template in PUBLIC[2:]:
        url = template.format(slug=study.slug, item=1)
        assert api.get(url).status_code == 404, url
    assert api.get("/api/v1/studies/").json()["count"] == 0
