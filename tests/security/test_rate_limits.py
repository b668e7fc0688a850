"""Sign-in attempts and posting are rate limited on the shared cache."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from contributions.models import Comment, Contribution
from tests.factories import (
    PASSWORD,
    ContributionFactory,
    MembershipFactory,
    StudyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _limit(action: str) -> int:
    return int(settings.ACCOUNT_RATE_LIMITS[action].split("/")[0])


def test_sign_in_attempts_beyond_the_limit_are_answered_with_429(client):
    user = UserFactory()
    allowed = _limit("login")
    statuses = [
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).status_code
        for _ in range(allowed + 1)
    ]
    assert 429 not in statuses[:allowed]
    assert statuses[-1] == 429


def test_after_too_many_failures_even_the_right_password_is_refused_for_a_while(client):
    user = UserFactory()
    for _ in range(_limit("login_failed")):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session


# --- posting ----------------------------------------------------------------------


def _posting_limit(settings, count: int) -> int:
    settings.POSTING_RATE_LIMIT = f"{count}/m"
    return count


def _contribution(n: int) -> dict:
    return {
        "title": f"Idea {n}",
        "kind": "idea",
        "body": f"Body {n}",
        "idempotency_key": str(uuid.uuid4()),
    }


def test_posting_past_the_limit_answers_with_a_friendly_page_and_creates_nothing(client, settings):
    limit = _posting_limit(settings, 3)
    membership = MembershipFactory()
    study = membership.study
    client.force_login(membership.user)
    client.cookies["django_language"] = "en"
    url = reverse("contribution_list", args=[study.slug])
    statuses = [client.post(url, _contribution(n)).status_code for n in range(limit)]
    assert statuses == [302] * limit  # each one back to the study page
    refused = client.post(url, _contribution(99))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    page = refused.content.decode()
    # The study's own page layout with an explanation and a way back, not an error page.
    assert study.title in page
    assert reverse("study_detail", args=[study.slug]) in page
    assert 'role="alert"' in page
    assert "faster than the study allows" in page
    assert Contribution.objects.filter(study=study).count() == limit
    assert not Contribution.objects.filter(title="Idea 99").exists()


def test_the_friendly_message_is_in_the_persons_language(client, settings):
    _posting_limit(settings, 1)
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.cookies["django_language"] = "nb"
    url = reverse("contribution_list", args=[membership.study.slug])
    client.post(url, _contribution(1))
    refused = client.post(url, _contribution(2))
    assert refused.status_code == 429
    assert 'lang="nb"' in refused.content.decode()
    assert "Du publiserer raskere enn utredningen tillater" in refused.content.decode()


def test_comments_count_against_the_same_limit(client, settings):
    limit = _posting_limit(settings, 2)
    contribution = ContributionFactory()
    membership = MembershipFactory(study=contribution.study)
    client.force_login(membership.user)
    url = reverse("comment_form", args=[contribution.study.slug, contribution.pk])
    data = lambda n: {"body": f"Comment {n}", "idempotency_key": str(uuid.uuid4())}  # noqa: E731
    statuses = [client.post(url, data(n)).status_code for n in range(limit + 2)]
    assert statuses[:limit] == [302] * limit
    assert statuses[limit:] == [429, 429]
    assert Comment.objects.filter(contribution=contribution).count() == limit


def test_the_limit_is_per_person(client, settings):
    _posting_limit(settings, 1)
    study = StudyFactory()
    first, second = MembershipFactory(study=study), MembershipFactory(study=study)
    url = reverse("contribution_list", args=[study.slug])
    for membership in (first, second):
        client.force_login(membership.user)
        assert client.post(url, _contribution(membership.pk)).status_code == 302
    assert Contribution.objects.filter(study=study).count() == 2


def test_the_refused_text_is_still_there_as_the_message_says(client, settings):
    _posting_limit(settings, 1)
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.cookies["django_language"] = "en"
    url = reverse("contribution_list", args=[membership.study.slug])
    client.post(url, _contribution(1))
    refused = client.post(url, {**_contribution(2), "body": "Written with care"})
    assert refused.status_code == 429
    assert "still in the form" in refused.content.decode()
    assert "Written with care" in refused.content.decode()
