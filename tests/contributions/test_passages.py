"""Comments on a passage of the concept document, and amendments: life cycle and refusals."""

from __future__ import annotations

import uuid
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import ClaimState, Notification
from contributions import passages, services
from contributions.models import (
    Amendment,
    AmendmentStatus,
    Contribution,
    ContributionKind,
    ItemState,
    Passage,
)
from contributions.selectors import PAGE_SIZE
from studies.blocks import version_blocks
from studies.models import MembershipStatus, Role, Study, StudyEvent, StudyStatus, Visibility
from studies.services import document_version_publish
from tests.contributions.factories import member
from tests.contributions.passage_setup import document_study
from tests.factories import MembershipFactory, StudyFactory, UserFactory, login_as
from tests.studies.factories import PhaseFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

DOC = """# Digital assistant

Citizens should find help in one place, whatever agency holds the answer.

The assistant must explain decisions in plain language and name the law behind them.

- It works on a phone.
"""


@pytest.fixture
def setup(settings):
    doc = document_study(settings, body=DOC)
    return doc.study, doc.coordinator, doc.version, doc.blocks, doc.kari, doc.ola


def codes(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [e.code for errors in error.error_dict.values() for e in errors]
    return [e.code for e in error.error_list]


def publish(study, coordinator, number, body):
    study.refresh_from_db()
    return document_version_publish(
        study=study, number=number, body=body, change_summary="Next.", by=coordinator
    )


# --- comments on a passage -------------------------------------------------------------


def test_a_member_comments_on_a_paragraph_with_a_quote_and_the_snapshot_of_their_organisation(
    setup,
):
    study, _c, version, blocks, author, _o = setup
    item = passages.passage_comment_create(
        study=study,
        author=author,
        anchor=blocks[1].anchor,
        body="Which agencies?",
        quote="whatever  agency",
        version_id=version.pk,
    )
    assert item.kind == ContributionKind.PASSAGE
    assert item.acted_for.name == "NAV"
    assert item.passage.block == blocks[1] and item.passage.quote == "whatever agency"
    assert passages.block_counts(study=study, version=version) == {
        blocks[1].anchor: {"comments": 1, "amendments": 0}
    }
    event = StudyEvent.objects.get(
        study=study, seq=study.__class__.objects.get(pk=study.pk).last_event_seq
    )
    assert event.kind == "contribution.created" and event.data["kind"] == "passage"


@pytest.mark.parametrize(
    ("anchor", "quote", "code"),
    [("p-nothere", "", "no_block"), (None, "words not in it", None)],
)
def test_a_comment_on_a_missing_block_or_a_foreign_quote_is_refused_and_nothing_saved(
    setup, anchor, quote, code
):
    study, _c, version, blocks, author, _o = setup
    with pytest.raises(ValidationError):
        passages.passage_comment_create(
            study=study, author=author, anchor=anchor or blocks[1].anchor, body="x", quote=quote
        )
    assert not Contribution.objects.filter(study=study).exists()
    assert not Passage.objects.exists()


def test_a_comment_on_a_block_of_a_replaced_version_is_refused(setup):
    study, coordinator, version, blocks, author, _o = setup
    publish(study, coordinator, "0.9", DOC + "\nMore.\n")
    with pytest.raises(ValidationError) as error:
        passages.passage_comment_create(
            study=study, author=author, anchor=blocks[1].anchor, body="x", version_id=version.pk
        )
    assert codes(error.value) == ["old_version"] and "0.9" in str(error.value)
    assert not Contribution.objects.filter(study=study).exists()


def test_anonymous_non_member_blocked_and_closed_cannot_comment(setup):
    study, _c, _v, blocks, author, _o = setup
    with pytest.raises(PermissionDenied):
        passages.passage_comment_create(
            study=study, author=UserFactory(), anchor=blocks[1].anchor, body="x"
        )
    membership = author.memberships.get(study=study)
    membership.status = MembershipStatus.BLOCKED
    membership.save()
    with pytest.raises(PermissionDenied):
        passages.passage_comment_create(
            study=study, author=author, anchor=blocks[1].anchor, body="x"
        )
    assert not Contribution.objects.filter(study=study).exists()


def test_the_posting_form_cannot_make_a_passage_comment_without_a_passage(setup):
    study, _c, _v, _b, author, _o = setup
    with pytest.raises(ValidationError):
        services.contribution_create(
            study=study, author=author, title="t", body="b", kind=ContributionKind.PASSAGE
        )


# --- carried across versions ------------------------------------------------------------


def test_comments_follow_moved_edited_and_split_paragraphs_and_stay_visible_when_deleted(setup):
    study, coordinator, _v, blocks, author, _o = setup
    on = {}
    for name, index, quote in [
        ("moved", 1, ""),
        ("split_second", 2, "the law behind"),
        ("split_first", 2, "explain decisions"),
        ("deleted", 3, ""),
    ]:
        on[name] = passages.passage_comment_create(
            study=study, author=author, anchor=blocks[index].anchor, body=name, quote=quote
        )
    body = """# Digital assistant

The assistant must explain decisions in plain language.

Every decision must name the law behind it.

Citizens should find help in one place, whatever public agency holds the answer.
"""
    v2 = publish(study, coordinator, "0.9", body)
    new = {b.text: b for b in version_blocks(v2)}
    where = {name: Passage.objects.get(contribution=item) for name, item in on.items()}
    assert where["moved"].block.text.startswith("Citizens should find help")
    assert where["moved"].block.anchor == blocks[1].anchor  # reworded and moved: same anchor
    assert (
        where["split_first"].block.text == "The assistant must explain decisions in plain language."
    )
    assert where["split_second"].block.text == "Every decision must name the law behind it."
    assert where["deleted"].gone and where["deleted"].block == blocks[3]
    assert all(where[n].block in new.values() for n in ("moved", "split_first", "split_second"))
    gone = passages.gone_items(study=study)
    assert [p.contribution_id for p in gone] == [on["deleted"].pk]


def test_the_document_page_shows_a_gone_comment_as_on_version_with_its_passage(setup, client):
    study, coordinator, _v, blocks, author, _o = setup
    passages.passage_comment_create(
        study=study, author=author, anchor=blocks[3].anchor, body="Why?"
    )
    publish(study, coordinator, "0.9", DOC.replace("- It works on a phone.\n", ""))
    client.cookies["django_language"] = "en"
    html = client.get(reverse("passages:document", args=[study.slug])).content.decode()
    assert "On version 0.8:" in html
    assert "It works on a phone." in html


# --- amendments -------------------------------------------------------------------------


def propose(study, author, block, wording="Citizens find help in one place.", reason="Shorter."):
    return passages.amendment_create(
        study=study, author=author, anchor=block.anchor, wording=wording, reason=reason
    )


def test_the_amendment_life_cycle_with_notifications_support_draft_and_credit(setup, client):
    study, coordinator, version, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    diff = passages.word_diff(blocks[1].source, amendment.amendment.wording)
    assert ("removed", " should") in diff and ("added", "place.") in diff
    assert "".join(t for op, t in diff if op != "removed") == amendment.amendment.wording
    assert passages.amendment_support(contribution=amendment, user=other) == 1
    with pytest.raises(ValidationError) as twice:
        passages.amendment_support(contribution=amendment, user=other)
    assert codes(twice.value) == ["twice"]
    with pytest.raises(ValidationError) as own:
        passages.amendment_support(contribution=amendment, user=author)
    assert codes(own.value) == ["own"]
    with pytest.raises(ValidationError):
        services.reaction_toggle(item=amendment, user=author)  # the generic button too
    passages.amendment_decide(
        contribution=amendment, by=coordinator, status="considering", reason="We look at it."
    )
    passages.amendment_decide(
        contribution=amendment, by=coordinator, status="accepted", reason="Clearer."
    )
    notes = list(Notification.objects.filter(user=author).order_by("pk"))
    assert [n.title.rsplit(": ", 1)[-1] for n in notes] == ["til vurdering", "godtatt"]
    assert notes[-1].body == "Clearer."
    study.refresh_from_db()
    assert "Citizens find help in one place." in study.body
    assert blocks[1].source not in study.body
    with pytest.raises(ValidationError):
        passages.amendment_withdraw(contribution=amendment, user=author)
    v2 = publish(study, coordinator, "0.9", study.body)
    saved = Amendment.objects.get(pk=amendment.amendment.pk)
    assert saved.credited_in == v2
    assert passages.credit_line(saved) == "Amendment from Kari Nordmann, NAV"
    client.cookies["django_language"] = "nb"
    page = client.get(reverse("studies:version_detail", args=[study.slug, v2.pk]))
    assert "Endringsforslag fra Kari Nordmann, NAV" in page.content.decode()
    document = client.get(reverse("passages:document", args=[study.slug])).content.decode()
    block_html = document.split('block-credit">')[1].split("</p>")[0]
    assert "Endringsforslag fra Kari Nordmann, NAV" in block_html
    # The amendment follows its wording into the new version.
    placed = Passage.objects.get(contribution=amendment)
    assert placed.block.version == v2 and placed.block.text == "Citizens find help in one place."
    # The comparison links the changed line to the amendment behind it.
    compare = client.get(
        reverse("studies:version_compare", args=[study.slug]), {"old": version.pk, "new": v2.pk}
    ).content.decode()
    row = next(r for r in compare.split("<tr") if "Citizens find help in one place." in r)
    assert "Endringsforslag fra Kari Nordmann, NAV" in row
    assert f"#{placed.block.anchor}" in row


def test_the_author_withdraws_an_undecided_amendment(setup):
    study, _c, _v, blocks, author, _o = setup
    amendment = propose(study, author, blocks[1])
    passages.amendment_withdraw(contribution=amendment, user=author)
    amendment.refresh_from_db()
    assert amendment.state == ItemState.WITHDRAWN


@pytest.mark.parametrize(
    ("wording", "reason"),
    [("", "why"), ("   ", "why"), (None, "why"), ("New words", ""), ("x" * 5001, "why")],
)
def test_an_empty_identical_or_unexplained_amendment_is_refused(setup, wording, reason):
    study, _c, _v, blocks, author, _o = setup
    wording = blocks[1].source.replace(" ", "  ") if wording is None else wording
    with pytest.raises(ValidationError):
        propose(study, author, blocks[1], wording=wording, reason=reason)
    assert not Contribution.objects.filter(study=study).exists()
    assert not Amendment.objects.exists()


def test_an_amendment_outside_a_running_phase_is_refused(setup):
    study, _c, _v, blocks, author, _o = setup
    from django.utils import timezone

    PhaseFactory(
        study=study,
        starts_at=timezone.now() - timezone.timedelta(days=10),
        ends_at=timezone.now() - timezone.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as error:
        propose(study, author, blocks[1])
    assert codes(error.value) == ["phase_closed"]
    assert not Amendment.objects.exists()


def test_an_amendment_without_a_published_version_is_refused(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory(body=DOC)
    author = member(study)
    with pytest.raises(ValidationError) as error:
        passages.amendment_create(
            study=study, author=author, anchor="p-1", wording="New", reason="why"
        )
    assert codes(error.value) == ["no_version"]


def test_only_facilitators_and_coordinators_decide_and_only_with_a_reason(setup):
    study, coordinator, _v, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    with pytest.raises(PermissionDenied):
        passages.amendment_decide(contribution=amendment, by=other, status="accepted", reason="x")
    with pytest.raises(ValidationError):
        passages.amendment_decide(
            contribution=amendment, by=coordinator, status="accepted", reason=""
        )
    with pytest.raises(ValidationError):
        passages.amendment_decide(contribution=amendment, by=coordinator, status="open", reason="x")
    assert Amendment.objects.get().status == AmendmentStatus.OPEN
    assert not Notification.objects.filter(user=author).exists()


def test_accepting_is_refused_when_the_draft_no_longer_holds_the_passage(setup):
    study, coordinator, _v, blocks, author, _o = setup
    amendment = propose(study, author, blocks[1])
    study.body = "# Something else entirely\n"
    study.save()
    with pytest.raises(ValidationError) as error:
        passages.amendment_decide(
            contribution=amendment, by=coordinator, status="accepted", reason="Yes."
        )
    assert codes(error.value) == ["draft_changed"]
    assert Amendment.objects.get().status == AmendmentStatus.OPEN


def test_a_hidden_amendment_leaves_the_counts_and_shows_a_marker_in_its_panel(setup, client):
    study, _c, version, blocks, author, _o = setup
    amendment = propose(study, author, blocks[1])
    services.item_change_state(item=amendment, state=ItemState.HIDDEN, reason="off_topic")
    assert passages.block_counts(study=study, version=version) == {}
    client.cookies["django_language"] = "en"
    html = client.get(
        reverse("passages:panel", args=[study.slug, blocks[1].anchor]), **HTMX
    ).content.decode()
    assert "Hidden by a facilitator: off-topic" in html
    assert "Citizens find help" not in html


# --- views -----------------------------------------------------------------------------


def test_a_member_comments_and_proposes_through_the_panel(setup, client):
    study, _c, version, blocks, author, _o = setup
    login_as(client, author)
    anchor = blocks[1].anchor
    response = client.post(
        reverse("passages:comment", args=[study.slug, anchor]),
        {
            "comment-body": "Which agencies?",
            "comment-quote": "one place",
            "comment-version": version.pk,
            "comment-idempotency_key": str(uuid.uuid4()),
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "Which agencies?" in response.content.decode()
    response = client.post(
        reverse("passages:amend", args=[study.slug, anchor]),
        {
            "amend-wording": blocks[1].source,
            "amend-body": "Same",
            "amend-version": version.pk,
            "amend-idempotency_key": str(uuid.uuid4()),
        },
        **HTMX,
    )
    assert response.status_code == 422
    assert Contribution.objects.filter(kind="amendment").count() == 0


def test_a_post_to_a_block_that_is_gone_gets_a_clear_refusal(setup, client):
    study, _c, _v, _b, author, _o = setup
    login_as(client, author)
    response = client.post(
        reverse("passages:comment", args=[study.slug, "p-gone"]),
        {"comment-body": "x", "comment-idempotency_key": str(uuid.uuid4())},
        **HTMX,
    )
    assert response.status_code in (404, 422)
    assert not Contribution.objects.exists()


def test_anonymous_people_are_sent_to_sign_in_and_outsiders_of_a_private_study_get_404(
    setup, client
):
    study, _c, _v, blocks, _a, _o = setup
    url = reverse("passages:comment", args=[study.slug, blocks[1].anchor])
    assert client.post(url, {"comment-body": "x"}).status_code == 302
    study.visibility = Visibility.MEMBERS
    study.save()
    login_as(client, UserFactory())
    assert client.post(url, {"comment-body": "x"}).status_code == 404
    assert client.get(reverse("passages:document", args=[study.slug])).status_code == 404


def _accept_through_the_view(client, person, study, amendment) -> int:
    """The status with which ``person`` accepting ``amendment`` on ``study``'s page ends."""
    login_as(client, person)
    url = reverse("passages:decide", args=[study.slug, amendment.pk])
    return client.post(url, {"status": "accepted", "reason": "x"}).status_code


def test_an_amendment_of_another_study_cannot_be_supported_or_decided_from_this_one(setup, client):
    study, coordinator, _v, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    elsewhere = StudyFactory()
    MembershipFactory(study=elsewhere, user=other)
    MembershipFactory(study=elsewhere, user=coordinator, role=Role.COORDINATOR)
    login_as(client, other)
    url = reverse("passages:support", args=[elsewhere.slug, amendment.pk])
    assert client.post(url).status_code == 404
    assert _accept_through_the_view(client, coordinator, elsewhere, amendment) == 404
    assert Amendment.objects.get().status == AmendmentStatus.OPEN


def test_a_contributor_cannot_decide_through_the_view(setup, client):
    study, _c, _v, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    assert _accept_through_the_view(client, other, study, amendment) == 403
    assert Amendment.objects.get().status == AmendmentStatus.OPEN


def test_the_counts_are_public_json_for_the_current_version(setup, client):
    study, _c, version, blocks, author, _o = setup
    passages.passage_comment_create(study=study, author=author, anchor=blocks[0].anchor, body="x")
    data = client.get(reverse("passages:counts", args=[study.slug])).json()
    assert data == {
        "version": version.pk,
        "blocks": {blocks[0].anchor: {"comments": 1, "amendments": 0}},
    }


def test_a_closed_study_takes_no_amendments(setup):
    study, _c, _v, blocks, author, _o = setup
    study.status = StudyStatus.CLOSED
    study.save()
    with pytest.raises(PermissionDenied):
        propose(study, author, blocks[1])


@pytest.mark.parametrize(
    "anchor",
    ["x" * 10_000, "p-%00", "<script>", "counts-not", "..", "p-" + "9" * 14],
)
def test_any_anchor_in_the_address_gets_a_clear_answer_and_never_a_500(setup, client, anchor):
    study, _c, _v, _b, author, _o = setup
    login_as(client, author)
    panel = client.get(f"/studies/{study.slug}/document/{anchor}/", **HTMX)
    assert panel.status_code == 404
    posted = client.post(
        f"/studies/{study.slug}/document/{anchor}/comment/",
        {"comment-body": "x", "comment-idempotency_key": str(uuid.uuid4())},
        **HTMX,
    )
    assert posted.status_code == 422  # refused by the service: no such passage now
    assert 'role="alert"' in posted.content.decode()
    assert client.get(f"/studies/{study.slug}/document/?open={anchor}").status_code == 200
    assert not Contribution.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"comment-body": "a\x00b"},
        {"comment-body": "x" * 5_001},
        {"comment-body": "ok", "comment-version": "99999999999999999999999"},
        {"comment-body": "ok", "comment-version": "-1"},
        {"comment-body": "ok", "comment-quote": "x" * 1_001},
        {"comment-body": "ok", "comment-quote": "not in the passage"},
        {"comment-body": ""},
    ],
)
def test_bad_passage_comment_input_is_refused_with_a_form_error(setup, client, fields):
    study, _c, _v, blocks, author, _o = setup
    login_as(client, author)
    response = client.post(
        reverse("passages:comment", args=[study.slug, blocks[1].anchor]),
        {"comment-idempotency_key": str(uuid.uuid4()), **fields},
        **HTMX,
    )
    assert response.status_code == 422
    assert 'class="errorlist' in response.content.decode()
    assert not Contribution.objects.exists()


def test_a_double_submit_posts_one_passage_comment(setup, client):
    study, _c, _v, blocks, author, _o = setup
    login_as(client, author)
    data = {"comment-body": "Once", "comment-idempotency_key": str(uuid.uuid4())}
    url = reverse("passages:comment", args=[study.slug, blocks[1].anchor])
    assert client.post(url, data, **HTMX).status_code == 200
    assert client.post(url, data, **HTMX).status_code == 200
    assert Contribution.objects.filter(kind="passage").count() == 1


def test_under_pre_moderation_the_poster_is_told_their_comment_waits(setup, client):
    study, _c, _v, blocks, author, _o = setup
    study.moderation_mode = "pre"
    study.save()
    login_as(client, author)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("passages:comment", args=[study.slug, blocks[1].anchor]),
        {"comment-body": "Waiting", "comment-idempotency_key": str(uuid.uuid4())},
        **HTMX,
    )
    html = response.content.decode()
    assert "once a facilitator has approved it" in html
    assert "Waiting" not in html.split("passage-items")[1].split("</div>")[0]


def test_a_supporter_twice_and_the_author_get_409_through_the_view(setup, client):
    study, _c, _v, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    url = reverse("passages:support", args=[study.slug, amendment.pk])
    login_as(client, other)
    assert client.post(url, **HTMX).status_code == 200
    assert client.post(url, **HTMX).status_code == 409
    login_as(client, author)
    assert client.post(url, **HTMX).status_code == 409
    assert amendment.reactions.count() == 1


@pytest.mark.parametrize("supported", [False, True], ids=["add", "remove"])
def test_a_decided_amendment_neither_gains_nor_loses_support_through_the_study_page_button(
    setup, client, supported
):
    study, coordinator, _v, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    if supported:
        passages.amendment_support(contribution=amendment, user=other)
    passages.amendment_decide(
        contribution=amendment, by=coordinator, status="declined", reason="Not now."
    )
    login_as(client, other)
    response = client.post(reverse("contribution_react", args=[study.slug, amendment.pk]), **HTMX)
    assert response.status_code == 409
    assert "kan ikke lenger få støtte" in unescape(response.content.decode())
    assert amendment.reactions.filter(user=other).exists() is supported
    with pytest.raises(ValidationError) as closed:
        services.reaction_toggle(item=amendment, user=other)
    assert codes(closed.value) == ["closed"]
    assert amendment.reactions.count() == (1 if supported else 0)


def test_the_edit_form_keeps_an_amendments_heading_and_reason_limit(setup, client):
    study, _c, _v, blocks, author, _o = setup
    amendment = propose(study, author, blocks[1], reason="Shorter.")
    heading = amendment.title
    url = reverse("contribution_edit", args=[study.slug, amendment.pk])
    login_as(client, author)
    form = client.get(url, **HTMX).content.decode()
    assert 'name="body"' in form and 'name="title"' not in form and 'name="kind"' not in form
    fake = {"title": "«Regjeringen har vedtatt dette»", "body": "x" * 3600, "kind": "idea"}
    assert client.post(url, fake, **HTMX).status_code == 422
    amendment.refresh_from_db()
    assert (amendment.title, amendment.body) == (heading, "Shorter.")
    # Within the rules the reason changes; a posted heading or kind is not taken.
    assert client.post(url, {**fake, "body": "Clearer now."}, **HTMX).status_code == 200
    amendment.refresh_from_db()
    assert (amendment.title, amendment.body, amendment.kind) == (
        heading,
        "Clearer now.",
        ContributionKind.AMENDMENT,
    )
    with pytest.raises(ValidationError) as renamed:
        services.contribution_edit(
            contribution=amendment, editor=author, title="«Fake»", body="Clearer now."
        )
    assert codes(renamed.value) == ["title"]


def test_a_decided_amendment_can_no_longer_be_edited(setup, client):
    study, coordinator, _v, blocks, author, _o = setup
    amendment = propose(study, author, blocks[1], reason="Shorter.")
    passages.amendment_decide(
        contribution=amendment, by=coordinator, status="declined", reason="Not now."
    )
    login_as(client, author)
    response = client.post(
        reverse("contribution_edit", args=[study.slug, amendment.pk]), {"body": "Other."}, **HTMX
    )
    assert response.status_code == 409
    amendment.refresh_from_db()
    assert amendment.body == "Shorter." and amendment.edited_at is None
    assert not amendment.revisions.exists()


def test_the_edit_form_keeps_a_passage_comments_heading_and_comment_limit(setup, client):
    study, _c, _v, blocks, author, _o = setup
    comment = passages.passage_comment_create(
        study=study, author=author, anchor=blocks[1].anchor, body="First."
    )
    heading = comment.title
    url = reverse("contribution_edit", args=[study.slug, comment.pk])
    login_as(client, author)
    too_long = {"body": "x" * (services.COMMENT_MAX + 1)}
    assert client.post(url, too_long, **HTMX).status_code == 422
    comment.refresh_from_db()
    assert comment.body == "First."
    posted = {"title": "Anything", "body": "Second."}
    assert client.post(url, posted, **HTMX).status_code == 200
    comment.refresh_from_db()
    assert (comment.title, comment.body) == (heading, "Second.")


def test_a_study_with_passage_comments_and_amendments_can_be_deleted(setup):
    study, _c, _v, blocks, author, _o = setup
    passages.passage_comment_create(study=study, author=author, anchor=blocks[1].anchor, body="x")
    propose(study, author, blocks[1])
    study.delete()
    assert not Passage.objects.exists() and not Amendment.objects.exists()


def test_the_study_page_reads_passage_cards_without_a_query_per_card(
    setup, client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    study, _c, _v, blocks, author, _o = setup
    passages.passage_comment_create(study=study, author=author, anchor=blocks[1].anchor, body="x")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("study_detail", args=[study.slug]))
    for n in range(8):
        passages.passage_comment_create(
            study=study, author=author, anchor=blocks[n % 3].anchor, body=f"c{n}"
        )
        propose(study, author, blocks[n % 3], wording=f"New words {n}.")
    from contributions import fragments

    fragments._local.clear()
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("study_detail", args=[study.slug]))
    html = response.content.decode()
    assert response.status_code == 200, html
    assert "<ins>7.</ins>" in html
    assert len(many) <= len(few) + 2


def test_the_panel_counts_the_comments_on_an_amendment_and_its_supporters_once_each(setup, client):
    study, _c, _v, blocks, author, other = setup
    amendment = propose(study, author, blocks[1])
    for text in ("Good", "Agree"):
        services.comment_create(contribution=amendment, author=other, body=text)
    passages.amendment_support(contribution=amendment, user=other)
    client.cookies["django_language"] = "en"
    html = client.get(
        reverse("passages:panel", args=[study.slug, blocks[1].anchor]), **HTMX
    ).content.decode()
    assert "2 comments – discuss or flag it on the study page" in html
    assert "1 person supports this" in html


def test_markup_in_a_wording_a_quote_or_a_reason_is_shown_as_text(setup, client):
    study, _c, _v, blocks, author, _o = setup
    block = blocks[1]
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    propose(study, author, block, wording=f"Citizens {evil}", reason=f"Why {evil}")
    passages.passage_comment_create(
        study=study, author=author, anchor=block.anchor, body=evil, quote="help in one place"
    )
    for url in (
        reverse("passages:panel", args=[study.slug, block.anchor]),
        reverse("study_detail", args=[study.slug]),
    ):
        html = client.get(url, **HTMX).content.decode()
        assert "<script>alert" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- the organisation an item names follows the author's claim ----------------------------


@pytest.mark.parametrize(
    ("claim", "credit", "panel"),
    [
        (
            ClaimState.PENDING,
            "Endringsforslag fra Kari Nordmann, oppgir å representere NAV",
            "oppgir å representere NAV",
        ),
        (ClaimState.REFUSED, "Endringsforslag fra Kari Nordmann", None),
        (ClaimState.CONFIRMED, "Endringsforslag fra Kari Nordmann, NAV", "NAV"),
    ],
)
def test_the_credit_line_and_the_panel_name_an_organisation_only_as_the_claim_allows(
    setup, client, claim, credit, panel
):
    study, coordinator, _v, blocks, author, _o = setup
    amendment = propose(study, author, blocks[1])
    comment = passages.passage_comment_create(
        study=study, author=author, anchor=blocks[1].anchor, body="Which agencies?"
    )
    Contribution.objects.filter(pk__in=[amendment.pk, comment.pk]).update(acted_for_claim=claim)
    passages.amendment_decide(
        contribution=amendment, by=coordinator, status="accepted", reason="Clearer."
    )
    publish(study, coordinator, "0.9", Study.objects.get(pk=study.pk).body)
    client.cookies["django_language"] = "nb"
    document = client.get(reverse("passages:document", args=[study.slug])).content.decode()
    block_credit = document.split('block-credit">')[1].split("</p>")[0]
    assert block_credit == credit
    anchor = Passage.objects.get(contribution=amendment).block.anchor
    html = client.get(reverse("passages:panel", args=[study.slug, anchor]), **HTMX)
    metas = [
        part.split("</p>")[0]
        for part in html.content.decode().split('<p class="item-meta">')[1:]
        if "Kari Nordmann" in part.split("</p>")[0]
    ]
    assert metas
    for meta in metas:
        if panel is None:
            assert 'class="organisation' not in meta and "NAV" not in meta
        else:
            assert f">{panel}</span>" in meta
            assert ("organisation-unconfirmed" in meta) == (claim == ClaimState.PENDING)


def test_the_panel_links_each_item_to_the_study_page_that_lists_it_past_the_first_page(
    setup, client, settings
):
    settings.POSTING_RATE_LIMIT = "1000/m"
    study, _c, _v, blocks, author, _o = setup
    first = passages.passage_comment_create(
        study=study, author=author, anchor=blocks[1].anchor, body="The first of many."
    )
    for number in range(PAGE_SIZE):
        passages.passage_comment_create(
            study=study, author=author, anchor=blocks[1].anchor, body=f"Later {number}."
        )
    html = client.get(
        reverse("passages:panel", args=[study.slug, blocks[1].anchor]), **HTMX
    ).content.decode()
    item = html.split(f'id="passage-item-{first.pk}"')[1].split("</article>")[0]
    link = unescape(item.split('<a href="')[-1].split('"')[0])
    path, fragment = link.split("#")
    assert fragment == f"contribution-{first.pk}"
    page = client.get(path).content.decode()
    assert f'id="contribution-{first.pk}"' in page


def test_posting_on_a_passage_reads_the_membership_once_and_indexes_after_commit(
    setup, client, eager_celery, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search.models import SearchDocument

    study, _c, version, blocks, author, _o = setup
    login_as(client, author)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.post(
            reverse("passages:comment", args=[study.slug, blocks[1].anchor]),
            {
                "comment-body": "Which agencies?",
                "comment-version": version.pk,
                "comment-idempotency_key": str(uuid.uuid4()),
            },
            **HTMX,
        )
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "studies_membership"' in s for s in sql) == 1, sql
    assert not any("search_document" in s for s in sql)
    comment = Contribution.objects.get(body="Which agencies?")
    assert not SearchDocument.objects.filter(source="contribution", object_id=comment.pk).exists()
    for callback in callbacks:
        callback()
    assert SearchDocument.objects.filter(source="contribution", object_id=comment.pk).exists()
