"""Sign-in attempts and posting are rate limited on the shared cache.

Failed sign-ins are counted per account and address together, per address,
and per account from anywhere (accounts.sign_in_limits).
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings
from django.test import Client
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
    if action.startswith("login_failed_per"):  # the parts of allauth's "login_failed"
        return int(getattr(settings, action.upper()).split("/")[0])
    return int(settings.ACCOUNT_RATE_LIMITS[action].split("/")[0])


def _window(action: str) -> float:
    from allauth.core.internal.ratelimit import parse_rates

    return max(rate.duration for rate in parse_rates(settings.ACCOUNT_RATE_LIMITS[action]))


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
    for _ in range(_limit("login_failed_per_account_and_address")):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session


# --- failed sign-ins: per account and address together --------------------------------


class Clock:
    """allauth's rate limits read time.time(); this one is moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from allauth.core.internal import ratelimit

    fake = Clock()
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


def _sign_in(user, password: str, address: str) -> bool:
    """One sign-in attempt from ``address`` in a fresh browser; True when it worked."""
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def test_typos_of_colleagues_behind_one_address_do_not_lock_the_office_out(clock):
    office = "192.0.2.10"
    per_pair = _limit("login_failed_per_account_and_address")
    colleagues = [UserFactory() for _ in range(6)]
    for person in colleagues:
        for _ in range(per_pair - 1):  # a few typos each: more than one account's worth
            assert not _sign_in(person, "wrong", office)
        clock.now += 5  # people type at people's pace
    assert _sign_in(colleagues[0], PASSWORD, office)
    assert _sign_in(UserFactory(), PASSWORD, office)


def test_one_persons_typos_lock_only_that_person_at_that_address(clock):
    person, colleague = UserFactory(), UserFactory()
    for _ in range(_limit("login_failed_per_account_and_address")):
        assert not _sign_in(person, "wrong", "192.0.2.10")
    assert not _sign_in(person, PASSWORD, "192.0.2.10")  # locked here, for now
    assert _sign_in(colleague, PASSWORD, "192.0.2.10")  # the office is not
    assert _sign_in(person, PASSWORD, "198.51.100.7")  # nor is the person elsewhere


def test_one_account_hammered_from_many_addresses_is_limited_only_briefly(clock):
    target = UserFactory()
    per_account = _limit("login_failed_account")
    for n in range(per_account + 5):
        assert not _sign_in(target, "guess", f"203.0.113.{n + 1}")
    # The account is limited from everywhere while the burst lasts ...
    assert not _sign_in(target, PASSWORD, "192.0.2.10")
    # ... and free again once the short window has passed.
    clock.now += _window("login_failed_account") + 1
    assert _sign_in(target, PASSWORD, "192.0.2.10")


def test_one_address_spraying_passwords_over_many_accounts_is_stopped(clock):
    sprayer = "203.0.113.66"
    per_address = _limit("login_failed_per_address")
    for n in range(per_address):
        assert not _sign_in(UserFactory(), "Summer2026!", sprayer)
        clock.now += 2  # under allauth's 30/m for every sign-in attempt
    assert not _sign_in(UserFactory(), PASSWORD, sprayer)  # even a right password now
    assert _sign_in(UserFactory(), PASSWORD, "192.0.2.10")  # other addresses are not affected


def test_a_successful_sign_in_does_not_reset_the_count_for_an_attacker(clock):
    """allauth gives back only the successful attempt, never the failures before it."""
    person = UserFactory()
    per_pair = _limit("login_failed_per_account_and_address")
    for _ in range(per_pair - 1):
        _sign_in(person, "wrong", "192.0.2.10")
        clock.now += 1  # allauth tells attempts apart by their time
    assert _sign_in(person, PASSWORD, "192.0.2.10")
    clock.now += 1
    assert not _sign_in(person, "wrong", "192.0.2.10")
    clock.now += 1
    assert not _sign_in(person, PASSWORD, "192.0.2.10")


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


def _second_post_past_a_limit_of_one(client, settings, language: str, data: dict):
    """A member reading ``language`` posts once, then ``data``: the answer to the second."""
    _posting_limit(settings, 1)
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.cookies["django_language"] = language
    url = reverse("contribution_list", args=[membership.study.slug])
    client.post(url, _contribution(1))
    return client.post(url, data)


def test_the_friendly_message_is_in_the_persons_language(client, settings):
    refused = _second_post_past_a_limit_of_one(client, settings, "nb", _contribution(2))
    assert refused.status_code == 429
    assert 'lang="nb"' in refused.content.decode()
    assert "Du publiserer raskere enn studien tillater" in refused.content.decode()


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
    refused = _second_post_past_a_limit_of_one(
        client, settings, "en", {**_contribution(2), "body": "Written with care"}
    )
    assert refused.status_code == 429
    assert "still in the form" in refused.content.decode()
    assert "Written with care" in refused.content.decode()
