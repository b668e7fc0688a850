"""Open study sockets follow access: the moment a person may no longer see the
study (made members-only, left, blocked, deactivated or deleted), their sockets
close with 4403 and receive nothing more; everyone else's stay open."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from accounts.services import account_delete
from contributions import services
from moderation.services import member_block
from studies import services as study_services
from studies.models import Membership, Role, StudyStatus, Visibility
from tests.contributions.factories import member
from tests.contributions.test_consumers import connect, receive_type
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)
ACCESS_ENDED = 4403


async def live(study, user=None):
    """A socket that has resumed, as an open page holds it."""
    communicator, connected, _ = await connect(study, user)
    assert connected
    await communicator.send_json_to({"type": "resume", "after": 0})
    await receive_type(communicator, "resumed")
    return communicator


async def closed_with(communicator) -> int:
    """The close code, failing if the socket sends an event before closing."""
    while True:
        message = await communicator.receive_output(timeout=3)
        if message["type"] == "websocket.close":
            return message["code"]
        assert '"type": "event"' not in message.get("text", ""), message


async def still_receives(communicator, study, author) -> None:
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="After", body="b"
    )
    event = await receive_type(communicator, "event", timeout=3)
    if event["kind"] == "membership.changed":
        # The leave or block itself, which names no one, comes first.
        assert (event["key"], event["data"], event["html"]) == ("", {}, "")
        event = await receive_type(communicator, "event", timeout=3)
    assert event["kind"] == "contribution.created"


async def test_making_a_study_members_only_closes_the_sockets_of_outsiders_only():
    study = await database_sync_to_async(StudyFactory)()
    insider = await database_sync_to_async(member)(study)
    visitor = await live(study)
    outsider = await live(study, await database_sync_to_async(member)())
    own = await live(study, insider)
    await database_sync_to_async(study_services.study_update)(
        study=study, visibility=Visibility.MEMBERS
    )
    assert await closed_with(visitor) == ACCESS_ENDED
    assert await closed_with(outsider) == ACCESS_ENDED
    await still_receives(own, study, insider)
    await own.disconnect()


async def test_a_member_who_leaves_a_members_only_study_is_closed_at_once():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    leaving = await database_sync_to_async(member)(study)
    staying = await database_sync_to_async(member)(study)
    theirs = await live(study, leaving)
    other = await live(study, staying)
    membership = await database_sync_to_async(Membership.objects.get)(user=leaving)
    await database_sync_to_async(study_services.membership_leave)(membership=membership)
    assert await closed_with(theirs) == ACCESS_ENDED
    await still_receives(other, study, staying)
    await other.disconnect()


async def test_leaving_a_public_study_keeps_the_page_live():
    study = await database_sync_to_async(StudyFactory)()
    leaving = await database_sync_to_async(member)(study)
    author = await database_sync_to_async(member)(study)
    theirs = await live(study, leaving)
    membership = await database_sync_to_async(Membership.objects.get)(user=leaving)
    await database_sync_to_async(study_services.membership_leave)(membership=membership)
    await still_receives(theirs, study, author)  # a visitor may read it too
    await theirs.disconnect()


async def test_a_member_blocked_in_a_members_only_study_is_closed_at_once():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    facilitator = await database_sync_to_async(member)(study, role=Role.COORDINATOR)
    blocked = await database_sync_to_async(member)(study)
    theirs = await live(study, blocked)
    facilitators = await live(study, facilitator)
    membership = await database_sync_to_async(Membership.objects.get)(user=blocked)
    await database_sync_to_async(member_block)(
        study=study, actor=facilitator, membership=membership, reason="Personal attacks"
    )
    assert await closed_with(theirs) == ACCESS_ENDED
    await still_receives(facilitators, study, facilitator)
    await facilitators.disconnect()


async def test_a_blocked_member_of_a_public_study_still_reads_it_live():
    study = await database_sync_to_async(StudyFactory)()
    facilitator = await database_sync_to_async(member)(study, role=Role.COORDINATOR)
    blocked = await database_sync_to_async(member)(study)
    theirs = await live(study, blocked)
    membership = await database_sync_to_async(Membership.objects.get)(user=blocked)
    await database_sync_to_async(member_block)(
        study=study, actor=facilitator, membership=membership, reason="Personal attacks"
    )
    await still_receives(theirs, study, facilitator)
    await theirs.disconnect()


async def test_a_deactivated_account_is_closed_even_on_a_public_study():
    study = await database_sync_to_async(StudyFactory)()
    user = await database_sync_to_async(member)(study)
    other = await database_sync_to_async(member)(study)
    theirs = await live(study, user)
    bystander = await live(study, other)

    def deactivate():
        account = get_user_model().objects.get(pk=user.pk)
        account.is_active = False
        account.save(update_fields=["is_active"])

    await database_sync_to_async(deactivate)()
    assert await closed_with(theirs) == ACCESS_ENDED
    await still_receives(bystander, study, other)
    await bystander.disconnect()


async def test_a_deleted_account_is_closed():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    user = await database_sync_to_async(member)(study)
    theirs = await live(study, user)
    await database_sync_to_async(account_delete)(user=user)
    assert await closed_with(theirs) == ACCESS_ENDED


async def test_a_facilitator_made_contributor_on_a_draft_is_closed():
    study = await database_sync_to_async(StudyFactory)(status=StudyStatus.DRAFT)
    coordinator = await database_sync_to_async(member)(study, role=Role.COORDINATOR)
    facilitator = await database_sync_to_async(member)(study, role=Role.FACILITATOR)
    theirs = await live(study, facilitator)
    membership = await database_sync_to_async(Membership.objects.get)(user=facilitator)
    await database_sync_to_async(study_services.membership_set_role)(
        membership=membership, role=Role.CONTRIBUTOR, by=coordinator
    )
    assert await closed_with(theirs) == ACCESS_ENDED


async def test_a_socket_that_lost_access_gets_no_resume_either():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    user = await database_sync_to_async(member)(study)
    author = await database_sync_to_async(member)(study)
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="Members only", body="b"
    )
    communicator, connected, _ = await connect(study, user)
    assert connected
    # Lost without a broadcast (a direct update): the resume re-checks.
    await database_sync_to_async(Membership.objects.filter(user=user).update)(status="left")
    await communicator.send_json_to({"type": "resume", "after": 0})
    assert await closed_with(communicator) == ACCESS_ENDED
