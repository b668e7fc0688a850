"""Reads on studies: listings, phases and open sections, the study header, versions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import ClaimState, Organisation, User
from accounts.selectors import iso_time
from studies.access import Action, StudyAccess
from studies.models import (
    DocumentVersion,
    Invitation,
    Joining,
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


@dataclass
class StudyListing:
    open: list[Study]
    upcoming: list[Study]
    closed: list[Study]
    archived: list[Study]
    query: str


def study_list(*, user, query: str = "", include_archived: bool = False) -> StudyListing:
    """The studies this person may see, grouped for the front page; one query.

    Members-only studies appear only to their members, drafts only to their
    coordinators and facilitators (who reach them from their own pages), and
    archived studies only when asked for.
    """
    query = (query or "").strip()[:100]
    studies = Study.objects.visible_to(user)
    statuses = [StudyStatus.OPEN, StudyStatus.CLOSED]
    if include_archived:
        statuses.append(StudyStatus.ARCHIVED)
    studies = studies.filter(status__in=statuses)
    if query:
        studies = studies.filter(title__icontains=query)
    now = timezone.now()
    listing = StudyListing(open=[], upcoming=[], closed=[], archived=[], query=query)
    for study in studies.order_by("-opens_at", "-created_at"):
        if study.status == StudyStatus.ARCHIVED:
            listing.archived.append(study)
        elif study.status == StudyStatus.CLOSED:
            listing.closed.append(study)
        elif study.opens_at and study.opens_at > now:
            listing.upcoming.append(study)
        else:
            listing.open.append(study)
    listing.upcoming.reverse()  # the soonest first
    return listing


def studies_managed_by(*, user) -> QuerySet[Study]:
    """Studies, drafts included, where this person is coordinator or facilitator."""
    if user is None or not user.is_authenticated:
        return Study.objects.none()
    return Study.objects.filter(
        memberships__user=user,
        memberships__status=MembershipStatus.ACTIVE,
        memberships__role__in=["coordinator", "facilitator"],
    ).distinct()


def studies_with_roles(*, user) -> list[tuple[Study, str]]:
    """The studies this person coordinates or facilitates, with that role, newest first."""
    if user is None or not user.is_authenticated:
        return []
    rows = (
        Membership.objects.filter(
            user=user,
            status=MembershipStatus.ACTIVE,
            role__in=[Role.COORDINATOR, Role.FACILITATOR],
        )
        .select_related("study")
        .order_by("-study__created_at", "-study__id")
    )
    return [(m.study, m.role) for m in rows]


def studies_joined(*, user) -> list[Study]:
    """The studies this person takes part in as a contributor (active or blocked)."""
    if user is None or not user.is_authenticated:
        return []
    return [
        m.study
        for m in Membership.objects.filter(
            user=user,
            role=Role.CONTRIBUTOR,
            status__in=[MembershipStatus.ACTIVE, MembershipStatus.BLOCKED],
        )
        .exclude(study__status=StudyStatus.DRAFT)
        .select_related("study")
        .order_by("-study__created_at", "-study__id")
    ]


@dataclass(frozen=True)
class AdministeredStudy:
    study: Study
    coordinators: list
    invited: list  # addresses invited to coordinate, still waiting


def studies_for_administrators() -> list[AdministeredStudy]:
    """Every study, drafts first then newest, with its coordinators and waiting appointments."""
    studies = list(
        Study.objects.annotate(
            draft_first=Case(When(status=StudyStatus.DRAFT, then=0), default=1)
        ).order_by("draft_first", "-created_at", "-id")
    )
    coordinators: dict[int, list] = {}
    for m in (
        Membership.objects.filter(
            study__in=studies, role=Role.COORDINATOR, status=MembershipStatus.ACTIVE
        )
        .select_related("user")
        .order_by("joined_at", "id")
    ):
        coordinators.setdefault(m.study_id, []).append(m.user)
    invited: dict[int, list] = {}
    for invitation in Invitation.objects.filter(
        study__in=studies,
        role=Role.COORDINATOR,
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("created_at"):
        invited.setdefault(invitation.study_id, []).append(invitation.email)
    return [
        AdministeredStudy(s, coordinators.get(s.pk, []), invited.get(s.pk, [])) for s in studies
    ]


def administration_overview() -> dict:
    """What the administrators' start page counts."""
    counts = dict(
        Study.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {
        "study_counts": [(label, counts.get(value, 0)) for value, label in StudyStatus.choices],
        "unverified_organisations": Organisation.objects.canonical().filter(verified=False).count(),
        "drafts_without_coordinator": sum(
            1
            for row in studies_for_administrators()
            if row.study.status == StudyStatus.DRAFT and not row.coordinators
        ),
    }


# --- Phases ---------------------------------------------------------------


def current_phase(study: Study, at: datetime | None = None) -> Phase | None:
    at = at or timezone.now()
    return Phase.objects.filter(study=study, starts_at__lte=at, ends_at__gt=at).first()


def open_sections(study: Study, at: datetime | None = None) -> QuerySet[Section]:
    """The sections that accept contributions at ``at`` (default now).

    A study without phases has every section open. With phases, the sections
    of the phase running at that moment are open, and none between phases.
    Whether the study itself takes contributions is decided by studies.access.
    """
    at = at or timezone.now()
    sections = Section.objects.filter(study=study)
    if not Phase.objects.filter(study=study).exists():
        return sections
    return sections.filter(phases__starts_at__lte=at, phases__ends_at__gt=at).distinct()


# --- The study header -----------------------------------------------------


@dataclass
class PhaseStep:
    phase: Phase
    state: str  # "past", "current", "future", or "cancelled" (a closed study's later phase)
    section_titles: list[str]


@dataclass(frozen=True)
class StudyStructure:
    """A study's sections, phases (with their sections' titles) and newest version.

    Read by every view of the study page; kept in each process under the
    study's id and ``updated_at``. Every change to a section, a phase or a
    version moves ``updated_at`` (studies/structure.py), so a kept structure
    is always the one the study row just read names. Shared between
    requests: read it, never change it.
    """

    sections: tuple[Section, ...]
    phases: tuple[tuple[Phase, tuple[str, ...]], ...]
    latest_version: DocumentVersion | None

    @property
    def section_rows(self) -> tuple[tuple[int, str], ...]:
        return tuple((section.pk, section.title) for section in self.sections)

    def open_section_rows(self, at: datetime | None = None) -> tuple[tuple[int, str], ...]:
        """(pk, title) of the sections open at ``at``: ``open_sections``'s rule, no query."""
        if not self.phases:
            return self.section_rows
        at = at or timezone.now()
        open_ids = {
            section.pk
            for phase, _titles in self.phases
            if phase.starts_at <= at < phase.ends_at
            for section in phase.sections.all()
        }
        return tuple((pk, title) for pk, title in self.section_rows if pk in open_ids)


def study_structure(study: Study) -> StudyStructure:
    """The study's structure as of the row given: from this process's memory or 3 queries."""
    from studies import structure

    return structure.remembered(study, _load_structure)


def _load_structure(study: Study) -> StudyStructure:
    sections = tuple(Section.objects.filter(study=study).order_by("order"))
    titles = {s.pk: s.title for s in sections}
    phases = tuple(
        (phase, tuple(titles[s.pk] for s in phase.sections.all() if s.pk in titles))
        for phase in Phase.objects.filter(study=study).prefetch_related("sections")
    )
    latest = DocumentVersion.objects.filter(study=study).order_by("-published_at", "-id").first()
    return StudyStructure(sections=sections, phases=phases, latest_version=latest)


def study_header_context(access: StudyAccess, user=None) -> dict:
    """What templates/studies/_study_header.html shows, in a fixed number of queries.

    Returns ``{"study_header": {...}}``, ready to merge into a page's context;
    the partial computes it itself when the page did not. Pass ``user`` (the
    viewer) to include the join button's state; without it the partial adds
    that from the request.
    """
    study = access.study
    now = timezone.now()
    structure = study_structure(study)
    steps = []
    current = None
    # A closed study has no phase now and none to come, whatever the phases' dates:
    # they ended with it (at its close date) or never started.
    ended = study.status in (StudyStatus.CLOSED, StudyStatus.ARCHIVED)
    end = min(now, study.closes_at) if ended and study.closes_at else now
    for phase, section_titles in structure.phases:
        if phase.ends_at <= end or (ended and phase.starts_at < end):
            state = "past"
        elif ended:
            state = "cancelled"
        elif phase.starts_at <= now:
            state = "current"
            current = phase
        else:
            state = "future"
        steps.append(PhaseStep(phase=phase, state=state, section_titles=list(section_titles)))
    return {
        "study_header": {
            "sections": list(structure.sections),
            "phases": steps,
            "current_phase": current,
            "latest_version": structure.latest_version,
            # What the phases, sections and version part shows depends on
            # (templates/studies/_study_header.html keeps it per process).
            "structure_key": (
                study.pk,
                study.created_at,
                study.updated_at,
                study.status,
                tuple(step.state for step in steps),
                getattr(structure.latest_version, "pk", None),
            ),
            **study_header_viewer(access, user=user),
        }
    }


def study_header_viewer(access: StudyAccess, user=None) -> dict:
    """The viewer's part of the study header: membership and the join button.

    With no ``user`` it says nothing about the viewer (``viewer_known`` False);
    the partial then fills it in from the request.
    """
    study = access.study
    is_member = access.is_member
    signed_in = bool(user is not None and user.is_authenticated)
    pending_request = False
    can_join = False
    if signed_in and not is_member:
        can_join = access.can(Action.JOIN, user)
        if can_join and study.joining == Joining.APPROVAL:
            pending_request = JoinRequest.objects.filter(
                study=study, user=user, status=JoinRequestStatus.PENDING
            ).exists()
    return {
        "viewer_known": user is not None,
        "membership": access.membership if is_member else None,
        "is_member": is_member,
        "can_join": can_join,
        "pending_request": pending_request,
        "can_manage": access.can(Action.MANAGE, user),
        "signed_in": signed_in,
    }


# --- Versions -------------------------------------------------------------


def study_versions(*, study: Study) -> QuerySet[DocumentVersion]:
    return (
        DocumentVersion.objects.filter(study=study)
        .select_related("published_by")
        .annotate(taken_up_count=Count("taken_up"))
        .order_by("-published_at", "-id")
    )


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed" or "gap"
    old_number: int | None
    new_number: int | None
    text: str


def version_diff(*, old: str, new: str, context: int = 3) -> list[DiffLine]:
    """Line-by-line differences between two texts, with a few lines of context."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    lines: list[DiffLine] = []
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    lines.append(DiffLine("same", i1 + k + 1, j1 + k + 1, old_lines[i1 + k]))
                continue
            if tag in ("replace", "delete"):
                for k in range(i1, i2):
                    lines.append(DiffLine("removed", k + 1, None, old_lines[k]))
            if tag in ("replace", "insert"):
                for k in range(j1, j2):
                    lines.append(DiffLine("added", None, k + 1, new_lines[k]))
    return lines


def version_amendment_links(
    *, old: DocumentVersion, new: DocumentVersion, diff: list[DiffLine]
) -> tuple[list[tuple[DiffLine, list]], list]:
    """Each diff line with the amendments behind it, and every amendment credited between.

    An amendment is behind an added line when the line is part of its wording;
    amendments come from the versions after ``old`` up to ``new`` (the reverse
    relation ``credited_amendments``, so studies does not import contributions).
    """
    if old.published_at >= new.published_at:
        return [(line, []) for line in diff], []
    versions = DocumentVersion.objects.filter(
        study_id=new.study_id, published_at__gt=old.published_at, published_at__lte=new.published_at
    )
    amendments = []
    for version in versions.order_by("published_at", "id"):
        amendments.extend(
            version.credited_amendments.select_related(
                "contribution__author", "contribution__acted_for", "contribution__passage__block"
            ).order_by("pk")
        )
    rows = []
    for line in diff:
        text = " ".join(line.text.split())
        behind = []
        if line.kind == "added" and text.strip("-*+#>| ") and amendments:
            behind = [a for a in amendments if text in " ".join(a.wording.split())]
        rows.append((line, behind))
    return rows, amendments


# --- Members, requests, invitations ---------------------------------------


def study_members(*, study: Study) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(study=study)
        .exclude(status=MembershipStatus.LEFT)
        .select_related("user", "organisation")
        .annotate(
            role_rank=Case(
                When(role="coordinator", then=Value(0)),
                When(role="facilitator", then=Value(1)),
                default=Value(2),
            )
        )
        .order_by("role_rank", "user__display_name", "user__email")
    )


def pending_join_requests(*, study: Study) -> QuerySet[JoinRequest]:
    return JoinRequest.objects.filter(study=study, status=JoinRequestStatus.PENDING).select_related(
        "user", "organisation"
    )


def study_invitations(*, study: Study) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(study=study).select_related("accepted_by").order_by("-created_at")
    )


def invitation_by_token(*, token_hash: str) -> Invitation | None:
    return Invitation.objects.filter(token=token_hash).select_related("study").first()


def invitations_waiting_for(*, user) -> list[Invitation]:
    """Unused, unexpired invitations to open studies for one of this person's verified addresses.

    A verified address proves what the token in the e-mail proves, so these can
    be accepted from the home page: someone who confirmed their address in
    another browser than the one that opened the invitation finds it there.
    """
    if user is None or not user.is_authenticated:
        return []
    from allauth.account.models import EmailAddress

    emails = {
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    if not emails:
        return []
    addressed = Q()
    for email in sorted(emails):
        addressed |= Q(email__iexact=email)
    member = Membership.objects.filter(
        study=OuterRef("study"),
        user=user,
        status__in=[MembershipStatus.ACTIVE, MembershipStatus.BLOCKED],
    )
    return list(
        Invitation.objects.filter(
            addressed,
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
            study__status=StudyStatus.OPEN,
        )
        .exclude(Exists(member))
        .select_related("study")
        .order_by("-created_at")[:20]
    )


def organisations_for(*, user) -> QuerySet[Organisation]:
    """The organisations a person may act for: their current claims, confirmed or pending."""
    return (
        Organisation.objects.canonical()
        .filter(
            affiliations__user=user,
            affiliations__ended_at__isnull=True,
            affiliations__state__in=[ClaimState.CONFIRMED, ClaimState.PENDING],
        )
        .annotate(claim_state=F("affiliations__state"))
        .order_by("name")
    )


def coordinator_count(*, study: Study) -> int:
    return Membership.objects.active().filter(study=study, role="coordinator").count()


# --- Personal data ----------------------------------------------------------


def personal_data_memberships(user: User) -> list[dict]:
    """The person's memberships, for their personal data archive."""
    return [
        {
            "study": m.study.title,
            "study_slug": m.study.slug,
            "role": m.get_role_display(),
            "acting_for": m.organisation.name if m.organisation_id else None,
            "consent_named": m.consent_named,
            "status": m.get_status_display(),
            "joined_at": iso_time(m.joined_at),
        }
        for m in Membership.objects.filter(user=user).select_related("study", "organisation")
    ]
