"""Replies to a comment or amendment on a passage, in the passage's panel: posted there,
shown threaded under their item, refused clearly, and moderated, counted and found like
every comment."""

from __future__ import annotations

import uuid
from html import unescape

import pytest
from django.urls import reverse

from contributions import passages, services
from contributions.models import Comment, Contribution, ItemState
from moderation import services as moderation
from moderation.models import Flag
from reports.statistics import study_statistics
from studies.blocks import version_blocks
from studies.models import Membership, ModerationMode, Role, StudyEvent
from studies.services import document_version_publish
from tests.contributions.factories import member
from tests.contributions.passage_setup import DOC, document_study
from tests.factories import ContributionFactory, StudyFactory, login_as
from tests.search.conftest import found

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def setup(settings):
    doc = document_study(settings)
    item = passages.passage_comment_create(
        study=doc.study, author=doc.kari, anchor=doc.blocks[1].anchor, body="Which agencies?"
    )
    return doc.study, doc.facilitator, doc.blocks, doc.kari, doc.ola, item


def _reply_url(study, anchor, pk):
    return reverse("passages:reply", args=[study.slug, anchor, pk])


def _reply_form(pk, body: str, key: str | None = None) -> dict:
    """The reply form's fields for the item ``pk``, with a fresh idempotency key unless given."""
    return {f"reply-{pk}-body": body, f"reply-{pk}-idempotency_key": key or str(uuid.uuid4())}


def _post_reply(client, study, anchor, pk, body="All of them.", **extra):
    data = _reply_form(pk, body)
    data.update(extra)
    return client.post(_reply_url(study, anchor, pk), data, **HTMX)


def _reply_without_javascript(client, setup, body: str):
    """Ola replies to the passage comment through the plain form (no htmx); returns the
    response and the form's idempotency key."""
    study, _f, blocks, _k, ola, item = setup
    login_as(client, ola)
    key = str(uuid.uuid4())
    response = client.post(
        _reply_url(study, blocks[1].anchor, item.pk), _reply_form(item.pk, body, key)
    )
    return response, key


def _panel(client, study, anchor) -> str:
    response = client.get(reverse("passages:panel", args=[study.slug, anchor]), **HTMX)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _article(html: str, pk: int) -> str:
    """The item's article in the panel, up to the next item (replies are nested in it)."""
    start = html.index(f'id="passage-item-{pk}"')
    end = html.find('class="passage-item"', start)
    return html[start : end if end != -1 else len(html)]


def reply(item, author, body="All of them.", **kwargs) -> Comment:
    return passages.passage_reply_create(contribution=item, author=author, body=body, **kwargs)


# --- posting and showing --------------------------------------------------------------


def test_a_member_replies_in_the_panel_and_the_reply_shows_under_its_comment(setup, client):
    study, _f, blocks, kari, ola, item = setup
    login_as(client, ola)
    response = _post_reply(client, study, blocks[1].anchor, item.pk, body="**All** of them.")
    assert response.status_code == 200
    saved = Comment.objects.get()
    assert (saved.contribution_id, saved.parent_id, saved.author_id) == (item.pk, None, ola.pk)
    assert saved.state == ItemState.PUBLISHED
    article = _article(unescape(response.content.decode()), item.pk)
    assert 'class="passage-replies"' in article
    assert f'id="passage-reply-{saved.pk}"' in article
    assert "<strong>All</strong> of them." in article and "Ola Nordmann" in article
    # The item's own link counts it with the comments discussed on the study page.
    assert "1 comment" in article or "1 kommentar" in article
    assert StudyEvent.objects.filter(kind="comment.created").count() == 1


def test_a_reply_carries_the_organisation_snapshot_of_its_author(setup):
    _s, _f, _b, kari, ola, item = setup
    answer = reply(item, kari)
    assert answer.acted_for.name == "NAV"
    assert reply(item, ola).acted_for is None


def test_replies_made_on_the_study_page_are_threaded_one_level_in_the_panel(setup, client):
    study, _f, blocks, kari, ola, item = setup
    first = services.comment_create(contribution=item, author=ola, body="First reply.")
    second = services.comment_create(contribution=item, author=kari, body="Second reply.")
    under = services.comment_create(contribution=item, author=kari, body="Answer.", parent=first)
    html = _panel(client, study, blocks[1].anchor)
    article = _article(html, item.pk)
    assert article.index("First reply.") < article.index("Answer.") < article.index("Second reply.")
    nested = article[article.index(f'id="passage-reply-{first.pk}"') :]
    nested = nested[: nested.index(f'id="passage-reply-{second.pk}"')]
    assert 'class="passage-reply-replies"' in nested and f"passage-reply-{under.pk}" in nested


def test_an_amendment_takes_replies_too(setup, client):
    study, _f, blocks, kari, ola, _item = setup
    amendment = passages.amendment_create(
        study=study, author=kari, anchor=blocks[2].anchor, wording="- On any phone.", reason="x"
    )
    login_as(client, ola)
    assert _post_reply(client, study, blocks[2].anchor, amendment.pk).status_code == 200
    assert "All of them." in _article(_panel(client, study, blocks[2].anchor), amendment.pk)


def test_only_members_who_may_post_get_a_reply_form(setup, client):
    study, _f, blocks, _k, ola, item = setup
    form = f'action="{_reply_url(study, blocks[1].anchor, item.pk)}"'
    assert form not in _panel(client, study, blocks[1].anchor)
    login_as(client, ola)
    assert form in _panel(client, study, blocks[1].anchor)


def test_a_double_submit_posts_one_reply(setup, client):
    study, _f, blocks, _k, ola, item = setup
    login_as(client, ola)
    key = str(uuid.uuid4())
    data = _reply_form(item.pk, "Once.", key)
    url = _reply_url(study, blocks[1].anchor, item.pk)
    assert client.post(url, data, **HTMX).status_code == 200
    assert client.post(url, data, **HTMX).status_code == 200
    assert Comment.objects.count() == 1


def test_without_javascript_a_reply_returns_to_the_open_panel(setup, client):
    _study, _f, blocks, *_ = setup
    response, _key = _reply_without_javascript(client, setup, "Plain.")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?open={blocks[1].anchor}#{blocks[1].anchor}")


# --- refusals ----------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in_and_outsiders_are_refused(setup, client):
    study, _f, blocks, _k, _o, item = setup
    response = _post_reply(client, study, blocks[1].anchor, item.pk)
    assert response.status_code == 302 and "login" in response["Location"]
    login_as(client, member())  # a member of another study
    response = _post_reply(client, study, blocks[1].anchor, item.pk)
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_a_reply_to_an_item_of_another_passage_or_study_or_to_no_passage_item_is_404(setup, client):
    study, _f, blocks, kari, ola, item = setup
    elsewhere = StudyFactory(body=DOC)
    owner = member(elsewhere, role=Role.COORDINATOR)
    other_version = document_version_publish(
        study=elsewhere, number="1.0", body=DOC, change_summary="x", by=owner
    )
    foreign = passages.passage_comment_create(
        study=elsewhere,
        author=owner,
        anchor=version_blocks(other_version)[1].anchor,
        body="Elsewhere.",
    )
    idea = ContributionFactory(study=study, author=kari)
    login_as(client, ola)
    for anchor, pk in [
        (blocks[2].anchor, item.pk),  # the item is on another passage
        (blocks[1].anchor, foreign.pk),  # another study's
        (blocks[1].anchor, idea.pk),  # not on the document
        ("p-00000000", item.pk),  # no such passage
        (blocks[1].anchor, 10**9),
    ]:
        response = _post_reply(client, study, anchor, pk)
        assert response.status_code == 404, (anchor, pk)
    assert "Det finnes ingen slik kommentar eller slikt endringsforslag" in unescape(
        _post_reply(client, study, blocks[2].anchor, item.pk).content.decode()
    )
    assert not Comment.objects.exists()


def test_a_reply_to_a_reply_is_refused_with_400(setup, client):
    study, _f, blocks, kari, ola, item = setup
    elsewhere = ContributionFactory(study=study, author=kari)
    taken = set(Contribution.objects.filter(study=study).values_list("pk", flat=True))
    spare = services.comment_create(contribution=elsewhere, author=kari, body="Elsewhere.")
    while spare.pk + 1 in taken:  # so that the reply's number is no contribution's here
        spare = services.comment_create(contribution=elsewhere, author=kari, body="Elsewhere.")
    first = reply(item, kari)
    login_as(client, ola)
    response = _post_reply(client, study, blocks[1].anchor, item.pk, parent=str(first.pk))
    assert response.status_code == 400
    assert "Svar på et avsnitt går bare ett nivå ned" in unescape(response.content.decode())
    # A reply's number in the address is no item of the passage.
    assert first.pk != item.pk
    response = _post_reply(client, study, blocks[1].anchor, first.pk)
    assert response.status_code == 404
    assert Comment.objects.filter(contribution=item).count() == 1


@pytest.mark.parametrize("state", ["hidden", "removed", "withdrawn"])
def test_a_reply_to_a_hidden_removed_or_withdrawn_item_is_refused_with_400(setup, client, state):
    study, facilitator, blocks, kari, ola, item = setup
    if state == "hidden":
        moderation.item_hide(study=study, actor=facilitator, item=item, reason="off_topic")
    elif state == "removed":
        moderation.item_remove(study=study, actor=facilitator, item=item, reason="spam")
    else:
        services.contribution_withdraw(contribution=item, user=kari)
    login_as(client, ola)
    response = _post_reply(client, study, blocks[1].anchor, item.pk)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "kan ikke besvares" in html
    assert not Comment.objects.exists()
    assert f'action="{_reply_url(study, blocks[1].anchor, item.pk)}"' not in _panel(
        client, study, blocks[1].anchor
    )
    with pytest.raises(passages.ValidationError):
        reply(item, ola)


@pytest.mark.parametrize(
    "body", ["", "   ", "x" * (services.COMMENT_MAX + 1), "nul\x00byte"], ids=repr
)
def test_a_bad_reply_is_refused_with_a_form_error_and_nothing_saved(setup, client, body):
    study, _f, blocks, _k, ola, item = setup
    login_as(client, ola)
    response = _post_reply(client, study, blocks[1].anchor, item.pk, body=body)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="errorlist"' in html
    assert f'id="reply-wrap-{item.pk}" open' in html  # the form stays open with the error
    assert not Comment.objects.exists()


def test_a_blocked_member_cannot_reply(setup, client):
    study, facilitator, blocks, _k, ola, item = setup
    membership = Membership.objects.get(study=study, user=ola)
    moderation.member_block(study=study, actor=facilitator, membership=membership, reason="Spam.")
    login_as(client, ola)
    assert _post_reply(client, study, blocks[1].anchor, item.pk).status_code == 403
    assert not Comment.objects.exists()


# --- moderated, counted, found ---------------------------------------------------------


def test_under_pre_moderation_a_reply_waits_and_the_poster_is_told(setup, client):
    study, facilitator, blocks, _k, ola, item = setup
    type(study).objects.filter(pk=study.pk).update(moderation_mode=ModerationMode.PRE)
    login_as(client, ola)
    response = _post_reply(client, study, blocks[1].anchor, item.pk, body="Waiting reply.")
    html = unescape(response.content.decode())
    assert "godkjent" in html
    assert "Waiting reply." not in _panel(client, study, blocks[1].anchor)
    assert study_statistics(study=study).totals.comments == 0
    moderation.item_approve(study=study, actor=facilitator, item=Comment.objects.get())
    assert "Waiting reply." in _panel(client, study, blocks[1].anchor)
    assert study_statistics(study=study).totals.comments == 1


def test_a_flagged_and_hidden_reply_leaves_a_marker_in_the_panel(setup, client):
    study, facilitator, blocks, kari, ola, item = setup
    answer = reply(item, kari, body="Call me on 99 99 99 99.")
    login_as(client, ola)
    response = client.post(
        reverse("moderation:flag", args=[study.slug, "comment", answer.pk]),
        {"reason": "personal_data"},
    )
    assert response.status_code in (200, 302)
    assert Flag.objects.filter(comment=answer, user=ola).exists()
    moderation.item_hide(study=study, actor=facilitator, item=answer, reason="personal_data")
    article = _article(_panel(client, study, blocks[1].anchor), item.pk)
    assert "99 99 99 99" not in article
    assert f'id="passage-reply-{answer.pk}"' in article and "item-marker" in article
    # Open panels hear of it as of every comment, and refetch (static/js/passages.js).
    assert StudyEvent.objects.filter(kind="comment.state", key=f"comment-{answer.pk}").exists()


def test_a_reply_counts_as_a_comment_unless_removed_as_spam(setup):
    study, facilitator, _b, kari, ola, item = setup
    kept = reply(item, ola)
    totals = study_statistics(study=study).totals
    assert (totals.contributions, totals.comments, totals.participants) == (1, 1, 2)
    moderation.item_hide(study=study, actor=facilitator, item=kept, reason="off_topic")
    assert study_statistics(study=study).totals.comments == 1  # hidden, not for spam
    spam = reply(item, ola, body="Buy now.")
    moderation.item_remove(study=study, actor=facilitator, item=spam, reason="spam")
    totals = study_statistics(study=study).totals
    assert (totals.comments, totals.participants) == (1, 2)


def test_a_reply_is_found_by_search_until_it_is_hidden(
    setup, eager_celery, django_capture_on_commit_callbacks
):
    study, facilitator, _b, _k, ola, item = setup
    with django_capture_on_commit_callbacks(execute=True):  # indexed after the post commits
        answer = reply(item, ola, body="Trollskog er svaret.")
    assert found("trollskog", study=study) == [f"comment:{answer.pk}"]
    moderation.item_hide(study=study, actor=facilitator, item=answer, reason="off_topic")
    assert found("trollskog", study=study) == []


def test_without_javascript_a_refused_reply_shows_the_document_with_the_form_and_its_error(
    setup, client
):
    *_, item = setup
    response, key = _reply_without_javascript(client, setup, "  ")
    assert response.status_code == 422
    html = response.content.decode()
    assert "<h1>" in html and f'id="reply-wrap-{item.pk}" open' in html
    assert 'class="errorlist"' in html and key in html  # the same form, posted again
    assert not Comment.objects.exists()
