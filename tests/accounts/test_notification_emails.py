"""E-mail for approvals, moderation decisions and invitations, each in the recipient's language.

The notifications are created by the studies and moderation services; accounts
e-mails them after commit as each person chose. Whoever acts (and whatever
language their own request is in), the recipient reads their own language.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import translation

from accounts.models import Delivery, Notification, NotificationSetting
from contributions.models import ModerationReason
from moderation.services import item_hide
from studies.models import Joining, Role
from studies.services import (
    invitations_create,
    join_request_create,
    join_request_decide,
    membership_set_role,
)
from tests.factories import (
    ContributionFactory,
    MembershipFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def approval_study():
    study = StudyFactory(title="Digital assistent", joining=Joining.APPROVAL)
    coordinator = UserFactory(email="coordinator@example.org", language="nb")
    MembershipFactory(study=study, user=coordinator, role=Role.COORDINATOR)
    return study, coordinator


def _mail_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def test_a_request_to_join_emails_the_coordinator_in_their_language(
    approval_study, django_capture_on_commit_callbacks
):
    study, coordinator = approval_study
    applicant = UserFactory(display_name="Ola", language="en")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        join_request_create(study=study, user=applicant)
    [message] = _mail_to("coordinator@example.org")
    assert "Ola ber om å bli med i «Digital assistent»" in message.subject
    assert Notification.objects.get(user=coordinator).kind == "join_request"


@pytest.mark.parametrize(
    ("approve", "language", "expected"),
    [
        (True, "en", "You are now a member of “Digital assistent”"),
        (True, "nb", "Du er nå medlem av «Digital assistent»"),
        (False, "en", "Your request to join “Digital assistent” was declined"),
        (False, "nb", "Forespørselen din om å bli med i «Digital assistent» ble avslått"),
    ],
)
def test_the_decision_on_a_request_is_emailed_in_the_applicants_language(
    approval_study, django_capture_on_commit_callbacks, approve, language, expected
):
    study, coordinator = approval_study
    applicant = UserFactory(email="ola@example.org", language=language)
    request = join_request_create(study=study, user=applicant)
    other = "nb" if language == "en" else "en"
    with translation.override(other), django_capture_on_commit_callbacks(execute=True):
        join_request_decide(join_request=request, approve=approve, by=coordinator)
    [message] = _mail_to("ola@example.org")
    assert expected in message.subject
    assert "/studies/" in message.body  # links to the study


def test_approval_emails_follow_the_approval_setting(
    approval_study, django_capture_on_commit_callbacks
):
    study, coordinator = approval_study
    applicant = UserFactory(email="ola@example.org")
    NotificationSetting.objects.create(user=applicant, kind="approval", delivery=Delivery.NONE)
    request = join_request_create(study=study, user=applicant)
    with django_capture_on_commit_callbacks(execute=True):
        join_request_decide(join_request=request, approve=True, by=coordinator)
    assert not _mail_to("ola@example.org")
    assert Notification.objects.filter(user=applicant, read_at__isnull=True).count() == 1


def test_a_moderation_decision_on_my_item_is_emailed_in_my_language(
    django_capture_on_commit_callbacks,
):
    study = StudyFactory(title="Digital assistent")
    author = UserFactory(email="kari@example.org", language="en")
    facilitator = UserFactory(language="nb")
    MembershipFactory(study=study, user=author)
    MembershipFactory(study=study, user=facilitator, role=Role.FACILITATOR)
    give_mfa(facilitator)
    contribution = ContributionFactory(study=study, author=author, title="Plain language")
    with translation.override("nb"), django_capture_on_commit_callbacks(execute=True):
        item_hide(
            study=study, actor=facilitator, item=contribution, reason=ModerationReason.OFF_TOPIC
        )
    [message] = _mail_to("kari@example.org")
    assert message.subject.startswith("[Dugnad] A facilitator hid")
    assert "Digital assistent" in message.body
    assert Notification.objects.get(user=author).kind == "moderation"


def test_an_invitation_is_emailed_with_its_link(django_capture_on_commit_callbacks):
    study = StudyFactory(title="Digital assistent", joining=Joining.INVITATION)
    coordinator = UserFactory()
    MembershipFactory(study=study, user=coordinator, role=Role.COORDINATOR)
    with django_capture_on_commit_callbacks(execute=True):
        result = invitations_create(study=study, emails=["guest@example.org"], by=coordinator)
    assert result.invited == ["guest@example.org"]
    [message] = _mail_to("guest@example.org")
    assert "Digital assistent" in message.subject + message.body
    assert re.search(r"http://\S+/studies/\S+", message.body)


@pytest.mark.parametrize(
    ("account_language", "subject"),
    [
        (None, "Invitasjon til studien «Digital assistent»"),
        ("nb", "Invitasjon til studien «Digital assistent»"),
        ("en", "Invitation to the study “Digital assistent”"),
    ],
)
def test_an_invitation_is_in_the_language_of_the_account_that_has_the_address(
    django_capture_on_commit_callbacks, account_language, subject
):
    if account_language:
        UserFactory(email="Guest@Example.org", language=account_language)
    study = StudyFactory(title="Digital assistent", joining=Joining.INVITATION)
    coordinator = UserFactory(language="nb" if account_language == "en" else "en")
    MembershipFactory(study=study, user=coordinator, role=Role.COORDINATOR)
    with translation.override("nb"), django_capture_on_commit_callbacks(execute=True):
        invitations_create(study=study, emails=["guest@example.org"], by=coordinator)
    [message] = _mail_to("guest@example.org")
    assert subject in message.subject


def test_a_new_role_is_announced_in_the_members_language(django_capture_on_commit_callbacks):
    study = StudyFactory(title="Digital assistent")
    coordinator = UserFactory()
    member = UserFactory(email="ola@example.org", language="en")
    MembershipFactory(study=study, user=coordinator, role=Role.COORDINATOR)
    membership = MembershipFactory(study=study, user=member)
    with translation.override("nb"), django_capture_on_commit_callbacks(execute=True):
        membership_set_role(membership=membership, role=Role.FACILITATOR, by=coordinator)
    [message] = _mail_to("ola@example.org")
    assert "You are now facilitator in “Digital assistent”" in message.subject
