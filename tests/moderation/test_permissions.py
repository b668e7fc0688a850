"""Who may open moderation pages and act on items, over HTTP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contributions.models import ItemState
from moderation.models import Flag, ModerationLog
from studies.models import Role
from tests.factories import ContributionFactory, UserFactory
from tests.moderation.conftest import login, member

pytestmark = pytest.mark.django_db


def hide_url(study, item, item_type="contribution"):
    return reverse("moderation:item_action", args=[study.slug, item_type, item.pk, "hide"])


def page_urls(study, contribution):
    return [
        reverse("moderation:queue", args=[study.slug]),
        reverse("moderation:item", args=[study.slug, "contribution", contribution.pk]),
        reverse("moderation:members", args=[study.slug]),
    ]


def test_anonymous_visitor_is_sent_to_sign_in(client, study, contribution):
    for url in [*page_urls(study, contribution), reverse("moderation:overview")]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(hide_url(study, contribution), {"reason": "spam"})
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_contributor_cannot_open_moderation_pages_or_act(client, study, contribution, contributor):
    login(client, contributor)
    for url in page_urls(study, contribution):
        assert client.get(url).status_code == 403
    assert client.post(hide_url(study, contribution), {"reason": "spam"}).status_code == 403
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_facilitator_of_one_study_cannot_touch_another(client, study, other_study, contribution):
    foreign = member(other_study, Role.FACILITATOR)
    login(client, foreign)
    for url in page_urls(study, contribution):
        assert client.get(url).status_code == 403
    assert client.post(hide_url(study, contribution), {"reason": "spam"}).status_code == 403
    # Through their own study's address the item does not exist.
    assert client.post(hide_url(other_study, contribution), {"reason": "spam"}).status_code == 404
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    assert not ModerationLog.objects.exists()


def test_facilitator_without_mfa_is_sent_to_set_it_up(client, study, contribution):
    from tests.factories import MembershipFactory

    user = UserFactory()
    MembershipFactory(study=study, user=user, role=Role.FACILITATOR)
    login(client, user)
    response = client.get(reverse("moderation:queue", args=[study.slug]))
    assert response.status_code == 302 and "2fa" in response["Location"]
    response = client.post(hide_url(study, contribution), {"reason": "spam"})
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_members_only_study_does_not_exist_for_outsiders(client, contribution):
    study = contribution.study
    study.visibility = "members"
    study.save()
    login(client, UserFactory())
    assert client.get(reverse("moderation:queue", args=[study.slug])).status_code == 404


def test_facilitator_hides_through_the_item_page(client, study, contribution, facilitator):
    login(client, facilitator)
    response = client.post(hide_url(study, contribution), {"reason": "off_topic", "note": ""})
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert (contribution.state, contribution.moderation_reason) == (ItemState.HIDDEN, "off_topic")


def test_hiding_without_a_reason_over_http_shows_the_error(
    client, study, contribution, facilitator
):
    login(client, facilitator)
    response = client.post(hide_url(study, contribution), {"reason": "", "note": ""})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_acting_on_an_already_handled_item_over_http_explains(client, study, facilitator):
    item = ContributionFactory(study=study, state=ItemState.HIDDEN, moderation_reason="spam")
    login(client, facilitator)
    response = client.post(hide_url(study, item), {"reason": "off_topic"})
    assert response.status_code == 400
    assert "already been handled" in response.content.decode()
    item.refresh_from_db()
    assert item.moderation_reason == "spam"


def test_unknown_action_or_item_type_is_not_found(client, study, contribution, facilitator):
    login(client, facilitator)
    url = reverse("moderation:item_action", args=[study.slug, "contribution", contribution.pk, "x"])
    assert client.post(url).status_code == 404
    url = reverse("moderation:item", args=[study.slug, "study", contribution.pk])
    assert client.get(url).status_code == 404


def test_member_flags_over_http(client, study, contribution, contributor):
    login(client, contributor)
    url = reverse("moderation:flag", args=[study.slug, "contribution", contribution.pk])
    response = client.post(url, {"reason": "spam", "note": "ads", "next": "/evil.example/"})
    assert response.status_code == 302
    assert Flag.objects.get().note == "ads"


def test_flag_with_unknown_reason_over_http_is_refused(client, study, contribution, contributor):
    login(client, contributor)
    url = reverse("moderation:flag", args=[study.slug, "contribution", contribution.pk])
    response = client.post(url, {"reason": "boring"})
    assert response.status_code == 400
    assert not Flag.objects.exists()


def test_flag_redirects_only_to_this_site(client, study, contribution, contributor):
    login(client, contributor)
    url = reverse("moderation:flag", args=[study.slug, "contribution", contribution.pk])
    response = client.post(url, {"reason": "spam", "next": "https://evil.example/"})
    assert response["Location"] == reverse("study_detail", args=[study.slug])


def test_anonymous_and_non_members_cannot_flag(client, study, contribution):
    url = reverse("moderation:flag", args=[study.slug, "contribution", contribution.pk])
    assert client.post(url, {"reason": "spam"}).status_code == 302
    login(client, UserFactory())
    assert client.post(url, {"reason": "spam"}).status_code == 403
    assert not Flag.objects.exists()
