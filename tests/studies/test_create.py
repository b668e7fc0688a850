"""An administrator creates a study: a guided form, sensible defaults, a coordinator appointed
or invited, and bad input that saves nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Notification
from studies.models import (
    Invitation,
    Joining,
    Membership,
    ModerationMode,
    Phase,
    Role,
    Section,
    Study,
    StudyStatus,
    Visibility,
)
from tests.factories import StudyFactory, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db):
    return give_mfa(UserFactory(is_administrator=True))


@pytest.fixture
def admin_client(client, administrator):
    login_as(client, administrator)
    return client


def form_data(**overrides) -> dict:
    data = {
        "title": "Digital assistant",
        "slug": "",
        "summary": "A concept for a digital assistant.",
        "opens_at": "2030-05-01T09:00",
        "closes_at": "2030-06-15T16:00",
        "visibility": "public",
        "section_title": "Problem og behov",
        "phase_title": "Innspill",
        "coordinator": "me",
        "coordinator_email": "",
    }
    data.update(overrides)
    return data


def nothing_created() -> bool:
    return not (
        Study.objects.exists()
        or Section.objects.exists()
        or Phase.objects.exists()
        or Invitation.objects.exists()
        or Membership.objects.exists()
    )


def test_the_form_offers_the_defaults_and_explains_every_required_field(admin_client):
    response = admin_client.get(reverse("studies:create"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["visibility"].value() == "public"
    assert form["section_title"].value() and form["phase_title"].value()
    assert form["opens_at"].value() < form["closes_at"].value()
    for name, field in form.fields.items():
        if field.required:
            assert field.help_text, f"{name} is required but not explained"
    assert "Three flags from different people" in response.content.decode()


def test_an_administrator_creates_a_draft_with_one_section_and_one_phase_and_coordinates_it(
    admin_client, administrator
):
    response = admin_client.post(reverse("studies:create"), form_data())
    assert response.status_code == 302
    study = Study.objects.get()
    assert response["Location"] == reverse("studies:settings", args=[study.slug])
    assert study.slug == "digital-assistant"
    assert study.status == StudyStatus.DRAFT
    assert study.visibility == Visibility.PUBLIC
    assert study.joining == Joining.OPEN
    assert study.moderation_mode == ModerationMode.POST
    assert (study.flag_threshold, study.small_count_threshold) == (3, 3)
    [section] = study.sections.all()
    assert (section.order, section.title) == (1, "Problem og behov")
    [phase] = study.phases.all()
    assert phase.title == "Innspill"
    assert (phase.starts_at, phase.ends_at) == (study.opens_at, study.closes_at)
    assert list(phase.sections.all()) == [section]
    assert Membership.objects.get(study=study, user=administrator).role == Role.COORDINATOR


def test_an_administrator_appoints_a_person_with_an_account(admin_client, administrator):
    person = UserFactory(email="coordinator@example.org")
    response = admin_client.post(
        reverse("studies:create"),
        form_data(coordinator="existing", coordinator_email="Coordinator@Example.org"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("administration_studies")
    study = Study.objects.get()
    assert Membership.objects.get(study=study).user == person
    assert Membership.objects.get(study=study).role == Role.COORDINATOR
    assert not Membership.objects.filter(study=study, user=administrator).exists()
    assert Notification.objects.filter(user=person, kind="study_coordinator").exists()
    # The administrator still sees the draft and who runs it.
    page = admin_client.get(reverse("administration_studies")).content.decode()
    assert study.title in page and person.public_name in page


def test_an_invited_coordinator_takes_the_draft_over_on_accepting(
    admin_client, client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://127.0.0.1:8123"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("studies:create"),
            form_data(coordinator="invite", coordinator_email="new.coordinator@example.org"),
        )
    assert response.status_code == 302
    study = Study.objects.get()
    assert not Membership.objects.filter(study=study).exists()
    invitation = Invitation.objects.get(study=study)
    assert invitation.role == Role.COORDINATOR
    [mail] = mailoutbox
    assert mail.to == ["new.coordinator@example.org"]
    assert "coordinat" in mail.body.lower()
    link = re.search(r"http://127\.0\.0\.1:8123(/studies/invitation/[\w-]+/)", mail.body)
    assert link, mail.body
    assert (
        "new.coordinator@example.org"
        in admin_client.get(reverse("administration_studies")).content.decode()
    )

    invited = UserFactory(email="new.coordinator@example.org")
    login_as(client, invited)
    page = client.get(link.group(1))
    assert page.status_code == 200
    response = client.post(link.group(1), {"organisation": "", "consent_named": ""})
    assert response.status_code == 302
    membership = Membership.objects.get(study=study, user=invited)
    assert membership.role == Role.COORDINATOR
    study.refresh_from_db()
    assert study.status == StudyStatus.DRAFT


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"title": "  "}, "title", "Please give the study a title."),
        ({"opens_at": ""}, "opens_at", "Give the date and time the study opens."),
        (
            {"opens_at": "2030-06-01T09:00", "closes_at": "2030-05-01T09:00"},
            "closes_at",
            "The study must close after it opens.",
        ),
        ({"coordinator": ""}, "coordinator", "a study needs a coordinator"),
        ({"coordinator": "existing"}, "coordinator_email", "Give the coordinator's e-mail"),
        ({"coordinator": "invite"}, "coordinator_email", "Give the coordinator's e-mail"),
        (
            {"coordinator": "existing", "coordinator_email": "nobody@example.org"},
            "coordinator_email",
            "No one has an account with this address",
        ),
        ({"section_title": ""}, "section_title", "Give the first section a title."),
        ({"slug": "Not A Slug!"}, "slug", "Use lower-case letters"),
        ({"slug": "new"}, "slug", "is a page of Dugnad's own"),
        ({"visibility": "secret"}, "visibility", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_error_and_creates_nothing(admin_client, overrides, field, message):
    response = admin_client.post(reverse("studies:create"), form_data(**overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert "Nothing was saved" in html
    assert "This field is required." not in html
    assert nothing_created()


def test_an_address_that_another_study_has_is_refused(admin_client):
    StudyFactory(slug="digital-assistant")
    before = Study.objects.count()
    response = admin_client.post(reverse("studies:create"), form_data(slug="digital-assistant"))
    assert response.status_code == 400
    assert "Another study already has the address" in " ".join(
        response.context["form"].errors["slug"]
    )
    assert Study.objects.count() == before
    assert not Phase.objects.exists() and not Invitation.objects.exists()


def test_without_an_address_one_is_made_from_the_title_and_never_collides(admin_client):
    admin_client.post(reverse("studies:create"), form_data(title="New"))
    admin_client.post(reverse("studies:create"), form_data(title="New"))
    assert sorted(Study.objects.values_list("slug", flat=True)) == ["new-study", "new-study-2"]


@pytest.mark.parametrize("who", ["outsider", "staff_developer", "coordinator"])
def test_only_administrators_create_studies(client, who, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    person = UserFactory(is_staff=(who == "staff_developer"))
    if who == "coordinator":
        Membership.objects.create(study=StudyFactory(), user=person, role=Role.COORDINATOR)
    before = Study.objects.count()
    login_as(client, person)
    assert client.get(reverse("studies:create")).status_code == 403
    assert client.post(reverse("studies:create"), form_data()).status_code == 403
    assert Study.objects.count() == before


def test_an_administrator_without_two_factor_is_guided_to_set_it_up(client, settings):
    settings.DUGNAD_REQUIRE_MFA = True
    client.force_login(UserFactory(is_administrator=True))
    response = client.post(reverse("studies:create"), form_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert nothing_created()


# --- another coordinator for an existing study ------------------------------------------


def appoint(client, study, **data):
    return client.post(reverse("administration_coordinator", args=[study.slug]), data)


def test_an_administrator_appoints_another_coordinator_of_a_study(admin_client):
    study = StudyFactory(status=StudyStatus.DRAFT)
    person = UserFactory(email="second@example.org", display_name="Second")
    response = appoint(
        admin_client, study, coordinator="existing", coordinator_email="second@example.org"
    )
    assert response.status_code == 302
    assert Membership.objects.get(study=study, user=person).role == Role.COORDINATOR
    assert Notification.objects.filter(user=person, kind="study_coordinator").exists()


def test_a_member_who_left_comes_back_as_coordinator(admin_client):
    study = StudyFactory()
    membership = Membership.objects.create(
        study=study, user=UserFactory(email="back@example.org"), status="left"
    )
    appoint(admin_client, study, coordinator="existing", coordinator_email="back@example.org")
    membership.refresh_from_db()
    assert (membership.status, membership.role) == ("active", Role.COORDINATOR)


def test_an_administrator_invites_a_coordinator_to_an_existing_study(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    study = StudyFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = appoint(
            admin_client, study, coordinator="invite", coordinator_email="later@example.org"
        )
    assert response.status_code == 302
    assert Invitation.objects.get(study=study).role == Role.COORDINATOR
    assert [m.to for m in mailoutbox] == [["later@example.org"]]


@pytest.mark.parametrize(
    "setup, data, message",
    [
        ("none", {"coordinator": "existing", "coordinator_email": "x@example.org"}, "No one has"),
        ("coordinator", {"coordinator": "existing"}, "coordinates this study already"),
        ("invited", {"coordinator": "invite"}, "is invited to coordinate this study already"),
        ("closed", {"coordinator": "existing"}, "cannot get a new coordinator"),
        ("none", {"coordinator": ""}, "a study needs a coordinator"),
    ],
)
def test_bad_appointments_are_refused_and_change_nothing(admin_client, setup, data, message):
    study = StudyFactory(status=StudyStatus.CLOSED if setup == "closed" else StudyStatus.OPEN)
    person = UserFactory(email="someone@example.org")
    if setup == "coordinator":
        Membership.objects.create(study=study, user=person, role=Role.COORDINATOR)
    if setup == "invited":
        appoint(admin_client, study, coordinator="invite", coordinator_email="someone@example.org")
    data = {"coordinator_email": "someone@example.org", **data}
    before = (
        sorted(Membership.objects.values_list("pk", "role", "status")),
        Invitation.objects.count(),
    )
    response = appoint(admin_client, study, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    after = (
        sorted(Membership.objects.values_list("pk", "role", "status")),
        Invitation.objects.count(),
    )
    assert after == before
