import uuid

import pytest
from django.urls import reverse

from contributions import services
from contributions.models import Comment, Contribution, ItemState, Revision
from studies.models import ModerationMode, Role, StudyEvent, StudyStatus, Visibility
from tests.conftest import broadcast_html, broadcast_live
from tests.contributions.factories import member
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    SectionFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
    login_as,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def page_url(study):
    return reverse("study_detail", args=[study.slug])


def list_url(study):
    return reverse("contribution_list", args=[study.slug])


def form_data(**kwargs):
    data = {
        "title": "Shared registry",
        "kind": "idea",
        "body": "Let us *share* it.",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(kwargs)
    return data


def test_study_page_shows_published_items_with_data_attributes(client):
    study = StudyFactory()
    contribution = ContributionFactory(study=study, title="Visible idea")
    ContributionFactory(study=study, title="Waiting idea", state=ItemState.PENDING)
    response = client.get(page_url(study))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Visible idea" in html
    assert "Waiting idea" not in html
    assert f'data-item-id="{contribution.pk}"' in html
    assert f'data-author-id="{contribution.author_id}"' in html
    assert 'data-state="published"' in html
    assert 'data-revision="1"' in html
    assert '<div class="item-tools"></div>' in html
    assert 'data-last-seq="0"' in html
    assert "js/live.js" in html


def test_page_renders_last_seq_of_the_study(client):
    study = StudyFactory()
    author = member(study)
    services.contribution_create(study=study, author=author, title="t", body="b")
    response = client.get(page_url(study))
    assert 'data-last-seq="1"' in response.content.decode()


def test_page_tells_the_client_the_viewer_and_role(client):
    study = StudyFactory()
    user = member(study)
    login_as(client, user)
    html = client.get(page_url(study)).content.decode()
    assert f'data-viewer-id="{user.pk}"' in html
    assert 'data-viewer-role="contributor"' in html
    assert 'data-can-contribute="true"' in html
    assert 'id="contribution-form"' in html


def test_anonymous_visitor_sees_no_form(client):
    study = StudyFactory()
    html = client.get(page_url(study)).content.decode()
    assert 'id="contribution-form"' not in html
    assert 'data-can-contribute="false"' in html


def test_members_only_study_does_not_exist_for_outsiders(client):
    study = StudyFactory(visibility=Visibility.MEMBERS)
    assert client.get(page_url(study)).status_code == 404
    login_as(client, UserFactory())
    assert client.get(page_url(study)).status_code == 404
    login_as(client, member(study))
    assert client.get(page_url(study)).status_code == 200


def test_hidden_item_shows_marker_and_keeps_replies_readable(client):
    study = StudyFactory()
    contribution = ContributionFactory(study=study, title="Bad idea")
    comment = CommentFactory(contribution=contribution, body="Parent", body_html="<p>Parent</p>")
    CommentFactory(contribution=contribution, parent=comment, body_html="<p>Kept reply</p>")
    services.item_change_state(item=comment, state=ItemState.HIDDEN, reason="off_topic")
    client.cookies["django_language"] = "en"
    html = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hidden by a facilitator: off-topic" in html
    assert "<p>Parent</p>" not in html
    assert "1 reply: show" in html
    replies = client.get(
        reverse("comment_replies", args=[study.slug, comment.pk]), HTTP_ACCEPT_LANGUAGE="en", **HTMX
    ).content.decode()
    assert "Kept reply" in replies


def test_contributions_load_in_windows_of_ten(client):
    study = StudyFactory()
    items = [ContributionFactory(study=study, title=f"Item {n:03}") for n in range(15)]
    html = client.get(page_url(study)).content.decode()
    assert "Item 014" in html and "Item 005" in html
    assert "Item 004" not in html
    oldest_shown = items[5].pk
    # "Show older contributions": the list for htmx, a page of its own without JavaScript.
    assert f'href="{page_url(study)}?before={oldest_shown}"' in html
    assert f'hx-get="{list_url(study)}?before={oldest_shown}"' in html
    more = client.get(list_url(study) + f"?before={oldest_shown}", **HTMX)
    rest = more.content.decode()
    assert "Item 004" in rest and "Item 000" in rest
    assert "Item 005" not in rest
    assert more["X-Dugnad-Last-Seq"] == "0"


def test_comments_beyond_a_few_are_collapsed_and_load_on_request(client):
    study = StudyFactory()
    contribution = ContributionFactory(study=study)
    for n in range(5):
        CommentFactory(contribution=contribution, body_html=f"<p>Comment {n}</p>")
    client.cookies["django_language"] = "en"
    html = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The latest two are shown; the count is of all of them.
    assert "Comment 3" in html and "Comment 4" in html and "Comment 2" not in html
    assert "Show all 5 comments" in html
    fragment = client.get(
        reverse("contribution_comments", args=[study.slug, contribution.pk]), **HTMX
    ).content.decode()
    assert all(f"Comment {n}" in fragment for n in range(5))


def _populate(study, contributions: int, comments_each: int):
    authors = [member(study) for _ in range(3)]
    for n in range(contributions):
        c = ContributionFactory(study=study, author=authors[n % 3])
        for _ in range(comments_each):
            CommentFactory(contribution=c, author=authors[(n + 1) % 3])


def test_study_page_query_count_is_the_same_for_10_and_500_items(client, django_assert_num_queries):
    small, large = StudyFactory(), StudyFactory()
    _populate(small, 10, 1)
    _populate(large, 500, 1)
    viewer = UserFactory()
    login_as(client, viewer)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/")  # the viewer's unread count is counted once, then cached
    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(page_url(small)).status_code == 200
    count = len(small_queries)
    with django_assert_num_queries(count):
        assert client.get(page_url(large)).status_code == 200


def test_many_comments_do_not_add_queries(client, django_assert_num_queries):
    few, many = StudyFactory(), StudyFactory()
    _populate(few, 2, 1)
    _populate(many, 20, 25)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(page_url(few))
    with django_assert_num_queries(len(queries)):
        client.get(page_url(many))


# --- posting -----------------------------------------------------------------------


def test_member_posts_through_htmx_and_gets_a_fresh_form_and_the_item(client):
    study = StudyFactory()
    login_as(client, member(study))
    response = client.post(list_url(study), form_data(), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    contribution = Contribution.objects.get()
    assert 'class="live-apply"' in html
    assert contribution.dom_id in html
    assert 'id="contribution-form"' in html


def test_double_submit_over_http_creates_one_item(client):
    study = StudyFactory()
    login_as(client, member(study))
    data = form_data()
    client.post(list_url(study), data, **HTMX)
    client.post(list_url(study), data, **HTMX)
    assert Contribution.objects.count() == 1
    assert StudyEvent.objects.count() == 1


def test_plain_post_redirects_to_the_item(client):
    study = StudyFactory()
    login_as(client, member(study))
    response = client.post(list_url(study), form_data())
    contribution = Contribution.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#{contribution.dom_id}")


def test_empty_and_too_long_fields_come_back_with_messages(client):
    study = StudyFactory()
    login_as(client, member(study))
    response = client.post(list_url(study), form_data(title="", body="x" * 10_001), **HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_title-errors"' in html
    assert 'id="id_body-errors"' in html
    assert not Contribution.objects.exists()


def test_section_of_another_study_is_refused_over_http(client):
    study = StudyFactory()
    SectionFactory(study=study)
    foreign = SectionFactory()
    login_as(client, member(study))
    response = client.post(list_url(study), form_data(section=foreign.pk), **HTMX)
    assert response.status_code == 422
    assert not Contribution.objects.exists()


def test_rate_limit_answers_429_with_a_friendly_fragment(client, settings):
    settings.POSTING_RATE_LIMIT = "1/m"
    study = StudyFactory()
    login_as(client, member(study))
    client.post(list_url(study), form_data(), **HTMX)
    response = client.post(list_url(study), form_data(), **HTMX)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert 'role="alert"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert Contribution.objects.count() == 1


def test_closed_study_refuses_posting(client):
    study = StudyFactory()
    login_as(client, member(study))
    study.status = StudyStatus.CLOSED
    study.save()
    response = client.post(list_url(study), form_data(), **HTMX)
    assert response.status_code == 403
    assert not Contribution.objects.exists()


def test_non_member_and_anonymous_cannot_post(client):
    study = StudyFactory()
    response = client.post(list_url(study), form_data(), **HTMX)
    assert response.status_code == 302  # to sign in
    login_as(client, UserFactory())
    assert client.post(list_url(study), form_data(), **HTMX).status_code == 403
    assert not Contribution.objects.exists()


def test_pre_moderated_post_says_it_waits_for_approval(client):
    study = StudyFactory(moderation_mode=ModerationMode.PRE)
    login_as(client, member(study))
    response = client.post(list_url(study), form_data(), **HTMX, HTTP_ACCEPT_LANGUAGE="en")
    assert Contribution.objects.get().state == ItemState.PENDING
    html = response.content.decode()
    assert "will appear when a facilitator has approved it" in html
    assert 'class="live-apply"' not in html


def test_comment_reply_edit_withdraw_and_react_over_htmx(client):
    study = StudyFactory()
    author = member(study)
    login_as(client, author)
    contribution = services.contribution_create(study=study, author=author, title="t", body="b")
    form_url = reverse("comment_form", args=[study.slug, contribution.pk])
    assert client.get(form_url, **HTMX).status_code == 200
    client.post(form_url, {"body": "First", "idempotency_key": str(uuid.uuid4())}, **HTMX)
    comment = Comment.objects.get()
    response = client.post(
        form_url,
        {"body": "Reply", "parent": comment.pk, "idempotency_key": str(uuid.uuid4())},
        **HTMX,
    )
    assert response.status_code == 200
    assert Comment.objects.get(body="Reply").parent == comment
    edit = client.post(
        reverse("comment_edit", args=[study.slug, comment.pk]), {"body": "First, edited"}, **HTMX
    )
    assert edit.status_code == 200
    assert Revision.objects.filter(comment=comment).count() == 1
    react = client.post(reverse("contribution_react", args=[study.slug, contribution.pk]), **HTMX)
    assert react.status_code == 200
    assert 'aria-pressed="true"' in react.content.decode()
    again = client.post(reverse("contribution_react", args=[study.slug, contribution.pk]), **HTMX)
    assert 'aria-pressed="false"' in again.content.decode()
    withdraw = client.post(reverse("comment_withdraw", args=[study.slug, comment.pk]), **HTMX)
    assert withdraw.status_code == 200
    comment.refresh_from_db()
    assert comment.state == ItemState.WITHDRAWN


def test_reply_to_withdrawn_comment_is_refused_over_http(client):
    study = StudyFactory()
    author = member(study)
    login_as(client, author)
    contribution = services.contribution_create(study=study, author=author, title="t", body="b")
    comment = services.comment_create(contribution=contribution, author=author, body="c")
    services.comment_withdraw(comment=comment, user=author)
    response = client.post(
        reverse("comment_form", args=[study.slug, contribution.pk]),
        {"body": "Reply", "parent": comment.pk, "idempotency_key": str(uuid.uuid4())},
        **HTMX,
    )
    assert response.status_code in (404, 422)
    assert Comment.objects.count() == 1


def test_someone_else_cannot_edit_or_withdraw_over_http(client):
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(study=study, author=author, title="t", body="b")
    login_as(client, member(study))
    url = reverse("contribution_edit", args=[study.slug, contribution.pk])
    assert client.post(url, {"title": "x", "body": "y", "kind": "idea"}, **HTMX).status_code == 403
    withdraw = reverse("contribution_withdraw", args=[study.slug, contribution.pk])
    assert client.post(withdraw, **HTMX).status_code == 403
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_item_of_another_study_is_not_found(client):
    study, other = StudyFactory(), StudyFactory()
    user = member(study)
    foreign = ContributionFactory(study=other, author=user)
    login_as(client, user)
    url = reverse("contribution_react", args=[study.slug, foreign.pk])
    assert client.post(url, **HTMX).status_code == 404


def test_official_answer_needs_a_facilitator(client, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory()
    contribution = ContributionFactory(study=study)
    url = reverse("comment_form", args=[study.slug, contribution.pk])
    data = {"body": "Answer", "official": "1", "idempotency_key": str(uuid.uuid4())}
    login_as(client, member(study))
    assert client.post(url, data, **HTMX).status_code == 403
    login_as(client, member(study, role=Role.FACILITATOR))
    assert client.post(url, data, **HTMX).status_code == 200
    assert Comment.objects.get().official


# --- history --------------------------------------------------------------------------


def test_facilitator_sees_earlier_versions_and_contributor_does_not(client):
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(
        study=study, author=author, title="Old title", body="Old text"
    )
    services.contribution_edit(contribution=contribution, editor=author, title="New", body="New")
    url = reverse("item_history", args=[study.slug, "contributions", contribution.pk])
    login_as(client, author)
    assert client.get(url).status_code == 403
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    login_as(client, facilitator)
    html = client.get(url).content.decode()
    assert "Old title" in html and "Old text" in html


def test_edited_marker_is_shown(client):
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(study=study, author=author, title="t", body="b")
    services.contribution_edit(contribution=contribution, editor=author, title="t", body="new")
    html = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-edited="true"' in html
    assert 'class="edited"' in html


def test_page_and_live_markers_are_in_bokmal_by_default(client):
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(study=study, author=author, title="t", body="b")
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="off_topic")
    event = StudyEvent.objects.order_by("seq").last()
    assert "Skjult av en fasilitator: utenfor temaet." in broadcast_html(event)
    assert "Hidden by a facilitator: off-topic." in broadcast_live(event)["html_alt"]["en"]
    login_as(client, author)
    html = client.get(page_url(study)).content.decode()
    assert "Publiser et innspill" in html
    assert "Skjult av en fasilitator: utenfor temaet." in html
