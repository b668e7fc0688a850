"""Which controls an amendment offers, by its state and the viewer's role: support,
edit and withdrawal go once it is accepted, declined or withdrawn, in the document's
panel and on the study page's card alike, and the server keeps refusing them (409)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from contributions import passages
from contributions.controls import Viewer, stub
from contributions.models import Contribution
from tests.contributions.passage_setup import document_study
from tests.factories import login_as

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

STATES = ["open", "considering", "accepted", "declined", "withdrawn"]
ROLES = ["author", "other", "facilitator", "anonymous"]
UNDECIDED = {"open", "considering"}


@pytest.fixture
def world(settings):
    doc = document_study(settings)
    people = {
        "author": doc.kari,
        "other": doc.ola,
        "facilitator": doc.facilitator,
        "anonymous": None,
    }
    return doc.study, doc.coordinator, doc.blocks[1], people


def _amendment_in(state: str, study, coordinator, block, author) -> Contribution:
    amendment = passages.amendment_create(
        study=study,
        author=author,
        anchor=block.anchor,
        wording="Citizens find help in one place.",
        reason="Shorter.",
    )
    if state == "withdrawn":
        passages.amendment_withdraw(contribution=amendment, user=author)
    elif state != "open":
        passages.amendment_decide(
            contribution=amendment, by=coordinator, status=state, reason="Because."
        )
    return Contribution.objects.get(pk=amendment.pk)


def _client_for(user) -> Client:
    client = Client()
    if user is not None:
        login_as(client, user)
    return client


def _panel_article(html: str, pk: int) -> str:
    start = html.index(f'id="passage-item-{pk}"')
    return html[start : html.index("</article>", start)]


def _card_tools(html: str, pk: int) -> str:
    """The study page card's controls: everything before its form slot."""
    start = html.index(f'id="contribution-{pk}"')
    return html[start : html.index('class="item-form-slot"', start)]


def _amendment_seen_by(world, state: str, role: str):
    """The author's amendment in ``state``, and a client signed in as ``role``."""
    study, coordinator, block, people = world
    amendment = _amendment_in(state, study, coordinator, block, people["author"])
    return amendment, _client_for(people[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_the_panel_offers_support_withdrawal_and_a_decision_only_while_undecided(
    world, state, role
):
    study, _c, block, _p = world
    amendment, client = _amendment_seen_by(world, state, role)
    response = client.get(reverse("passages:panel", args=[study.slug, block.anchor]), **HTMX)
    assert response.status_code == 200
    article = _panel_article(response.content.decode(), amendment.pk)
    open_ = state in UNDECIDED
    offered = {
        "support": "/support/" in article,
        "withdraw": "/withdraw/" in article,
        "decide": "/decide/" in article,
        "edit": "/edit/" in article,
    }
    assert offered == {
        "support": open_ and role in ("other", "facilitator"),
        "withdraw": open_ and role == "author",
        "decide": open_ and role == "facilitator",
        "edit": False,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_the_study_page_card_offers_support_edit_and_withdrawal_only_while_undecided(
    world, state, role
):
    study, _c, block, _p = world
    amendment, client = _amendment_seen_by(world, state, role)
    response = client.get(reverse("study_detail", args=[study.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    tools = _card_tools(html, amendment.pk)
    open_ = state in UNDECIDED
    offered = {
        "support": f"/contributions/{amendment.pk}/react/" in tools,
        "edit": f"/contributions/{amendment.pk}/edit/" in tools,
        "withdraw": f"/contributions/{amendment.pk}/withdraw/" in tools,
        "comment": f"/contributions/{amendment.pk}/comments/form/" in tools,
    }
    assert offered == {
        "support": open_ and role in ("other", "facilitator"),
        "edit": open_ and role == "author",
        "withdraw": open_ and role == "author",
        "comment": state != "withdrawn" and role != "anonymous",
    }
    decided = state in ("accepted", "declined")
    assert ('data-decided="true"' in tools) is decided


@pytest.mark.parametrize("state", STATES)
def test_the_card_tells_the_script_the_same_as_the_server_controls(world, state):
    """live.js rebuilds controls only when its signature differs from the server's."""
    study, coordinator, block, people = world
    amendment = _amendment_in(state, study, coordinator, block, people["author"])
    amendment = Contribution.objects.select_related("amendment").get(pk=amendment.pk)
    viewer = Viewer(slug=study.slug, user_id=people["other"].pk, can_contribute=True)
    tools = viewer.tools(stub(amendment))
    if state == "withdrawn":
        assert tools == ""  # nothing to offer, and live.js builds nothing either
        return
    decided = 1 if state in ("accepted", "declined") else 0
    assert f'data-signature="{amendment.state}|0|0|false|{decided}"' in tools


@pytest.mark.parametrize("decision", ["accepted", "declined"])
def test_every_control_of_a_decided_amendment_is_still_refused_with_a_clear_message(
    world, decision
):
    study, coordinator, block, people = world
    author, other = people["author"], people["other"]
    amendment = _amendment_in(decision, study, coordinator, block, author)
    as_author, as_other = _client_for(author), _client_for(other)
    no_support = "Dette endringsforslaget kan ikke lenger få støtte."
    no_withdrawal = "Et avgjort endringsforslag kan ikke lenger trekkes tilbake."
    no_edit = "Et avgjort endringsforslag kan ikke lenger endres."
    posts = [  # who, the URL's name, the data, the status, the message
        (as_other, "passages:support", {}, 409, no_support),
        (as_other, "contribution_react", {}, 409, no_support),
        (as_author, "passages:withdraw", {}, 409, no_withdrawal),
        (as_author, "contribution_edit", {"body": "Other."}, 409, no_edit),
        # The study page's generic withdrawal refuses as it refuses every invalid request.
        (as_author, "contribution_withdraw", {}, 422, no_withdrawal),
    ]
    for client, name, data, status, message in posts:
        url = reverse(name, args=[study.slug, amendment.pk])
        response = client.post(url, data, **HTMX)
        assert response.status_code == status, url
        assert message in unescape(response.content.decode()), url
    amendment.refresh_from_db()
    assert amendment.state == "published" and amendment.body == "Shorter."
    assert amendment.edited_at is None and amendment.reactions.count() == 0


def test_a_withdrawn_amendment_answers_409_to_support_and_a_second_withdrawal(world):
    study, coordinator, block, people = world
    author, other = people["author"], people["other"]
    amendment = _amendment_in("withdrawn", study, coordinator, block, author)
    response = _client_for(other).post(
        reverse("passages:support", args=[study.slug, amendment.pk]), **HTMX
    )
    assert response.status_code == 409
    response = _client_for(author).post(
        reverse("passages:withdraw", args=[study.slug, amendment.pk]), **HTMX
    )
    assert response.status_code == 409
    assert amendment.reactions.count() == 0
