"""The search form: the query, its filters, the order and the page, all validated."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Sector
from contributions.models import ItemState
from core.params import WholeNumberField
from search.selectors import ALL_STATES, PUBLISHED, SearchFilters, organisations_to_filter_by
from search.sources import KINDS
from search.text import QUERY_MAX_LENGTH
from studies.models import Phase, Section, Study

MAX_PAGE = 1000


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search for"),
        required=False,
        max_length=QUERY_MAX_LENGTH,
        error_messages={
            "max_length": _(
                "Search for at most %(limit_value)d characters (you wrote %(show_value)d)."
            )
        },
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    section = forms.TypedChoiceField(
        label=_("Section"), required=False, coerce=int, empty_value=None
    )
    phase = forms.TypedChoiceField(label=_("Phase"), required=False, coerce=int, empty_value=None)
    organisation = forms.TypedChoiceField(
        label=_("Organisation"), required=False, coerce=int, empty_value=None
    )
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("relevance", _("Best match")), ("newest", _("Newest first"))],
    )
    page = WholeNumberField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={"invalid": _("The page must be a whole number.")},
    )

    def __init__(self, data, *, user=None, study: Study | None = None):
        super().__init__(data)
        self.study = study
        everything = [("", _("Everything"))]
        self.fields["kind"].choices = everything + [(k.key, k.label) for k in KINDS.values()]
        self.fields["sector"].choices = [("", _("All sectors")), *Sector.choices]
        states = [(PUBLISHED, ItemState.PUBLISHED.label)]
        states += [(v, label) for v, label in ItemState.choices if v != PUBLISHED]
        states.append((ALL_STATES, _("Every state I may read")))
        self.fields["state"].choices = states
        if study is not None:
            self.fields["section"].choices = [("", _("All sections"))] + [
                (s.pk, s.title) for s in Section.objects.filter(study=study).order_by("order")
            ]
            self.fields["phase"].choices = [("", _("All phases"))] + [
                (p.pk, p.title) for p in Phase.objects.filter(study=study).order_by("starts_at")
            ]
        else:
            del self.fields["section"]
            del self.fields["phase"]
        self.fields["organisation"].choices = [
            ("", _("All organisations")),
            *organisations_to_filter_by(user=user, study=study),
        ]
        for name in ("kind", "section", "phase", "organisation", "sector", "state", "sort"):
            if name in self.fields:
                self.fields[name].error_messages["invalid_choice"] = _(
                    "“%(value)s” is not one of the choices for this filter."
                )

    def clean_q(self) -> str:
        value = self.cleaned_data["q"]
        # A NUL or other control character is never part of a word.
        return "".join(c if c.isprintable() else " " for c in value).strip()

    def filters(self) -> SearchFilters:
        data = self.cleaned_data
        phase = None
        if data.get("phase") is not None:
            phase = Phase.objects.get(pk=data["phase"], study=self.study)
        return SearchFilters(
            kind=data.get("kind") or "",
            section_id=data.get("section"),
            organisation_id=data.get("organisation"),
            sector=data.get("sector") or "",
            phase=phase,
            state=data.get("state") or PUBLISHED,
            sort=data.get("sort") or "relevance",
        )
