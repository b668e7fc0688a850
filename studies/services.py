"""Writes on studies: set-up, status, phases, versions, membership, invitations, roles.

Every function here validates fully before it writes and writes inside one
transaction, so bad input saves nothing partial. E-mails go out through Celery
after the transaction commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.services import notification_create
from core.tasks import task
from studies import blocks, events, structure
from studies.models import (
    DocumentVersion,
    Invitation,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MembershipStatus,
    Phase,
    Role,
    Section,
    Study,
    StudyStatus,
)

INVITATION_LIFETIME = timedelta(days=14)
# Slugs that would shadow the study list's own addresses under /studies/.
RESERVED_SLUGS = {"new", "invitation"}

# draft → open → closed → archived; nothing goes back.
TRANSITIONS: dict[str, set[str]] = {
    StudyStatus.DRAFT: {StudyStatus.OPEN},
    StudyStatus.OPEN: {StudyStatus.CLOSED},
    StudyStatus.CLOSED: {StudyStatus.ARCHIVED},
    StudyStatus.ARCHIVED: set(),
}
EDITABLE_STATUSES = {StudyStatus.DRAFT, StudyStatus.OPEN}
# Sent inside the closing transaction with ``study`` and ``by``; the reports app
# freezes the participation report from its receiver (studies cannot import it).
study_closed = Signal()
INVITATIONS_TASK = "studies.tasks.send_invitation_emails"
# Sent inside the publishing transaction with ``version`` and ``taken_up_ids``
# (what the coordinator chose as taken up); contributions' receiver checks and
# records them and re-publishes their look, so open pages show "taken up in
# version …" at once.
document_version_published = Signal()


# --- Study set-up ---------------------------------------------------------


@dataclass(frozen=True)
class SectionData:
    """One row of the sections editor: ``id`` None for a new section."""

    order: int
    title: str
    prompt: str = ""
    id: int | None = None
    delete: bool = False


STUDY_FIELDS = (
    "title",
    "summary",
    "body",
    "opens_at",
    "closes_at",
    "visibility",
    "joining",
    "moderation_mode",
    "flag_threshold",
    "small_count_threshold",
)


def _unique_slug(title: str) -> str:
    base = slugify(title)[:70].strip("-") or "study"
    if base in RESERVED_SLUGS:
        base = f"{base}-study"
    slug, n = base, 2
    while Study.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def study_validate_dates(
    *, status: str, opens_at: datetime | None, closes_at: datetime | None
) -> None:
    """Raise ValidationError (by field) when the dates do not fit the status."""
    errors: dict[str, str] = {}
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = _("The study must close after it opens.")
    elif status == StudyStatus.OPEN and closes_at and closes_at <= timezone.now():
        errors["closes_at"] = _(
            "This close date has passed. An open study needs a close date in the future, "
            "or none; to end the study now, close it."
        )
    if errors:
        raise ValidationError(errors)


def _validate_sections(sections: list[SectionData]) -> None:
    kept = [s for s in sections if not s.delete]
    orders = [s.order for s in kept]
    duplicates = sorted({o for o in orders if orders.count(o) > 1})
    if duplicates:
        raise ValidationError(
            _("Two sections cannot share a place in the order: %(orders)s.")
            % {"orders": ", ".join(str(o) for o in duplicates)},
            code="duplicate_order",
        )
    for s in kept:
        if not s.title.strip():
            raise ValidationError(_("Every section needs a title."), code="section_title")


def _save_sections(*, study: Study, sections: list[SectionData]) -> None:
    existing = {s.pk: s for s in Section.objects.filter(study=study)}
    to_delete = [s.id for s in sections if s.delete and s.id in existing]
    Section.objects.filter(study=study, pk__in=to_delete).delete()
    kept = [s for s in sections if not s.delete]
    # Move the kept rows out of the way first, so swapping two orders does not
    # trip the unique (study, order) constraint halfway through.
    for index, data in enumerate(s for s in kept if s.id in existing):
        Section.objects.filter(pk=data.id).update(order=30000 + index)
    for data in kept:
        if data.id in existing:
            Section.objects.filter(pk=data.id).update(
                order=data.order, title=data.title.strip(), prompt=data.prompt.strip()
            )
        else:
            Section.objects.create(
                study=study, order=data.order, title=data.title.strip(), prompt=data.prompt.strip()
            )
    # The bulk updates above send no signals: the study page's kept structure moves on here.
    structure.mark_changed(study.pk)


def _check_slug(slug: str) -> str:
    slug = slugify(slug or "")[:80].strip("-")
    if not slug:
        raise ValidationError(
            {"slug": _("Use letters, digits and hyphens, e.g. “digital-assistant”.")},
            code="slug_invalid",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(
            {"slug": _("“%(slug)s” is a page of Dugnad's own; choose another.") % {"slug": slug}},
            code="slug_reserved",
        )
    if Study.objects.filter(slug=slug).exists():
        raise ValidationError(
            {
                "slug": _("Another study already has the address “%(slug)s”; choose another.")
                % {"slug": slug}
            },
            code="slug_taken",
        )
    return slug


@transaction.atomic
def study_create(
    *,
    created_by: User,
    coordinator: User | None = None,
    invite_coordinator: str = "",
    slug: str = "",
    sections: list[SectionData] | None = None,
    phases: list[PhaseData] | None = None,
    **fields,
) -> Study:
    """Create a draft study with its sections and phases, and appoint its first coordinator.

    The coordinator is ``coordinator`` (default: the creator), or, with
    ``invite_coordinator``, whoever accepts the invitation e-mailed to that
    address (until then the study has no coordinator; its creator, an
    administrator, still sees it). ``slug`` (default: from the title) must be
    free. Validates everything before writing: bad input saves nothing.
    """
    unknown = set(fields) - set(STUDY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown study fields: {sorted(unknown)}")
    if coordinator is not None and invite_coordinator:
        raise TypeError("Appoint a coordinator or invite one, not both")
    study = Study(status=StudyStatus.DRAFT, **fields)
    study.title = (study.title or "").strip()
    study.slug = _check_slug(slug) if slug else _unique_slug(study.title)
    study.full_clean()
    study_validate_dates(status=study.status, opens_at=study.opens_at, closes_at=study.closes_at)
    sections = sections or []
    _validate_sections(sections)
    phases = phases or []
    for p in phases:
        if not p.title.strip() or p.ends_at <= p.starts_at:
            raise ValidationError(_("A phase needs a title and must end after it starts."))
    try:
        with transaction.atomic():
            study.save()
    except IntegrityError as exc:  # the same address taken a moment ago
        raise ValidationError(
            {"slug": _("Another study already has this address; choose another.")},
            code="slug_taken",
        ) from exc
    _save_sections(study=study, sections=sections)
    first_section = study.sections.order_by("order").values_list("pk", flat=True)[:1]
    for p in phases:
        phase = Phase.objects.create(
            study=study,
            title=p.title.strip(),
            description=p.description.strip(),
            starts_at=p.starts_at,
            ends_at=p.ends_at,
        )
        phase.sections.set(p.section_ids or list(first_section))
    if invite_coordinator:
        _invite_coordinator(study=study, email=invite_coordinator, by=created_by)
        return study
    Membership.objects.create(study=study, user=coordinator or created_by, role=Role.COORDINATOR)
    if coordinator and coordinator != created_by:
        _tell_coordinator(study=study, coordinator=coordinator)
    return study


def _tell_coordinator(*, study: Study, coordinator: User) -> None:
    with translation.override(coordinator.preferred_language):
        notification_create(
            user=coordinator,
            kind="study_coordinator",
            title=_("You are the coordinator of the study “%(title)s”") % {"title": study.title},
            url=reverse("studies:settings", args=[study.slug]),
        )


def _invite_coordinator(*, study: Study, email: str, by: User) -> Invitation:
    """An invitation to coordinate ``study``, e-mailed after the commit."""
    email = email.strip()
    waiting = Invitation.objects.filter(
        study=study,
        email__iexact=email,
        role=Role.COORDINATOR,
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if waiting.exists():
        raise ValidationError(
            {
                "coordinator_email": _(
                    "%(email)s is invited to coordinate this study already; the invitation "
                    "is still valid."
                )
                % {"email": email}
            },
            code="already_invited",
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        study=study,
        email=email,
        token=invitation_token_hash(token),
        invited_by=by,
        role=Role.COORDINATOR,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    sent = [(invitation.pk, token)]
    transaction.on_commit(lambda: task(INVITATIONS_TASK).delay(sent), robust=True)
    return invitation


@transaction.atomic
def study_appoint_coordinator(
    *, study: Study, by: User, coordinator: User | None = None, invite_email: str = ""
) -> Membership | Invitation:
    """An administrator appoints a coordinator of a draft or open study, or invites one.

    Refused with ValidationError, nothing changed: a closed or archived study,
    a person who coordinates it already or is blocked in it, an address with
    a waiting invitation to coordinate it.
    """
    if (coordinator is None) == (not invite_email):
        raise TypeError("Appoint a coordinator or invite one")
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status not in EDITABLE_STATUSES:
        raise ValidationError(
            _("A closed or archived study cannot get a new coordinator."), code="read_only"
        )
    if invite_email:
        return _invite_coordinator(study=study, email=invite_email, by=by)
    membership = (
        Membership.objects.select_for_update().filter(study=study, user=coordinator).first()
    )
    if membership is not None and membership.status == MembershipStatus.BLOCKED:
        raise ValidationError(
            {"coordinator_email": _("%(name)s is blocked in this study.")
             % {"name": coordinator.public_name}},
            code="blocked",
        )  # fmt: skip
    if (
        membership is not None
        and membership.status == MembershipStatus.ACTIVE
        and membership.role == Role.COORDINATOR
    ):
        raise ValidationError(
            {"coordinator_email": _("%(name)s coordinates this study already.")
             % {"name": coordinator.public_name}},
            code="already",
        )  # fmt: skip
    if membership is None:
        membership = Membership.objects.create(study=study, user=coordinator, role=Role.COORDINATOR)
    else:
        membership.status = MembershipStatus.ACTIVE
        membership.role = Role.COORDINATOR
        membership.save(update_fields=["status", "role", "updated_at"])
    _tell_coordinator(study=study, coordinator=coordinator)
    return membership


@transaction.atomic
def study_update(*, study: Study, sections: list[SectionData] | None = None, **fields) -> Study:
    """Change a draft or open study's settings and sections together, or nothing."""
    unknown = set(fields) - set(STUDY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown study fields: {sorted(unknown)}")
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status not in EDITABLE_STATUSES:
        raise ValidationError(_("A closed or archived study cannot be changed."), code="read_only")
    visibility = study.visibility
    for name, value in fields.items():
        setattr(study, name, value)
    study.title = (study.title or "").strip()
    study.full_clean()
    study_validate_dates(status=study.status, opens_at=study.opens_at, closes_at=study.closes_at)
    if sections is not None:
        _validate_sections(sections)
    study.save(update_fields=[*fields.keys(), "updated_at"])
    if sections is not None:
        _save_sections(study=study, sections=sections)
    if study.visibility != visibility:
        # Made members-only: open pages of people who are not members close.
        events.access_changed(study_id=study.pk)
    return study


@transaction.atomic
def study_set_status(*, study: Study, status: str, by: User | None = None) -> Study:
    """Move a study one step along draft → open → closed → archived."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if status not in TRANSITIONS.get(study.status, set()):
        raise ValidationError(
            _("A study that is %(current)s cannot become %(target)s.")
            % {
                "current": StudyStatus(study.status).label.lower(),
                "target": (
                    StudyStatus(status).label.lower() if status in StudyStatus.values else status
                ),
            },
            code="transition",
        )
    update = ["status", "updated_at"]
    now = timezone.now()
    if status == StudyStatus.OPEN:
        study_validate_dates(status=status, opens_at=study.opens_at, closes_at=study.closes_at)
    if status == StudyStatus.CLOSED and (study.closes_at is None or study.closes_at > now):
        # Closing early ends the study now; the recorded close date says when.
        study.closes_at = max(now, study.opens_at + timedelta(seconds=1)) if study.opens_at else now
        update.append("closes_at")
    study.status = status
    study.save(update_fields=update)
    if status == StudyStatus.CLOSED:
        study_closed.send(sender=Study, study=study, by=by)
    return study


# --- Phases ---------------------------------------------------------------


@dataclass(frozen=True)
class PhaseData:
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    section_ids: list[int] = field(default_factory=list)
    id: int | None = None
    delete: bool = False


@transaction.atomic
def phases_save(*, study: Study, phases: list[PhaseData]) -> None:
    """Replace the study's phases with these; dates in order and no overlaps, or nothing."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status not in EDITABLE_STATUSES:
        raise ValidationError(_("A closed or archived study cannot be changed."), code="read_only")
    kept = sorted((p for p in phases if not p.delete), key=lambda p: p.starts_at)
    for p in kept:
        if not p.title.strip():
            raise ValidationError(_("Every phase needs a title."), code="phase_title")
        if p.ends_at <= p.starts_at:
            raise ValidationError(
                _("The phase “%(title)s” must end after it starts.") % {"title": p.title},
                code="phase_dates",
            )
    for earlier, later in zip(kept, kept[1:], strict=False):
        if later.starts_at < earlier.ends_at:
            raise ValidationError(
                _("The phases “%(a)s” and “%(b)s” overlap.")
                % {"a": earlier.title, "b": later.title},
                code="phase_overlap",
            )
    section_ids = set(Section.objects.filter(study=study).values_list("pk", flat=True))
    for p in kept:
        if set(p.section_ids) - section_ids:
            raise ValidationError(_("Choose sections of this study."), code="phase_sections")
    existing = {p.pk: p for p in Phase.objects.filter(study=study)}
    Phase.objects.filter(
        study=study, pk__in=[p.id for p in phases if p.delete and p.id in existing]
    ).delete()
    for data in kept:
        phase = existing.get(data.id) or Phase(study=study)
        phase.title = data.title.strip()
        phase.description = data.description.strip()
        phase.starts_at = data.starts_at
        phase.ends_at = data.ends_at
        phase.save()
        phase.sections.set(data.section_ids)


# --- Document versions ----------------------------------------------------


@transaction.atomic
def document_version_publish(
    *,
    study: Study,
    number: str,
    body: str,
    change_summary: str,
    by: User,
    taken_up_ids: list[int] | None = None,
) -> DocumentVersion:
    """Publish a version of the concept document and tell the members.

    ``taken_up_ids`` are published contributions of this study that the
    version took up; anything else is refused.
    """
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status == StudyStatus.ARCHIVED:
        raise ValidationError(_("An archived study cannot be changed."), code="read_only")
    version = DocumentVersion(
        study=study,
        number=number.strip(),
        body=body,
        change_summary=change_summary.strip(),
        published_by=by,
    )
    version.full_clean(exclude=["study"])
    if DocumentVersion.objects.filter(study=study, number=version.number).exists():
        raise ValidationError(
            {"number": _("Version %(number)s exists already.") % {"number": version.number}}
        )
    version.save()
    # The blocks and their anchors, matched against the previous version's,
    # before the receivers carry what is pinned to them. Receivers
    # (contributions) also record what the version took up, and refuse with a
    # ValidationError on "taken_up" an item they cannot take up; this
    # transaction then saves nothing.
    blocks.version_blocks(version)
    document_version_published.send(
        sender=DocumentVersion, version=version, taken_up_ids=sorted(set(taken_up_ids or []))
    )
    if study.body != body:
        study.body = body
        study.save(update_fields=["body", "updated_at"])
    url = reverse("studies:version_detail", args=[study.slug, version.pk])
    members = (
        Membership.objects.active().filter(study=study).exclude(user=by).select_related("user")
    )
    for membership in members:
        # Each member reads it in their own language.
        with translation.override(membership.user.preferred_language):
            title = _("Version %(number)s of “%(title)s” is published") % {
                "number": version.number,
                "title": study.title,
            }
        notification_create(
            user=membership.user,
            kind="document_version",
            title=title,
            body=version.change_summary,
            url=url,
        )
    return version


# --- Membership -----------------------------------------------------------


def _check_organisation(*, user: User, organisation: Organisation | None) -> Organisation | None:
    if organisation is None:
        return None
    organisation = organisation.canonical()
    # A pending claim is enough to act (items then say the person "says they
    # represent" the organisation); a refused or given-up claim is not.
    if not organisation.affiliations.actable().filter(user=user).exists():
        raise ValidationError(
            {"organisation": _("You can act only for an organisation you belong to.")},
            code="not_affiliated",
        )
    return organisation


def membership_changed(*, study_id: int) -> None:
    """Record that the study's members changed (join, leave, role, block): statistics refresh.

    The event names no one and counts nothing: no membership or user id, so a
    viewer who may not see the members learns only that something changed,
    as they would from the member count on the statistics page. Call it as
    the transaction's last write (it locks the study row until commit).
    """
    events.record_event(study_id=study_id, kind=MEMBERSHIP_EVENT)


MEMBERSHIP_EVENT = "membership.changed"


def _activate_membership(
    *, study: Study, user: User, organisation: Organisation | None, consent_named: bool
) -> Membership:
    membership = _activate_membership_row(
        study=study, user=user, organisation=organisation, consent_named=consent_named
    )
    membership_changed(study_id=study.pk)
    return membership


def _activate_membership_row(
    *, study: Study, user: User, organisation: Organisation | None, consent_named: bool
) -> Membership:
    membership = Membership.objects.select_for_update().filter(study=study, user=user).first()
    if membership is None:
        return Membership.objects.create(
            study=study,
            user=user,
            role=Role.CONTRIBUTOR,
            organisation=organisation,
            consent_named=consent_named,
        )
    if membership.status == MembershipStatus.BLOCKED:
        raise ValidationError(_("You are blocked in this study."), code="blocked")
    if membership.status == MembershipStatus.ACTIVE:
        raise ValidationError(_("You are already a member of this study."), code="member")
    # Rejoining after leaving starts again as a contributor.
    membership.status = MembershipStatus.ACTIVE
    membership.role = Role.CONTRIBUTOR
    membership.organisation = organisation
    membership.consent_named = consent_named
    membership.joined_at = timezone.now()
    membership.save()
    return membership


@transaction.atomic
def membership_join(
    *,
    study: Study,
    user: User,
    organisation: Organisation | None = None,
    consent_named: bool = False,
) -> Membership:
    """Join an open-joining study as oneself or for one of one's organisations."""
    from studies.models import Joining

    if study.joining != Joining.OPEN:
        raise ValidationError(_("This study cannot be joined directly."), code="joining")
    if study.status != StudyStatus.OPEN:
        raise ValidationError(_("Only open studies can be joined."), code="status")
    organisation = _check_organisation(user=user, organisation=organisation)
    return _activate_membership(
        study=study, user=user, organisation=organisation, consent_named=consent_named
    )


@transaction.atomic
def membership_update(
    *, membership: Membership, organisation: Organisation | None, consent_named: bool
) -> Membership:
    """Change who a member acts for and their consent to be named.

    Items already posted keep the organisation they were posted for: only
    the membership changes, never an item's snapshot.
    """
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status == MembershipStatus.LEFT:
        raise ValidationError(_("You are not a member of this study."), code="left")
    update = ["consent_named", "updated_at"]
    membership.consent_named = consent_named
    new_org = _check_organisation(user=membership.user, organisation=organisation)
    if new_org != membership.organisation:
        if membership.study.status not in EDITABLE_STATUSES:
            raise ValidationError(
                {"organisation": _("The study is closed: who you act for can no longer change.")},
                code="read_only",
            )
        membership.organisation = new_org
        update.append("organisation")
    membership.save(update_fields=update)
    return membership


def _lock_coordinators(study: Study) -> int:
    Study.objects.select_for_update().filter(pk=study.pk).values_list("pk").get()
    return Membership.objects.active().filter(study=study, role=Role.COORDINATOR).count()


@transaction.atomic
def membership_leave(*, membership: Membership) -> Membership:
    """Leave a study; the last coordinator cannot leave."""
    # The study row first, then the membership: the same order as role changes.
    coordinators = _lock_coordinators(membership.study)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != MembershipStatus.ACTIVE:
        raise ValidationError(_("You are not an active member of this study."), code="not_active")
    if membership.role == Role.COORDINATOR and coordinators <= 1:
        raise ValidationError(
            _("You are the study's only coordinator. Make someone else coordinator first."),
            code="last_coordinator",
        )
    membership.status = MembershipStatus.LEFT
    membership.save(update_fields=["status", "updated_at"])
    events.access_changed(study_id=membership.study_id, user_id=membership.user_id)
    membership_changed(study_id=membership.study_id)
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, by: User) -> Membership:
    """Grant or revoke a role; a study always keeps at least one coordinator."""
    if role not in Role.values:
        raise ValidationError(_("Choose a role from the list."), code="role")
    coordinators = _lock_coordinators(membership.study)
    membership = (
        Membership.objects.select_for_update().select_related("study").get(pk=membership.pk)
    )
    if membership.status != MembershipStatus.ACTIVE:
        raise ValidationError(_("Only active members can be given a role."), code="not_active")
    if membership.role == role:
        return membership
    if membership.role == Role.COORDINATOR and coordinators <= 1:
        raise ValidationError(
            _(
                "A study always keeps at least one coordinator. "
                "Make someone else coordinator first."
            ),
            code="last_coordinator",
        )
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    # A draft is seen by its coordinators and facilitators only.
    events.access_changed(study_id=membership.study_id, user_id=membership.user_id)
    membership_changed(study_id=membership.study_id)
    if membership.user_id != by.pk:
        with translation.override(membership.user.preferred_language):
            notification_create(
                user=membership.user,
                kind="study_role",
                title=_("You are now %(role)s in “%(title)s”")
                % {"role": Role(role).label.lower(), "title": membership.study.title},
                url=reverse("study_detail", args=[membership.study.slug]),
            )
    return membership


# --- Approval studies -----------------------------------------------------


@transaction.atomic
def join_request_create(
    *,
    study: Study,
    user: User,
    organisation: Organisation | None = None,
    consent_named: bool = False,
    message: str = "",
) -> JoinRequest:
    """Ask to join an approval study; the coordinators are told."""
    from studies.models import Joining

    if study.joining != Joining.APPROVAL or study.status != StudyStatus.OPEN:
        raise ValidationError(_("This study does not take requests to join."), code="joining")
    organisation = _check_organisation(user=user, organisation=organisation)
    if JoinRequest.objects.filter(
        study=study, user=user, status=JoinRequestStatus.PENDING
    ).exists():
        raise ValidationError(_("Your request is already waiting for a decision."), code="pending")
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(
                study=study,
                user=user,
                organisation=organisation,
                consent_named=consent_named,
                message=message.strip()[:1000],
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("Your request is already waiting for a decision."), code="pending"
        ) from exc
    for coordinator in Membership.objects.active().filter(study=study, role=Role.COORDINATOR):
        with translation.override(coordinator.user.preferred_language):
            notification_create(
                user=coordinator.user,
                kind="join_request",
                title=_("%(name)s asks to join “%(title)s”")
                % {"name": user.public_name, "title": study.title},
                url=reverse("studies:members", args=[study.slug]),
            )
    return request


@transaction.atomic
def join_request_decide(*, join_request: JoinRequest, approve: bool, by: User) -> JoinRequest:
    """Approve (the person becomes a contributor) or decline; the person is told either way."""
    join_request = (
        JoinRequest.objects.select_for_update()
        .select_related("study", "user")
        .get(pk=join_request.pk)
    )
    study = join_request.study
    if join_request.status != JoinRequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."), code="decided")
    if study.status != StudyStatus.OPEN:
        raise ValidationError(_("Only open studies take new members."), code="status")
    url = reverse("study_detail", args=[study.slug])
    if approve:
        organisation = join_request.organisation
        if (
            organisation
            and not organisation.affiliations.actable().filter(user=join_request.user).exists()
        ):
            organisation = None
        already = Membership.objects.filter(
            study=study, user=join_request.user, status=MembershipStatus.ACTIVE
        ).exists()
        if not already:  # they may have come in by invitation meanwhile
            _activate_membership(
                study=study,
                user=join_request.user,
                organisation=organisation,
                consent_named=join_request.consent_named,
            )
    with translation.override(join_request.user.preferred_language):
        if approve:
            title = _("You are now a member of “%(title)s”") % {"title": study.title}
        else:
            title = _("Your request to join “%(title)s” was declined") % {"title": study.title}
    join_request.status = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.DECLINED
    join_request.decided_at = timezone.now()
    join_request.decided_by = by
    join_request.save(update_fields=["status", "decided_at", "decided_by"])
    notification_create(user=join_request.user, kind="join_request_decided", title=title, url=url)
    return join_request


# --- Invitations ----------------------------------------------------------


def invitation_token_hash(token: str) -> str:
    """Only the hash of a token is stored; the token itself travels in the e-mail."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class InvitationResult:
    invited: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)


@transaction.atomic
def invitations_create(*, study: Study, emails: list[str], by: User) -> InvitationResult:
    """Invite these (already validated) addresses; e-mails go out after commit.

    Members and people with an invitation still waiting are skipped, with why.
    """
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status not in EDITABLE_STATUSES:
        raise ValidationError(_("A closed or archived study cannot invite anyone."), code="status")
    result = InvitationResult()
    now = timezone.now()
    seen: set[str] = set()
    members = {
        e.lower()
        for e in Membership.objects.filter(study=study)
        .exclude(status=MembershipStatus.LEFT)
        .values_list("user__email", flat=True)
        if e
    }
    waiting = {
        e.lower()
        for e in Invitation.objects.filter(
            study=study, accepted_at__isnull=True, expires_at__gt=now
        ).values_list("email", flat=True)
    }
    to_send: list[tuple[int, str]] = []
    for email in emails:
        key = email.lower()
        if key in seen:
            continue
        seen.add(key)
        if key in members:
            result.skipped.append((email, _("already a member")))
            continue
        if key in waiting:
            result.skipped.append((email, _("already invited; the invitation is still valid")))
            continue
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            study=study,
            email=email,
            token=invitation_token_hash(token),
            invited_by=by,
            expires_at=now + INVITATION_LIFETIME,
        )
        to_send.append((invitation.pk, token))
        result.invited.append(email)
    if to_send:
        # robust: a mail or broker failure is logged instead of failing the request;
        # the invitations are saved and can be withdrawn and sent again.
        transaction.on_commit(lambda: task(INVITATIONS_TASK).delay(to_send), robust=True)
    return result


class InvitationProblem(Exception):
    """An invitation that cannot be used, with a message for the person holding it."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def invitation_check(*, invitation: Invitation, user: User) -> None:
    """Raise InvitationProblem unless ``user`` may accept ``invitation`` now."""
    if invitation.accepted_at is not None:
        raise InvitationProblem(_("This invitation has already been used."), "used")
    if invitation.expires_at <= timezone.now():
        raise InvitationProblem(
            _("This invitation has expired. Ask the study's coordinator for a new one."),
            "expired",
        )
    # A new study's coordinator takes it on while it is still a draft.
    statuses = EDITABLE_STATUSES if invitation.role == Role.COORDINATOR else {StudyStatus.OPEN}
    if invitation.study.status not in statuses:
        raise InvitationProblem(_("This study is not open for new members."), "status")
    from allauth.account.models import EmailAddress

    addresses = {
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    if invitation.email.lower() not in addresses:
        raise InvitationProblem(
            _(
                "This invitation was sent to another e-mail address than the one you are "
                "signed in with (%(email)s). Sign out and open the link again, or sign in "
                "with the invited address."
            )
            % {"email": user.email},
            "wrong_account",
        )


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User,
    organisation: Organisation | None = None,
    consent_named: bool = False,
) -> Membership:
    """Use an invitation once: the person becomes a contributor of the study."""
    invitation = (
        Invitation.objects.select_for_update().select_related("study").get(pk=invitation.pk)
    )
    invitation_check(invitation=invitation, user=user)
    organisation = _check_organisation(user=user, organisation=organisation)
    membership = Membership.objects.filter(study=invitation.study, user=user).first()
    if membership and membership.status == MembershipStatus.ACTIVE:
        result = membership
    else:
        try:
            result = _activate_membership(
                study=invitation.study,
                user=user,
                organisation=organisation,
                consent_named=consent_named,
            )
        except ValidationError as exc:
            raise InvitationProblem(exc.messages[0], "blocked") from exc
    if invitation.role != Role.CONTRIBUTOR and result.role != Role.COORDINATOR:
        result.role = invitation.role
        result.save(update_fields=["role", "updated_at"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return result


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    """Withdraw an unused invitation: its link stops working."""
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()
