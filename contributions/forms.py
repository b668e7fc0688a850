"""Forms for posting on the study page. Services do the real checks."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from contributions import services
from contributions.models import POSTED_KINDS, ContributionKind
from core.params import WholeNumberField
from studies.models import Section


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        if not isinstance(data, list | tuple):
            data = [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in data]


class IdempotentForm(forms.Form):
    # A fresh token per rendered form: submitting the same form twice posts once.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class ContributionForm(IdempotentForm):
    title = forms.CharField(
        label=_("Title"),
        max_length=services.TITLE_MAX,
        error_messages={
            "required": _("Give your contribution a title."),
            "max_length": _("The title can be at most %(limit_value)d characters long."),
        },
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=POSTED_KINDS)
    section = forms.ModelChoiceField(
        label=_("Section"),
        queryset=Section.objects.none(),
        required=False,
        empty_label=_("The study as a whole"),
    )
    body = forms.CharField(
        label=_("Your contribution"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=services.BODY_MAX,
        help_text=_("You can use Markdown: **bold**, *italics*, lists and links."),
        error_messages={
            "required": _("Write something before you post."),
            "max_length": _("The text can be at most %(limit_value)d characters long."),
        },
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Up to 3 files: PDF, PNG or JPEG, at most 10 MB each."),
        widget=MultipleFileInput(
            attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}
        ),
    )

    def __init__(self, *args, sections=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sections is not None:
            self.fields["section"].queryset = sections
        if not self.fields["section"].queryset.exists():
            del self.fields["section"]


class ContributionEditForm(forms.Form):
    title = ContributionForm.base_fields["title"]
    kind = ContributionForm.base_fields["kind"]
    body = ContributionForm.base_fields["body"]

    def __init__(self, *args, document_kind: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if document_kind:
            # A passage comment's or amendment's heading quotes the document and its
            # kind is fixed (docs/passages.md): only the text is the author's to edit.
            del self.fields["title"]
            del self.fields["kind"]


class CommentForm(IdempotentForm):
    body = forms.CharField(
        label=_("Your comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=services.COMMENT_MAX,
        error_messages={
            "required": _("Write something before you post."),
            "max_length": _("The comment can be at most %(limit_value)d characters long."),
        },
    )
    parent = WholeNumberField(widget=forms.HiddenInput, required=False, min_value=1)
    official = forms.BooleanField(widget=forms.HiddenInput, required=False)


class CommentEditForm(forms.Form):
    body = CommentForm.base_fields["body"]


class ContributionFilterForm(forms.Form):
    """Narrow the study page's list to one section and/or one kind (GET, never saved).

    The study's sections come from its kept structure; the form reads nothing.
    """

    section = forms.TypedChoiceField(
        label=_("Section"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose a section of this study.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the listed kinds.")},
    )

    def __init__(self, *args, sections, **kwargs):
        """``sections``: the study's (pk, title) in order (``StudyStructure.section_rows``)."""
        # Its own ids: the posting form on the same page has a section and a kind too.
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)
        sections = list(sections)
        self.has_sections = bool(sections)
        self.fields["section"].choices = [("", _("All sections")), *sections]
        self.fields["kind"].choices = [("", _("All kinds")), *ContributionKind.choices]

    def filters(self) -> dict:
        """``section_id`` and ``kind`` for the selector; nothing when the input is not valid."""
        if not self.is_bound or not self.is_valid():
            return {}
        result = {}
        if self.cleaned_data.get("section"):
            result["section_id"] = self.cleaned_data["section"]
        if self.cleaned_data.get("kind"):
            result["kind"] = self.cleaned_data["kind"]
        return result

    def querystring(self) -> str:
        """The active filters as a query string without "?" (empty when there are none)."""
        from urllib.parse import urlencode

        active = self.filters()
        pairs = []
        if "section_id" in active:
            pairs.append(("section", active["section_id"]))
        if "kind" in active:
            pairs.append(("kind", active["kind"]))
        return urlencode(pairs)
