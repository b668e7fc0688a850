"""Forms for posting on the study page. Services do the real checks."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from contributions import services
from contributions.models import ContributionKind
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
    kind = forms.ChoiceField(label=_("Kind"), choices=ContributionKind.choices)
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
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False)
    official = forms.BooleanField(widget=forms.HiddenInput, required=False)


class CommentEditForm(forms.Form):
    body = CommentForm.base_fields["body"]
