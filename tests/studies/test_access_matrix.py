"""Every view of studies against every kind of person, on a public and a members-only study."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studies.models import (
    DocumentVersion,
    Invitation,
    JoinRequest,
    Membership,
    Phase,
    Role,
    StudyStatus,
    Visibility,
)
from tests.studies.conftest import PERSONAS
from tests.studies.factories import (
    DocumentVersionFactory,
    JoinRequestFactory,
    make_invitation,
    study_data,
)

LOGIN = "login"
MANAGE = {
    "visitor": LOGIN,
    "non_member": 403,
    "contributor": 403,
    "facilitator": 403,
    "coordinator": 200,
    "other_coordinator": 403,
    "staff": 403,
}
PUBLIC = dict.fromkeys(PERSONAS, 200)
JOIN = {
    "visitor": LOGIN,
    "non_member": 200,
    "contributor": 302,
    "facilitator": 302,
    "coordinator": 302,
    "other_coordinator": 200,
    "staff": 200,
}
MEMBER = {
    "visitor": LOGIN,
    "non_member": 403,
    "contributor": 200,
    "facilitator": 200,
    "coordinator": 200,
    "other_coordinator": 403,
    "staff": 403,
}

GET_VIEWS = {
    "settings": MANAGE,
    "phases": MANAGE,
    "status": MANAGE,
    "close": MANAGE,
    "members": MANAGE,
    "invitations": MANAGE,
    "version_create": MANAGE,
    "versions": PUBLIC,
    "version_detail": PUBLIC,
    "version_compare": PUBLIC,
    "join": JOIN,
    "membership": MEMBER,
}
OUTSIDERS = {"non_member", "other_coordinator"}


def expected_status(table: dict, persona: str, members_only: bool) -> int | str:
    if members_only and persona in OUTSIDERS:
        return 404  # a members-only study does not exist for them
    if members_only and persona == "visitor" and table[persona] != LOGIN:
        return 404
    return table[persona]


def view_url(name: str, study) -> str:
    if name == "version_detail":
        version = DocumentVersionFactory(study=study)
        return reverse("studies:version_detail", args=[study.slug, version.pk])
    if name == "version_compare":
        a = DocumentVersionFactory(study=study, body="one\ntwo")
        b = DocumentVersionFactory(study=study, body="one\nthree")
        return reverse("studies:version_compare", args=[study.slug]) + f"?old={a.pk}&new={b.pk}"
    return reverse(f"studies:{name}", args=[study.slug])


def check(response, expected) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
    else:
        assert response.status_code == expected, response.content[:500]


def _make_members_only(world, members_only: bool) -> None:
    if members_only:
        world.study.visibility = Visibility.MEMBERS
        world.study.save()


@pytest.mark.parametrize("members_only", [False, True], ids=["public", "members_only"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("view", list(GET_VIEWS))
def test_each_person_gets_what_their_role_allows_on_each_page(
    world, login, view, persona, members_only
):
    _make_members_only(world, members_only)
    client = login(world.people[persona])
    response = client.get(view_url(view, world.study))
    check(response, expected_status(GET_VIEWS[view], persona, members_only))


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_administrators_open_the_create_page(world, login, persona):
    response = login(world.people[persona]).get(reverse("studies:create"))
    check(response, 200 if persona == "staff" else (LOGIN if persona == "visitor" else 403))


def _post_cases(world):
    study = world.study
    contributor = Membership.objects.get(study=study, role=Role.CONTRIBUTOR)
    join_request = JoinRequestFactory(study=study)
    invitation, _ = make_invitation(study, "someone@example.org")
    return {
        "member_role": (
            reverse("studies:member_role", args=[study.slug, contributor.pk]),
            {"role": "facilitator"},
            lambda: Membership.objects.get(pk=contributor.pk).role == Role.FACILITATOR,
        ),
        "join_request_decide": (
            reverse("studies:join_request_decide", args=[study.slug, join_request.pk]),
            {"decision": "approve"},
            lambda: JoinRequest.objects.get(pk=join_request.pk).status == "approved",
        ),
        "invitation_revoke": (
            reverse("studies:invitation_revoke", args=[study.slug, invitation.pk]),
            {},
            lambda: not Invitation.objects.filter(pk=invitation.pk).exists(),
        ),
        "status": (
            reverse("studies:status", args=[study.slug]),
            {"status": "closed", "confirm": "yes"},
            lambda: type(study).objects.get(pk=study.pk).status == StudyStatus.CLOSED,
        ),
        "phases": (
            reverse("studies:phases", args=[study.slug]),
            {
                "phases-TOTAL_FORMS": 1,
                "phases-INITIAL_FORMS": 0,
                "phases-0-title": "Phase",
                "phases-0-starts_at": "2030-01-01T10:00",
                "phases-0-ends_at": "2030-02-01T10:00",
            },
            lambda: Phase.objects.filter(study=study).exists(),
        ),
        "version_create": (
            reverse("studies:version_create", args=[study.slug]),
            {"number": "1.0", "change_summary": "x", "body": "y"},
            lambda: DocumentVersion.objects.filter(study=study).exists(),
        ),
        "invitations": (
            reverse("studies:invitations", args=[study.slug]),
            {"form": "list", "list-addresses": "new@example.org"},
            lambda: Invitation.objects.filter(email="new@example.org").exists(),
        ),
        "settings": (
            reverse("studies:settings", args=[study.slug]),
            study_data(title="Renamed", visibility=study.visibility),
            lambda: type(study).objects.get(pk=study.pk).title == "Renamed",
        ),
    }


@pytest.mark.parametrize("members_only", [False, True], ids=["public", "members_only"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "action",
    [
        "member_role",
        "join_request_decide",
        "invitation_revoke",
        "status",
        "settings",
        "phases",
        "version_create",
        "invitations",
    ],
)
def test_only_the_studys_coordinator_changes_it(world, login, action, persona, members_only):
    _make_members_only(world, members_only)
    url, data, changed = _post_cases(world)[action]
    response = login(world.people[persona]).post(url, data)
    if persona == "coordinator":
        assert response.status_code in (200, 302)
        assert changed()
    else:
        check(response, expected_status(MANAGE, persona, members_only))
        assert not changed()


@pytest.mark.parametrize("persona", PERSONAS)
def test_leaving_is_for_members(world, login, persona):
    client = login(world.people[persona])
    response = client.post(reverse("studies:leave", args=[world.study.slug]))
    expected = MEMBER[persona]
    if expected == 200:
        assert response.status_code == 302
        user = world.people[persona]
        status = Membership.objects.get(study=world.study, user=user).status
        # The only coordinator may not leave; everyone else has left.
        assert status == ("active" if persona == "coordinator" else "left")
    else:
        check(response, expected)


@pytest.mark.parametrize("persona", PERSONAS)
def test_members_only_study_is_missing_from_the_list_for_outsiders(world, login, persona):
    world.study.visibility = Visibility.MEMBERS
    world.study.save()
    response = login(world.people[persona]).get(reverse("home") + "?q=study")
    listed = world.study.title in response.content.decode()
    assert listed == (persona not in OUTSIDERS and persona != "visitor")


@pytest.mark.parametrize("members_only", [False, True], ids=["public", "members_only"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_joining_over_post_for_each_person(world, login, persona, members_only):
    _make_members_only(world, members_only)
    user = world.people[persona]
    before = Membership.objects.filter(study=world.study).count()
    response = login(user).post(reverse("studies:join", args=[world.study.slug]), {})
    after = Membership.objects.filter(study=world.study).count()
    expected = expected_status(JOIN, persona, members_only)
    if expected == 200:  # an outsider of a public open study joins
        assert response.status_code == 302
        assert response["Location"] == reverse("study_detail", args=[world.study.slug])
        assert Membership.objects.get(study=world.study, user=user).role == Role.CONTRIBUTOR
        assert after == before + 1
    elif expected == 302:  # already a member: sent to their membership, nothing changes
        assert response["Location"] == reverse("studies:membership", args=[world.study.slug])
        assert after == before
    else:
        check(response, expected)
        assert after == before


@pytest.mark.parametrize("members_only", [False, True], ids=["public", "members_only"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_changing_consent_over_post_is_for_members(world, login, persona, members_only):
    _make_members_only(world, members_only)
    user = world.people[persona]
    response = login(user).post(
        reverse("studies:membership", args=[world.study.slug]), {"consent_named": "on"}
    )
    expected = expected_status(MEMBER, persona, members_only)
    consented = Membership.objects.filter(study=world.study, user__isnull=False, consent_named=True)
    if expected == 200:
        assert response.status_code == 302
        assert consented.filter(user=user).exists()
    else:
        check(response, expected)
    assert consented.count() == (1 if expected == 200 else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_administrators_create_a_study_over_post(world, login, persona):
    from studies.models import Study

    before = Study.objects.count()
    response = login(world.people[persona]).post(
        reverse("studies:create"),
        {
            "title": "Posted study",
            "opens_at": "2030-05-01T09:00",
            "closes_at": "2030-06-01T16:00",
            "visibility": "public",
            "section_title": "Contributions",
            "phase_title": "Open",
            "coordinator": "me",
        },
    )
    if persona == "staff":
        assert response.status_code == 302
        assert Study.objects.filter(title="Posted study").exists()
    else:
        check(response, LOGIN if persona == "visitor" else 403)
        assert Study.objects.count() == before
