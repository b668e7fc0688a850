"""Forms for flags and moderation actions. They check input; services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models import FlagReason, LogAction
from moderation.services import HIDE_REASON_CHOICES, REMOVE_REASON_CHOICES


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why should facilitators look at this?"), choices=FlagReason.choices
    )
    note = forms.CharField(
        label=_("Anything facilitators should know (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class HideForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason shown to everyone"), choices=[("", "—"), *HIDE_REASON_CHOICES]
    )
    note = forms.CharField(
        label=_("Note to the author (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(HideForm):
    reason = forms.ChoiceField(
        label=_("Reason told to the author"), choices=[("", "—"), *HIDE_REASON_CHOICES]
    )


class RemoveForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Remove as"),
        choices=[("", "—"), *REMOVE_REASON_CHOICES],
        help_text=_("Removed items are left out of the statistics."),
    )
    note = forms.CharField(
        label=_("Note to the author (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RestoreForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it restored?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The author is told this."),
    )


class DismissForm(forms.Form):
    note = forms.CharField(
        label=_("Why are the flags dismissed? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ApproveForm(forms.Form):
    pass


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Private note for facilitators"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Official answer"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown apart from the comments, marked as the facilitators' answer. Markdown."),
    )


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The member is told this reason."),
    )
    until = forms.DateTimeField(
        label=_("Blocked until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("Leave empty to block until a facilitator lifts the block."),
    )

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(_("The end of the block must be in the future."))
        return until


class UnblockForm(forms.Form):
    reason = forms.CharField(label=_("Note for the log (optional)"), max_length=500, required=False)


class QueueFilterForm(forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Flags and waiting items")),
            ("flags", _("Flags")),
            ("pending", _("Waiting for approval")),
        ],
    )
    reason = forms.ChoiceField(
        label=_("Flag reason"), required=False, choices=[("", _("Any reason")), *FlagReason.choices]
    )
    item_type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[
            ("", _("Contributions and comments")),
            ("contribution", _("Contributions")),
            ("comment", _("Comments")),
        ],
    )


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *LogAction.choices]
    )
