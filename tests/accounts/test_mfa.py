"""Facilitators and coordinators are guided through TOTP set-up, then sent back."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from studies.models import Role
from tests.accounts.conftest import reauthenticate, sign_in, totp_code
from tests.contributions.factories import member
from tests.factories import PASSWORD, StudyFactory, give_mfa, use_second_factor

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.mfa_urls")]


def signed_in_member(client, role, slug: str = "digital-assistent"):
    """A member of the study ``slug`` in ``role``, signed in with a password only."""
    user = member(StudyFactory(slug=slug), role=role)
    sign_in(client, user)
    return user


@pytest.fixture
def coordinator(client):
    return signed_in_member(client, Role.COORDINATOR)


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_without_mfa_is_guided_through_set_up_and_back(client, coordinator):
    # transaction=True: allauth announces the new authenticator after commit,
    # inside the request, as in production; that is when the set-up is counted
    # as the second factor used in this session.
    target = "/test-moderation/digital-assistent/"
    response = client.get(target)
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    assert client.session["mfa_next"] == target

    # allauth first asks for the password again before a second factor is set up.
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    response = client.post(response.url, {"password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")

    page = client.get(response.url)
    assert page.status_code == 200
    messages = [str(m) for m in page.context["messages"]]
    assert any("two-factor" in m.lower() or "tofaktor" in m.lower() for m in messages)
    secret = page.context["form"].secret

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response.url == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=coordinator, type="totp").exists()
    assert Authenticator.objects.filter(user=coordinator, type="recovery_codes").exists()

    codes = client.get(response.url)
    assert codes.status_code == 200
    assert codes.context["unused_codes"]  # recovery codes are offered
    assert reverse("mfa_continue") in codes.content.decode()

    response = client.get(reverse("mfa_continue"))
    assert response.status_code == 302
    assert response.url == target
    assert "mfa_next" not in client.session
    assert client.get(target).content == b"moderating digital-assistent"


@pytest.mark.parametrize(
    ("target", "role"),
    [
        ("/test-moderation/digital-assistent/", Role.FACILITATOR),
        ("/test-statistics/digital-assistent/", Role.FACILITATOR),
        ("/test-moderation/digital-assistent/", Role.COORDINATOR),
        ("/test-statistics/digital-assistent/", Role.COORDINATOR),
        ("/test-export/digital-assistent/", Role.COORDINATOR),
        ("/moderation/digital-assistent/", Role.FACILITATOR),
        ("/moderation/", Role.COORDINATOR),
    ],
)
def test_every_guarded_page_guides_to_set_up_with_an_explanation(client, target, role):
    signed_in_member(client, role)
    client.cookies["django_language"] = "en"
    response = client.get(target, follow=True)
    # Guided, not refused: allauth asks for the password, then shows the set-up.
    assert response.status_code == 200
    assert response.redirect_chain[0] == (reverse("mfa_activate_totp"), 302)
    assert client.session["mfa_next"] == target
    messages = [str(m) for m in response.context["messages"]]
    assert any("Set up an authenticator app below, then continue" in m for m in messages)


def test_the_guidance_is_in_bokmal_by_default(client, coordinator):
    response = client.get("/test-export/digital-assistent/", follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("tofaktor" in m.lower() for m in messages), messages


def test_a_facilitator_is_refused_exports_not_sent_to_mfa_set_up(client):
    signed_in_member(client, Role.FACILITATOR)
    assert client.get("/test-export/digital-assistent/").status_code == 403
    assert "mfa_next" not in client.session


def test_a_facilitator_with_mfa_opens_the_real_moderation_queue(client):
    user = signed_in_member(client, Role.FACILITATOR)
    use_second_factor(client, user)
    assert client.get("/moderation/digital-assistent/").status_code == 200


def test_an_anonymous_visitor_is_refused_not_sent_to_mfa_set_up(client):
    StudyFactory(slug="digital-assistent")
    assert client.get("/test-statistics/digital-assistent/").status_code == 403
    assert "mfa_next" not in client.session
    response = client.get("/moderation/digital-assistent/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_wrong_code_does_not_activate_mfa(client, coordinator):
    client.get("/test-moderation/digital-assistent/")
    reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=coordinator).exists()
    assert client.get("/test-moderation/digital-assistent/").status_code == 302


def test_an_htmx_request_is_told_where_to_set_up_mfa(client, coordinator):
    response = client.get("/test-moderation/digital-assistent/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Redirect"] == reverse("mfa_activate_totp")


def test_a_coordinator_with_mfa_used_in_this_session_goes_straight_in(client, coordinator):
    use_second_factor(client, coordinator)
    response = client.get("/test-moderation/digital-assistent/")
    assert response.status_code == 200


def test_a_coordinator_with_mfa_set_up_elsewhere_is_asked_for_a_code(client, coordinator):
    give_mfa(coordinator)  # set up in another session: this one never used it
    response = client.get("/test-moderation/digital-assistent/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))


def test_a_contributor_is_refused_not_sent_to_mfa_set_up(client):
    signed_in_member(client, Role.CONTRIBUTOR, slug="open-study")
    response = client.get("/test-moderation/open-study/")
    assert response.status_code == 403
    assert "mfa_next" not in client.session


def test_continuing_after_set_up_never_leaves_the_site(client, coordinator):
    session = client.session
    session["mfa_next"] = "https://evil.example/steal"
    session.save()
    response = client.get(reverse("mfa_continue"))
    assert response.status_code == 302
    assert response.url == "/"


def test_continuing_without_a_destination_goes_home(client, coordinator):
    response = client.get(reverse("mfa_continue"))
    assert response.url == "/"


def test_a_form_sent_without_mfa_continues_on_the_page_it_came_from(client, coordinator):
    response = client.post(
        "/test-moderation/digital-assistent/",
        HTTP_REFERER="http://testserver/studies/digital-assistent/",
    )
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    assert client.session["mfa_next"] == "http://testserver/studies/digital-assistent/"


def test_a_form_sent_from_another_site_continues_home(client, coordinator):
    client.post("/test-moderation/digital-assistent/", HTTP_REFERER="https://evil.example/x")
    assert client.session["mfa_next"] == "/"
