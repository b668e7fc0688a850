"""On a phone the study page is one column in the order of the HTML: a blocked member
reads why before the polls and the contributions (on a desktop the notice sits beside them)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from moderation import services
from studies.models import Membership, Role
from tests.factories import MembershipFactory, StudyFactory, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db


def test_the_block_notice_comes_before_the_contributions():
    from django.test import Client

    study = StudyFactory()
    person = UserFactory()
    membership = MembershipFactory(study=study, user=person, role=Role.CONTRIBUTOR)
    facilitator = give_mfa(UserFactory())
    MembershipFactory(study=study, user=facilitator, role=Role.FACILITATOR)
    services.member_block(
        study=study,
        actor=facilitator,
        membership=Membership.objects.get(pk=membership.pk),
        reason="Repeated personal attacks",
    )
    client = Client()
    login_as(client, person)
    html = client.get(reverse("study_detail", kwargs={"slug": study.slug})).content.decode()
    layout = html[html.index('<div class="layout">') :]
    notice = layout.index("moderation-blocked")
    assert layout.index("<aside>") < notice < layout.index('id="contributions-heading"')
    assert 'data-color="warning"' in layout[: notice + 200]
