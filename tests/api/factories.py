"""Factories the API tests need: tokens and a small public dataset."""

from __future__ import annotations

from api.services import api_token_create
from contributions.models import ItemState, ModerationReason
from studies.models import Role, StudyStatus, Visibility
from tests.contributions.factories import member
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    OrganisationFactory,
    SectionFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
)


def coordinator_of(study, **kwargs):
    return give_mfa(member(study, role=Role.COORDINATOR, **kwargs))


def token_for(user, name: str = "harvester") -> tuple:
    return api_token_create(user=user, name=name)


def seed_study(**kwargs):
    """A public study with two sections and items in every listed and unlisted state."""
    study = StudyFactory(**kwargs)
    first, second = SectionFactory(study=study), SectionFactory(study=study)
    org = OrganisationFactory(name="Statens vegvesen")
    author = UserFactory(display_name="Kari Nordmann")
    published = ContributionFactory(
        study=study,
        section=first,
        author=author,
        acted_for=org,
        acted_for_sector=org.sector,
        title="Use plain language",
        kind="idea",
    )
    hidden = ContributionFactory(
        study=study,
        section=second,
        title="Buy cheap pills",
        body="secret spam text",
        kind="question",
        state=ItemState.HIDDEN,
        moderation_reason=ModerationReason.SPAM,
        moderation_note="private note",
    )
    removed = ContributionFactory(
        study=study,
        section=first,
        title="Removed words",
        state=ItemState.REMOVED,
        moderation_reason=ModerationReason.ABUSE,
    )
    pending = ContributionFactory(study=study, title="Not yet approved", state=ItemState.PENDING)
    rejected = ContributionFactory(study=study, title="Rejected idea", state=ItemState.REJECTED)
    comment = CommentFactory(contribution=published, body="Agreed", author=author)
    reply = CommentFactory(contribution=published, parent=comment, body="=HYPERLINK(1)")
    hidden_comment = CommentFactory(
        contribution=published,
        body="rude words",
        state=ItemState.HIDDEN,
        moderation_reason=ModerationReason.OFF_TOPIC,
    )
    pending_comment = CommentFactory(
        contribution=published, body="pending words", state=ItemState.PENDING
    )
    comment_on_pending = CommentFactory(contribution=pending, body="under pending")
    return {
        "study": study,
        "sections": (first, second),
        "org": org,
        "author": author,
        "published": published,
        "hidden": hidden,
        "removed": removed,
        "pending": pending,
        "rejected": rejected,
        "comment": comment,
        "reply": reply,
        "hidden_comment": hidden_comment,
        "pending_comment": pending_comment,
        "comment_on_pending": comment_on_pending,
    }


def members_only_study(**kwargs):
    return StudyFactory(visibility=Visibility.MEMBERS, **kwargs)


def closed_study(**kwargs):
    return seed_study(status=StudyStatus.CLOSED, **kwargs)
