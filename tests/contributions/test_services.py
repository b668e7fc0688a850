import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Sector
from contributions import services
from contributions.models import (
    Comment,
    Contribution,
    ItemState,
    ModerationReason,
    Reaction,
    Revision,
)
from studies.models import Membership, ModerationMode, Role, StudyEvent, StudyStatus
from tests.conftest import broadcast_html, broadcast_live
from tests.contributions.factories import member, organisation
from tests.factories import SectionFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(in_english):
    """Messages are checked in English here; bokmål is checked in test_views."""


def post(study, author, **kwargs):
    values = {"title": "An idea", "body": "Some *text*."}
    values.update(kwargs)
    return services.contribution_create(study=study, author=author, **values)


def test_contribution_create_publishes_and_renders_markdown():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    assert contribution.state == ItemState.PUBLISHED
    assert contribution.body_html == "<p>Some <em>text</em>.</p>\n"
    event = StudyEvent.objects.get(study=study)
    assert event.kind == "contribution.created"
    assert event.key == contribution.dom_id
    assert event.data["container"] == "contributions"
    assert event.data["position"] == "prepend"
    assert event.data["revision"] == 1
    assert "An idea" in broadcast_html(event)


def test_contribution_stores_snapshot_that_survives_a_change_of_organisation():
    study = StudyFactory()
    first = organisation(sector=Sector.ACADEMIA)
    author = member(study, organisation=first)
    contribution = post(study, author)
    comment = services.comment_create(contribution=contribution, author=author, body="Also")
    membership = Membership.objects.get(study=study, user=author)
    membership.organisation = organisation(sector=Sector.PRIVATE)
    membership.save()
    contribution.refresh_from_db()
    comment.refresh_from_db()
    assert contribution.acted_for == first
    assert contribution.acted_for_sector == Sector.ACADEMIA
    assert comment.acted_for == first
    later = post(study, author, title="Later")
    assert later.acted_for == membership.organisation
    assert later.acted_for_sector == Sector.PRIVATE


def test_snapshot_points_to_the_canonical_organisation_of_a_merged_one():
    study = StudyFactory()
    canonical = organisation()
    duplicate = organisation(merged_into=canonical)
    author = member(study, organisation=duplicate)
    assert post(study, author).acted_for == canonical


def test_person_acting_as_themselves_has_empty_snapshot():
    study = StudyFactory()
    contribution = post(study, member(study))
    assert contribution.acted_for is None
    assert contribution.acted_for_sector == ""


def test_non_member_cannot_post():
    study = StudyFactory()
    with pytest.raises(PermissionDenied):
        post(study, UserFactory())
    assert not Contribution.objects.exists()


def test_posting_to_a_closed_study_is_refused():
    study = StudyFactory()
    author = member(study)
    study.status = StudyStatus.CLOSED
    study.save()
    with pytest.raises(PermissionDenied, match="not open"):
        post(study, author)
    assert not Contribution.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "cannot be empty"),
        ("body", "", "cannot be empty"),
        ("title", "x" * 201, "at most 200"),
        ("body", "x" * 10_001, "at most 10000"),
    ],
)
def test_empty_or_too_long_fields_are_refused_with_clear_message(field, value, message):
    study = StudyFactory()
    author = member(study)
    with pytest.raises(ValidationError) as error:
        post(study, author, **{field: value})
    assert message in str(error.value.message_dict[field])
    assert not Contribution.objects.exists()
    assert not StudyEvent.objects.exists()


def test_section_of_another_study_is_refused():
    study = StudyFactory()
    author = member(study)
    with pytest.raises(ValidationError, match="does not belong"):
        post(study, author, section=SectionFactory())


def test_section_of_the_study_is_accepted():
    study = StudyFactory()
    section = SectionFactory(study=study)
    assert post(study, member(study), section=section).section == section


def test_double_submit_with_same_token_creates_one_item():
    study = StudyFactory()
    author = member(study)
    key = uuid.uuid4()
    first = post(study, author, idempotency_key=key)
    second = post(study, author, idempotency_key=key)
    assert first.pk == second.pk
    assert Contribution.objects.count() == 1
    assert StudyEvent.objects.count() == 1


def test_a_comment_sent_twice_with_the_same_token_is_one_comment():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, member(study))
    key = uuid.uuid4()
    first = services.comment_create(
        contribution=contribution, author=author, body="Once", idempotency_key=key
    )
    with CaptureQueriesContext(connection) as queries:
        second = services.comment_create(
            contribution=contribution, author=author, body="Once", idempotency_key=key
        )
    assert second.pk == first.pk and second.body == "Once"
    assert Comment.objects.filter(contribution=contribution).count() == 1
    assert StudyEvent.objects.count() == 2  # the contribution and the comment, once each
    # The retry is found with the contribution's state, then read: two queries.
    assert len(queries) == 2
    # Another person's token is theirs: the same key makes a comment of their own.
    other = services.comment_create(
        contribution=contribution, author=member(study), body="Mine", idempotency_key=key
    )
    assert other.pk != first.pk


def test_pre_moderated_study_keeps_new_items_pending_and_unpublished():
    study = StudyFactory(moderation_mode=ModerationMode.PRE)
    author = member(study)
    contribution = post(study, author)
    assert contribution.state == ItemState.PENDING
    assert not StudyEvent.objects.exists()
    services.item_change_state(item=contribution, state=ItemState.PUBLISHED)
    event = StudyEvent.objects.get()
    assert event.kind == "contribution.published"
    assert event.data["container"] == "contributions"
    assert "An idea" in broadcast_html(event)


def test_rejecting_a_pending_item_publishes_nothing():
    study = StudyFactory(moderation_mode=ModerationMode.PRE)
    contribution = post(study, member(study))
    services.item_change_state(item=contribution, state=ItemState.REJECTED)
    assert not StudyEvent.objects.exists()


def test_edit_keeps_earlier_version_and_bumps_revision():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    edited = services.contribution_edit(
        contribution=contribution, editor=author, title="Better idea", body="New text"
    )
    assert edited.revision == 2
    assert edited.edited_at is not None
    revision = Revision.objects.get(contribution=contribution)
    assert (revision.title, revision.body) == ("An idea", "Some *text*.")
    event = StudyEvent.objects.order_by("seq").last()
    assert event.kind == "contribution.edited"
    assert event.data["revision"] == 2
    assert "Better idea" in broadcast_html(event)


def test_someone_else_cannot_edit_or_withdraw():
    study = StudyFactory()
    contribution = post(study, member(study))
    other = member(study)
    with pytest.raises(PermissionDenied):
        services.contribution_edit(contribution=contribution, editor=other, title="x", body="y")
    with pytest.raises(PermissionDenied):
        services.contribution_withdraw(contribution=contribution, user=other)


def test_withdraw_leaves_a_marker_and_is_counted():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    services.contribution_withdraw(contribution=contribution, user=author)
    contribution.refresh_from_db()
    assert contribution.state == ItemState.WITHDRAWN
    event = StudyEvent.objects.order_by("seq").last()
    assert event.kind == "contribution.withdrawn"
    assert "Withdrawn by the author" in broadcast_live(event)["html_alt"]["en"]
    assert "Trukket tilbake av forfatteren" in broadcast_html(event)
    assert "An idea" not in broadcast_html(event)
    assert Contribution.objects.counted().filter(pk=contribution.pk).exists()


def test_withdrawn_item_cannot_be_edited():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    services.contribution_withdraw(contribution=contribution, user=author)
    with pytest.raises(ValidationError, match="no longer be changed"):
        services.contribution_edit(contribution=contribution, editor=author, title="x", body="y")


def test_comment_and_reply_go_into_their_containers():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    comment = services.comment_create(contribution=contribution, author=author, body="First")
    reply = services.comment_create(
        contribution=contribution, author=author, body="Reply", parent=comment
    )
    deeper = services.comment_create(
        contribution=contribution, author=author, body="Deeper", parent=reply
    )
    assert deeper.parent == comment  # threads are one level deep
    events = list(StudyEvent.objects.order_by("seq"))
    assert events[1].data["container"] == f"contribution-{contribution.pk}-comments"
    assert events[2].data["container"] == f"comment-{comment.pk}-replies"
    assert events[3].data["container"] == f"comment-{comment.pk}-replies"


def test_replies_to_withdrawn_or_hidden_items_are_refused():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    comment = services.comment_create(contribution=contribution, author=author, body="First")
    services.comment_withdraw(comment=comment, user=author)
    with pytest.raises(ValidationError, match="takes no replies"):
        services.comment_create(contribution=contribution, author=author, body="x", parent=comment)
    services.item_change_state(
        item=contribution, state=ItemState.HIDDEN, reason=ModerationReason.OFF_TOPIC
    )
    with pytest.raises(ValidationError, match="takes no comments"):
        services.comment_create(contribution=contribution, author=author, body="x")
    assert Comment.objects.count() == 1


def test_reply_to_comment_of_other_contribution_is_refused():
    study = StudyFactory()
    author = member(study)
    one, two = post(study, author), post(study, author, title="Two")
    comment = services.comment_create(contribution=one, author=author, body="First")
    with pytest.raises(ValidationError, match="only reply"):
        services.comment_create(contribution=two, author=author, body="x", parent=comment)


def test_official_answer_only_from_facilitators_and_kept_apart():
    study = StudyFactory()
    contribution = post(study, member(study))
    with pytest.raises(PermissionDenied):
        services.comment_create(
            contribution=contribution, author=member(study), body="x", official=True
        )
    facilitator = member(study, role=Role.FACILITATOR)
    answer = services.comment_create(
        contribution=contribution, author=facilitator, body="Answer", official=True
    )
    assert answer.official
    event = StudyEvent.objects.order_by("seq").last()
    assert event.data["container"] == f"contribution-{contribution.pk}-official"
    assert "Official answer" in broadcast_live(event)["html_alt"]["en"]


def test_reacting_twice_toggles_and_never_makes_a_second_row():
    study = StudyFactory()
    contribution = post(study, member(study))
    fan = member(study)
    assert services.reaction_toggle(item=contribution, user=fan) == (True, 1)
    assert Reaction.objects.count() == 1
    assert services.reaction_toggle(item=contribution, user=fan) == (False, 0)
    assert Reaction.objects.count() == 0
    event = StudyEvent.objects.order_by("seq").last()
    assert event.kind == "contribution.reaction"
    assert event.data["revision"] == 3


def test_reaction_counts_appear_in_the_event_html():
    study = StudyFactory()
    contribution = post(study, member(study))
    services.reaction_toggle(item=contribution, user=member(study))
    services.reaction_toggle(item=contribution, user=member(study))
    event = StudyEvent.objects.order_by("seq").last()
    assert 'data-reactions="2"' in broadcast_html(event)
    assert "2 reactions" in broadcast_live(event)["html_alt"]["en"]


def test_reacting_to_a_hidden_item_is_refused():
    study = StudyFactory()
    contribution = post(study, member(study))
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="spam")
    with pytest.raises(ValidationError):
        services.reaction_toggle(item=contribution, user=member(study))


def test_hiding_publishes_marker_with_reason_and_keeps_replies_container():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, author)
    comment = services.comment_create(contribution=contribution, author=author, body="Secret")
    services.item_change_state(
        item=comment, state=ItemState.HIDDEN, reason=ModerationReason.OFF_TOPIC, note="n"
    )
    comment.refresh_from_db()
    assert (comment.state, comment.moderation_reason, comment.moderation_note) == (
        "hidden",
        "off_topic",
        "n",
    )
    event = StudyEvent.objects.order_by("seq").last()
    assert event.kind == "comment.state"
    assert "Hidden by a facilitator: off-topic" in broadcast_live(event)["html_alt"]["en"]
    assert "Secret" not in broadcast_html(event)
    assert f'id="comment-{comment.pk}-replies"' in broadcast_html(event)


def test_unknown_state_or_reason_is_refused():
    study = StudyFactory()
    contribution = post(study, member(study))
    with pytest.raises(ValidationError):
        services.item_change_state(item=contribution, state="gone")
    with pytest.raises(ValidationError):
        services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="because")


def test_rate_limit_refuses_posts_beyond_the_limit(settings):
    settings.POSTING_RATE_LIMIT = "2/m"
    study = StudyFactory()
    author = member(study)
    post(study, author)
    post(study, author)
    with pytest.raises(services.RateLimited) as error:
        post(study, author)
    assert 0 < error.value.retry_after <= 60
    assert Contribution.objects.count() == 2
    # another person is not affected
    post(study, member(study))


def test_blocked_member_cannot_post():
    study = StudyFactory()
    author = member(study)
    Membership.objects.filter(user=author).update(status="blocked")
    with pytest.raises(PermissionDenied):
        post(study, author)


def test_a_comment_uses_the_membership_the_caller_read_and_reads_none_itself():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, member(study))
    membership = Membership.objects.get(study=study, user=author)
    with CaptureQueriesContext(connection) as queries:
        services.comment_create(
            contribution=contribution, author=author, body="Yes.", membership=membership
        )
    assert not [q for q in queries if 'FROM "studies_membership"' in q["sql"]]


def test_a_membership_of_another_study_or_person_is_not_taken_as_the_authors():
    study = StudyFactory()
    author = member(study)
    contribution = post(study, member(study))
    Membership.objects.filter(study=study, user=author).update(status="blocked")
    elsewhere = Membership.objects.get(user=member(StudyFactory()))  # active, other study
    someone = Membership.objects.exclude(user=author).filter(study=study).first()  # other person
    for given in (elsewhere, someone):
        with pytest.raises(PermissionDenied):
            services.comment_create(
                contribution=contribution, author=author, body="Yes.", membership=given
            )


def test_nothing_is_broadcast_when_the_write_rolls_back(django_capture_on_commit_callbacks):
    from django.db import transaction

    study = StudyFactory()
    author = member(study)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        post(study, author)
        raise RuntimeError("later step failed")
    assert callbacks == []
    assert not StudyEvent.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        post(study, author)
    assert len(callbacks) == 2  # the search document's task and the broadcast


def test_event_is_broadcast_only_after_commit(django_capture_on_commit_callbacks):
    from unittest import mock

    study = StudyFactory()
    author = member(study)
    with mock.patch("studies.events._send") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            post(study, author)
        assert not send.called
        for callback in callbacks:
            callback()
    group, message = send.call_args.args
    assert group == f"study.{study.pk}"
    assert message["event"]["kind"] == "contribution.created"


@pytest.mark.parametrize("status", [StudyStatus.CLOSED, StudyStatus.ARCHIVED])
def test_once_the_study_closes_nobody_edits_withdraws_comments_or_reacts(status):
    study = StudyFactory()
    author = member(study)
    other = member(study)
    contribution = post(study, author, title="Final words")
    comment = services.comment_create(contribution=contribution, author=author, body="Mine")
    events_before = StudyEvent.objects.filter(study=study).count()
    study.status = status
    study.save()
    with pytest.raises(PermissionDenied, match="not open"):
        services.contribution_edit(
            contribution=contribution, editor=author, title="Rewritten", body="Later"
        )
    with pytest.raises(PermissionDenied, match="not open"):
        services.contribution_withdraw(contribution=contribution, user=author)
    with pytest.raises(PermissionDenied, match="not open"):
        services.comment_edit(comment=comment, editor=author, body="Rewritten")
    with pytest.raises(PermissionDenied, match="not open"):
        services.comment_withdraw(comment=comment, user=author)
    with pytest.raises(PermissionDenied):
        services.comment_create(contribution=contribution, author=other, body="Too late")
    with pytest.raises(PermissionDenied):
        services.reaction_toggle(item=contribution, user=other)
    contribution.refresh_from_db()
    comment.refresh_from_db()
    assert (contribution.title, contribution.state) == ("Final words", ItemState.PUBLISHED)
    assert (comment.body, comment.state) == ("Mine", ItemState.PUBLISHED)
    assert not Revision.objects.exists() and not Reaction.objects.exists()
    assert Comment.objects.count() == 1
    assert StudyEvent.objects.filter(study=study).count() == events_before
