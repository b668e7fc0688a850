"""The study page's window (docs/live.md, "The window").

The page shows PAGE_SIZE contributions with their COMMENTS_SHOWN latest
top-level comments; older comments wait behind "Show all N comments" and
replies behind "N replies: show", both loaded on demand. The counts count
published comments only, never one a visitor may not read; the endpoints
follow the study's access; the queries stay fixed whatever the number of
items.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contributions import services
from contributions.models import ItemState
from contributions.selectors import COMMENTS_SHOWN, PAGE_SIZE
from studies.models import Role, Visibility
from tests.contributions.factories import member
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    StudyFactory,
    UserFactory,
    login_as,
    sign_in_with_second_factor,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, study, **params):
    client.cookies["django_language"] = "en"
    return client.get(reverse("study_detail", args=[study.slug]), params, HTTP_ACCEPT_LANGUAGE="en")


def replies_url(study, comment) -> str:
    return reverse("comment_replies", args=[study.slug, comment.pk])


def comments_url(study, contribution) -> str:
    return reverse("contribution_comments", args=[study.slug, contribution.pk])


def control(html: str, dom_id: str) -> tuple[list[int], str]:
    """The ids a "more" control counts, and its label."""
    found = re.search(rf'id="{dom_id}-more" data-ids="([^"]*)"><a [^>]*>([^<]*)</a>', html)
    assert found, f"no control for {dom_id}"
    return [int(pk) for pk in found.group(1).split()], found.group(2)


@pytest.fixture
def thread():
    """A contribution with five top-level comments (the oldest with replies of every kind)."""
    study = StudyFactory()
    contribution = ContributionFactory(study=study, title="The idea")
    comments = [
        CommentFactory(contribution=contribution, body_html=f"<p>Top {n}</p>") for n in range(5)
    ]
    newest = comments[-1]
    replies = [
        CommentFactory(contribution=contribution, parent=newest, body_html=f"<p>Reply {n}</p>")
        for n in range(3)
    ]
    pending = CommentFactory(
        contribution=contribution,
        parent=newest,
        state=ItemState.PENDING,
        body_html="<p>Reply waiting</p>",
    )
    hidden = CommentFactory(
        contribution=contribution, parent=newest, body_html="<p>Reply hidden</p>"
    )
    services.item_change_state(item=hidden, state=ItemState.HIDDEN, reason="off_topic")
    waiting_top = CommentFactory(
        contribution=contribution, state=ItemState.PENDING, body_html="<p>Top waiting</p>"
    )
    return study, contribution, comments, replies, pending, hidden, waiting_top


def test_the_window_shows_the_latest_comments_and_counts_only_published_ones(client, thread):
    study, contribution, comments, replies, pending, hidden, waiting_top = thread
    html = page(client, study).content.decode()
    assert COMMENTS_SHOWN == 2
    assert "Top 3" in html and "Top 4" in html
    assert "Top 2" not in html and "Top 0" not in html
    # Replies are not inline: "3 replies: show", never counting the pending or hidden one.
    assert "Reply 0" not in html and "Reply waiting" not in html
    ids, label = control(html, comments[-1].dom_id)
    assert ids == [r.pk for r in replies] and label == "3 replies: show"
    ids, label = control(html, contribution.dom_id)
    assert ids == [c.pk for c in comments] and label == "Show all 5 comments"
    for unseen in (pending, hidden, waiting_top):
        assert f"{unseen.pk}" not in re.findall(r'data-ids="([^"]*)"', html)[0].split()
        assert f"{unseen.pk}" not in re.findall(r'data-ids="([^"]*)"', html)[1].split()
    assert "Top waiting" not in html
    # A comment with no replies has no control.
    assert f'id="{comments[3].dom_id}-more"' not in html


def test_a_few_comments_have_no_show_all(client):
    study = StudyFactory()
    contribution = ContributionFactory(study=study)
    for n in range(COMMENTS_SHOWN):
        CommentFactory(contribution=contribution, body_html=f"<p>Only {n}</p>")
    html = page(client, study).content.decode()
    assert "Only 0" in html and "Only 1" in html
    assert f'id="{contribution.dom_id}-more"' not in html


def test_show_all_loads_every_comment_with_its_replies(client, thread):
    study, contribution, comments, replies, pending, hidden, _waiting = thread
    client.cookies["django_language"] = "en"
    html = client.get(comments_url(study, contribution), **HTMX).content.decode()
    assert all(f"Top {n}" in html for n in range(5))
    assert all(f"Reply {n}" in html for n in range(3))
    assert "Hidden by a facilitator" in html and "Reply hidden" not in html
    assert "waiting" not in html
    assert "<html" not in html  # a fragment for htmx


def test_replies_load_on_request_for_visitors_members_and_facilitators(client, thread):
    study, contribution, comments, replies, pending, hidden, _waiting = thread
    url = replies_url(study, comments[-1])
    visitor = client.get(url, **HTMX)
    assert visitor.status_code == 200
    html = visitor.content.decode()
    assert re.findall(r'id="(comment-\d+)"', html) == [
        *[r.dom_id for r in replies],
        hidden.dom_id,
    ]
    assert "Reply waiting" not in html and "Reply hidden" not in html
    assert "live-item-tools" not in html  # a visitor gets no controls
    login_as(client, member(study))
    html = client.get(url, **HTMX).content.decode()
    assert "Reply 2" in html and "react-button" in html
    sign_in_with_second_factor(client, member(study, role=Role.FACILITATOR))
    assert "Reply 2" in client.get(url, **HTMX).content.decode()


def test_the_author_of_a_pending_reply_does_not_get_it_in_the_window(client, thread):
    """The list is the same for everyone: a pending reply waits for approval off the page."""
    study, _contribution, comments, _replies, pending, _hidden, _waiting = thread
    login_as(client, pending.author)
    html = client.get(replies_url(study, comments[-1]), **HTMX).content.decode()
    assert "Reply waiting" not in html


def test_without_javascript_show_all_and_replies_are_pages_of_their_own(client, thread):
    study, contribution, comments, _replies, _pending, _hidden, _waiting = thread
    html = page(client, study).content.decode()
    # The links work without JavaScript: a page with the comments and a way back.
    assert f'href="{comments_url(study, contribution)}"' in html
    assert f'href="{comments_url(study, contribution)}#{comments[-1].dom_id}"' in html
    full = client.get(comments_url(study, contribution)).content.decode()
    assert "<html" in full and "Top 0" in full and "Reply 0" in full
    assert f"?before={contribution.pk + 1}#{contribution.dom_id}" in full
    replies = client.get(replies_url(study, comments[-1])).content.decode()
    assert "<html" in replies and "Reply 0" in replies


@pytest.mark.parametrize("name", ["comment_replies", "contribution_comments"])
def test_a_members_only_study_is_not_found_for_outsiders(client, name):
    study = StudyFactory(visibility=Visibility.MEMBERS)
    contribution = ContributionFactory(study=study)
    comment = CommentFactory(contribution=contribution)
    CommentFactory(contribution=contribution, parent=comment)
    pk = comment.pk if name == "comment_replies" else contribution.pk
    url = reverse(name, args=[study.slug, pk])
    assert client.get(url, **HTMX).status_code == 404
    login_as(client, UserFactory())
    assert client.get(url, **HTMX).status_code == 404
    login_as(client, member(study))
    assert client.get(url, **HTMX).status_code == 200


def test_bad_ids_are_not_found_never_a_server_error(client, thread):
    study, contribution, comments, replies, pending, _hidden, _waiting = thread
    other = CommentFactory(contribution=ContributionFactory())
    official = CommentFactory(contribution=contribution, official=True)
    for pk in (
        replies[0].pk,  # a reply has no replies of its own
        official.pk,  # nor has an official answer
        pending.pk,  # not on the page
        other.pk,  # another study's comment
        10**6,
        2**63,  # past the database's integer
    ):
        response = client.get(f"/studies/{study.slug}/comments/{pk}/replies/", **HTMX)
        assert response.status_code == 404, pk
    for pk in (other.contribution_id, 2**63):
        response = client.get(f"/studies/{study.slug}/contributions/{pk}/comments/", **HTMX)
        assert response.status_code == 404, pk
    for path in ("comments/x/replies/", "comments/-1/replies/", "contributions/1.5/comments/"):
        assert client.get(f"/studies/{study.slug}/{path}", **HTMX).status_code == 404
    assert client.post(replies_url(study, comments[-1]), **HTMX).status_code == 405


def _populate(study, contributions: int, comments_each: int, replies_each: int) -> list:
    authors = [member(study) for _ in range(3)]
    tops = []
    for n in range(contributions):
        c = ContributionFactory(study=study, author=authors[n % 3])
        for m in range(comments_each):
            top = CommentFactory(contribution=c, author=authors[(n + m) % 3])
            tops.append(top)
            for r in range(replies_each):
                CommentFactory(contribution=c, parent=top, author=authors[(n + r) % 3])
    return tops


def _queries(client, url: str, **extra) -> int:
    client.get(url, **extra)  # once-per-process and per-event values
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **extra).status_code == 200
    return len(queries)


def test_the_page_reads_the_same_queries_whatever_the_items(client):
    small, large = StudyFactory(), StudyFactory()
    _populate(small, 1, 1, 0)
    _populate(large, PAGE_SIZE + 5, 8, 4)
    login_as(client, UserFactory())
    client.get("/")  # the viewer's unread count is counted once, then cached
    assert _queries(client, reverse("study_detail", args=[small.slug])) == _queries(
        client, reverse("study_detail", args=[large.slug])
    )
    # And the list a "load more" reads.
    assert _queries(
        client, reverse("contribution_list", args=[small.slug]) + "?before=999999", **HTMX
    ) == _queries(
        client, reverse("contribution_list", args=[large.slug]) + "?before=999999", **HTMX
    )


def test_show_all_and_replies_read_the_same_queries_whatever_the_items(client):
    study = StudyFactory()
    few = _populate(study, 1, 1, 1)
    many = _populate(study, 1, 12, 9)
    login_as(client, member(study))
    assert _queries(client, replies_url(study, few[0]), **HTMX) == _queries(
        client, replies_url(study, many[0]), **HTMX
    )
    assert _queries(client, comments_url(study, few[0].contribution), **HTMX) == _queries(
        client, comments_url(study, many[0].contribution), **HTMX
    )


def test_the_window_loads_only_the_comments_it_shows(thread):
    """The comments left out are counted by id, never loaded with their authors: a list
    built after every new comment must not weigh as much as the busiest contribution."""
    from django.db.models.signals import post_init

    from accounts.models import User
    from contributions.models import Comment
    from contributions.selectors import contribution_page

    study, contribution, comments, replies, _pending, _hidden, _waiting = thread
    official = CommentFactory(contribution=contribution, official=True)
    many = [CommentFactory(contribution=contribution) for _ in range(20)]
    made: list = []

    def count(sender, instance, **kwargs):
        made.append(instance)

    post_init.connect(count, sender=Comment)
    post_init.connect(count, sender=User)
    try:
        page = contribution_page(study=study)
    finally:
        post_init.disconnect(count, sender=Comment)
        post_init.disconnect(count, sender=User)
    loaded = [c for c in made if isinstance(c, Comment)]
    assert sorted(c.pk for c in loaded) == sorted([official.pk, *(c.pk for c in many[-2:])])
    # Their authors and the contribution's, no more.
    assert len([u for u in made if isinstance(u, User)]) == len(loaded) + 1
    (shown,) = page.contributions
    assert shown.official_list == [official]
    assert shown.comment_list == many[-COMMENTS_SHOWN:]
    assert shown.comment_ids == tuple(c.pk for c in [*comments, *many])
    assert all(c.reply_ids == () and c.reply_list == [] for c in shown.comment_list)
    assert all(c.author.pk and c.contribution is shown for c in shown.comment_list)


def test_the_window_counts_the_replies_of_the_comments_it_shows(thread):
    from contributions.selectors import contribution_page

    study, _contribution, comments, replies, _pending, _hidden, _waiting = thread
    (shown,) = contribution_page(study=study).contributions
    assert shown.comment_list == comments[-COMMENTS_SHOWN:]
    assert shown.comment_list[-1].reply_ids == tuple(r.pk for r in replies)
    assert shown.comment_list[0].reply_ids == ()
