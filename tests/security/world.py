"""One study with one of everything, and a person for each role.

The authorisation matrix reverses every URL pattern against these objects.
Objects that belong to a person (notifications, data exports, API tokens, a
join request) belong to the member, so the other roles meet someone else's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import DataExport, Notification
from contributions.models import Attachment
from studies.models import DocumentVersion, JoinRequest, Role
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    OrganisationFactory,
    SectionFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
)
from tests.studies.factories import make_invitation

ROLES = ("anonymous", "outsider", "member", "facilitator", "coordinator", "administrator")


@dataclass
class World:
    study: object
    users: dict
    memberships: dict
    organisation: object
    contribution: object
    comment: object
    attachment: object
    version: object
    invitation: object
    invitation_token: str
    join_request: object
    notification: object
    data_export: object
    api_token: object
    export: object
    poll: object = None
    vote: object = None
    survey: object = None
    answer: object = None
    claim: object = None  # a pending claim on ``organisation`` by someone with no role
    domain: object = None  # an e-mail domain of ``organisation``
    anchor: str = ""  # a block of ``version``
    amendment: object = None  # the member's amendment of that block


def build_world(**study_kwargs) -> World:
    study = StudyFactory(**study_kwargs)
    section = SectionFactory(study=study)
    organisation = OrganisationFactory()
    users = {
        "anonymous": None,
        "outsider": UserFactory(),
        "member": UserFactory(),
        "facilitator": give_mfa(UserFactory()),
        "coordinator": give_mfa(UserFactory()),
        "administrator": give_mfa(UserFactory(is_administrator=True)),
    }
    roles = {
        "member": Role.CONTRIBUTOR,
        "facilitator": Role.FACILITATOR,
        "coordinator": Role.COORDINATOR,
    }
    memberships = {
        name: MembershipFactory(study=study, user=users[name], role=role)
        for name, role in roles.items()
    }
    contribution = ContributionFactory(study=study, author=users["member"], section=section)
    comment = CommentFactory(contribution=contribution, author=users["member"])
    attachment = Attachment.objects.create(
        contribution=contribution,
        file=ContentFile(b"%PDF-1.4\n", name="note.pdf"),
        original_name="note.pdf",
        content_type="application/pdf",
        size=9,
    )
    version = DocumentVersion.objects.create(
        study=study,
        number="1.0",
        body=study.body,
        change_summary="First version.",
        published_by=users["coordinator"],
    )
    from contributions import passages
    from studies.blocks import version_blocks

    anchor = version_blocks(version)[0].anchor
    amendment = passages.amendment_create(
        study=study,
        author=users["member"],
        anchor=anchor,
        wording="Better wording for the first passage.",
        reason="Clearer.",
    )
    # Addressed to the outsider: the link is the permission, and their verified
    # address lets them accept it from the home page too.
    invitation, invitation_token = make_invitation(
        study, users["outsider"].email, invited_by=users["coordinator"]
    )
    applicant = UserFactory()
    join_request = JoinRequest.objects.create(study=study, user=applicant)
    notification = Notification.objects.create(
        user=users["member"], kind="test", title="For the member"
    )
    data_export = DataExport.objects.create(user=users["member"])
    from api.models import ApiToken

    api_token = ApiToken.objects.create(
        user=users["member"], name="member's", prefix="abc", digest=uuid.uuid4().hex * 2
    )
    from reports.models import Export, ExportFormat, ExportStatus, ExportTier
    from reports.services import report_freeze

    export = Export.objects.create(
        study=study,
        requested_by=users["coordinator"],
        tier=ExportTier.AGGREGATE,
        format=ExportFormat.CSV,
        status=ExportStatus.DONE,
        progress=100,
        file=ContentFile(b"figure,value\n", name="export.csv"),
        finished_at=timezone.now(),
    )
    # A participation report, so its page and downloads exist to be guarded.
    report_freeze(study=study, by=users["coordinator"])
    # A poll with an "other" vote from the member, so every poll URL has its objects.
    from polls import services as poll_services

    poll = poll_services.poll_create(
        study=study,
        by=users["coordinator"],
        question="Which one?",
        options=["One", "Two"],
        allow_other=True,
    )
    vote, _changed = poll_services.poll_vote(
        poll=poll, user=users["member"], option_ids=[], other=True, other_text="Mine"
    )
    # A survey the member has answered, with a free-text answer to moderate.
    from polls.models import QuestionKind, SurveyAnswer
    from polls.survey_services import QuestionData, survey_answer, survey_create

    survey = survey_create(
        study=study,
        by=users["coordinator"],
        title="How did it go?",
        questions=[QuestionData(kind=QuestionKind.LONG_TEXT, text="Tell us")],
    )
    survey_answer(
        survey=survey,
        user=users["member"],
        values={survey.questions.get().pk: ["Fine"]},
        submit=True,
    )
    answer = SurveyAnswer.objects.get(response__survey=survey)
    from accounts.models import Affiliation, OrganisationDomain

    claim = Affiliation.objects.create(user=UserFactory(), organisation=organisation)
    domain = OrganisationDomain.objects.create(organisation=organisation, domain="example.no")
    return World(
        anchor=anchor,
        amendment=amendment,
        claim=claim,
        domain=domain,
        survey=survey,
        answer=answer,
        poll=poll,
        vote=vote,
        study=study,
        users=users,
        memberships=memberships,
        organisation=organisation,
        contribution=contribution,
        comment=comment,
        attachment=attachment,
        version=version,
        invitation=invitation,
        invitation_token=invitation_token,
        join_request=join_request,
        notification=notification,
        data_export=data_export,
        api_token=api_token,
        export=export,
    )
