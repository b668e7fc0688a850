"""What the API shows, and what it accepts in a query string.

Items that are hidden, removed or withdrawn are markers: their id, place,
state and moderation reason, never their text, author or organisation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Sector
from api.selectors import FINISHED_STATUSES, LISTED_STATES, PUBLIC_STATUSES
from contributions.models import (
    DOCUMENT_KINDS,
    AmendmentStatus,
    Comment,
    Contribution,
    ContributionKind,
    ItemState,
    ModerationReason,
)
from studies.markdown import render_markdown
from studies.models import Section, Study

MAX_ID = 2**63 - 1  # a larger number cannot name a row, and would overflow the database


class UtcDateTimeField(serializers.DateTimeField):
    """Times leave the API in UTC ("…Z"), whatever the platform's local time zone."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(*args, **kwargs)


def _utc(value: datetime | None) -> str | None:
    return UtcDateTimeField().to_representation(value) if value else None


class ApiModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }


# --- Query strings ----------------------------------------------------------


@extend_schema_field(OpenApiTypes.DATETIME)
class SinceField(serializers.Field):
    """An ISO 8601 date or date-time; without an offset it is read as UTC."""

    default_error_messages = {
        "invalid": _(
            "Give an ISO 8601 date or date and time, such as 2026-03-01 or 2026-03-01T12:00:00Z."
        )
    }

    def to_internal_value(self, data) -> datetime:
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        text = data.strip()
        try:
            if len(text) == 10:
                value = datetime.combine(date.fromisoformat(text), time.min)
            else:
                value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        except (ValueError, OverflowError):
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat()


class StudyQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in PUBLIC_STATUSES],
        required=False,
        help_text="Only studies with this status.",
    )
    updated_since = SinceField(
        required=False, help_text="Only studies changed at or after this time (ISO 8601)."
    )


class ContributionQuery(serializers.Serializer):
    section = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Only items in this section (id)."
    )
    kind = serializers.ChoiceField(
        choices=ContributionKind.choices, required=False, help_text="Only this kind."
    )
    state = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in LISTED_STATES],
        required=False,
        help_text="Only items in this state.",
    )
    updated_since = SinceField(
        required=False, help_text="Only items changed at or after this time (ISO 8601)."
    )


class CommentQuery(ContributionQuery):
    contribution = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Only comments on this item (id)."
    )
    section = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Only comments on items in this section (id).",
    )
    kind = serializers.ChoiceField(
        choices=ContributionKind.choices,
        required=False,
        help_text="Only comments on items of this kind.",
    )


class ExportQuery(serializers.Serializer):
    file_format = serializers.ChoiceField(
        choices=["json", "csv", "xlsx"],
        required=False,
        help_text="The file format; JSON unless asked.",
    )


# --- Output -----------------------------------------------------------------


def _absolute(request, name: str, *args) -> str:
    path = reverse(name, args=args)
    return request.build_absolute_uri(path) if request is not None else path


class RootSerializer(serializers.Serializer):
    studies = serializers.URLField()
    schema = serializers.URLField()
    documentation = serializers.URLField()


class SectionSerializer(ApiModelSerializer):
    class Meta:
        model = Section
        fields = ["id", "order", "title", "prompt"]


class StudySerializer(ApiModelSerializer):
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in PUBLIC_STATUSES])

    class Meta:
        model = Study
        fields = [
            "id",
            "slug",
            "title",
            "summary",
            "status",
            "opens_at",
            "closes_at",
            "created_at",
            "updated_at",
            "url",
            "web_url",
        ]

    def get_url(self, study: Study) -> str:
        return _absolute(self.context.get("request"), "api:study-detail", study.slug)

    def get_web_url(self, study: Study) -> str:
        return _absolute(self.context.get("request"), "study_detail", study.slug)


class StudyLinksSerializer(serializers.Serializer):
    contributions = serializers.URLField()
    comments = serializers.URLField()
    statistics = serializers.URLField()
    open_data = serializers.URLField(
        allow_null=True, help_text="The bulk download, once the study is closed."
    )


class StudyDetailSerializer(StudySerializer):
    body_html = serializers.SerializerMethodField()
    sections = SectionSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()

    class Meta(StudySerializer.Meta):
        fields = [*StudySerializer.Meta.fields, "body", "body_html", "sections", "links"]

    def get_body_html(self, study: Study) -> str:
        return str(render_markdown(study.body))

    @extend_schema_field(StudyLinksSerializer)
    def get_links(self, study: Study) -> dict:
        request = self.context.get("request")
        finished = study.status in FINISHED_STATUSES
        return {
            "contributions": _absolute(request, "api:contribution-list", study.slug),
            "comments": _absolute(request, "api:comment-list", study.slug),
            "statistics": _absolute(request, "api:study-statistics", study.slug),
            "open_data": _absolute(request, "api:study-open-data", study.slug)
            if finished
            else None,
        }


class ItemSerializer(ApiModelSerializer):
    """Shared fields of contributions and comments; content only when published."""

    state = serializers.ChoiceField(choices=[(s.value, s.label) for s in LISTED_STATES])
    reason = serializers.ChoiceField(
        choices=ModerationReason.choices,
        allow_null=True,
        help_text="Why a hidden or removed item is not shown.",
    )
    body = serializers.CharField(allow_null=True, help_text="Markdown; null for markers.")
    body_html = serializers.CharField(allow_null=True, help_text="Sanitised HTML of the body.")
    author = serializers.CharField(allow_null=True, help_text="The author's display name.")
    organisation = serializers.CharField(
        allow_null=True,
        help_text=(
            "The organisation the author acted for when posting; null when the author's "
            "claim to represent it was refused."
        ),
    )
    organisation_confirmed = serializers.BooleanField(
        allow_null=True,
        help_text=(
            "False while the author only says they represent the organisation (their claim "
            "is not confirmed yet); null without an organisation."
        ),
    )
    sector = serializers.ChoiceField(choices=Sector.choices, allow_null=True)

    content_fields = (
        "body",
        "body_html",
        "author",
        "organisation",
        "organisation_confirmed",
        "sector",
    )

    def to_representation(self, item):
        published = item.state == ItemState.PUBLISHED
        organisation = item.shown_organisation if published else None
        data = {
            "id": item.pk,
            "state": item.state,
            "reason": (item.moderation_reason or None)
            if item.state in (ItemState.HIDDEN, ItemState.REMOVED)
            else None,
            "created_at": _utc(item.created_at),
            "edited_at": _utc(item.edited_at),
            "updated_at": _utc(item.updated_at),
            "body": item.body if published else None,
            "body_html": item.body_html if published else None,
            "author": item.author.public_name if published else None,
            # After a refused claim the item names no organisation; under a
            # pending one it names the organisation the author says they represent.
            "organisation": organisation.name if organisation else None,
            "organisation_confirmed": (not item.organisation_unconfirmed) if organisation else None,
            "sector": (item.acted_for_sector or None) if organisation else None,
        }
        data.update(self.item_fields(item, published))
        return data

    def item_fields(self, item, published: bool) -> dict:
        raise NotImplementedError


# A contribution's place in the concept document (passage comments and amendments).
DOCUMENT_FIELDS = [
    "passage_version",
    "passage_anchor",
    "passage_gone",
    "quote",
    "amendment_wording",
    "amendment_status",
    "amendment_decision_reason",
    "amendment_credited_in",
]


def _document_fields(item: Contribution, published: bool) -> dict:
    """Where a passage comment or amendment sits in the concept document; nulls otherwise."""
    fields = dict.fromkeys(DOCUMENT_FIELDS)
    if item.kind not in DOCUMENT_KINDS:
        return fields
    passage = getattr(item, "passage", None)
    if passage is not None:
        fields["passage_version"] = passage.origin.version.number
        fields["passage_anchor"] = passage.block.anchor
        fields["passage_gone"] = passage.gone
        fields["quote"] = (passage.quote or None) if published else None
    amendment = getattr(item, "amendment", None) if item.kind == "amendment" else None
    if amendment is not None:
        fields["amendment_wording"] = amendment.wording if published else None
        fields["amendment_status"] = amendment.status
        fields["amendment_decision_reason"] = amendment.decision_reason or None
        fields["amendment_credited_in"] = (
            amendment.credited_in.number if amendment.credited_in else None
        )
    return fields


class ContributionSerializer(ItemSerializer):
    title = serializers.CharField(allow_null=True)
    section = serializers.IntegerField(allow_null=True, source="section_id")
    kind = serializers.ChoiceField(choices=ContributionKind.choices)
    url = serializers.URLField()
    passage_version = serializers.CharField(
        allow_null=True,
        help_text="Passage comments and amendments: the document version they were written on.",
    )
    passage_anchor = serializers.CharField(
        allow_null=True,
        help_text="The anchor of the passage they sit on now (the block of the latest version "
        "that holds it, or of the last version that had it).",
    )
    passage_gone = serializers.BooleanField(
        allow_null=True, help_text="true when the latest version no longer has the passage."
    )
    quote = serializers.CharField(
        allow_null=True, help_text="The words of the passage quoted (published items only)."
    )
    amendment_wording = serializers.CharField(
        allow_null=True, help_text="Amendments: the proposed wording (published items only)."
    )
    amendment_status = serializers.ChoiceField(
        choices=AmendmentStatus.choices, allow_null=True, help_text="Amendments: the decision."
    )
    amendment_decision_reason = serializers.CharField(
        allow_null=True, help_text="Amendments: the reason given with the decision."
    )
    amendment_credited_in = serializers.CharField(
        allow_null=True, help_text="Amendments: the version that took the wording in."
    )

    class Meta:
        model = Contribution
        fields = [
            "id",
            "url",
            "section",
            "kind",
            "state",
            "reason",
            "title",
            "body",
            "body_html",
            "author",
            "organisation",
            "sector",
            "created_at",
            "edited_at",
            "updated_at",
            *DOCUMENT_FIELDS,
        ]
        read_only_fields = fields

    def item_fields(self, item: Contribution, published: bool) -> dict:
        request = self.context.get("request")
        study = self.context.get("study") or item.study
        return {
            "url": _absolute(request, "api:contribution-detail", study.slug, item.pk),
            "section": item.section_id,
            "kind": item.kind,
            "title": item.title if published else None,
            **_document_fields(item, published),
        }


class CommentSerializer(ItemSerializer):
    contribution = serializers.IntegerField(source="contribution_id")
    parent = serializers.IntegerField(allow_null=True, source="parent_id")
    official = serializers.BooleanField(help_text="An official answer from a facilitator.")

    class Meta:
        model = Comment
        fields = [
            "id",
            "contribution",
            "parent",
            "official",
            "state",
            "reason",
            "body",
            "body_html",
            "author",
            "organisation",
            "sector",
            "created_at",
            "edited_at",
            "updated_at",
        ]
        read_only_fields = fields

    def item_fields(self, item: Comment, published: bool) -> dict:
        return {
            "contribution": item.contribution_id,
            "parent": item.parent_id,
            "official": item.official,
        }


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Per query parameter, for 400.")


# --- Statistics ----------------------------------------------------------------


class TotalsSerializer(serializers.Serializer):
    participants = serializers.IntegerField(allow_null=True)
    members = serializers.IntegerField()
    organisations = serializers.IntegerField(
        help_text="Organisations counted through confirmed claims (definitions version 2)."
    )
    unconfirmed_organisations = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "Organisations named only in unconfirmed claims; null in figures frozen under "
            "definitions version 1."
        ),
    )
    unconfirmed_participants = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "People with counted items under unconfirmed claims; null when withheld or "
            "under definitions version 1."
        ),
    )
    individuals = serializers.IntegerField(allow_null=True)
    contributions = serializers.IntegerField(allow_null=True)
    comments = serializers.IntegerField(allow_null=True)


class SectorRowSerializer(serializers.Serializer):
    sector = serializers.CharField(
        help_text=(
            "A sector code, empty for individuals, or “unconfirmed” for people posting "
            "under unconfirmed claims (their organisations are not named)."
        )
    )
    organisations = serializers.IntegerField()
    participants = serializers.IntegerField(allow_null=True)
    contributions = serializers.IntegerField(allow_null=True)
    comments = serializers.IntegerField(allow_null=True)


class OrganisationRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    org_number = serializers.CharField(allow_blank=True)
    sector = serializers.CharField()
    participants = serializers.IntegerField(
        allow_null=True, help_text="Null when withheld (see `withheld`)."
    )
    participants_display = serializers.CharField(help_text="The count, or “withheld”.")
    contributions = serializers.IntegerField(allow_null=True)
    comments = serializers.IntegerField(allow_null=True)


class DayRowSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="Calendar day in Europe/Oslo.")
    contributions = serializers.IntegerField(allow_null=True)
    comments = serializers.IntegerField(allow_null=True)
    new_participants = serializers.IntegerField(allow_null=True)
    cumulative_items = serializers.IntegerField(allow_null=True)
    cumulative_participants = serializers.IntegerField(allow_null=True)


class HeadlineSerializer(serializers.Serializer):
    nb = serializers.CharField()
    en = serializers.CharField()


class StatisticsSerializer(serializers.Serializer):
    study = serializers.CharField(help_text="The study's slug.")
    definitions_version = serializers.IntegerField()
    generated_at = UtcDateTimeField()
    small_count_threshold = serializers.IntegerField()
    headline = HeadlineSerializer()
    totals = TotalsSerializer()
    sectors = SectorRowSerializer(many=True)
    organisations = OrganisationRowSerializer(many=True)
    days = DayRowSerializer(many=True)
    withheld = serializers.DictField(
        help_text="How many organisations, which sector rows and whether the totals are "
        "withheld (complementary suppression: no withheld figure can be worked out)."
    )
    frozen_at = UtcDateTimeField(
        allow_null=True,
        help_text="When a closed study's figures were frozen; null while it is open.",
    )


class ExportStudySerializer(serializers.Serializer):
    title = serializers.CharField()
    slug = serializers.CharField()


class ExportSerializer(serializers.Serializer):
    """The JSON export file of the reports app (see docs/api.md)."""

    study = ExportStudySerializer()
    definitions_version = serializers.IntegerField()
    generated_at = serializers.CharField()
    tier = serializers.ChoiceField(choices=["aggregate", "pseudonymous"])
    notes = serializers.ListField(child=serializers.CharField())
    headline = HeadlineSerializer()
    small_count_threshold = serializers.IntegerField()
    totals = serializers.DictField(
        help_text="Totals; in the aggregate tier a figure may be the text “withheld”."
    )
    frozen_at = serializers.CharField(
        allow_null=True, help_text="When a closed study's figures were frozen; null while open."
    )
    sectors = serializers.ListField(child=serializers.DictField())
    organisations = serializers.ListField(
        child=serializers.DictField(),
        help_text="In the aggregate tier, withheld figures are the text “withheld”.",
    )
    days = serializers.ListField(child=serializers.DictField())
    definitions = serializers.ListField(child=serializers.DictField())
    participants = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Pseudonymous tier only: a row per participant and organisation.",
    )
