"""manage.py seed_demo: a believable demo study, the same after any number of runs."""

from __future__ import annotations

import html
import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import Affiliation, Organisation, User
from accounts.validators import validate_org_number
from contributions.models import Comment, Contribution
from studies.models import DocumentVersion, Membership, Phase, Role, Section, Study


def counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "addresses": EmailAddress.objects.count(),
        "affiliations": Affiliation.objects.count(),
        "studies": Study.objects.count(),
        "sections": Section.objects.count(),
        "phases": Phase.objects.count(),
        "versions": DocumentVersion.objects.count(),
        "memberships": Membership.objects.count(),
        "contributions": Contribution.objects.count(),
        "comments": Comment.objects.count(),
        "replies": Comment.objects.filter(parent__isnull=False).count(),
        "taken_up": Contribution.objects.filter(taken_up_in__isnull=False).count(),
    }


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_data():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    titles = list(Contribution.objects.order_by("idempotency_key").values_list("title", flat=True))
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
    assert titles == list(
        Contribution.objects.order_by("idempotency_key").values_list("title", flat=True)
    )
    assert first["organisations"] == 16
    assert 100 <= first["users"] <= 105
    assert first["contributions"] == 150
    assert first["comments"] == 500
    assert first["replies"] > 100
    assert "dugnad-demo-2026" in out.getvalue()
    assert "koordinator@dugnad.localhost" in out.getvalue()


@pytest.mark.django_db
def test_seeded_study_is_consistent():
    call_command("seed_demo", stdout=StringIO())
    study = Study.objects.get(slug="digital-assistent")
    assert study.is_open and study.is_public
    assert study.last_event_seq == 0
    assert list(study.sections.values_list("title", flat=True))[:2] == [
        "Problem og behov",
        "Brukerreiser",
    ]
    for organisation in Organisation.objects.all():
        validate_org_number(organisation.org_number)
    assert set(Organisation.objects.values_list("sector", flat=True)) == {
        "public",
        "private",
        "academia",
        "civil",
    }
    for item in list(Contribution.objects.all()) + list(Comment.objects.all()):
        membership = Membership.objects.get(study=study, user=item.author_id)
        assert item.acted_for_id == membership.organisation_id
        assert item.acted_for_sector == (
            membership.organisation.sector if membership.organisation else ""
        )
        assert item.body_html.startswith("<p>")
    for comment in Comment.objects.filter(parent__isnull=False).select_related("parent"):
        assert comment.parent.contribution_id == comment.contribution_id
        assert comment.created_at >= comment.parent.created_at
    individuals = Membership.objects.filter(study=study, organisation__isnull=True).count()
    assert 3 <= individuals <= 15


@pytest.mark.django_db
def test_demo_accounts_sign_in_with_verified_addresses_and_no_second_factor(client):
    call_command("seed_demo", stdout=StringIO())
    study = Study.objects.get(slug="digital-assistent")
    expected = {
        "demo@dugnad.localhost": Role.CONTRIBUTOR,
        "fasilitator@dugnad.localhost": Role.FACILITATOR,
        "koordinator@dugnad.localhost": Role.COORDINATOR,
    }
    for email, role in expected.items():
        user = User.objects.get(email=email)
        assert user.check_password("dugnad-demo-2026")
        assert EmailAddress.objects.get(user=user).verified
        assert not user.authenticator_set.exists()
        assert Membership.objects.get(study=study, user=user).role == role
    response = client.post(
        "/accounts/login/",
        {"login": "demo@dugnad.localhost", "password": "dugnad-demo-2026"},
    )
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_the_demo_has_an_administrator_who_is_in_no_study(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    admin = User.objects.get(email="admin@dugnad.localhost")
    assert admin.is_administrator and not admin.is_staff
    assert admin.check_password("dugnad-demo-2026")
    assert EmailAddress.objects.get(user=admin).verified
    assert not Membership.objects.filter(user=admin).exists()
    assert "administrator: admin@dugnad.localhost" in out.getvalue()


@pytest.mark.django_db
def test_the_printed_headline_is_the_one_the_statistics_page_shows(client, settings):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    for language in ("en", "nb"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get("/reports/digital-assistent/statistics/").content.decode()
        sentence = re.search(r'<p class="statistics-headline"><strong>(.*?)</strong>', page, re.S)
        assert sentence, page[:2000]
        shown = html.unescape(re.sub(r"<[^>]+>", "", sentence.group(1))).strip()
        assert f"  {shown}\n" in printed


@pytest.mark.django_db
def test_the_demo_has_confirmed_and_pending_claims_and_a_representative(client):
    from accounts.models import ClaimState
    from accounts.selectors import claims_to_decide
    from reports.statistics import study_statistics

    out = StringIO()
    call_command("seed_demo", stdout=out)
    states = set(Affiliation.objects.values_list("state", flat=True))
    assert states == {ClaimState.CONFIRMED, ClaimState.PENDING}
    coordinator = User.objects.get(email="koordinator@dugnad.localhost")
    assert claims_to_decide(user=coordinator).exists()
    study = Study.objects.get(slug="digital-assistent")
    totals = study_statistics(study=study).totals
    assert totals.unconfirmed_participants > 0 and totals.organisations > 0
    pending = Contribution.objects.filter(acted_for_claim=ClaimState.PENDING).first()
    assert pending is not None
    claim = Affiliation.objects.get(user=pending.author_id, organisation=pending.acted_for_id)
    assert claim.state == ClaimState.PENDING
    assert f"unconfirmed: {totals.unconfirmed_organisations}" in out.getvalue()
