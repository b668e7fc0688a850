from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User
from accounts.validators import normalise_org_number


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name"]
        help_texts = {"display_name": _("Shown beside everything you post. At most 80 characters.")}

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Please give a display name."))
        return name


class OrganisationForm(forms.ModelForm):
    """Propose an organisation that is not in the registry yet."""

    # Wider than the model field so "974 760 673" reaches the normalising clean.
    org_number = forms.CharField(
        label=_("Organisation number"),
        required=False,
        max_length=20,
        help_text=_("Nine digits, if the organisation has one."),
    )

    class Meta:
        model = Organisation
        fields = ["name", "org_number", "sector", "website"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Please give the organisation's name."))
        return name

    def clean_org_number(self) -> str | None:
        value = normalise_org_number(self.cleaned_data.get("org_number") or "")
        return value or None


class AffiliationForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.canonical(),
        label=_("Organisation"),
        error_messages={"invalid_choice": _("Choose an organisation from the list.")},
    )
