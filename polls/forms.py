"""Forms for polls and surveys. They parse and validate the shape; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from polls.models import PollKind, ResultsShown
from studies.models import Section, Study

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class PollForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300)
    description = forms.CharField(
        label=_("Description (optional)"), max_length=2000, required=False, widget=forms.Textarea
    )
    options = forms.CharField(
        label=_("Options, one per line"),
        help_text=_("At least two. Once votes arrive only their wording can be fixed."),
        max_length=2600,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    kind = forms.ChoiceField(label=_("Choices"), choices=PollKind.choices)
    allow_other = forms.BooleanField(label=_("Allow “Other” with text"), required=False)
    results_shown = forms.ChoiceField(label=_("Results shown"), choices=ResultsShown.choices)
    opens_at = forms.DateTimeField(
        label=_("Opens (empty: now)"), required=False, widget=_datetime_widget()
    )
    closes_at = forms.DateTimeField(
        label=_("Closes (empty: when closed by hand)"), required=False, widget=_datetime_widget()
    )
    section = forms.ModelChoiceField(
        label=_("Section (optional)"), queryset=Section.objects.none(), required=False
    )

    def __init__(self, *args, study: Study, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = Section.objects.filter(study=study)

    def option_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines()]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "question": data["question"],
            "description": data["description"],
            "options": self.option_lines(),
            "kind": data["kind"],
            "allow_other": data["allow_other"],
            "results_shown": data["results_shown"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "section_id": data["section"].pk if data["section"] else None,
        }


class HideTextForm(forms.Form):
    action = forms.ChoiceField(choices=[("hide", "hide"), ("restore", "restore")])
    reason = forms.CharField(max_length=500, required=False)
