"""Forms of study set-up, joining, invitations and roles. They validate; services write."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from studies.models import Role, Section, Study, Visibility
from studies.services import STUDY_FIELDS, PhaseData, SectionData

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_ADDRESSES = 500
CSV_MAX_BYTES = 100 * 1024
CSV_MAX_ROWS = 2000
CSV_CONTENT_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "text/comma-separated-values",
}


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class StudyForm(forms.ModelForm):
    class Meta:
        model = Study
        fields = list(STUDY_FIELDS)  # what the services accept
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "body": forms.Textarea(attrs={"rows": 16}),
            "opens_at": _datetime_widget(),
            "closes_at": _datetime_widget(),
        }
        help_texts = {
            "body": _("Markdown. Publish a version from the versions page when it is ready."),
            "opens_at": _("Before this time the study is listed as upcoming."),
            "closes_at": _("Contributions are taken until this time."),
            # Help texts render as HTML: the model's "<k" would open a tag.
            "small_count_threshold": _(
                "In published statistics, per-organisation counts below this number "
                "are shown only as “fewer than” this number."
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = _("Please give the study a title.")
        self.fields["flag_threshold"].min_value = 1
        self.fields["flag_threshold"].widget.attrs["min"] = 1
        self.fields["small_count_threshold"].widget.attrs["min"] = 0

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError(_("Please give the study a title."))
        return title

    def clean_flag_threshold(self) -> int:
        value = self.cleaned_data["flag_threshold"]
        if value < 1:
            raise ValidationError(_("At least one flag is needed to hide an item."))
        return value

    def clean(self) -> dict:
        data = super().clean()
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The study must close after it opens."))
        return data

    def _post_clean(self) -> None:
        # The service validates the model; skipping Django's instance
        # validation here keeps the database-level messages out of the form.
        pass

    def study_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def _next_hour() -> datetime:
    now = timezone.localtime()
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class CoordinatorChoice:
    ME = "me"
    EXISTING = "existing"
    INVITE = "invite"


def _clean_coordinator(form: forms.Form, data: dict) -> None:
    """Check the coordinator fields; ``data["coordinator_user"]`` is the person appointed."""
    choice = data.get("coordinator")
    email = (data.get("coordinator_email") or "").strip()
    if choice in (CoordinatorChoice.EXISTING, CoordinatorChoice.INVITE) and not email:
        if "coordinator_email" not in form.errors:
            form.add_error("coordinator_email", _("Give the coordinator's e-mail address."))
    elif choice == CoordinatorChoice.EXISTING:
        person = (
            get_user_model()
            .objects.filter(email__iexact=email, deleted_at__isnull=True, is_active=True)
            .first()
        )
        if person is None:
            form.add_error(
                "coordinator_email",
                _(
                    "No one has an account with this address. Check it, or choose "
                    "“Invite someone by e-mail” to send them an invitation."
                ),
            )
        data["coordinator_user"] = person


class StudyCreateForm(forms.Form):
    """An administrator sets up a draft study and appoints its first coordinator.

    Only what a study cannot start without is asked; everything else starts
    from a sensible default (one section, one phase over the study's dates,
    public, open joining, post-moderation, three flags hide an item, counts
    below three shown as "fewer than 3") that the coordinator changes in the
    draft's settings before opening it.
    """

    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("What the study is about, as participants will see it."),
        error_messages={"required": _("Please give the study a title.")},
    )
    slug = forms.CharField(
        label=_("Address"),
        max_length=80,
        required=False,
        help_text=_(
            "The study's address will be /studies/<this>/. Lower-case letters, digits and "
            "hyphens. Leave empty to make it from the title."
        ),
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two sentences for the list of studies. Optional."),
    )
    opens_at = forms.DateTimeField(
        label=_("Opens"),
        widget=_datetime_widget(),
        help_text=_(
            "When contributions may start. The study stays a draft, seen only by its "
            "coordinators, until its coordinator opens it."
        ),
        error_messages={
            "required": _("Give the date and time the study opens."),
            "invalid": _("Give a date and time, e.g. 2030-05-01 09:00."),
        },
    )
    closes_at = forms.DateTimeField(
        label=_("Closes"),
        widget=_datetime_widget(),
        help_text=_("Contributions are taken until this time; the coordinator can change it."),
        error_messages={
            "required": _("Give the date and time the study closes."),
            "invalid": _("Give a date and time, e.g. 2030-06-01 16:00."),
        },
    )
    visibility = forms.ChoiceField(
        label=_("Who can read it"),
        choices=Visibility.choices,
        initial=Visibility.PUBLIC,
        widget=forms.RadioSelect,
        help_text=_("Public studies can be read by everyone; members-only studies by members."),
        error_messages={"required": _("Choose who can read the study.")},
    )
    section_title = forms.CharField(
        label=_("First section"),
        max_length=200,
        initial=_("Contributions"),
        help_text=_(
            "A chapter or question of the concept document that contributions belong to. "
            "The coordinator can rename it and add more."
        ),
        error_messages={"required": _("Give the first section a title.")},
    )
    phase_title = forms.CharField(
        label=_("Phase"),
        max_length=200,
        initial=_("Open for contributions"),
        help_text=_(
            "The study starts with one phase from its open date to its close date. "
            "The coordinator can add more."
        ),
        error_messages={"required": _("Give the phase a title.")},
    )
    coordinator = forms.ChoiceField(
        label=_("Coordinator"),
        choices=[
            (CoordinatorChoice.EXISTING, _("A person who has an account")),
            (CoordinatorChoice.INVITE, _("Invite someone by e-mail")),
            (CoordinatorChoice.ME, _("I coordinate it myself")),
        ],
        widget=forms.RadioSelect,
        help_text=_(
            "The coordinator sets up and runs the study: settings, sections, invitations, "
            "opening and closing, statistics and exports."
        ),
        error_messages={
            "required": _("Choose who coordinates the study: a study needs a coordinator."),
            "invalid_choice": _("Choose who coordinates the study from the list."),
        },
    )
    coordinator_email = forms.EmailField(
        label=_("Coordinator's e-mail address"),
        required=False,
        help_text=_(
            "For a person with an account: the address they sign in with. For an "
            "invitation: where to send it; they become coordinator when they accept."
        ),
        error_messages={"invalid": _("This is not an e-mail address.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            opens = _next_hour()
            self.initial.setdefault("opens_at", opens)
            self.initial.setdefault("closes_at", opens + timedelta(weeks=6))

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError(_("Please give the study a title."))
        return title

    def clean_slug(self) -> str:
        raw = self.cleaned_data.get("slug", "").strip()
        if not raw:
            return ""
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", raw):
            raise ValidationError(
                _("Use lower-case letters, digits and single hyphens, e.g. “digital-assistant”.")
            )
        return raw

    def clean(self) -> dict:
        data = super().clean()
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The study must close after it opens."))
        _clean_coordinator(self, data)
        return data

    def service_arguments(self, *, created_by) -> dict:
        """The keyword arguments of studies.services.study_create."""
        data = self.cleaned_data
        arguments = {
            "created_by": created_by,
            "slug": data["slug"],
            "title": data["title"],
            "summary": data["summary"].strip(),
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "visibility": data["visibility"],
            "sections": [SectionData(order=1, title=data["section_title"].strip())],
            "phases": [
                PhaseData(
                    title=data["phase_title"].strip(),
                    starts_at=data["opens_at"],
                    ends_at=data["closes_at"],
                )
            ],
        }
        if data["coordinator"] == CoordinatorChoice.EXISTING:
            arguments["coordinator"] = data["coordinator_user"]
        elif data["coordinator"] == CoordinatorChoice.INVITE:
            arguments["invite_coordinator"] = data["coordinator_email"].strip()
        return arguments


class CoordinatorAppointForm(forms.Form):
    """An administrator gives an existing study another coordinator, or invites one."""

    coordinator = forms.ChoiceField(
        label=_("Coordinator"),
        choices=[
            (CoordinatorChoice.EXISTING, _("A person who has an account")),
            (CoordinatorChoice.INVITE, _("Invite someone by e-mail")),
        ],
        initial=CoordinatorChoice.EXISTING,
        widget=forms.RadioSelect,
        help_text=StudyCreateForm.base_fields["coordinator"].help_text,
        error_messages=StudyCreateForm.base_fields["coordinator"].error_messages,
    )
    coordinator_email = StudyCreateForm.base_fields["coordinator_email"]

    def clean(self) -> dict:
        data = super().clean()
        _clean_coordinator(self, data)
        return data

    def service_arguments(self) -> dict:
        if self.cleaned_data["coordinator"] == CoordinatorChoice.EXISTING:
            return {"coordinator": self.cleaned_data["coordinator_user"]}
        return {"invite_email": self.cleaned_data["coordinator_email"].strip()}


class SectionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    order = forms.IntegerField(
        label=_("Order"),
        min_value=1,
        max_value=999,
        required=False,
        help_text=_("Its place in the document: 1 comes first. Leave empty to put it last."),
    )
    title = forms.CharField(
        label=_("Section title"),
        max_length=200,
        error_messages={"required": _("Give the section a title, or leave the row empty.")},
    )
    prompt = forms.CharField(
        label=_("Prompt"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The question put to participants in this section."),
    )


class BaseSectionFormSet(forms.BaseFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Delete this section")

    def clean(self) -> None:
        if any(self.errors):
            return
        orders: dict[int, int] = {}
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form):
                continue
            order = form.cleaned_data.get("order")
            if order is None:
                continue
            if order in orders:
                form.add_error("order", _("Another section already has this place in the order."))
            orders[order] = orders.get(order, 0) + 1
        if any(count > 1 for count in orders.values()):
            raise ValidationError(_("Two sections cannot share a place in the order."))

    def sections(self, study: Study | None = None) -> list[SectionData]:
        valid_ids = (
            set(Section.objects.filter(study=study).values_list("pk", flat=True))
            if study
            else set()
        )
        rows = []
        # A row without an order goes after every other: the highest order given,
        # or that the study has, plus one.
        given = [
            f.cleaned_data.get("order") or 0
            for f in self.forms
            if f.has_changed() or f.cleaned_data.get("id")
        ]
        stored = (
            list(Section.objects.filter(study=study).values_list("order", flat=True))
            if study
            else []
        )
        next_order = max([0, *given, *stored]) + 1
        for form in self.forms:
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue
            data = form.cleaned_data
            section_id = data.get("id") if data.get("id") in valid_ids else None
            if not data.get("order") and not self._should_delete_form(form):
                data["order"], next_order = next_order, next_order + 1
            if self._should_delete_form(form):
                if section_id:
                    rows.append(
                        SectionData(
                            id=section_id, order=data.get("order") or 0, title="", delete=True
                        )
                    )
                continue
            rows.append(
                SectionData(
                    id=section_id,
                    order=data["order"],
                    title=data["title"],
                    prompt=data.get("prompt", ""),
                )
            )
        return rows


SectionFormSet = forms.formset_factory(
    SectionForm, formset=BaseSectionFormSet, extra=2, can_delete=True, max_num=100
)


def section_initial(study: Study) -> list[dict]:
    return [
        {"id": s.pk, "order": s.order, "title": s.title, "prompt": s.prompt}
        for s in study.sections.all()
    ]


class PhaseForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Phase title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    starts_at = forms.DateTimeField(label=_("Starts"), widget=_datetime_widget())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=_datetime_widget())
    sections = forms.ModelMultipleChoiceField(
        label=_("Sections open for contributions in this phase"),
        queryset=Section.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, study: Study, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sections"].queryset = Section.objects.filter(study=study)

    def clean(self) -> dict:
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("A phase must end after it starts."))
        return data


class BasePhaseFormSet(forms.BaseFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Delete this phase")

    def clean(self) -> None:
        if any(self.errors):
            return
        kept = sorted(
            (
                f.cleaned_data
                for f in self.forms
                if f.has_changed() and not self._should_delete_form(f)
            ),
            key=lambda d: d["starts_at"],
        )
        for earlier, later in zip(kept, kept[1:], strict=False):
            if later["starts_at"] < earlier["ends_at"]:
                raise ValidationError(
                    _("The phases “%(a)s” and “%(b)s” overlap.")
                    % {"a": earlier["title"], "b": later["title"]}
                )

    def phases(self) -> list[PhaseData]:
        rows = []
        for form in self.forms:
            data = form.cleaned_data
            if not form.has_changed() and not data.get("id"):
                continue
            if self._should_delete_form(form):
                if data.get("id"):
                    rows.append(
                        PhaseData(
                            id=data["id"],
                            title="",
                            starts_at=None,
                            ends_at=None,
                            delete=True,
                        )
                    )
                continue
            rows.append(
                PhaseData(
                    id=data.get("id"),
                    title=data["title"],
                    description=data.get("description", ""),
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    section_ids=[s.pk for s in data.get("sections", [])],
                )
            )
        return rows


PhaseFormSet = forms.formset_factory(
    PhaseForm, formset=BasePhaseFormSet, extra=1, can_delete=True, max_num=50
)


def phase_initial(study: Study) -> list[dict]:
    return [
        {
            "id": p.pk,
            "title": p.title,
            "description": p.description,
            "starts_at": p.starts_at,
            "ends_at": p.ends_at,
            "sections": list(p.sections.all()),
        }
        for p in study.phases.prefetch_related("sections")
    ]


class VersionForm(forms.Form):
    number = forms.CharField(
        label=_("Version number"), max_length=20, help_text=_("For example 0.9 or 1.0.")
    )
    change_summary = forms.CharField(
        label=_("What changed"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    body = forms.CharField(
        label=_("Document (Markdown)"),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 18}),
    )
    taken_up = forms.TypedMultipleChoiceField(
        label=_("Contributions taken up in this version"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their authors and readers will see that this version took them up."),
    )

    def __init__(self, *args, taken_up_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_up"].choices = taken_up_choices
        if not taken_up_choices:
            del self.fields["taken_up"]

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.\-]*", number):
            raise ValidationError(_("Use digits, letters, dots and hyphens, like 0.9 or 1.0-rc1."))
        return number


class VersionCompareForm(forms.Form):
    old = forms.TypedChoiceField(label=_("From version"), coerce=int)
    new = forms.TypedChoiceField(label=_("To version"), coerce=int)

    def __init__(self, *args, versions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v.pk, v.number) for v in versions]
        self.fields["old"].choices = choices
        self.fields["new"].choices = choices


def _organisation_choice(org) -> str:
    """ "on behalf of X", saying so when the person's claim to represent X is not confirmed."""
    if getattr(org, "claim_state", "") == "pending":
        return str(_("on behalf of %(name)s (not confirmed yet)") % {"name": org.name})
    return str(_("on behalf of %(name)s") % {"name": org.name})


class MembershipForm(forms.Form):
    """Who a member acts for, and whether they may be named in exports."""

    organisation = forms.ModelChoiceField(
        label=_("I take part"),
        queryset=None,
        required=False,
        empty_label=_("as myself"),
        help_text=_(
            "Or on behalf of one of your organisations. You can change this later; "
            "what you have already posted keeps the organisation it was posted for."
        ),
        error_messages={"invalid_choice": _("Choose one of your organisations.")},
    )
    consent_named = forms.BooleanField(
        label=_("I agree to be named in the study's participant export"),
        required=False,
        help_text=_(
            "Your name, e-mail address and organisation. You can withdraw this at any time."
        ),
    )

    def __init__(self, *args, organisations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].label_from_instance = _organisation_choice


class JoinRequestForm(MembershipForm):
    message = forms.CharField(
        label=_("Message to the coordinators"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: who you are and why you want to take part."),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("decline", _("Decline"))])


def split_addresses(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def address_problem(address: str) -> str | None:
    try:
        validate_email(address)
    except ValidationError:
        return str(_("not a valid e-mail address"))
    if len(address) > 254:
        return str(_("longer than 254 characters"))
    return None


class InviteAddressesForm(forms.Form):
    addresses = forms.CharField(
        label=_("E-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One or more addresses, separated by commas, spaces or new lines."),
    )

    def clean_addresses(self) -> list[str]:
        addresses = split_addresses(self.cleaned_data["addresses"])
        if not addresses:
            raise ValidationError(_("Give at least one e-mail address."))
        if len(addresses) > MAX_ADDRESSES:
            raise ValidationError(
                _("At most %(max)d addresses at a time.") % {"max": MAX_ADDRESSES}
            )
        bad = [f"{a} ({problem})" for a in addresses if (problem := address_problem(a))]
        if bad:
            raise ValidationError(
                ngettext(
                    "Nothing was sent. This address is not valid: %(list)s.",
                    "Nothing was sent. These addresses are not valid: %(list)s.",
                    len(bad),
                )
                % {"list": "; ".join(bad)}
            )
        return addresses


@dataclass
class CSVRowError:
    line: int
    value: str
    reason: str


@dataclass
class ParsedCSV:
    addresses: list[str]
    errors: list[CSVRowError]


HEADER_WORDS = {"email", "e-mail", "epost", "e-post", "e-postadresse", "address", "adresse"}


def parse_invitation_csv(raw: bytes) -> ParsedCSV:
    """Addresses from the first column of a CSV; every other bad row becomes an error.

    Raises ValidationError when the file as a whole is not a CSV file.
    """
    if b"\x00" in raw:
        raise ValidationError(_("This file is not a CSV file."), code="not_csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("This file is not a CSV file."), code="not_csv") from exc
    if not text.strip():
        raise ValidationError(_("The file is empty."), code="empty")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    addresses: list[str] = []
    errors: list[CSVRowError] = []
    seen: set[str] = set()
    try:
        for number, row in enumerate(reader, start=1):
            if number > CSV_MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(max)d rows.") % {"max": CSV_MAX_ROWS},
                    code="too_many_rows",
                )
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            value = cells[0]
            if number == 1 and value.lower() in HEADER_WORDS:
                continue
            if not value:
                reason = str(_("no e-mail address in the first column"))
                errors.append(CSVRowError(number, "", reason))
                continue
            problem = address_problem(value)
            if problem:
                errors.append(CSVRowError(number, value, problem))
                continue
            if value.lower() in seen:
                errors.append(CSVRowError(number, value, str(_("listed twice in the file"))))
                continue
            seen.add(value.lower())
            addresses.append(value)
    except csv.Error as exc:
        raise ValidationError(_("This file is not a CSV file."), code="not_csv") from exc
    return ParsedCSV(addresses=addresses, errors=errors)


class InviteCSVForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One e-mail address per row, in the first column; a header row is allowed. "
            "At most 100 KB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> ParsedCSV:
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise ValidationError(
                _("The file is too large: at most %(max)d KB.") % {"max": CSV_MAX_BYTES // 1024},
                code="too_large",
            )
        name = (upload.name or "").lower()
        content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if not name.endswith((".csv", ".txt")) or (
            content_type and content_type not in CSV_CONTENT_TYPES
        ):
            raise ValidationError(
                _("This file is not a CSV file. Save the list as CSV and try again."),
                code="not_csv",
            )
        return parse_invitation_csv(upload.read(CSV_MAX_BYTES + 1))
